import CloudCalls
import FileSystem
import Foundation
import Labels
import Store

/// The trusted reference monitor of one sandbox: it answers the guest's CloudCalls
/// for one invocation at a time, each call one file-system operation in the
/// invocation's security context.
///
/// A monitor runs on a thread that may block (it waits on the channel and on the
/// store), one per sandbox:
///
/// ```swift
/// let monitor = Monitor(channel: FrameChannel(input: fd, output: fd), fileSystem: fs)
/// try monitor.handshake()
/// let outcome = monitor.serve(request, context: context, deadline: .now + .seconds(30))
/// ```
///
/// Whatever the guest sends — malformed, truncated, oversized or out of order — the
/// monitor answers with an error or closes the channel; it never crashes or waits
/// past the deadline.
public final class Monitor: @unchecked Sendable {
    public let channel: FrameChannel
    public let fileSystem: FileSystem
    public let limits: MonitorLimits
    /// The runtime the guest announced in its hello.
    public private(set) var runtime: String?
    private var closed = false

    public init(channel: FrameChannel, fileSystem: FileSystem, limits: MonitorLimits = .default) {
        self.channel = channel
        self.fileSystem = fileSystem
        self.limits = limits
    }

    /// Waits for the guest's hello and answers it. A wrong first message or an
    /// unsupported version closes the channel.
    public func handshake(deadline: ContinuousClock.Instant? = nil) throws(InvocationFailure) {
        let deadline = deadline ?? .now + limits.handshakeTimeout
        let message: WireGuestMessage
        do {
            message = try channel.read(WireGuestMessage.self, deadline: deadline)
        } catch {
            throw fail(error)
        }
        guard case let .hello(hello)? = message.kind else {
            throw goodbye(.protocol, "the first message must be a hello")
        }
        guard hello.protocolVersion == CloudCallProtocol.version else {
            throw goodbye(.protocol, "protocol version \(hello.protocolVersion) is not supported; this host speaks \(CloudCallProtocol.version)")
        }
        runtime = hello.runtime
        var welcome = WireWelcome()
        welcome.protocolVersion = CloudCallProtocol.version
        welcome.maxMessageBytes = UInt32(limits.maxMessageBytes)
        var reply = WireHostMessage()
        reply.welcome = welcome
        do {
            try channel.write(reply)
        } catch {
            throw fail(error)
        }
    }

    /// Serves one invocation: sends the request, answers calls until the guest
    /// responds, and returns the outcome with the context's final label. After a
    /// failure the channel is closed and the sandbox must not be reused. `invoker`
    /// serves the guest's invocations of gates and services (`nil`: unsupported).
    ///
    /// The deadline bounds the waits on the guest; a call the monitor is still serving
    /// at the deadline (a nested call, a service, the store) is cut off by the caller,
    /// which reads the context as of the last finished call from `progress`.
    public func serve(
        _ request: GuestRequest, context: SecurityContext, deadline: ContinuousClock.Instant?,
        invoker: (any GuestInvoker)? = nil, progress: ContextProgress? = nil
    ) -> GuestOutcome {
        var state = InvocationState(context: context, limits: limits, invoker: invoker)
        guard !closed else {
            return GuestOutcome(status: .failed(.protocolViolation("the channel is closed")), context: context)
        }
        do {
            try channel.write(try invocationMessage(request, &state))
        } catch let error as InvocationFailure {
            return GuestOutcome(status: .failed(error), context: state.context)
        } catch let error as FrameError {
            return GuestOutcome(status: .failed(fail(error)), context: state.context)
        } catch {
            return GuestOutcome(status: .failed(.sandbox("\(error)")), context: state.context)
        }
        while true {
            let message: WireGuestMessage
            do {
                message = try channel.read(WireGuestMessage.self, deadline: deadline)
            } catch {
                state.closeBlobs()
                return GuestOutcome(status: .failed(fail(error)), context: state.context)
            }
            guard case let .call(call)? = message.kind else {
                // A hello mid-invocation, or an empty message: answered, not fatal.
                if !reply(protocolError(id: 0, "expected a call during an invocation")) {
                    state.closeBlobs()
                    return GuestOutcome(status: .failed(.guestExited("the channel was closed")), context: state.context)
                }
                continue
            }
            if case let .response(response)? = call.call {
                state.closeBlobs()
                guard response.body.count <= limits.maxResponseBytes else {
                    return GuestOutcome(
                        status: .failed(.responseTooLarge(bytes: response.body.count, limit: limits.maxResponseBytes)),
                        context: state.context)
                }
                let status = response.status == 0 ? 200 : Int(response.status)
                return GuestOutcome(
                    status: .completed(FunctionResponse(body: Array(response.body), status: status, headers: response.headers)),
                    context: state.context)
            }
            var result = handle(call, &state)
            result.id = call.id
            progress?.context = state.context
            if !reply(result) {
                state.closeBlobs()
                return GuestOutcome(status: .failed(.guestExited("the channel was closed")), context: state.context)
            }
        }
    }

    private func invocationMessage(_ request: GuestRequest, _ state: inout InvocationState) throws -> WireHostMessage {
        var invocation = WireInvocation()
        invocation.id = request.id
        invocation.payload = Data(request.payload)
        invocation.headers = request.headers
        invocation.invoker = request.invoker.description
        for (name, blob) in request.blobs {
            // The request's own data, covered by its start label (``FileSystem/open(blob:)``).
            let reader: any BlobReader
            do {
                reader = try fileSystem.open(blob: blob.name)
            } catch {
                throw InvocationFailure.sandbox("request blob \(blob.name): \(error)")
            }
            var info = WireBlobInfo()
            info.handle = try state.addBlob(.reading(reader)).get()
            info.size = UInt64(reader.size)
            invocation.blobs[name] = info
        }
        var message = WireHostMessage()
        message.invocation = invocation
        return message
    }

    /// Sends a result; `false` if the guest is gone.
    private func reply(_ result: WireResult) -> Bool {
        var message = WireHostMessage()
        message.result = result
        do {
            try channel.write(message)
            return true
        } catch {
            closed = true
            return false
        }
    }

    private func protocolError(id: UInt64, _ message: String) -> WireResult {
        var result = WireResult()
        result.id = id
        result.error = CallFailure(.protocol, message).wire
        return result
    }

    /// Maps a channel error to a failure, saying goodbye first where the guest is
    /// still there to hear it.
    private func fail(_ error: FrameError) -> InvocationFailure {
        switch error {
        case .timedOut:
            return .timeout
        case .closed, .truncated, .io:
            closed = true
            return .guestExited("\(error)")
        case .oversized, .malformed:
            return goodbye(.protocol, "\(error)")
        }
    }

    private func goodbye(_ code: WireCode, _ message: String) -> InvocationFailure {
        var bye = WireGoodbye()
        bye.error = CallFailure(code, message).wire
        var host = WireHostMessage()
        host.goodbye = bye
        try? channel.write(host)
        closed = true
        return .protocolViolation(message)
    }
}

/// The security context of an invocation as of its last finished call, for whoever
/// must end the invocation while the monitor is busy (its deadline passed mid-call).
/// The guest has seen nothing of a call that has not finished, so this label covers
/// everything it may have acted on.
public final class ContextProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var current: SecurityContext

    public init(_ context: SecurityContext) {
        current = context
    }

    public var context: SecurityContext {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }
}

/// Invokes other functions and external services on behalf of a guest; the
/// invocation engine implements it. Called on the monitor's thread, which may block.
public protocol GuestInvoker: Sendable {
    /// Invokes the gate or service `target` with the caller's context (which the call
    /// may raise: a synchronous result taints the caller).
    func invoke(_ target: Entry, _ request: GuestInvokeCall, _ context: inout SecurityContext) throws(FSError) -> GuestInvokeReply
    /// The function declassified or endorsed (`action`) its context with `privilege`:
    /// reported for the audit log.
    func labelChanged(_ action: String, from before: Label, to after: Label, privilege: Privilege)
}

extension GuestInvoker {
    public func labelChanged(_ action: String, from before: Label, to after: Label, privilege: Privilege) {}
}

/// What a guest asked to invoke.
public struct GuestInvokeCall: Sendable {
    public var payload: [UInt8]
    public var sync: Bool
    public var parameters: [String: String]

    public init(payload: [UInt8], sync: Bool, parameters: [String: String]) {
        self.payload = payload
        self.sync = sync
        self.parameters = parameters
    }
}

/// What an invocation by a guest returned.
public struct GuestInvokeReply: Sendable {
    public var body: [UInt8]
    public var status: Int
    public var headers: [String: String]
    /// For asynchronous invocations: the id to ask about later.
    public var invocationID: String?

    public init(body: [UInt8], status: Int, headers: [String: String] = [:], invocationID: String? = nil) {
        self.body = body
        self.status = status
        self.headers = headers
        self.invocationID = invocationID
    }
}
