import Labels
import Store

// The public operations. Each is one transaction; see `FileSystemSession` for the rules each
// one applies.
extension FileSystem {
    /// The root directory.
    public func root() async throws(FSError) -> Entry {
        var unused = try SecurityContext()
        return try await transaction(.read, &unused) { session, _ throws(FSError) in try session.root }
    }

    /// Walks `path` (taints with every directory on the way) and returns its last entry, unread.
    public func resolve(_ path: FSPath, _ context: inout SecurityContext) async throws(FSError) -> Entry {
        try await transaction(.read, &context) { session, context throws(FSError) in try session.resolve(path, &context) }
    }

    /// Opens `name` in a directory (taints with the directory), or the facet named by
    /// label text in a faceted directory.
    public func lookup(_ directory: Entry, _ name: String, _ context: inout SecurityContext) async throws(FSError) -> Entry {
        try await transaction(.read, &context) { session, context throws(FSError) in try session.lookup(directory, name, &context) }
    }

    /// Opens the facet `label` of a faceted directory (no taint; stored on first write).
    public func openFacet(_ faceted: Entry, _ label: Label) async throws(FSError) -> Entry {
        var unused = try SecurityContext()
        return try await transaction(.read, &unused) { session, _ throws(FSError) in try session.openFacet(faceted, label) }
    }

    /// Names and kinds in a directory, by name (taints with the directory).
    public func list(_ directory: Entry, _ context: inout SecurityContext) async throws(FSError) -> [DirectoryEntry] {
        try await transaction(.read, &context) { session, context throws(FSError) in try session.list(directory, &context) }
    }

    /// The facets of a faceted directory whose labels flow to `clearance` (taints with `clearance`).
    public func listFacets(_ faceted: Entry, under clearance: Label, _ context: inout SecurityContext) async throws(FSError) -> [Label] {
        try await transaction(.read, &context) { session, context throws(FSError) in
            try session.listFacets(faceted, under: clearance, &context)
        }
    }

    /// Kind and label of an object, without reading its content (an entry carries both).
    public func stat(_ entry: Entry) -> ObjectInfo {
        ObjectInfo(kind: entry.kind, label: entry.label)
    }

    /// Creates an unlinked object (label default: the current label).
    public func create(_ object: NewObject, label: Label? = nil, _ context: inout SecurityContext) async throws(FSError) -> Entry {
        try await transaction(.write, &context) { session, context throws(FSError) in
            try session.create(object, label: label, &context)
        }
    }

    /// Creates an object and links it as `name` in `directory`, in one transaction. The
    /// directory is read first, so the default label includes the directory's secrecy.
    public func create(
        _ object: NewObject, label: Label? = nil, named name: String, in directory: Entry, _ context: inout SecurityContext
    ) async throws(FSError) -> Entry {
        try await transaction(.write, &context) { session, context throws(FSError) in
            try session.create(object, label: label, named: name, in: directory, &context)
        }
    }

    /// Adds `name → target` to a directory (modify rule on the directory).
    public func link(_ directory: Entry, _ name: String, to target: Entry, _ context: inout SecurityContext) async throws(FSError) {
        try await transaction(.write, &context) { session, context throws(FSError) in try session.link(directory, name, target, &context) }
    }

    /// Removes `name` from a directory (modify rule on the directory).
    public func unlink(_ directory: Entry, _ name: String, _ context: inout SecurityContext) async throws(FSError) {
        try await transaction(.write, &context) { session, context throws(FSError) in try session.unlink(directory, name, &context) }
    }

    /// Walks `path` and reads the file at its end, in one transaction.
    public func read(fileAt path: FSPath, _ context: inout SecurityContext) async throws(FSError) -> (Entry, [UInt8]) {
        try await transaction(.read, &context) { session, context throws(FSError) in
            let file = try session.resolve(path, &context)
            return (file, try session.read(file: file, &context))
        }
    }

    /// A file's bytes (read rule).
    public func read(file: Entry, _ context: inout SecurityContext) async throws(FSError) -> [UInt8] {
        try await transaction(.read, &context) { session, context throws(FSError) in try session.read(file: file, &context) }
    }

    /// Replaces a file's bytes (write rule).
    public func write(file: Entry, _ bytes: [UInt8], _ context: inout SecurityContext) async throws(FSError) {
        try await transaction(.write, &context) { session, context throws(FSError) in try session.write(file: file, bytes, &context) }
    }

    /// The blob a blob entry names (read rule).
    public func read(blob: Entry, _ context: inout SecurityContext) async throws(FSError) -> BlobName {
        try await transaction(.read, &context) { session, context throws(FSError) in try session.read(blob: blob, &context) }
    }

    /// Re-points a blob entry (write rule).
    public func update(blob: Entry, to name: ExistingBlob, _ context: inout SecurityContext) async throws(FSError) {
        try await transaction(.write, &context) { session, context throws(FSError) in try session.update(blob: blob, to: name, &context) }
    }

    /// Opens the blob behind a blob entry for reading (read rule on the entry).
    public func openBlob(_ entry: Entry, _ context: inout SecurityContext) async throws(FSError) -> any BlobReader {
        let name = try await read(blob: entry, &context)
        do {
            return try await Blocking.run { try self.open(blob: name) }
        } catch let error as FSError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
    }

    /// Opens a blob by name, for a caller that already may read it: a rule of a session
    /// gave it the name (a blob entry's target, ``FileSystemSession/read(gateWithImage:_:)``),
    /// or the bytes are its own data (a blob it wrote, a result it was given, a blob sent
    /// with its request, which the request's start label covers). Never for a name
    /// that came from anywhere else.
    public func open(blob name: BlobName) throws(FSError) -> any BlobReader {
        let reader: (any BlobReader)?
        do {
            reader = try blobs.open(name)
        } catch {
            throw FSError(blob: name, error)
        }
        guard let reader else { throw .blobNotFound(name) }
        return reader
    }

    /// A gate's description (read rule).
    public func read(gate: Entry, _ context: inout SecurityContext) async throws(FSError) -> Gate {
        try await transaction(.read, &context) { session, context throws(FSError) in try session.read(gate: gate, &context) }
    }

    /// Changes a gate (taints with it; needs the new privileges and the write rule).
    public func update(gate: Entry, _ change: GateUpdate, _ context: inout SecurityContext) async throws(FSError) {
        try await transaction(.write, &context) { session, context throws(FSError) in try session.update(gate: gate, change, &context) }
    }

    /// Follows a gate's redirects to its function (taints with every hop).
    public func resolveGate(_ gate: Entry, _ context: inout SecurityContext) async throws(FSError) -> ResolvedGate {
        try await transaction(.read, &context) { session, context throws(FSError) in try session.resolveGate(gate, &context) }
    }

    /// A service's description (read rule).
    public func read(service: Entry, _ context: inout SecurityContext) async throws(FSError) -> Service {
        try await transaction(.read, &context) { session, context throws(FSError) in try session.read(service: service, &context) }
    }

    /// Replaces a service (taints with it; needs its privilege and the write rule).
    public func update(service: Entry, _ new: Service, _ context: inout SecurityContext) async throws(FSError) {
        try await transaction(.write, &context) { session, context throws(FSError) in try session.update(service: service, new, &context) }
    }
}
