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
