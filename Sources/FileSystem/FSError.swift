import Keys
import Labels
import Store

/// Why a file system operation was refused or failed. Refusals name the rule that
/// refused and the labels involved.
public enum FSError: Error, Hashable, Sendable {
    case notFound(String)
    case nameExists(String)
    case wrongKind(expected: ObjectKind, actual: ObjectKind)
    case badPath(String)
    case badName(String)
    case badArgument(String)
    /// Read rule: the read would raise the label above the clearance.
    case cannotRead(object: Label, current: Label, clearance: Label)
    /// Write rule: the current label may not flow to the object even with the privilege.
    case cannotWrite(object: Label, current: Label, privilege: Privilege)
    /// Declassification rule: the privilege does not cover the secrecy to be dropped.
    case cannotDeclassify(current: Label, target: Component, privilege: Privilege)
    /// Delegation rule: the privilege does not imply what it tries to hand on.
    case cannotDelegate(held: Privilege, wanted: Component, purpose: String)
    /// Release rule: the privilege does not satisfy the secrecy of what would be shown.
    case cannotRelease(label: Label, privilege: Privilege)
    /// Invoke rule: the invoker's privilege does not imply the gate or service's invoker clearance.
    case cannotInvoke(invoker: Privilege, required: Component)
    /// Sink rule: data would leave the system for a service while still secret.
    case cannotSend(label: Label, service: Privilege)
    /// Start rule: a context was asked to start at a label whose integrity the privilege
    /// vouching for it does not imply.
    case cannotStart(label: Label, privilege: Privilege)
    /// A label operation's result would exceed the label limits (`label too large`);
    /// nothing changed.
    case labelTooLarge(String)
    case limitExceeded(String, limit: Int)
    /// Something outside the file system failed or has no room: an external service,
    /// the engine's capacity for another call.
    case unavailable(String)
    case blobNotFound(BlobName)
    case badGate(String)
    case invalidContext(String)
    /// The store has no root yet: `faasten fs init` (or ``FileSystem/bootstrap()``) makes one.
    case notInitialized
    /// A stored value could not be decoded: a bug or a damaged database.
    case corrupt(String)
    /// A stored value does not open with its key and binding: changed, moved, relabelled
    /// or rolled back in the database (see docs/trust.md). Nothing of it is released.
    case tampered(String)
    /// The storage backend failed.
    case storage(String)

    /// The rule that refused, for refusals; `nil` for other errors.
    public var rule: String? {
        switch self {
        case .cannotRead: return "read rule"
        case .cannotWrite: return "write rule"
        case .cannotDeclassify: return "declassification rule"
        case .cannotDelegate: return "delegation rule"
        case .cannotRelease: return "release rule"
        case .cannotInvoke: return "invoke rule"
        case .cannotSend: return "sink rule"
        case .cannotStart: return "start rule"
        default: return nil
        }
    }
}

extension FSError {
    /// A key error met while opening stored content: tampering stays tampering; the
    /// rest is the key store failing.
    public init(_ error: KeyError) {
        switch error {
        case let .tampered(reason): self = .tampered(reason)
        default: self = .storage("\(error)")
        }
    }

    /// A blob that could not be opened: tampering found by the sealing store stays
    /// tampering; the rest is the blob store failing.
    public init(blob name: BlobName, _ error: any Error) {
        if let error = error as? KeyError {
            self.init(error)
        } else {
            self = .storage("cannot open the blob \(name): \(error)")
        }
    }

    /// A bounded label operation's refusal (``LabelError/tooLarge(_:limit:)``), or any
    /// other label error, as a file-system error.
    public init(_ error: LabelError) {
        switch error {
        case .tooLarge: self = .labelTooLarge("\(error)")
        default: self = .badArgument("\(error)")
        }
    }
}

extension FSError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .notFound(name): return "not found: \(name)"
        case let .nameExists(name): return "the name \(name) already exists"
        case let .wrongKind(expected, actual): return "expected a \(expected), found a \(actual)"
        case let .badPath(reason): return "bad path: \(reason)"
        case let .badName(reason): return "bad name: \(reason)"
        case let .badArgument(reason): return reason
        case let .cannotRead(object, current, clearance):
            return "refused by the read rule: reading \(object) at \(current) would exceed the clearance \(clearance)"
        case let .cannotWrite(object, current, privilege):
            return "refused by the write rule: \(current) may not flow to \(object) with privilege \(privilege)"
        case let .cannotDeclassify(current, target, privilege):
            return "refused by the declassification rule: privilege \(privilege) does not let \(current.secrecy) be lowered to \(target)"
        case let .cannotDelegate(held, wanted, purpose):
            return "refused by the delegation rule: privilege \(held) does not imply \(wanted) (\(purpose))"
        case let .cannotRelease(label, privilege):
            return "refused by the release rule: the result is labeled \(label) and privilege \(privilege) does not satisfy its secrecy \(label.secrecy)"
        case let .cannotInvoke(invoker, required):
            return "refused by the invoke rule: the invoker's privilege \(invoker) does not imply the invoker clearance \(required)"
        case let .cannotSend(label, service):
            return "refused by the sink rule: downgraded with the service's privilege \(service), the caller's label \(label) is still secret"
        case let .cannotStart(label, privilege):
            return "refused by the start rule: privilege \(privilege) does not imply the integrity \(label.integrity) of the start label \(label) "
                + "(a request may raise its secrecy, but may not claim integrity its privilege does not own)"
        case let .labelTooLarge(reason): return reason
        case let .limitExceeded(what, limit): return "\(what) exceeds the limit of \(limit)"
        case let .unavailable(reason): return "unavailable: \(reason)"
        case let .blobNotFound(name): return "no blob named \(name)"
        case let .badGate(reason): return "bad gate: \(reason)"
        case let .invalidContext(reason): return "invalid security context: \(reason)"
        case .notInitialized: return "the file system is not initialized: run `faasten fs init`"
        case let .corrupt(reason): return "stored data is damaged: \(reason)"
        case let .tampered(reason): return "tampering detected: \(reason)"
        case let .storage(reason): return "storage failure: \(reason)"
        }
    }
}
