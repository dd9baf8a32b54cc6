/// Why a key operation failed; every case says what to do.
public enum KeyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The master key's source is missing, unreadable or malformed.
    case badSource(String)
    /// The master key does not open the stored data keys.
    case wrongMasterKey(String)
    /// A ciphertext does not open with its key and binding: changed, moved or replaced.
    case tampered(String)
    /// A ciphertext names a data key the store does not have.
    case unknownKey(String)
    /// The store could not be read or written.
    case storage(String)

    public var description: String {
        switch self {
        case let .badSource(reason): return "master key: \(reason)"
        case let .wrongMasterKey(reason): return "wrong master key: \(reason)"
        case let .tampered(what): return "tampering detected: \(what)"
        case let .unknownKey(id): return "unknown data key \(id)"
        case let .storage(reason): return "key store: \(reason)"
        }
    }
}
