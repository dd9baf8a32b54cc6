import CloudCalls
import FileSystem
import Foundation
import Labels
import Store

// Each call is one file-system operation (one transaction) or one label operation on
// the invocation's context. The rules are the file system's; this file only
// translates between wire messages and those operations.
extension Monitor {
    func handle(_ call: WireCall, _ state: inout InvocationState) -> WireResult {
        var result = WireResult()
        do {
            result.value = try value(for: call, &state)
        } catch {
            result.error = error.wire
        }
        return result
    }

    private func value(for call: WireCall, _ state: inout InvocationState) throws(CallFailure) -> WireResult.OneOf_Value {
        guard let kind = call.call else { throw CallFailure(.protocol, "an empty call") }
        switch kind {
        case .response:
            throw CallFailure(.internal, "a response is not a call")

        // MARK: Labels and privileges
        case let .parseLabel(request):
            return .label(try parseLabel(request.text, what: "text").description)
        case .getCurrentLabel:
            return .label(state.context.label.description)
        case let .taint(request):
            let label = try parseLabel(request.label, what: "label")
            try rule { () throws(FSError) in try state.context.read(label) }
            return .label(state.context.label.description)
        case let .declassify(request):
            let target = try parseComponent(request.secrecy, what: "secrecy")
            let before = state.context.label
            try rule { () throws(FSError) in try state.context.declassify(to: target) }
            state.invoker?.labelChanged("declassify", from: before, to: state.context.label, privilege: state.context.privilege)
            return .label(state.context.label.description)
        case let .endorse(request):
            let part = request.privilege.isEmpty ? nil : Privilege(try parseComponent(request.privilege, what: "privilege"))
            let before = state.context.label
            try rule { () throws(FSError) in try state.context.endorse(with: part) }
            state.invoker?.labelChanged("endorse", from: before, to: state.context.label, privilege: state.context.privilege)
            return .label(state.context.label.description)
        case let .subPrivilege(request):
            return .component(try subPrivilege(request, state.context).description)
        case .getPrivilege:
            return .component(state.context.privilege.description)
        case .getClearance:
            return .label(state.context.clearance.description)

        // MARK: Entries
        case .root:
            try ensureRoot(&state)
            return .opened(opened(0, try state.dent(0).get()))
        case let .open(request):
            let directory = try dent(request.directory, &state)
            let entry: Entry
            switch request.by {
            case let .name(name)?:
                entry = try fs(.read, &state) { session, context throws(FSError) in try session.lookup(directory, name, &context) }
            case let .facet(text)?:
                let label = try parseLabel(text, what: "facet")
                entry = try fs(.read, &state) { session, _ throws(FSError) in try session.openFacet(directory, label) }
            case nil:
                throw CallFailure(.invalidArgument, "open needs a name or a facet")
            }
            return .opened(opened(try state.addDent(entry).get(), entry))
        case let .resolve(request):
            let path: FSPath
            do {
                path = try FSPath(parsing: request.path, limits: fileSystem.limits)
            } catch {
                throw CallFailure(error)
            }
            let entry = try fs(.read, &state) { session, context throws(FSError) in try session.resolve(path, &context) }
            return .opened(opened(try state.addDent(entry).get(), entry))
        case let .close(request):
            try state.closeDent(request.handle).get()
            return .done(WireEmpty())
        case let .stat(request):
            let entry = try dent(request.handle, &state)
            return .opened(opened(request.handle, entry))
        case let .create(request):
            return .opened(try create(request, &state))
        case let .update(request):
            try update(request, &state)
            return .done(WireEmpty())
        case let .read(request):
            let file = try dent(request.handle, &state)
            let bytes = try fs(.read, &state) { session, context throws(FSError) in try session.read(file: file, &context) }
            return .data(Data(bytes))
        case let .list(request):
            let directory = try dent(request.handle, &state)
            let entries = try fs(.read, &state) { session, context throws(FSError) in try session.list(directory, &context) }
            var listing = WireListing()
            listing.entries = entries.map { entry in
                var wire = WireListedEntry()
                wire.name = entry.name
                wire.kind = WireKind(rawValue: entry.kind.rawValue) ?? .directory
                return wire
            }
            return .listing(listing)
        case let .listFacets(request):
            let faceted = try dent(request.handle, &state)
            let clearance = request.clearance.isEmpty ? Label.public : try parseLabel(request.clearance, what: "clearance")
            let labels = try fs(.read, &state) { session, context throws(FSError) in
                try session.listFacets(faceted, under: clearance, &context)
            }
            var list = WireLabelList()
            list.labels = labels.map(\.description)
            return .labels(list)
        case let .link(request):
            let directory = try dent(request.directory, &state)
            let target = try dent(request.target, &state)
            try fs(.write, &state) { session, context throws(FSError) in try session.link(directory, request.name, target, &context) }
            return .done(WireEmpty())
        case let .unlink(request):
            let directory = try dent(request.directory, &state)
            try fs(.write, &state) { session, context throws(FSError) in try session.unlink(directory, request.name, &context) }
            return .done(WireEmpty())
        case let .readGate(request):
            return .gate(try gateInfo(request.handle, &state))
        case let .readService(request):
            let entry = try dent(request.handle, &state)
            let service = try fs(.read, &state) { session, context throws(FSError) in try session.read(service: entry, &context) }
            return .service(wire(service))
        case let .openBlob(request):
            let entry = try dent(request.handle, &state)
            let name = try fs(.read, &state) { session, context throws(FSError) in try session.read(blob: entry, &context) }
            let reader = try openReader(name)
            var info = WireBlobInfo()
            info.handle = try state.addBlob(.reading(reader)).get()
            info.size = UInt64(reader.size)
            return .blob(info)
        case let .invoke(request):
            return .invoked(try invoke(request, &state))

        // MARK: Blobs
        case .blobCreate:
            let upload = try blobCall { try fileSystem.blobs.create() }
            var info = WireBlobInfo()
            do {
                info.handle = try state.addBlob(.writing(upload)).get()
            } catch {
                upload.abort()
                throw error
            }
            return .blob(info)
        case let .blobWrite(request):
            let upload = try state.upload(request.handle).get()
            guard upload.size + Int64(request.data.count) <= limits.maxBlobBytes else {
                throw CallFailure(.limitExceeded, "a blob may hold at most \(limits.maxBlobBytes) bytes")
            }
            try blobCall { try upload.write([UInt8](request.data)) }
            var info = WireBlobInfo()
            info.handle = request.handle
            info.size = UInt64(upload.size)
            return .blob(info)
        case let .blobFinalize(request):
            let upload = try state.upload(request.handle).get()
            let name = try blobCall { try upload.finalize() }
            let reader = try openReader(name)
            state.replaceBlob(request.handle, with: .reading(reader))
            var info = WireBlobInfo()
            info.handle = request.handle
            info.size = UInt64(reader.size)
            return .blob(info)
        case let .blobRead(request):
            let reader = try state.reader(request.handle).get()
            let length = request.length == 0 ? limits.defaultBlobRead : Int(request.length)
            guard length <= limits.maxBlobRead else {
                throw CallFailure(.limitExceeded, "one read returns at most \(limits.maxBlobRead) bytes")
            }
            guard request.offset <= UInt64(Int64.max) else { throw CallFailure(.invalidArgument, "offset out of range") }
            let bytes = try blobCall { try reader.read(at: Int64(request.offset), count: length) }
            return .data(Data(bytes))
        case let .blobClose(request):
            try state.closeBlob(request.handle).get()
            return .done(WireEmpty())
        }
    }

    // MARK: Helpers

    /// One file-system transaction in the invocation's context.
    private func fs<T>(
        _ mode: TransactionMode, _ state: inout InvocationState,
        _ body: (FileSystemSession, inout SecurityContext) throws(FSError) -> T
    ) throws(CallFailure) -> T {
        do {
            return try fileSystem.synchronously(mode, &state.context, body)
        } catch {
            throw CallFailure(error)
        }
    }

    private func rule(_ body: () throws(FSError) -> Void) throws(CallFailure) {
        do {
            try body()
        } catch {
            throw CallFailure(error)
        }
    }

    private func blobCall<T>(_ body: () throws -> T) throws(CallFailure) -> T {
        do {
            return try body()
        } catch let failure as CallFailure {
            throw failure
        } catch {
            throw CallFailure(.unavailable, "blob store: \(error)")
        }
    }

    /// Opens a blob a rule gave the invocation, or its own data (``FileSystem/open(blob:)``).
    func openReader(_ name: BlobName) throws(CallFailure) -> any BlobReader {
        do {
            return try fileSystem.open(blob: name)
        } catch {
            throw CallFailure(error)
        }
    }

    private func ensureRoot(_ state: inout InvocationState) throws(CallFailure) {
        guard !state.hasRoot else { return }
        let root = try fs(.read, &state) { session, _ throws(FSError) in try session.root }
        state.setRoot(root)
    }

    func dent(_ handle: UInt64, _ state: inout InvocationState) throws(CallFailure) -> Entry {
        if handle == 0 { try ensureRoot(&state) }
        return try state.dent(handle).get()
    }

    /// `base/suffix…`, where the privilege must speak for `base` (default: its first principal).
    private func subPrivilege(_ request: WireSubPrivilege, _ context: SecurityContext) throws(CallFailure) -> Component {
        let base: Principal
        if request.base.isEmpty {
            guard let first = context.privilege.component.clauses?.first?.principals.first else {
                throw CallFailure(
                    .invalidArgument,
                    context.privilege.component.isFalse
                        ? "privilege F has no first principal: name the base" : "the invocation holds no privilege to extend")
            }
            base = first
        } else {
            do {
                base = try Principal(parsing: request.base)
            } catch {
                throw CallFailure(error, what: "base")
            }
        }
        try rule { () throws(FSError) in try context.checkDelegate(Component(base), for: "a sub-privilege") }
        // Checked before extending: the suffix comes off the wire, and extending token
        // by token costs quadratic time in its length.
        guard base.depth + request.suffix.count <= LabelLimits.default.maxTokensPerPrincipal else {
            throw CallFailure(.limitExceeded, "a principal has at most \(LabelLimits.default.maxTokensPerPrincipal) tokens")
        }
        var principal = base
        for token in request.suffix {
            do {
                principal = try principal.extended(by: token)
            } catch {
                throw CallFailure(error, what: "suffix")
            }
        }
        return Component(principal)
    }

    private func create(_ request: WireCreate, _ state: inout InvocationState) throws(CallFailure) -> WireOpened {
        let label = request.label.isEmpty ? nil : try parseLabel(request.label, what: "label")
        let object: NewObject
        switch request.object {
        case .directory?: object = .directory
        case let .file(bytes)?: object = .file([UInt8](bytes))
        case .facetedDirectory?: object = .facetedDirectory
        case let .blob(handle)?: object = .blob(ExistingBlob(try state.reader(handle).get()))
        case let .gate(spec)?: object = .gate(try gateSpec(spec, &state))
        case let .service(spec)?: object = .service(try service(spec))
        case nil: throw CallFailure(.invalidArgument, "create needs an object kind")
        }
        let entry: Entry
        if request.hasLink {
            let directory = try dent(request.link.directory, &state)
            let name = request.link.name
            entry = try fs(.write, &state) { session, context throws(FSError) in
                try session.create(object, label: label, named: name, in: directory, &context)
            }
        } else {
            entry = try fs(.write, &state) { session, context throws(FSError) in try session.create(object, label: label, &context) }
        }
        return opened(try state.addDent(entry).get(), entry)
    }

    private func update(_ request: WireUpdate, _ state: inout InvocationState) throws(CallFailure) {
        let entry = try dent(request.handle, &state)
        switch request.change {
        case let .file(bytes)?:
            try fs(.write, &state) { session, context throws(FSError) in try session.write(file: entry, [UInt8](bytes), &context) }
        case let .gate(change)?:
            let update = try gateUpdate(change, &state)
            try fs(.write, &state) { session, context throws(FSError) in try session.update(gate: entry, update, &context) }
        case let .service(spec)?:
            let new = try service(spec)
            try fs(.write, &state) { session, context throws(FSError) in try session.update(service: entry, new, &context) }
        case let .blob(handle)?:
            let blob = ExistingBlob(try state.reader(handle).get())
            try fs(.write, &state) { session, context throws(FSError) in try session.update(blob: entry, to: blob, &context) }
        case nil:
            throw CallFailure(.invalidArgument, "update needs a change")
        }
    }

    private func gateInfo(_ handle: UInt64, _ state: inout InvocationState) throws(CallFailure) -> WireGateInfo {
        let entry = try dent(handle, &state)
        let (gate, image) = try fs(.read, &state) { session, context throws(FSError) in try session.read(gateWithImage: entry, &context) }
        var info = wire(gate)
        if let image {
            let reader = try openReader(image)
            info.image = try state.addBlob(.reading(reader)).get()
            info.imageSize = UInt64(reader.size)
        }
        return info
    }

    private func invoke(_ request: WireInvoke, _ state: inout InvocationState) throws(CallFailure) -> WireInvokeResult {
        let target = try dent(request.handle, &state)
        guard target.kind == .gate || target.kind == .service else {
            throw CallFailure(.wrongKind, "only gates and services can be invoked, not a \(target.kind)")
        }
        guard let invoker = state.invoker else {
            throw CallFailure(.unsupported, "invoking other functions and services needs the invocation engine (faasten serve)")
        }
        let call = GuestInvokeCall(payload: [UInt8](request.payload), sync: request.sync, parameters: request.parameters)
        let outcome: GuestInvokeReply
        do {
            outcome = try invoker.invoke(target, call, &state.context)
        } catch {
            throw CallFailure(error)
        }
        var result = WireInvokeResult()
        result.status = UInt32(clamping: outcome.status)
        result.headers = outcome.headers
        if let id = outcome.invocationID { result.invocationID = id }
        if request.toBlob {
            let name = try blobCall { try fileSystem.blobs.put(outcome.body) }
            let reader = try openReader(name)
            result.blob = try state.addBlob(.reading(reader)).get()
            result.blobSize = UInt64(reader.size)
        } else {
            result.data = Data(outcome.body)
        }
        return result
    }
}
