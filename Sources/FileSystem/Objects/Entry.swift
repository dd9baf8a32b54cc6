import Labels
import Store

/// A typed reference to an object: what a directory entry holds and what a handle
/// (a CloudCall "dent fd") is. Holding an entry is a capability: operations on it do
/// not walk paths again, so the taint of reaching it has already been taken.
///
/// Entries come only from the file system (there is no public initializer), so the
/// label an entry carries is the object's real label: objects never change label.
public struct Entry: Sendable, Hashable, CustomStringConvertible {
    public let kind: ObjectKind
    public let target: Target
    /// The object's label; `nil` for a faceted directory, which is unlabeled.
    public let label: Label?

    /// What the entry points at.
    public enum Target: Sendable, Hashable {
        /// A stored object.
        case object(ObjectID)
        /// The facet at `label` of a faceted directory: a directory labeled `label`,
        /// stored only once something is linked into it.
        case facet(faceted: ObjectID, label: Label)
    }

    init(kind: ObjectKind, id: ObjectID, label: Label?) {
        self.kind = kind
        target = .object(id)
        self.label = label
    }

    init(facet label: Label, of faceted: ObjectID) {
        kind = .directory
        target = .facet(faceted: faceted, label: label)
        self.label = label
    }

    /// The label of a labeled object.
    var requiredLabel: Label {
        get throws(FSError) {
            guard let label else { throw .corrupt("a \(kind) without a label") }
            return label
        }
    }

    /// The stored object's id, if it is stored (a facet may not be yet).
    public var objectID: ObjectID? {
        if case let .object(id) = target { return id }
        return nil
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
