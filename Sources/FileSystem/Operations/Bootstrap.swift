import Labels
import Store

extension FileSystem {
    /// The principal that owns the system's own files (runtimes, the system facet).
    public static let systemPrincipal = try! Principal("faasten")

    /// Creates the initial tree if the store has none:
    ///
    /// ```
    /// /                  directory labeled T,F (only privilege F may change it)
    /// └─ home            faceted directory
    ///    └─ <T,faasten>  the system facet: world-readable, only faasten writes
    /// ```
    ///
    /// Returns `false` if the store was already initialized (nothing changes).
    @discardableResult
    public func bootstrap() async throws(FSError) -> Bool {
        let created = try await performAsSystem { session throws(FSError) -> Bool in
            if try session.store({ try session.transaction.metadata(MetadataKey.root) }) != nil { return false }
            let system = Component(Self.systemPrincipal)
            try session.store {
                let root = try session.transaction.insertObject(
                    kind: ObjectKind.directory.rawValue, label: Label.bottom.description, data: [])
                try session.transaction.setMetadata(MetadataKey.root, String(root))
                let home = try session.transaction.insertObject(kind: ObjectKind.facetedDirectory.rawValue, label: nil, data: [])
                guard try session.transaction.insertEntry(
                    EntryRecord(directory: root, name: "home", target: home, kind: ObjectKind.facetedDirectory.rawValue, label: nil))
                else { throw StoreError("the new root already has a home") }
            }
            let home = try session.lookupAsSystem(try session.root, "home")
            _ = try session.materialize(
                try session.openFacet(home, Label(secrecy: .true, integrity: system)), creator: .root)
            return true
        }
        return created
    }

    /// Creates `home:<P,P>` for the principal `P`, the user's private home, if it does
    /// not exist yet. Returns its entry.
    @discardableResult
    public func addUser(_ principal: Principal) async throws(FSError) -> Entry {
        try await performAsSystem { session throws(FSError) -> Entry in try session.makeHome(principal) }
    }

    /// ``addUser(_:)`` in one transaction with `rows`, the gateway's bookkeeping for the
    /// user (its account): both or neither. If `rows` returns `false` nothing changes
    /// and this returns `false`.
    public func addUser(_ principal: Principal, with rows: @escaping @Sendable (any StoreTransaction) throws -> Bool)
        async throws(FSError) -> Bool
    {
        try await performAsSystem { session throws(FSError) -> Bool in
            guard try session.withRows(rows) else { return false }
            _ = try session.makeHome(principal)
            return true
        }
    }
}

extension FileSystemSession {
    /// The home facet `home:<P,P>`, stored if it was not.
    func makeHome(_ principal: Principal) throws(FSError) -> Entry {
        let home = try lookupAsSystem(try root, "home")
        let p = Component(principal)
        let facet = try openFacet(home, Label(secrecy: p, integrity: p))
        _ = try materialize(facet, creator: .root)
        return facet
    }

    /// A lookup for the system's own bookkeeping; no context, no taint.
    func lookupAsSystem(_ directory: Entry, _ name: String) throws(FSError) -> Entry {
        try expect(directory, .directory)
        guard let id = try directoryID(directory), let record = try store({ try transaction.entry(directory: id, name: name) })
        else { throw .notFound(name) }
        return try entry(record)
    }
}
