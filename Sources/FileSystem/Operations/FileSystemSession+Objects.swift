import Foundation
import Labels
import Store

extension FileSystemSession {
    /// Creates an unlinked object labeled `label` (default: the current label).
    ///
    /// Creating is a write of the object's first content, so the current label must
    /// flow to the new label with the privilege: a context cannot make an object that
    /// claims integrity it does not have, even an empty one. Gates and services also
    /// need the privileges they carry.
    public func create(_ object: NewObject, label: Label?, _ context: inout SecurityContext) throws(FSError) -> Entry {
        if case .facetedDirectory = object {
            let id = try store { try transaction.insertObject(kind: ObjectKind.facetedDirectory.rawValue, label: nil, data: []) }
            return Entry(kind: .facetedDirectory, id: id, label: nil)
        }
        let label = label ?? context.label
        let data: [UInt8]
        switch object {
        case .directory, .facetedDirectory:
            data = []
        case let .file(bytes):
            try checkFileSize(bytes)
            data = bytes
        case let .blob(blob):
            data = Array(blob.name.hex.utf8)
        case let .gate(spec):
            data = try encode(try gate(from: spec, &context))
        case let .service(service):
            try validate(service)
            try context.checkDelegate(service.privilege.component, for: "the service's privilege")
            data = try encode(service)
        }
        try context.checkWrite(label)
        let id = try insertObject(kind: object.kind, label: label.description, content: data)
        return Entry(kind: object.kind, id: id, label: label)
    }

    /// Creates an object and links it as `name` in `directory`. The directory is
    /// modified (read, then checked) first, so the default label carries its taint.
    public func create(
        _ object: NewObject, label: Label?, named name: String, in directory: Entry, _ context: inout SecurityContext
    ) throws(FSError) -> Entry {
        try expect(directory, .directory)
        try context.modify(try directory.requiredLabel)
        let entry = try create(object, label: label, &context)
        try link(directory, name, entry, &context)
        return entry
    }

    /// The stored row of a labeled object after the read rule; it must exist.
    func readRecord(_ entry: Entry, _ kind: ObjectKind, _ context: inout SecurityContext) throws(FSError) -> ObjectRecord {
        try expect(entry, kind)
        try context.read(try entry.requiredLabel)
        guard let record = try record(of: entry) else { throw .corrupt("a \(kind) that is not stored") }
        try checkRow(record, of: entry, kind)
        return record
    }

    /// A labeled object about to be written, after the write rule: its id and, when
    /// sealing, its row (locked), checked against the entry whose label the rule used.
    func writable(_ entry: Entry, _ kind: ObjectKind, _ context: SecurityContext) throws(FSError) -> (id: ObjectID, row: ObjectRecord?) {
        try expect(entry, kind)
        try context.checkWrite(try entry.requiredLabel)
        guard let id = entry.objectID else { throw .corrupt("a \(kind) that is not stored") }
        guard keys != nil else { return (id, nil) }
        let row = try record(id, forUpdate: true)
        try checkRow(row, of: entry, kind)
        return (id, row)
    }

    // MARK: Files

    public func read(file entry: Entry, _ context: inout SecurityContext) throws(FSError) -> [UInt8] {
        try content(of: try readRecord(entry, .file, &context))
    }

    /// Replaces the file's bytes (write rule; no taint).
    public func write(file entry: Entry, _ bytes: [UInt8], _ context: inout SecurityContext) throws(FSError) {
        try checkFileSize(bytes)
        let (id, row) = try writable(entry, .file, context)
        try storeContent(bytes, of: id, record: row)
    }

    func checkFileSize(_ bytes: [UInt8]) throws(FSError) {
        guard bytes.count <= limits.maxFileBytes else {
            throw .limitExceeded("file size in bytes (store larger data as a blob)", limit: limits.maxFileBytes)
        }
    }

    // MARK: Blob entries

    /// The blob a blob entry points at (read rule).
    public func read(blob entry: Entry, _ context: inout SecurityContext) throws(FSError) -> BlobName {
        let record = try readRecord(entry, .blob, &context)
        guard let name = BlobName(hex: String(decoding: try content(of: record), as: UTF8.self)) else {
            throw .corrupt("blob entry \(entry) does not hold a blob name")
        }
        return name
    }

    /// Points a blob entry at another blob (write rule).
    public func update(blob entry: Entry, to blob: ExistingBlob, _ context: inout SecurityContext) throws(FSError) {
        let (id, row) = try writable(entry, .blob, context)
        try storeContent(Array(blob.name.hex.utf8), of: id, record: row)
    }

    /// Stores `blob` as `name` in `directory`: re-points an existing blob entry of that
    /// name (write rule), or creates one labeled `label` (default: the current label).
    public func put(blob: ExistingBlob, named name: String, label: Label?, in directory: Entry, _ context: inout SecurityContext)
        throws(FSError) -> Entry
    {
        if let existing = try existingBlob(named: name, in: directory, &context) {
            try update(blob: existing, to: blob, &context)
            return existing
        }
        return try create(.blob(blob), label: label, named: name, in: directory, &context)
    }

    /// The checks ``put(blob:named:label:in:_:)`` makes, with nothing written: for a caller
    /// that must know whether it will be allowed before it reads an upload. Taints as
    /// the put would.
    public func checkPut(blobNamed name: String, label: Label?, in directory: Entry, _ context: inout SecurityContext)
        throws(FSError)
    {
        if let existing = try existingBlob(named: name, in: directory, &context) {
            _ = try writable(existing, .blob, context)
            return
        }
        try expect(directory, .directory)
        try EntryName.validate(name, limits: limits)
        try context.modify(try directory.requiredLabel)
        try context.checkWrite(label ?? context.label)
    }

    /// The blob entry `name` in `directory` (taints with the directory); `nil` if there
    /// is none; another kind of object of that name is a conflict.
    private func existingBlob(named name: String, in directory: Entry, _ context: inout SecurityContext) throws(FSError) -> Entry? {
        let existing: Entry
        do {
            existing = try lookup(directory, name, &context)
        } catch {
            if case .notFound = error { return nil }
            throw error
        }
        guard existing.kind == .blob else { throw .nameExists(name) }
        return existing
    }

    // MARK: Gates

    /// The gate's description (read rule).
    public func read(gate entry: Entry, _ context: inout SecurityContext) throws(FSError) -> Gate {
        let record = try readRecord(entry, .gate, &context)
        // Sealed bytes are cached with what they are bound to: the same ciphertext in
        // another row must be opened (and refused), not answered from the cache.
        let key = keys == nil ? record.data : Self.binding(record.id, record.kind, record.label, record.version) + record.data
        return try cache.gate(key) { () throws(FSError) in try decode(Gate.self, record) }
    }

    /// The gate's description and, for a function gate, its image (read rule on the
    /// gate). **Image rule**: reading a gate gives access to its image, because the
    /// gate's label covers it: whoever set the image read its blob entry, which tainted
    /// their context, and then needed the write rule on the gate's label.
    public func read(gateWithImage entry: Entry, _ context: inout SecurityContext) throws(FSError) -> (gate: Gate, image: BlobName?) {
        let gate = try read(gate: entry, &context)
        guard case let .function(function) = gate.target else { return (gate, nil) }
        return (gate, function.image)
    }

    /// Builds the gate `spec` describes, as it is stored: reads the image's blob entry
    /// (taint), applies the function's defaults, checks the settings, the target of a
    /// redirect, and that the creator owns the privilege and declassify. (A creator may
    /// call it to describe what it created: it reads nothing the creation did not.)
    public func gate(from spec: GateSpec, _ context: inout SecurityContext) throws(FSError) -> Gate {
        let target: Gate.Target
        switch spec.target {
        case let .function(runtime, image, memoryMB, timeout, fresh, concurrency):
            let function = FunctionSettings.function(
                runtime: runtime, image: try read(blob: image, &context), memoryMB: memoryMB, timeoutMilliseconds: timeout,
                fresh: fresh, concurrency: concurrency)
            try validate(function)
            target = .function(function)
        case let .redirect(next):
            target = .redirect(try gateID(next))
        }
        let gate = Gate(
            target: target, privilege: spec.privilege, invokerIntegrityClearance: spec.invokerIntegrityClearance,
            declassify: spec.declassify)
        try checkGatePrivileges(gate, context)
        return gate
    }

    /// Changes fields of a gate: reads it (taint), applies the update, then needs the
    /// new privilege and declassify and the write rule.
    public func update(gate entry: Entry, _ change: GateUpdate, _ context: inout SecurityContext) throws(FSError) {
        try expect(entry, .gate)
        let label = try entry.requiredLabel
        try context.read(label)
        // Locked until the end of the transaction: concurrent updates of other fields are kept.
        guard let record = try record(of: entry, forUpdate: true) else { throw .corrupt("a gate that is not stored") }
        try checkRow(record, of: entry, .gate)
        var gate = try decode(Gate.self, record)
        if let privilege = change.privilege { gate.privilege = privilege }
        if let clearance = change.invokerIntegrityClearance { gate.invokerIntegrityClearance = clearance }
        if let declassify = change.declassify { gate.declassify = declassify }
        switch gate.target {
        case var .function(function):
            guard change.redirect == nil else { throw .badArgument("a direct gate cannot become a redirect gate") }
            if let image = change.image { function.image = try read(blob: image, &context) }
            if let runtime = change.runtime { function.runtime = runtime }
            if let memory = change.memoryMB { function.memoryMB = memory }
            if let timeout = change.timeoutMilliseconds { function.timeoutMilliseconds = timeout }
            if let fresh = change.fresh { function.fresh = fresh }
            if let concurrency = change.concurrency { function.concurrency = concurrency }
            try validate(function)
            gate.target = .function(function)
        case .redirect:
            guard change.image == nil, change.runtime == nil, change.memoryMB == nil, change.timeoutMilliseconds == nil,
                change.fresh == nil, change.concurrency == nil
            else {
                throw .badArgument("a redirect gate has no function to change")
            }
            if let next = change.redirect { gate.target = .redirect(try gateID(next)) }
        }
        try checkGatePrivileges(gate, context)
        try context.checkWrite(label)
        try storeContent(try encode(gate), of: record.id, record: record)
    }

    func checkGatePrivileges(_ gate: Gate, _ context: SecurityContext) throws(FSError) {
        try context.checkDelegate(gate.privilege.component, for: "the gate's privilege")
        try context.checkDelegate(gate.declassify, for: "the gate's declassify")
    }

    /// The stored gate an entry points at (for redirect targets); no read of its content.
    func gateID(_ entry: Entry) throws(FSError) -> ObjectID {
        try expect(entry, .gate)
        guard let id = entry.objectID else { throw .corrupt("a gate that is not stored") }
        return id
    }

    func validate(_ function: FunctionSpec) throws(FSError) {
        try FunctionSettings.check(function)
    }

    /// Follows redirects to the function, tainting with every gate on the way and
    /// accumulating privilege, invoker clearance and declassify over all hops.
    public func resolveGate(_ entry: Entry, _ context: inout SecurityContext) throws(FSError) -> ResolvedGate {
        var privilege = Component.true
        var clearance = Component.true
        var declassify = Component.true
        var current = entry
        var visited: Set<Entry> = []
        while true {
            guard visited.count < limits.maxGateChain else {
                throw .limitExceeded("gates in a redirect chain", limit: limits.maxGateChain)
            }
            guard visited.insert(current).inserted else { throw .badGate("the redirect chain loops at \(current)") }
            let gate = try read(gate: current, &context)
            do {
                privilege = try privilege.and(gate.privilege.component)
                clearance = try clearance.and(gate.invokerIntegrityClearance)
                declassify = try declassify.and(gate.declassify)
            } catch {
                throw FSError(error)
            }
            switch gate.target {
            case let .function(function):
                guard case let .object(id) = current.target else { throw .corrupt("a gate that is a facet") }
                return ResolvedGate(
                    function: function, gate: id, privilege: Privilege(privilege),
                    invokerIntegrityClearance: clearance, declassify: declassify)
            case let .redirect(next):
                // The hop's label is its row's: the redirect stored only the id.
                let record = try record(next)
                guard record.kind == ObjectKind.gate.rawValue, let text = record.label else {
                    throw .badGate("a redirect points at object #\(next), which is not a gate")
                }
                current = Entry(kind: .gate, id: next, label: try cache.label(text))
            }
        }
    }

    // MARK: Services

    public func read(service entry: Entry, _ context: inout SecurityContext) throws(FSError) -> Service {
        try decode(Service.self, try readRecord(entry, .service, &context))
    }

    /// Replaces a service's description: reads it (taint), then needs the new privilege
    /// and the write rule.
    public func update(service entry: Entry, _ service: Service, _ context: inout SecurityContext) throws(FSError) {
        try validate(service)
        try expect(entry, .service)
        let label = try entry.requiredLabel
        try context.read(label)
        try context.checkDelegate(service.privilege.component, for: "the service's privilege")
        let (id, row) = try writable(entry, .service, context)
        try storeContent(try encode(service), of: id, record: row)
    }

    func validate(_ service: Service) throws(FSError) {
        guard service.url.utf8.count <= limits.maxServiceURLBytes else {
            throw .limitExceeded("service URL length in bytes", limit: limits.maxServiceURLBytes)
        }
        guard service.url.hasPrefix("http://") || service.url.hasPrefix("https://") else {
            throw .badArgument("a service URL starts with http:// or https://, not '\(service.url)'")
        }
        guard service.headers.count <= limits.maxServiceHeaders else {
            throw .limitExceeded("service headers", limit: limits.maxServiceHeaders)
        }
        for (name, value) in service.headers {
            let badName = name.isEmpty || name.utf8.contains { (byte: UInt8) -> Bool in byte <= 0x20 || byte >= 0x7F || byte == 0x3A }
            let badValue = value.utf8.contains { (byte: UInt8) -> Bool in byte == 0x0A || byte == 0x0D || byte == 0x00 }
            if badName || badValue { throw .badArgument("service header '\(name)' is not a valid HTTP header") }
        }
    }
}
