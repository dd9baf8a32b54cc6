import FileSystem
import Foundation
import Labels
import Monitor
import Store

/// Serves a running function's invocations of gates and services (`dentInvoke`).
///
/// A gate call resolves the chain in the caller's context (every gate on the way
/// taints the caller), needs the caller's privilege to imply the chain's invoker
/// clearance, and starts the callee at the caller's current label with the gate's
/// privilege. A synchronous call blocks the caller's monitor thread until the callee
/// ends, then taints the caller with the callee's result label; an asynchronous one
/// returns the callee's invocation id and taints nothing.
struct ChainInvoker: GuestInvoker {
    let worker: Engine
    /// The calling invocation.
    let invocationID: String
    /// The caller's depth in its chain of calls.
    let depth: Int
    /// When the caller must end: a synchronous call or a service call ends by then too.
    let deadline: ContinuousClock.Instant
    /// What vouched for the caller's start label (its invoker's privilege and what that
    /// request inherited): its calls inherit it.
    let vouch: Component

    func labelChanged(_ action: String, from before: Label, to after: Label, privilege: Privilege) {
        worker.configuration.audit?.record(
            AuditEvent(
                principal: privilege.description, action: action, object: invocationID,
                labels: ["before": before.description, "after": after.description]))
    }

    func invoke(_ target: Entry, _ request: GuestInvokeCall, _ context: inout SecurityContext) throws(FSError)
        -> GuestInvokeReply
    {
        if target.kind == .service {
            return try worker.services.call(target, request, &context, fileSystem: worker.fileSystem, deadline: deadline)
        }
        let resolved = try worker.fileSystem.synchronously(.read, &context) { session, context throws(FSError) in
            try session.resolveGate(target, &context)
        }
        // Checked here too, so that a refused asynchronous call fails now, not after a 202.
        try worker.authorize(resolved, context, depth: depth + 1)
        let call = InvocationRequest(
            target: .resolved(resolved), startLabel: context.label, clearance: context.clearance, invoker: context.privilege,
            payload: request.payload, headers: request.parameters, parent: invocationID, depth: depth + 1,
            nested: request.sync, inheritedIntegrity: vouch, deadline: request.sync ? deadline : nil)

        guard request.sync else {
            let id = try Self.wait { [worker] () async throws(FSError) -> String in
                do {
                    return try await worker.submitAsynchronousCall(call)
                } catch let SubmissionError.refused(error, _) {
                    throw error
                } catch let SubmissionError.busy(reason) {
                    throw .unavailable("busy: \(reason)")
                } catch {
                    throw .unavailable("cannot queue the invocation: \(error)")
                }
            }
            return GuestInvokeReply(body: [], status: 202, invocationID: id)
        }

        let result = try Self.wait { [worker] () async throws(FSError) -> InvocationResult in await worker.invoke(call) }
        switch result.outcome {
        case let .completed(response):
            try context.read(result.label)
            return GuestInvokeReply(
                body: response.body, status: response.status, headers: response.headers, invocationID: result.id)
        case let .failed(failure):
            // How the callee failed (a timeout, a crash) depends on what it saw.
            try context.read(result.label)
            let status = if case .timeout = failure { 504 } else { 500 }
            return GuestInvokeReply(
                body: Array("the invoked function failed: \(failure)".utf8), status: status, invocationID: result.id)
        case let .refused(error):
            throw error
        case let .busy(reason):
            throw .unavailable(reason)
        }
    }

    /// Runs `body` on the concurrency pool and blocks this (monitor) thread until it
    /// ends. The monitor's thread is never one of the pool's, so this cannot starve it.
    static func wait<T: Sendable>(_ body: @escaping @Sendable () async throws(FSError) -> T) throws(FSError) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do throws(FSError) {
                box.value = .success(try await body())
            } catch {
                box.value = .failure(error)
            }
            done.signal()
        }
        done.wait()
        guard let value = box.value else { throw .unavailable("the call ended without a result") }
        return try value.get()
    }
}

/// A result handed from a task to a blocked thread; the semaphore orders the accesses.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    var value: Result<T, FSError>?
}
