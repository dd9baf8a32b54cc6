import FileSystem
import Foundation
import Labels
import Store
import Worker

/// An invocation request as it waits in the queue (JSON): everything a worker on
/// another machine needs to run it. The worker checks it again before it runs it (the
/// start rule on its start label against its invoker, the invoke rule, the depth), so a
/// row changed in the database cannot start a context its invoker could not have
/// started; it still trusts the row's invoker and resolved gate (see docs/security.md).
///
/// The gate travels resolved, as the gateway resolved it when it accepted the
/// invocation, with the start label that resolution lifted: the worker runs what was
/// accepted (as a function's chained call runs the gate its caller resolved), and
/// spends no round trips walking the path again.
struct QueuedInvocation: Codable {
    /// The format's version, so that a newer worker can read what an older gateway wrote.
    var version = 1
    var gate: ResolvedGate
    var startLabel: Label
    var clearance: Label
    var invoker: Privilege
    var payload: Data
    var blobs: [String: BlobName]
    var headers: [String: String]
    var parent: String?
    var depth: Int
    var submittedAt: Double
    /// What the request inherits from its calling invocation (see
    /// ``InvocationRequest/inheritedIntegrity``); absent in rows of older gateways: `T`.
    var inheritedIntegrity: Component?

    /// The queued form of `request`, whose gate resolved to `admitted`.
    init(_ request: InvocationRequest, admitted: Admission.Admitted, submittedAt: Double) {
        gate = admitted.gate
        startLabel = admitted.invokerContext.label
        clearance = request.clearance
        invoker = request.invoker
        payload = Data(request.payload)
        blobs = request.blobs.mapValues(\.name)
        headers = request.headers
        parent = request.parent
        depth = request.depth
        self.submittedAt = submittedAt
        inheritedIntegrity = request.inheritedIntegrity.isTrue ? nil : request.inheritedIntegrity
    }

    func encoded() throws -> [UInt8] {
        Array(try JSONEncoder().encode(self))
    }

    /// Decodes a queued request; its blobs must exist in `blobs`.
    static func decode(_ bytes: [UInt8], blobs: any BlobStore) throws -> (request: InvocationRequest, submittedAt: Double) {
        let queued = try JSONDecoder().decode(QueuedInvocation.self, from: Data(bytes))
        guard queued.version == 1 else { throw ClusterError.badRequest("queued request format \(queued.version) is newer than this worker's") }
        var existing: [String: ExistingBlob] = [:]
        for (name, blob) in queued.blobs { existing[name] = try blobs.existing(blob) }
        let request = InvocationRequest(
            target: .resolved(queued.gate), startLabel: queued.startLabel, clearance: queued.clearance, invoker: queued.invoker,
            payload: Array(queued.payload), blobs: existing, headers: queued.headers, parent: queued.parent, depth: queued.depth,
            inheritedIntegrity: queued.inheritedIntegrity ?? .true)
        return (request, queued.submittedAt)
    }
}

/// A cluster failure with its reason.
public enum ClusterError: Error, CustomStringConvertible {
    case badRequest(String)
    case setup(String)

    public var description: String {
        switch self {
        case let .badRequest(reason): return "bad queued request: \(reason)"
        case let .setup(reason): return reason
        }
    }
}
