import Keys
import Store

/// What to create: each kind with its initial content.
public enum NewObject: Sendable, Hashable {
    case directory
    case file([UInt8])
    /// Faceted directories are unlabeled: their facets carry the labels.
    case facetedDirectory
    /// A labeled pointer to an immutable blob.
    case blob(ExistingBlob)
    case gate(GateSpec)
    case service(Service)

    public var kind: ObjectKind {
        switch self {
        case .directory: return .directory
        case .file: return .file
        case .facetedDirectory: return .facetedDirectory
        case .blob: return .blob
        case .gate: return .gate
        case .service: return .service
        }
    }
}

/// A blob known to exist: made only from a reader of it (blobs are never deleted), so
/// a blob entry can never point at nothing.
public struct ExistingBlob: Sendable, Hashable {
    public let name: BlobName

    public init(_ reader: any BlobReader) {
        name = reader.name
    }
}

extension BlobStore {
    /// The finalized blob `name`, as an object may name it.
    public func existing(_ name: BlobName) throws(FSError) -> ExistingBlob {
        let reader: (any BlobReader)?
        do {
            reader = try open(name)
        } catch {
            throw FSError(blob: name, error)
        }
        guard let reader else { throw .blobNotFound(name) }
        return ExistingBlob(reader)
    }

    /// Stores `bytes` as a new blob (blocks: see ``BlobStore``).
    public func store(_ bytes: [UInt8]) throws(FSError) -> ExistingBlob {
        try store(writing: { upload in try upload.write(bytes) })
    }

    /// Stores a new blob written by `write`, aborted if it throws.
    public func store(writing write: (any BlobUpload) throws -> Void) throws(FSError) -> ExistingBlob {
        let name: BlobName
        do {
            let upload = try create()
            do {
                try write(upload)
                name = try upload.finalize()
            } catch {
                upload.abort()
                throw error
            }
        } catch let error as KeyError {
            throw FSError(error)
        } catch {
            throw .storage("cannot store the blob: \(error)")
        }
        return try existing(name)
    }
}
