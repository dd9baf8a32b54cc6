import CloudCalls
import FileSystem
import Labels
import Store

/// The per-invocation state of a monitor: the security context and the handle
/// tables. Handles are numbers given out for one invocation only.
struct InvocationState {
    var context: SecurityContext
    let limits: MonitorLimits
    let invoker: (any GuestInvoker)?
    /// Directory-entry handles; 0 is the root (filled in on first use).
    private var dents: [UInt64: Entry] = [:]
    private var nextDent: UInt64 = 1
    private var blobs: [UInt64: BlobHandle] = [:]
    private var nextBlob: UInt64 = 1

    enum BlobHandle {
        case reading(any BlobReader)
        case writing(any BlobUpload)
    }

    init(context: SecurityContext, limits: MonitorLimits, invoker: (any GuestInvoker)?) {
        self.context = context
        self.limits = limits
        self.invoker = invoker
    }

    // MARK: Directory-entry handles

    mutating func addDent(_ entry: Entry) -> Result<UInt64, CallFailure> {
        guard dents.count < limits.maxDentHandles else {
            return .failure(CallFailure(.limitExceeded, "too many open handles (limit \(limits.maxDentHandles)); close some"))
        }
        let handle = nextDent
        nextDent += 1
        dents[handle] = entry
        return .success(handle)
    }

    func dent(_ handle: UInt64) -> Result<Entry, CallFailure> {
        guard let entry = dents[handle] else { return .failure(CallFailure(.badHandle, "no open handle \(handle)")) }
        return .success(entry)
    }

    mutating func setRoot(_ root: Entry) {
        dents[0] = root
    }

    var hasRoot: Bool { dents[0] != nil }

    mutating func closeDent(_ handle: UInt64) -> Result<Void, CallFailure> {
        guard handle != 0 else { return .failure(CallFailure(.invalidArgument, "the root handle cannot be closed")) }
        guard dents.removeValue(forKey: handle) != nil else {
            return .failure(CallFailure(.badHandle, "no open handle \(handle)"))
        }
        return .success(())
    }

    // MARK: Blob handles

    mutating func addBlob(_ blob: BlobHandle) -> Result<UInt64, CallFailure> {
        guard blobs.count < limits.maxBlobHandles else {
            return .failure(CallFailure(.limitExceeded, "too many open blobs (limit \(limits.maxBlobHandles)); close some"))
        }
        let handle = nextBlob
        nextBlob += 1
        blobs[handle] = blob
        return .success(handle)
    }

    func blob(_ handle: UInt64) -> Result<BlobHandle, CallFailure> {
        guard let blob = blobs[handle] else { return .failure(CallFailure(.badHandle, "no open blob \(handle)")) }
        return .success(blob)
    }

    func reader(_ handle: UInt64) -> Result<any BlobReader, CallFailure> {
        blob(handle).flatMap { blob in
            guard case let .reading(reader) = blob else {
                return .failure(CallFailure(.invalidArgument, "blob \(handle) is still being written; finalize it first"))
            }
            return .success(reader)
        }
    }

    func upload(_ handle: UInt64) -> Result<any BlobUpload, CallFailure> {
        blob(handle).flatMap { blob in
            guard case let .writing(upload) = blob else {
                return .failure(CallFailure(.invalidArgument, "blob \(handle) is finalized and cannot be written"))
            }
            return .success(upload)
        }
    }

    mutating func replaceBlob(_ handle: UInt64, with blob: BlobHandle) {
        blobs[handle] = blob
    }

    mutating func closeBlob(_ handle: UInt64) -> Result<Void, CallFailure> {
        guard let blob = blobs.removeValue(forKey: handle) else {
            return .failure(CallFailure(.badHandle, "no open blob \(handle)"))
        }
        if case let .writing(upload) = blob { upload.abort() }
        return .success(())
    }

    /// Discards unfinished uploads at the end of an invocation.
    mutating func closeBlobs() {
        for (_, blob) in blobs {
            if case let .writing(upload) = blob { upload.abort() }
        }
        blobs = [:]
    }
}

/// An error answered to the guest: a code, a message, and for refusals the rule.
struct CallFailure: Error {
    let code: WireCode
    let message: String
    let rule: String?

    init(_ code: WireCode, _ message: String, rule: String? = nil) {
        self.code = code
        self.message = message
        self.rule = rule
    }

    init(_ error: FSError) {
        switch error {
        case .notFound, .blobNotFound: self.init(.notFound, "\(error)")
        case .nameExists: self.init(.alreadyExists, "\(error)")
        case .wrongKind: self.init(.wrongKind, "\(error)")
        case .badPath, .badName, .badArgument, .badGate, .invalidContext: self.init(.invalidArgument, "\(error)")
        case .cannotRead, .cannotWrite, .cannotDeclassify, .cannotDelegate, .cannotRelease, .cannotInvoke, .cannotSend, .cannotStart:
            self.init(.refused, "\(error)", rule: error.rule)
        case .limitExceeded, .labelTooLarge: self.init(.limitExceeded, "\(error)")
        case .corrupt, .tampered: self.init(.internal, "\(error)")
        case .storage, .notInitialized, .unavailable: self.init(.unavailable, "\(error)")
        }
    }

    init(_ error: LabelError, what: String) {
        self.init(.invalidArgument, "\(what): \(error)")
    }

    var wire: WireError {
        var error = WireError()
        error.code = code
        error.message = message
        if let rule { error.rule = rule }
        return error
    }
}
