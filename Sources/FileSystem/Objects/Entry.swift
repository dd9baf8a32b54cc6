import Labels
import Store

/// A typed reference to an object: what a directory entry holds and what a handle
/// (a CloudCall "dent fd") is. Holding an entry is a capability: operations on it do
/// not walk paths again, so the taint of reaching it has already been taken.
public struct Entry: Sendable, Hashable, CustomStringConvertible {
    public let kind: ObjectKind
    public let target: Target

    /// What the entry points at.
    public enum Target: Sendable, Hashable {
        /// A stored object.
        case object(ObjectID)
        /// The facet at `label` of a faceted directory: a directory labeled `label`,
        /// stored only once something is linked into it.
        case facet(faceted: ObjectID, label: Label)
    }

    public init(kind: ObjectKind, target: Target) {
        self.kind = kind
        self.target = target
    }

    init(kind: ObjectKind, id: ObjectID) {
        self.init(kind: kind, target: .object(id))
    }

    public var description: String {
        switch target {
        case let .object(id): return "\(kind) #\(id)"
        case let .facet(faceted, label): return "facet <\(label)> of #\(faceted)"
        }
    }
}

/// A name in a directory listing.
public struct DirectoryEntry: Sendable, Hashable {
    public let name: String
    public let kind: ObjectKind

    public init(name: String, kind: ObjectKind) {
        self.name = name
        self.kind = kind
    }
}

/// What `stat` tells about an object without reading it.
public struct ObjectInfo: Sendable, Hashable {
    public let kind: ObjectKind
    /// `nil` for a faceted directory, which is unlabeled.
    public let label: Label?

    public init(kind: ObjectKind, label: Label?) {
        self.kind = kind
        self.label = label
    }
}
