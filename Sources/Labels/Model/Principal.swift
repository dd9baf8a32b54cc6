/// A hierarchical principal such as `alice/photo`: a non-empty list of non-empty tokens.
///
/// A principal speaks for every principal it is a prefix of, so whoever owns
/// `alice` owns `alice/photo` and `alice/photo/2026` ("delegation by extension"):
///
/// ```swift
/// let alice = try Principal(["alice"])
/// let photo = try Principal(["alice", "photo"])
/// alice.speaks(for: photo)   // true
/// photo.speaks(for: alice)   // false
/// ```
///
/// Tokens may hold any character except control characters (U+0000–U+001F and
/// U+007F), which cannot travel safely through headers, batch lines or logs.
public struct Principal: Sendable {
    /// The tokens' UTF-8 bytes joined by 0x00.
    ///
    /// Tokens never contain 0x00, so this key orders principals exactly as their
    /// token lists compare lexicographically, a byte-prefix ending at a 0x00 or at the
    /// end is a token-prefix, and every extension of `p` sorts directly after `p`.
    @usableFromInline let key: [UInt8]
    /// Bloom bit of this principal's key: a quick "cannot be equal" test.
    @usableFromInline let bit: UInt64
    /// Bloom bits of every token-prefix of this principal, itself included.
    @usableFromInline let prefixBits: UInt64
    /// FNV-1a hash of the key; a token-prefix's hash is the running hash at its end.
    @usableFromInline let keyHash: UInt64

    /// Builds a principal from its tokens.
    /// - Throws: `LabelError` if the list is empty, a token is empty, or a token holds a control character.
    public init(_ tokens: [String]) throws(LabelError) {
        guard !tokens.isEmpty else { throw .invalid("a principal needs at least one token") }
        var key: [UInt8] = []
        key.reserveCapacity(tokens.reduce(tokens.count) { $0 + $1.utf8.count })
        for (index, token) in tokens.enumerated() {
            guard !token.isEmpty else { throw .invalid("principal token \(index + 1) is empty") }
            if index > 0 { key.append(Principal.separator) }
            for byte in token.utf8 {
                guard !Principal.isControl(byte) else {
                    throw .invalid("principal token \(index + 1) holds control character \(Principal.describeControl(byte))")
                }
                key.append(byte)
            }
        }
        self.init(key: key)
    }

    /// A principal of one token, e.g. `Principal("alice")`.
    public init(_ token: String) throws(LabelError) {
        try self.init([token])
    }

    /// Builds from an already validated key (non-empty tokens, no control bytes).
    @usableFromInline init(key: [UInt8]) {
        self.key = key
        var hash = Principal.fnvOffset
        var prefixBits: UInt64 = 0
        for byte in key {
            if byte == Principal.separator { prefixBits |= Principal.bloomBit(hash) }
            hash = (hash ^ UInt64(byte)) &* Principal.fnvPrime
        }
        let bit = Principal.bloomBit(hash)
        self.bit = bit
        self.prefixBits = prefixBits | bit
        self.keyHash = hash
    }

    /// Appends the ``keyHash`` of every token-prefix of this principal, itself included.
    func appendPrefixHashes(to hashes: inout [UInt64]) {
        var hash = Principal.fnvOffset
        for byte in key {
            if byte == Principal.separator { hashes.append(hash) }
            hash = (hash ^ UInt64(byte)) &* Principal.fnvPrime
        }
        hashes.append(hash)
    }

    /// The tokens, outermost first: `["alice", "photo"]` for `alice/photo`.
    public var tokens: [String] {
        key.split(separator: Principal.separator, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// The number of tokens.
    public var depth: Int { key.reduce(1) { $1 == Principal.separator ? $0 + 1 : $0 } }

    /// `self` is a prefix of `other` (or equal to it), so `self` may act for `other`.
    @inlinable
    public func speaks(for other: Principal) -> Bool {
        if bit & other.prefixBits == 0 { return false }
        let count = key.count
        guard count <= other.key.count else { return false }
        return key.withUnsafeBufferPointer { mine in
            other.key.withUnsafeBufferPointer { theirs in
                if count < theirs.count && theirs[count] != Principal.separator { return false }
                return memcmpEqual(mine.baseAddress!, theirs.baseAddress!, count)
            }
        }
    }

    /// The principal one level down: `alice.extended(by: "photo")` is `alice/photo`.
    public func extended(by token: String) throws(LabelError) -> Principal {
        let suffix = try Principal([token])
        return Principal(key: key + [Principal.separator] + suffix.key)
    }

    @usableFromInline static let separator: UInt8 = 0
    static let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325
    static let fnvPrime: UInt64 = 0x0000_0100_0000_01b3

    @usableFromInline static func bloomBit(_ hash: UInt64) -> UInt64 {
        // Fold the high bits in: FNV's low bits alone mix poorly for short keys.
        1 << ((hash ^ (hash >> 29) ^ (hash >> 47)) & 63)
    }

    @inlinable static func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }

    static func describeControl(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}

@usableFromInline
func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    var i = 0
    while i < count {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}

/// Lexicographic byte order of two keys; extensions sort right after their prefix.
@usableFromInline
func compareKeys(_ a: [UInt8], _ b: [UInt8]) -> Int {
    a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
            let n = Swift.min(x.count, y.count)
            var i = 0
            while i < n {
                if x[i] != y[i] { return x[i] < y[i] ? -1 : 1 }
                i += 1
            }
            return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
        }
    }
}

extension Principal: Hashable, Comparable {
    @inlinable
    public static func == (lhs: Principal, rhs: Principal) -> Bool {
        lhs.bit == rhs.bit && lhs.key == rhs.key
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(key.count)
        key.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Token lists compared lexicographically, tokens compared by their UTF-8 bytes.
    @inlinable
    public static func < (lhs: Principal, rhs: Principal) -> Bool {
        compareKeys(lhs.key, rhs.key) < 0
    }
}

extension Principal: CustomStringConvertible {
    /// The text form, escaped so that it parses back to this principal.
    public var description: String { LabelPrinter.string(self) }
}
