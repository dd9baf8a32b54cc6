/// Immutable, content-addressed byte strings (function images, photos, results).
///
/// Blobs carry no labels: who may reach one is decided by the labeled blob entries
/// that name it. Writing is streaming: create an upload, write chunks, finalize to
/// learn the name; identical content gets the same name and is stored once.
///
/// ```swift
/// let upload = try store.blobs.create()
/// try upload.write(Array("hello".utf8))
/// let name = try upload.finalize()
/// let reader = try store.blobs.open(name)!
/// let bytes = try reader.read(at: 0, count: 5)
/// ```
///
/// The calls are synchronous and may block on disk or network: call them from a
/// thread that may block (a monitor thread), or through ``Blocking/run(_:)``.
public protocol BlobStore: Sendable {
    /// Starts a new upload, named by its content's SHA-256 (`.contentDigest`) or by
    /// the caller at ``BlobUpload/finalize(as:)`` (`.given`: a layer above that names
    /// what it stores, as the sealing store does with keyed digests).
    func create(naming: BlobNaming) throws -> any BlobUpload
    /// A reader for a finalized blob, or `nil` if there is none with this name.
    func open(_ name: BlobName) throws -> (any BlobReader)?
}

/// A blob being written. Call ``finalize()`` or ``abort()`` exactly once.
public protocol BlobUpload: AnyObject, Sendable {
    /// Appends bytes.
    func write(_ bytes: [UInt8]) throws
    /// Bytes written so far.
    var size: Int64 { get }
    /// Makes the blob durable and immutable and returns its name: `name` for an upload
    /// created with `.given` (which must pass one), else the content's SHA-256. An
    /// existing blob of the same name is kept.
    func finalize(as name: BlobName?) throws -> BlobName
    /// Discards what was written.
    func abort()
}

/// Random access to a finalized blob.
public protocol BlobReader: Sendable {
    var name: BlobName { get }
    var size: Int64 { get }
    /// Up to `count` bytes starting at `offset`; fewer at the end, none past it.
    func read(at offset: Int64, count: Int) throws -> [UInt8]
}

/// Who names a new blob.
public enum BlobNaming: Sendable {
    /// The store: the SHA-256 of the bytes written.
    case contentDigest
    /// The caller, at ``BlobUpload/finalize(as:)``.
    case given
}

extension BlobUpload {
    /// Finalizes an upload the store names.
    public func finalize() throws -> BlobName { try finalize(as: nil) }
}

extension BlobStore {
    /// Starts a new upload the store names by content.
    public func create() throws -> any BlobUpload { try create(naming: .contentDigest) }

    /// Stores `bytes` as one blob.
    public func put(_ bytes: [UInt8]) throws -> BlobName {
        let upload = try create()
        do {
            try upload.write(bytes)
            return try upload.finalize()
        } catch {
            upload.abort()
            throw error
        }
    }
}

extension BlobReader {
    /// The whole blob; for small blobs only.
    public func readAll() throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Int(size))
        while Int64(out.count) < size {
            let chunk = try read(at: Int64(out.count), count: 1 << 20)
            if chunk.isEmpty { break }
            out.append(contentsOf: chunk)
        }
        return out
    }
}
