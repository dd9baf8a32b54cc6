import Crypto
import Foundation
import Store

/// Blobs encrypted at rest, named by keyed digests, over any ``BlobStore``.
///
/// A stored blob is a header (format, data key id, a random blob id), the content in
/// 64 KiB chunks sealed with AES-256-GCM under a key derived from the data key and the
/// blob id (the nonce is the chunk's index), and a sealed trailer holding the blob's
/// name and size. Its name is HMAC-SHA256 of the content under ``KeyRing/blobNamingKey()``:
/// identical content is still stored once, but a reader of the store cannot confirm a
/// guess of a small blob by hashing it. Chunks reordered, cut off or taken from another
/// blob, and a blob stored under another's name, do not open: tampering, reported and
/// nothing released.
///
/// Blobs stored in clear before encryption at rest (named by their SHA-256) are still
/// read, after checking that their content has that digest.
public final class SealedBlobStore: BlobStore {
    /// Plaintext bytes per sealed chunk.
    static let chunkSize = 64 * 1024
    static let tagSize = 16
    static let magic: [UInt8] = [0x46, 0x42, 0x01]  // "FB", format 1
    static let blobIDSize = 16
    /// A sealed trailer: the 32-byte name and the 8-byte plaintext size, and its tag.
    static let trailerSize = 32 + 8 + tagSize

    /// The store the sealed bytes live in.
    public let raw: any BlobStore
    let keys: KeyRing

    public init(raw: any BlobStore, keys: KeyRing) {
        self.raw = raw
        self.keys = keys
    }

    public func create(naming: BlobNaming) throws -> any BlobUpload {
        // Names come from the keyed digest whatever the caller asks: a content digest in
        // the clear would let a reader of the store confirm a guess.
        let (keyID, dataKey) = try keys.sealingKey()
        let upload = try raw.create(naming: .given)
        return try SealedBlobUpload(raw: upload, keyID: keyID, dataKey: dataKey, namingKey: keys.blobNamingKey())
    }

    public func open(_ name: BlobName) throws -> (any BlobReader)? {
        guard let reader = try raw.open(name) else { return nil }
        let sealed: Result<SealedBlobReader, NotSealed>
        do {
            sealed = .success(try openSealed(reader, name))
        } catch let error as NotSealed {
            sealed = .failure(error)
        }
        switch sealed {
        case let .success(opened): return opened
        case let .failure(notSealed):
            // A blob from before encryption at rest (its content may even begin like a
            // sealed one): released only if it is what its name says.
            if let clear = try ClearBlobReader(verifying: reader) { return clear }
            throw tampered(name, notSealed.reason)
        }
    }

    /// Why a blob's bytes are not a sealed blob of this name.
    struct NotSealed: Error {
        let reason: String
    }

    private func openSealed(_ reader: any BlobReader, _ name: BlobName) throws -> SealedBlobReader {
        let head = try reader.read(at: 0, count: Self.magic.count + 1 + 255 + Self.blobIDSize)
        guard head.starts(with: Self.magic) else { throw NotSealed(reason: "it is in clear and its content is not what its name says") }
        guard head.count > Self.magic.count else { throw NotSealed(reason: "its header is truncated") }
        let idLength = Int(head[Self.magic.count])
        let headerSize = Self.magic.count + 1 + idLength + Self.blobIDSize
        guard head.count >= headerSize else { throw NotSealed(reason: "its header is truncated") }
        let keyID = String(decoding: head[(Self.magic.count + 1)..<(Self.magic.count + 1 + idLength)], as: UTF8.self)
        let blobID = Array(head[(headerSize - Self.blobIDSize)..<headerSize])
        guard let dataKey = try keys.dataKey(keyID) else {
            throw NotSealed(reason: "it names the data key \(keyID), which the store does not have")
        }
        let content = Self.contentKey(dataKey, blobID: blobID)
        let body = reader.size - Int64(headerSize) - Int64(Self.trailerSize)
        guard body >= 0 else { throw NotSealed(reason: "it is truncated") }
        let sealedChunk = Int64(Self.chunkSize + Self.tagSize)
        let chunks = (body + sealedChunk - 1) / sealedChunk
        let plainSize = body - chunks * Int64(Self.tagSize)
        // Uploads never write a chunk without content, so a last chunk of a tag or less is not theirs.
        let remainder = body % sealedChunk
        guard remainder == 0 || remainder > Int64(Self.tagSize) else { throw NotSealed(reason: "its chunks are malformed") }
        let trailer = try reader.read(at: reader.size - Int64(Self.trailerSize), count: Self.trailerSize)
        guard let opened = Self.open(trailer[...], key: content, nonce: Self.trailerNonce(chunks), binding: Self.trailerBinding(chunks)),
            opened.count == 40, Array(opened.prefix(32)) == name.digest, Self.uint64(opened.suffix(8)) == UInt64(max(0, plainSize))
        else { throw NotSealed(reason: "its trailer does not open with its key, or names another blob or size") }
        return SealedBlobReader(
            raw: reader, name: name, size: plainSize, headerSize: Int64(headerSize), key: content, keys: keys)
    }

    // MARK: Format

    static func contentKey(_ dataKey: SymmetricKey, blobID: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: dataKey, salt: blobID, info: Array("faasten blob content".utf8), outputByteCount: 32)
    }

    static func chunkNonce(_ index: Int64) -> [UInt8] { [0, 0, 0, 0] + bigEndian(UInt64(index)) }
    static func trailerNonce(_ chunks: Int64) -> [UInt8] { [1, 0, 0, 0] + bigEndian(UInt64(chunks)) }
    static func chunkBinding(_ index: Int64) -> [UInt8] { Array("faasten blob chunk".utf8) + bigEndian(UInt64(index)) }
    static func trailerBinding(_ chunks: Int64) -> [UInt8] { Array("faasten blob end".utf8) + bigEndian(UInt64(chunks)) }

    static func seal(_ plaintext: ArraySlice<UInt8>, key: SymmetricKey, nonce: [UInt8], binding: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        try seal(plaintext, key: key, nonce: nonce, binding: binding, appendingTo: &out)
        return out
    }

    /// Seals `plaintext` and appends ciphertext and tag to `out` (no intermediate arrays:
    /// uploads are bound by copies as much as by the cipher).
    static func seal(
        _ plaintext: ArraySlice<UInt8>, key: SymmetricKey, nonce: [UInt8], binding: [UInt8], appendingTo out: inout [UInt8]
    ) throws {
        let box = try AES.GCM.seal(plaintext, using: key, nonce: try AES.GCM.Nonce(data: nonce), authenticating: binding)
        box.ciphertext.withUnsafeBytes { out.append(contentsOf: $0) }
        box.tag.withUnsafeBytes { out.append(contentsOf: $0) }
    }

    static func open(_ sealed: ArraySlice<UInt8>, key: SymmetricKey, nonce: [UInt8], binding: [UInt8]) -> Data? {
        guard sealed.count >= tagSize else { return nil }
        let cut = sealed.endIndex - tagSize
        guard let box = try? AES.GCM.SealedBox(nonce: try AES.GCM.Nonce(data: nonce), ciphertext: sealed[..<cut], tag: sealed[cut...])
        else { return nil }
        return try? AES.GCM.open(box, using: key, authenticating: binding)
    }

    static func bigEndian(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) } }

    static func uint64(_ bytes: some Sequence<UInt8>) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }

    func tampered(_ name: BlobName, _ reason: String) -> KeyError {
        keys.reportTampering("blob \(name)", reason)
    }
}

extension BlobName {
    /// The 32 bytes the hex name spells.
    var digest: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var high: UInt8 = 0
        for (index, char) in hex.utf8.enumerated() {
            let value = char <= 0x39 ? char - 0x30 : char - 0x61 + 10
            if index % 2 == 0 { high = value } else { out.append(high << 4 | value) }
        }
        return out
    }
}

/// Encrypts chunk by chunk into a raw upload while computing the keyed name.
final class SealedBlobUpload: BlobUpload, @unchecked Sendable {
    private let raw: any BlobUpload
    private let content: SymmetricKey
    private let lock = NSLock()
    private var naming: HMAC<SHA256>
    private var pending: [UInt8] = []
    private var nextChunk: Int64 = 0
    private var written: Int64 = 0

    init(raw: any BlobUpload, keyID: String, dataKey: SymmetricKey, namingKey: SymmetricKey) throws {
        self.raw = raw
        var blobID = [UInt8](repeating: 0, count: SealedBlobStore.blobIDSize)
        var random = SystemRandomNumberGenerator()
        for index in blobID.indices { blobID[index] = random.next() }
        content = SealedBlobStore.contentKey(dataKey, blobID: blobID)
        naming = HMAC<SHA256>(key: namingKey)
        let id = Array(keyID.utf8)
        do {
            try raw.write(SealedBlobStore.magic + [UInt8(id.count)] + id + blobID)
        } catch {
            raw.abort()
            throw error
        }
    }

    var size: Int64 { lock.withLock { written } }

    func write(_ bytes: [UInt8]) throws {
        try lock.withLock {
            naming.update(data: bytes)
            written += Int64(bytes.count)
            var offset = 0
            if !pending.isEmpty {
                let take = min(SealedBlobStore.chunkSize - pending.count, bytes.count)
                pending.append(contentsOf: bytes[..<take])
                offset = take
                if pending.count == SealedBlobStore.chunkSize {
                    try sealChunk(pending[...])
                    pending.removeAll(keepingCapacity: true)
                }
            }
            var whole: [UInt8] = []
            whole.reserveCapacity((bytes.count - offset) / SealedBlobStore.chunkSize * (SealedBlobStore.chunkSize + SealedBlobStore.tagSize))
            while bytes.count - offset >= SealedBlobStore.chunkSize {
                try seal(bytes[offset..<(offset + SealedBlobStore.chunkSize)], appendingTo: &whole)
                offset += SealedBlobStore.chunkSize
            }
            if !whole.isEmpty { try raw.write(whole) }
            if offset < bytes.count { pending.append(contentsOf: bytes[offset...]) }
        }
    }

    private func seal(_ chunk: ArraySlice<UInt8>, appendingTo out: inout [UInt8]) throws {
        defer { nextChunk += 1 }
        try SealedBlobStore.seal(
            chunk, key: content, nonce: SealedBlobStore.chunkNonce(nextChunk), binding: SealedBlobStore.chunkBinding(nextChunk),
            appendingTo: &out)
    }

    private func sealChunk(_ chunk: ArraySlice<UInt8>) throws {
        var out: [UInt8] = []
        try seal(chunk, appendingTo: &out)
        try raw.write(out)
    }

    func finalize(as _: BlobName?) throws -> BlobName {
        try lock.withLock {
            if !pending.isEmpty {
                try sealChunk(pending[...])
                pending = []
            }
            let name = BlobName(digest: naming.finalize())
            let trailer = try SealedBlobStore.seal(
                (name.digest + SealedBlobStore.bigEndian(UInt64(written)))[...], key: content,
                nonce: SealedBlobStore.trailerNonce(nextChunk), binding: SealedBlobStore.trailerBinding(nextChunk))
            try raw.write(trailer)
            return try raw.finalize(as: name)
        }
    }

    func abort() { raw.abort() }
}

/// Random access to a sealed blob: opens the chunks a read covers, keeping the last one.
final class SealedBlobReader: BlobReader, @unchecked Sendable {
    let name: BlobName
    let size: Int64
    private let raw: any BlobReader
    private let headerSize: Int64
    private let key: SymmetricKey
    private let keys: KeyRing
    private let lock = NSLock()
    private var cached: (index: Int64, plain: Data)?

    init(raw: any BlobReader, name: BlobName, size: Int64, headerSize: Int64, key: SymmetricKey, keys: KeyRing) {
        self.raw = raw
        self.name = name
        self.size = size
        self.headerSize = headerSize
        self.key = key
        self.keys = keys
    }

    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0 else { throw StoreError("negative blob offset or count") }
        let end = min(size, offset + Int64(count))
        guard end > offset else { return [] }
        let chunk = Int64(SealedBlobStore.chunkSize)
        let first = offset / chunk
        let last = (end - 1) / chunk
        var out: [UInt8] = []
        out.reserveCapacity(Int(end - offset))
        // Uncached chunks are read from the raw store in one call.
        let cachedChunk = lock.withLock { cached }
        let sealedChunk = chunk + Int64(SealedBlobStore.tagSize)
        let readFrom = (cachedChunk?.index == first && last > first) ? first + 1 : first
        var sealedBytes: [UInt8] = []
        if !(cachedChunk?.index == first && last == first) {
            let start = headerSize + readFrom * sealedChunk
            let stop = min(headerSize + (last + 1) * sealedChunk, raw.size - Int64(SealedBlobStore.trailerSize))
            sealedBytes = try raw.read(at: start, count: Int(stop - start))
            guard Int64(sealedBytes.count) == stop - start else { throw tampered("it is shorter than its header says") }
        }
        var newest: (Int64, Data)?
        for index in first...last {
            let plain: Data
            if let cachedChunk, cachedChunk.index == index {
                plain = cachedChunk.plain
            } else {
                let from = Int((index - readFrom) * sealedChunk)
                let to = min(from + Int(sealedChunk), sealedBytes.count)
                guard
                    let opened = SealedBlobStore.open(
                        sealedBytes[from..<to], key: key, nonce: SealedBlobStore.chunkNonce(index),
                        binding: SealedBlobStore.chunkBinding(index))
                else { throw tampered("chunk \(index) does not open with its key (changed, moved or from another blob)") }
                plain = opened
                newest = (index, opened)
            }
            let chunkStart = index * chunk
            let lower = Int(max(offset, chunkStart) - chunkStart)
            let upper = Int(min(end, chunkStart + Int64(plain.count)) - chunkStart)
            guard lower <= upper else { throw tampered("chunk \(index) is shorter than its place says") }
            plain.withUnsafeBytes { out.append(contentsOf: $0[lower..<upper]) }
        }
        if let newest { lock.withLock { cached = newest } }
        return out
    }

    private func tampered(_ reason: String) -> KeyError {
        keys.reportTampering("blob \(name)", reason)
    }
}

/// A blob stored in clear before encryption at rest: read only once its content is
/// found to have the SHA-256 it is named by, so that nothing planted is released.
final class ClearBlobReader: BlobReader {
    let name: BlobName
    let size: Int64
    private let raw: any BlobReader

    /// nil if the content does not have the digest `raw` is named by.
    init?(verifying raw: any BlobReader) throws {
        var hasher = SHA256()
        var offset: Int64 = 0
        while offset < raw.size {
            let chunk = try raw.read(at: offset, count: 1 << 20)
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            offset += Int64(chunk.count)
        }
        guard offset == raw.size, BlobName(digest: hasher.finalize()) == raw.name else { return nil }
        self.raw = raw
        name = raw.name
        size = raw.size
    }

    func read(at offset: Int64, count: Int) throws -> [UInt8] { try raw.read(at: offset, count: count) }
}
