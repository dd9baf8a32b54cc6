import Labels
import Store

extension FileSystemSession {
    /// Open by name. In a directory: read it (taint) and look the name up. In a faceted
    /// directory the name is label text and opens that facet, without taint.
    public func lookup(_ directory: Entry, _ name: String, _ context: inout SecurityContext) throws(FSError) -> Entry {
        switch directory.kind {
        case .directory:
            try context.read(try directory.requiredLabel)
            guard let id = try directoryID(directory), let record = try store({ try transaction.entry(directory: id, name: name) })
            else { throw .notFound(name) }
            return try entry(record)
        case .facetedDirectory:
            let label: Label
            do {
                label = try Label(parsing: name)
            } catch {
                throw .badArgument("'\(name)' is not a facet label: \(error)")
            }
            return try openFacet(directory, label)
        default:
            throw .wrongKind(expected: .directory, actual: directory.kind)
        }
    }

    /// The facet of `faceted` at `label`: a directory labeled `label`. Opening does not
    /// taint (the facet's label says what reading it will cost) and stores nothing;
    /// the facet is stored when something is first linked into it.
    public func openFacet(_ faceted: Entry, _ label: Label) throws(FSError) -> Entry {
        try expect(faceted, .facetedDirectory)
        guard let id = faceted.objectID else { throw .corrupt("a faceted directory that is not stored") }
        return Entry(facet: label, of: id)
    }

    /// The names in a directory and their kinds, ordered by name. Taints with its label.
    public func list(_ directory: Entry, _ context: inout SecurityContext) throws(FSError) -> [DirectoryEntry] {
        try expect(directory, .directory)
        try context.read(try directory.requiredLabel)
        guard let id = try directoryID(directory) else { return [] }
        return try store { try transaction.entries(directory: id) }.map { (record) throws(FSError) in
            guard let kind = ObjectKind(rawValue: record.kind) else { throw .corrupt("unknown object kind \(record.kind)") }
            return DirectoryEntry(name: record.name, kind: kind)
        }
    }

    /// The facets whose label flows to `clearance`. Taints with `clearance` itself, since
    /// the answer depends on everything up to it.
    public func listFacets(_ faceted: Entry, under clearance: Label, _ context: inout SecurityContext) throws(FSError) -> [Label] {
        try expect(faceted, .facetedDirectory)
        try context.read(clearance)
        guard let id = faceted.objectID else { return [] }
        return try store { try transaction.facets(faceted: id) }
            .map { (facet) throws(FSError) in try cache.label(facet.label) }
            .filter { $0.canFlow(to: clearance) }
    }

    /// Adds `name → target` to a directory (modify rule on the directory).
    public func link(_ directory: Entry, _ name: String, _ target: Entry, _ context: inout SecurityContext) throws(FSError) {
        try expect(directory, .directory)
        try EntryName.validate(name, limits: limits)
        try context.modify(try directory.requiredLabel)
        let targetID = try materialize(target, creator: context.privilege)
        // Lock the directory row: concurrent links to it are serialized and its count is exact.
        let directoryID = try materialize(directory, creator: context.privilege)
        guard try record(directoryID, forUpdate: true).entryCount < limits.maxEntriesPerDirectory else {
            throw .limitExceeded("entries in one directory", limit: limits.maxEntriesPerDirectory)
        }
        let inserted = try store {
            try transaction.insertEntry(
                EntryRecord(directory: directoryID, name: name, target: targetID, kind: target.kind.rawValue, label: target.label?.description))
        }
        guard inserted else { throw .nameExists(name) }
    }

    /// Removes a name from a directory (modify rule). The object itself stays: other
    /// names may still point at it.
    public func unlink(_ directory: Entry, _ name: String, _ context: inout SecurityContext) throws(FSError) {
        try expect(directory, .directory)
        try context.modify(try directory.requiredLabel)
        guard let id = try record(of: directory, forUpdate: true)?.id,
            try store({ try transaction.deleteEntry(directory: id, name: name) })
        else { throw .notFound(name) }
    }
}
