import Labels
import Store

extension Session {
    /// Open by name. In a directory: read it (taint) and look the name up. In a faceted
    /// directory the name is label text and opens that facet, without taint.
    func lookup(_ directory: Entry, _ name: String, _ context: inout SecurityContext) throws(FSError) -> Entry {
        switch directory.kind {
        case .directory:
            let resolved = try resolve(directory)
            try context.read(try resolved.requiredLabel)
            guard let id = resolved.id, let entry = try store({ try transaction.entry(directory: id, name: name) }) else {
                throw .notFound(name)
            }
            return try Self.entry(entry)
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
    func openFacet(_ faceted: Entry, _ label: Label) throws(FSError) -> Entry {
        let resolved = try resolve(faceted, as: .facetedDirectory)
        guard let id = resolved.id else { throw .corrupt("a faceted directory without a row") }
        return Entry(kind: .directory, target: .facet(faceted: id, label: label))
    }

    /// The names in a directory and their kinds, ordered by name. Taints with its label.
    func list(_ directory: Entry, _ context: inout SecurityContext) throws(FSError) -> [DirectoryEntry] {
        let resolved = try resolve(directory, as: .directory)
        try context.read(try resolved.requiredLabel)
        guard let id = resolved.id else { return [] }
        return try store { try transaction.entries(directory: id) }.map { (record) throws(FSError) in
            DirectoryEntry(name: record.name, kind: try Self.kind(record.kind))
        }
    }

    /// The facets whose label flows to `clearance`. Taints with `clearance` itself, since
    /// the answer depends on everything up to it.
    func listFacets(_ faceted: Entry, under clearance: Label, _ context: inout SecurityContext) throws(FSError) -> [Label] {
        let resolved = try resolve(faceted, as: .facetedDirectory)
        try context.read(clearance)
        guard let id = resolved.id else { return [] }
        return try store { try transaction.facets(faceted: id) }
            .map { (facet) throws(FSError) in try cache.label(facet.label) }
            .filter { $0.canFlow(to: clearance) }
    }

    /// Adds `name → target` to a directory (modify rule on the directory).
    func link(_ directory: Entry, _ name: String, _ target: Entry, _ context: inout SecurityContext) throws(FSError) {
        try EntryName.validate(name, limits: limits)
        let resolved = try resolve(directory, as: .directory, forUpdate: true)
        try context.modify(try resolved.requiredLabel)
        let targetID = try materialize(target, creator: context.privilege)
        let directoryID: ObjectID
        var count: Int64 = 0
        if let record = resolved.record {
            directoryID = record.id
            count = record.entryCount
        } else {
            directoryID = try materialize(directory, creator: context.privilege)
        }
        guard count < limits.maxEntriesPerDirectory else {
            throw .limitExceeded("entries in one directory", limit: limits.maxEntriesPerDirectory)
        }
        let inserted = try store {
            try transaction.insertEntry(EntryRecord(directory: directoryID, name: name, target: targetID, kind: target.kind.rawValue))
        }
        guard inserted else { throw .nameExists(name) }
    }

    /// Removes a name from a directory (modify rule). The object itself stays: other
    /// names may still point at it.
    func unlink(_ directory: Entry, _ name: String, _ context: inout SecurityContext) throws(FSError) {
        let resolved = try resolve(directory, as: .directory, forUpdate: true)
        try context.modify(try resolved.requiredLabel)
        guard let id = resolved.id, try store({ try transaction.deleteEntry(directory: id, name: name) }) else {
            throw .notFound(name)
        }
    }

    static func kind(_ raw: Int) throws(FSError) -> ObjectKind {
        guard let kind = ObjectKind(rawValue: raw) else { throw .corrupt("unknown object kind \(raw)") }
        return kind
    }

    static func entry(_ record: EntryRecord) throws(FSError) -> Entry {
        Entry(kind: try kind(record.kind), id: record.target)
    }
}
