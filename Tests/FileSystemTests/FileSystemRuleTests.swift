import FaastenTestSupport
import FileSystem
import Labels
import Store
import Testing

/// Every operation with one allowed and one refused flow, on both backends.
@Suite("File system rules")
struct FileSystemRuleTests {
    // MARK: Files

    @Test(arguments: Backend.allCases)
    func readingAFileTaints(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var alice = try context("alice")
            let file = try await fs.create(.file(bytes("diary")), label: label("alice,alice"), named: "diary", in: fs.resolve(path("~"), &alice), &alice)
            var reader = try context("T")
            #expect(try await fs.read(file: file, &reader) == bytes("diary"))
            #expect(reader.label == (try label("alice,T")))
        }
    }

    @Test(arguments: Backend.allCases)
    func readingAboveTheClearanceIsRefusedAndDoesNotTaint(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var alice = try context("alice")
            let file = try await fs.create(.file(bytes("diary")), label: label("alice,alice"), named: "diary", in: fs.resolve(path("~"), &alice), &alice)
            var bounded = try context("T", clearance: "bob,T")
            await expectRefusal({ if case .cannotRead = $0 { return $0.rule == "read rule" } else { return false } }) {
                try await fs.read(file: file, &bounded)
            }
            #expect(bounded.label == .public)
        }
    }

    @Test(arguments: Backend.allCases)
    func writingAFileNeedsTheWriteRule(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var alice = try context("alice")
            let home = try await fs.resolve(path("~"), &alice)
            let file = try await fs.create(.file([]), label: label("alice,alice"), named: "notes", in: home, &alice)
            try await fs.write(file: file, bytes("mine"), &alice)
            var check = try context("alice")
            #expect(try await fs.read(file: file, &check) == bytes("mine"))

            // bob lacks alice's integrity.
            var bob = try context("bob")
            await expectRefusal({ $0.rule == "write rule" }) { try await fs.write(file: file, bytes("bob's"), &bob) }
            // Tainted with bob's secret, alice may not write into a file bob cannot... alice's file is
            // alice-only, so bob's secret would leak to alice's readers only if alice could declassify it.
            var tainted = try context("alice", label: "bob,T")
            await expectRefusal({ $0.rule == "write rule" }) { try await fs.write(file: file, bytes("leak"), &tainted) }
            var after = try context("alice")
            #expect(try await fs.read(file: file, &after) == bytes("mine"))
        }
    }

    @Test(arguments: Backend.allCases)
    func declassifyingWriteWithPrivilege(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var root = try context("F")
            let public_ = try await fs.create(.file([]), label: label("T,T"), named: "board", in: fs.root(), &root)
            // alice, tainted with her own secret, may publish it: her privilege declassifies.
            var alice = try context("alice", label: "alice,T")
            try await fs.write(file: public_, bytes("alice says hi"), &alice)
            // carol, tainted with alice's secret, may not.
            var carol = try context("carol", label: "alice,T")
            await expectRefusal({ $0.rule == "write rule" }) { try await fs.write(file: public_, bytes("gossip"), &carol) }
        }
    }

    @Test(arguments: Backend.allCases)
    func fileSizeIsLimited(backend: Backend) async throws {
        var limits = FileSystemLimits()
        limits.maxFileBytes = 16
        try await withFileSystem(backend, limits: limits) { fs in
            var root = try context("F")
            let file = try await fs.create(.file(bytes("small")), label: .public, named: "f", in: fs.root(), &root)
            await expectRefusal({ if case .limitExceeded = $0 { true } else { false } }) {
                try await fs.write(file: file, Array(repeating: 1, count: 17), &root)
            }
        }
    }

    // MARK: Directories

    @Test(arguments: Backend.allCases)
    func listingTaintsAndNonDirectoriesFail(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var alice = try context("alice")
            let home = try await fs.resolve(path("~"), &alice)
            let file = try await fs.create(.file([]), label: label("alice,alice"), named: "b", in: home, &alice)
            _ = try await fs.create(.directory, label: label("alice,alice"), named: "a", in: home, &alice)
            var reader = try context("T")
            let names = try await fs.list(home, &reader)
            #expect(names == [DirectoryEntry(name: "a", kind: .directory), DirectoryEntry(name: "b", kind: .file)])
            #expect(reader.label == (try label("alice,T")))
            await expectRefusal({ $0 == .wrongKind(expected: .directory, actual: .file) }) { try await fs.list(file, &reader) }
            var bounded = try context("T", clearance: "T,T")
            await expectRefusal({ $0.rule == "read rule" }) { try await fs.list(home, &bounded) }
            #expect(bounded.label == .public)
        }
    }

    @Test(arguments: Backend.allCases)
    func lookupTaintsWithTheDirectory(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var alice = try context("alice")
            let home = try await fs.resolve(path("~"), &alice)
            _ = try await fs.create(.file([]), label: label("alice,alice"), named: "x", in: home, &alice)
            var reader = try context("T")
            let found = try await fs.lookup(home, "x", &reader)
            #expect(found.kind == .file)
            #expect(reader.label == (try label("alice,T")))
            await expectRefusal({ $0 == .notFound("missing") }) { try await fs.lookup(home, "missing", &reader) }
            var bounded = try context("T", clearance: "bob,T")
            await expectRefusal({ $0.rule == "read rule" }) { try await fs.lookup(home, "x", &bounded) }
        }
    }

    @Test(arguments: Backend.allCases)
    func linkFollowsTheModifyRule(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var alice = try context("alice")
            let home = try await fs.resolve(path("~"), &alice)
            let file = try await fs.create(.file(bytes("x")), label: label("alice,alice"), &alice)
            try await fs.link(home, "linked", to: file, &alice)
            var check = try context("alice")
            #expect(try await fs.list(home, &check).map(\.name) == ["linked"])

            var bob = try context("bob")
            await expectRefusal({ $0.rule == "write rule" }) { try await fs.link(home, "intruder", to: file, &bob) }
            // The refusal kept the taint of reading alice's home.
            #expect(bob.label == (try label("alice,T")))
            var check2 = try context("alice")
            #expect(try await fs.list(home, &check2).map(\.name) == ["linked"])
        }
    }

    @Test(arguments: Backend.allCases)
    func linkingAnExistingNameFails(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var root = try context("F")
            let rootDir = try await fs.root()
            let a = try await fs.create(.file(bytes("a")), label: .public, named: "same", in: rootDir, &root)
            let b = try await fs.create(.file(bytes("b")), label: .public, &root)
            await expectRefusal({ $0 == .nameExists("same") }) { try await fs.link(rootDir, "same", to: b, &root) }
            var reader = try context("T")
            #expect(try await fs.read(file: fs.lookup(rootDir, "same", &reader), &reader) == bytes("a"))
            _ = a
        }
    }

    @Test(arguments: Backend.allCases)
    func namesThatPathsCannotSpellAreRefused(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var root = try context("F")
            let rootDir = try await fs.root()
            for bad in ["", "a:b", "~", "%", "<x,y>", "tab\there", String(repeating: "n", count: 256)] {
                await expectRefusal({ if case .badName = $0 { true } else if case .limitExceeded = $0 { true } else { false } }) {
                    try await fs.create(.directory, label: .public, named: bad, in: rootDir, &root)
                }
            }
            _ = try await fs.create(.directory, label: .public, named: "<photo>.resized", in: rootDir, &root)
        }
    }

    @Test(arguments: Backend.allCases)
    func unlinkFollowsTheModifyRule(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var alice = try context("alice")
            let home = try await fs.resolve(path("~"), &alice)
            _ = try await fs.create(.file([]), label: label("alice,alice"), named: "gone", in: home, &alice)
            _ = try await fs.create(.file([]), label: label("alice,alice"), named: "kept", in: home, &alice)
            var bob = try context("bob")
            await expectRefusal({ $0.rule == "write rule" }) { try await fs.unlink(home, "kept", &bob) }
            try await fs.unlink(home, "gone", &alice)
            await expectRefusal({ $0 == .notFound("gone") }) { try await fs.unlink(home, "gone", &alice) }
            var check = try context("alice")
            #expect(try await fs.list(home, &check).map(\.name) == ["kept"])
        }
    }

    @Test(arguments: Backend.allCases)
    func hardLinksShareTheObject(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var root = try context("F")
            let rootDir = try await fs.root()
            let file = try await fs.create(.file(bytes("v1")), label: .public, named: "one", in: rootDir, &root)
            try await fs.link(rootDir, "two", to: file, &root)
            try await fs.write(file: file, bytes("v2"), &root)
            var reader = try context("T")
            #expect(try await fs.read(file: fs.resolve(path("two"), &reader), &reader) == bytes("v2"))
        }
    }

    @Test(arguments: Backend.allCases)
    func entriesPerDirectoryAreLimited(backend: Backend) async throws {
        var limits = FileSystemLimits()
        limits.maxEntriesPerDirectory = 3
        try await withFileSystem(backend, limits: limits) { fs in
            var root = try context("F")
            let directory = try await fs.create(.directory, label: .public, named: "small", in: fs.root(), &root)
            for name in ["a", "b", "c"] { _ = try await fs.create(.file([]), label: .public, named: name, in: directory, &root) }
            await expectRefusal({ $0 == .limitExceeded("entries in one directory", limit: 3) }) {
                try await fs.create(.file([]), label: .public, named: "d", in: directory, &root)
            }
            try await fs.unlink(directory, "a", &root)
            _ = try await fs.create(.file([]), label: .public, named: "d", in: directory, &root)
        }
    }

    // MARK: Creation

    @Test(arguments: Backend.allCases)
    func creationDefaultsToTheCurrentLabelAndChecksIntegrity(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var alice = try context("alice")
            let home = try await fs.resolve(path("~"), &alice)
            let photos = try await fs.create(.directory, named: "photos", in: home, &alice)
            // Creating in alice's home read it first: the default label carries its secrecy.
            #expect(fs.stat(photos).label == (try label("alice,T")))
            // An object may not claim integrity its creator does not have, even empty.
            var bob = try context("bob")
            await expectRefusal({ $0.rule == "write rule" }) {
                try await fs.create(.file([]), label: label("T,alice"), &bob)
            }
            let faceted = try await fs.create(.facetedDirectory, &bob)
            #expect(fs.stat(faceted) == ObjectInfo(kind: .facetedDirectory, label: nil))
        }
    }

    // MARK: Facets

    @Test(arguments: Backend.allCases)
    func facetsOpenWithoutTaintAndAreStoredOnFirstWrite(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var root = try context("F")
            let shared = try await fs.create(.facetedDirectory, named: "shared", in: fs.root(), &root)
            var alice = try context("alice")
            let facet = try await fs.openFacet(shared, label("alice,alice"))
            #expect(alice.label == .public)
            #expect(try await fs.listFacets(shared, under: .top, &root).isEmpty)
            // Reading a facet that was never written is reading an empty directory.
            #expect(try await fs.list(facet, &alice).isEmpty)
            _ = try await fs.create(.file(bytes("x")), label: label("alice,alice"), named: "f", in: facet, &alice)
            var lister = try context("F")
            #expect(try await fs.listFacets(shared, under: .top, &lister) == [try label("alice,alice")])
            // Equal labels written differently are one facet.
            let again = try await fs.openFacet(shared, label("alice|alice,alice&alice"))
            #expect(try await fs.list(again, &alice).map(\.name) == ["f"])
        }
    }

    @Test(arguments: Backend.allCases)
    func listingFacetsTaintsWithTheClearanceAndFilters(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var reader = try context("T")
            let home = try await fs.resolve(path("home"), &reader)
            // The system facet T,faasten is public; the users' homes are not.
            #expect(try await fs.listFacets(home, under: .public, &reader) == [try label("T,faasten")])
            #expect(reader.label == .public)
            var wide = try context("T")
            let all = try await fs.listFacets(home, under: label("alice,T"), &wide)
            #expect(all == [try label("T,faasten"), try label("alice,alice")])
            #expect(wide.label == (try label("alice,T")))
            var bounded = try context("T", clearance: "bob,T")
            await expectRefusal({ $0.rule == "read rule" }) { try await fs.listFacets(home, under: label("alice,T"), &bounded) }
            #expect(bounded.label == .public)
        }
    }

    @Test(arguments: Backend.allCases)
    func facetsPerCreatorAreLimited(backend: Backend) async throws {
        var limits = FileSystemLimits()
        limits.maxFacetsPerCreator = 2
        try await withFileSystem(backend, limits: limits) { fs in
            var root = try context("F")
            let shared = try await fs.create(.facetedDirectory, named: "shared", in: fs.root(), &root)
            var mallory = try context("mallory")
            for n in 0..<2 {
                let facet = try await fs.openFacet(shared, label("T,mallory/\(n)"))
                _ = try await fs.create(.file([]), label: label("T,mallory/\(n)"), named: "f", in: facet, &mallory)
            }
            let third = try await fs.openFacet(shared, label("T,mallory/2"))
            await expectRefusal({ if case .limitExceeded = $0 { true } else { false } }) {
                try await fs.create(.file([]), label: label("T,mallory/2"), named: "f", in: third, &mallory)
            }
            // Other creators keep their own quota; the existing facets stay usable.
            var alice = try context("alice")
            let aliceFacet = try await fs.openFacet(shared, label("T,alice"))
            _ = try await fs.create(.file([]), label: label("T,alice"), named: "f", in: aliceFacet, &alice)
            let first = try await fs.openFacet(shared, label("T,mallory/0"))
            _ = try await fs.create(.file([]), label: label("T,mallory/0"), named: "g", in: first, &mallory)
        }
    }

    // MARK: Blob entries

    @Test(arguments: Backend.allCases)
    func blobEntries(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            let photo = try storedBlob(fs, bytes("jpeg bytes"))
            let other = try storedBlob(fs, bytes("png bytes"))
            var alice = try context("alice")
            let home = try await fs.resolve(path("~"), &alice)
            let entry = try await fs.create(.blob(photo), label: label("alice,alice"), named: "cat.jpg", in: home, &alice)
            var reader = try context("T")
            let blob = try await fs.openBlob(entry, &reader)
            #expect(try blob.readAll() == bytes("jpeg bytes"))
            #expect(reader.label == (try label("alice,T")))
            // Re-pointing needs the write rule.
            var bob = try context("bob")
            await expectRefusal({ $0.rule == "write rule" }) { try await fs.update(blob: entry, to: other, &bob) }
            try await fs.update(blob: entry, to: other, &alice)
            var check = try context("alice")
            #expect(try await fs.read(blob: entry, &check) == other.name)
            // A blob entry can only be made from a blob that exists (ExistingBlob needs a reader).
            #expect(try fs.blobs.open(BlobName(hex: String(repeating: "0", count: 64))!) == nil)
        }
    }

    // MARK: Gates

    @Test(arguments: Backend.allCases)
    func gateCreationNeedsThePrivilegesItGrants(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var alice = try context("alice")
            let home = try await fs.resolve(path("~"), &alice)
            let image = try await fs.create(
                .blob(storedBlob(fs, bytes("image"))), label: label("alice,alice"), named: "img", in: home, &alice)
            let spec = GateSpec(
                target: .function(runtime: "python3", image: image, memoryMB: 128, timeoutMilliseconds: 1000),
                privilege: try Privilege(parsing: "alice/photo"))
            let gate = try await fs.create(.gate(spec), label: label("T,alice"), named: "thumb", in: home, &alice)
            var reader = try context("T")
            let stored = try await fs.read(gate: gate, &reader)
            #expect(stored.privilege == (try Privilege(parsing: "alice/photo")))
            // Safe by default: only the privilege's holders may invoke, nothing is declassified.
            #expect(stored.invokerIntegrityClearance == (try Component(parsing: "alice/photo")))
            #expect(stored.declassify == .true)

            // bob may not mint a gate that runs with alice's privilege...
            var bob = try context("bob")
            let bobImage = try await fs.create(.blob(storedBlob(fs, bytes("bob image"))), label: label("T,bob"), &bob)
            await expectRefusal({ $0.rule == "delegation rule" }) {
                try await fs.create(
                    .gate(GateSpec(target: .function(runtime: "python3", image: bobImage, memoryMB: 64, timeoutMilliseconds: 1000),
                                   privilege: Privilege(parsing: "alice"))), label: label("T,bob"), &bob)
            }
            // ...or declassify with it.
            await expectRefusal({ $0.rule == "delegation rule" }) {
                try await fs.create(
                    .gate(GateSpec(target: .function(runtime: "python3", image: bobImage, memoryMB: 64, timeoutMilliseconds: 1000),
                                   privilege: Privilege(parsing: "bob"), declassify: Component(parsing: "alice"))), label: label("T,bob"), &bob)
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func gateUpdatesTaintAndCheck(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var alice = try context("alice")
            let home = try await fs.resolve(path("~"), &alice)
            let image = try await fs.create(.blob(storedBlob(fs, bytes("v1"))), label: label("T,alice"), named: "img", in: home, &alice)
            let gate = try await fs.create(
                .gate(GateSpec(target: .function(runtime: "python3", image: image, memoryMB: 128, timeoutMilliseconds: 1000),
                               privilege: Privilege(parsing: "alice"))), label: label("alice,alice"), named: "g", in: home, &alice)
            try await fs.update(gate: gate, GateUpdate(memoryMB: 256), &alice)
            var reader = try context("alice")
            guard case let .function(function) = try await fs.read(gate: gate, &reader).target else {
                Issue.record("not a direct gate")
                return
            }
            #expect(function.memoryMB == 256 && function.timeoutMilliseconds == 1000)

            var bob = try context("bob")
            await expectRefusal({ $0.rule == "delegation rule" }) { try await fs.update(gate: gate, GateUpdate(memoryMB: 512), &bob) }
            #expect(bob.label == (try label("alice,T")))  // updating reads the gate first
            await expectRefusal({ if case .badArgument = $0 { true } else { false } }) {
                try await fs.update(gate: gate, GateUpdate(redirect: gate), &alice)
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func redirectChainsAccumulateAndTaint(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var root = try context("F")
            let rootDir = try await fs.root()
            let image = try await fs.create(.blob(storedBlob(fs, bytes("fn"))), label: .public, named: "img", in: rootDir, &root)
            let direct = try await fs.create(
                .gate(GateSpec(target: .function(runtime: "python3", image: image, memoryMB: 128, timeoutMilliseconds: 1000),
                               privilege: Privilege(parsing: "svc"), invokerIntegrityClearance: Component(parsing: "users"),
                               declassify: Component(parsing: "svc/out"))),
                label: label("T,svc"), named: "direct", in: rootDir, &root)
            let redirect = try await fs.create(
                .gate(GateSpec(target: .redirect(direct), privilege: Privilege(parsing: "alice"),
                               invokerIntegrityClearance: Component(parsing: "alice"), declassify: Component(parsing: "alice"))),
                label: label("alice,T"), named: "mine", in: rootDir, &root)
            var invoker = try context("alice&users")
            let resolved = try await fs.resolveGate(redirect, &invoker)
            #expect(resolved.privilege == (try Privilege(parsing: "alice&svc")))
            #expect(resolved.invokerIntegrityClearance == (try Component(parsing: "alice&users")))
            // The direct gate's declassify counts too (the original dropped it).
            #expect(resolved.declassify == (try Component(parsing: "alice&svc/out")))
            #expect(invoker.label == (try label("alice,T")))
            #expect(resolved.function.runtime == "python3")

            // Following the chain is a read of every hop: a clearance below a hop refuses it.
            var bounded = try context("T", clearance: "T,T")
            await expectRefusal({ $0.rule == "read rule" }) { try await fs.resolveGate(redirect, &bounded) }

            // A redirect that loops is refused, not followed forever.
            try await fs.update(gate: redirect, GateUpdate(redirect: redirect), &root)
            await expectRefusal({ if case .badGate = $0 { true } else { false } }) { try await fs.resolveGate(redirect, &root) }
        }
    }

    // MARK: Services

    @Test(arguments: Backend.allCases)
    func servicesNeedTheirPrivilegeAndAValidURL(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var alice = try context("alice")
            let home = try await fs.resolve(path("~"), &alice)
            let service = Service(
                privilege: try Privilege(parsing: "alice"), taint: try label("alice,T"),
                url: "https://api.example.com/{user}", verb: .post, headers: ["Authorization": "Bearer x"])
            let entry = try await fs.create(.service(service), label: label("alice,alice"), named: "api", in: home, &alice)
            var reader = try context("alice")
            #expect(try await fs.read(service: entry, &reader) == service)

            var bob = try context("bob")
            await expectRefusal({ $0.rule == "delegation rule" }) { try await fs.create(.service(service), label: label("T,bob"), &bob) }
            var bad = service
            bad.url = "file:///etc/passwd"
            await expectRefusal({ if case .badArgument = $0 { true } else { false } }) { try await fs.create(.service(bad), &alice) }
            bad = service
            bad.headers = ["X": "a\r\nInjected: yes"]
            await expectRefusal({ if case .badArgument = $0 { true } else { false } }) { try await fs.update(service: entry, bad, &alice) }
            var updated = service
            updated.verb = .get
            try await fs.update(service: entry, updated, &alice)
            await expectRefusal({ $0.rule == "delegation rule" }) { try await fs.update(service: entry, updated, &bob) }
            var check = try context("alice")
            #expect(try await fs.read(service: entry, &check).verb == .get)
        }
    }

    // MARK: Bootstrap

    @Test(arguments: Backend.allCases)
    func bootstrapMakesTheInitialTreeOnce(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            #expect(try await fs.bootstrap() == false)
            var reader = try context("T")
            let rootDir = try await fs.root()
            #expect(fs.stat(rootDir).label == .bottom)
            #expect(try await fs.list(rootDir, &reader) == [DirectoryEntry(name: "home", kind: .facetedDirectory)])
            #expect(reader.label == .public)  // the root is labeled bottom: reading it costs nothing
            let home = try await fs.resolve(path("home"), &reader)
            var all = try context("F")
            #expect(try await fs.listFacets(home, under: .top, &all).map(\.description) == ["T,faasten", "alice,alice", "bob,bob"])
            // Only privilege F may change the root.
            var alice = try context("alice")
            await expectRefusal({ $0.rule == "write rule" }) { try await fs.create(.directory, label: .public, named: "x", in: rootDir, &alice) }
            // Adding a user twice is harmless.
            try await fs.addUser(Principal("alice"))
        }
    }
}
