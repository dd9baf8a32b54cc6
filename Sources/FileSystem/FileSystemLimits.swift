/// Limits of the file system, with their defaults. Every one is enforced in the
/// operation that could exceed it and reported as `FSError.limitExceeded`.
public struct FileSystemLimits: Sendable, Hashable {
    /// UTF-8 bytes in a directory entry name.
    public var maxNameBytes = 255
    /// Bytes in a file (whole-file reads and writes; large data belongs in blobs).
    public var maxFileBytes = 8 << 20
    /// Entries in one directory.
    public var maxEntriesPerDirectory = 1_000_000
    /// Facets one privilege may create in one faceted directory (root privilege `F`
    /// is exempt: the operator creates every user's home facet).
    public var maxFacetsPerCreator = 1_000
    /// Hops in a redirect gate chain.
    public var maxGateChain = 16
    /// Components in a path.
    public var maxPathComponents = 64
    /// UTF-8 bytes in a path.
    public var maxPathBytes = 4096
    /// Bytes in a service URL template.
    public var maxServiceURLBytes = 2048
    /// Headers a service may carry.
    public var maxServiceHeaders = 64

    public init() {}

    public static let `default` = FileSystemLimits()
}
