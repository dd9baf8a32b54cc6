import FaastenTestSupport
import FileSystem
import Labels
import Testing

@Suite("Paths")
struct PathTests {
    @Test func parsing() throws {
        #expect(try path("home:<alice,alice>:photos").components == [
            .name("home"), .facet(try label("alice,alice")), .name("photos"),
        ])
        #expect(try path("~:photos").components == [.home, .name("photos")])
        #expect(try path("home:%:x").components == [.name("home"), .currentLabelFacet, .name("x")])
        // A facet label may contain ':' in a token.
        #expect(try path("home:<a:b,T>:x").components == [.name("home"), .facet(try label("a:b,T")), .name("x")])
        #expect(try path("home:<alice,alice>:photos").description == "home:<alice,alice>:photos")
    }

    @Test(arguments: ["<alice,alice>:x", "%:x", "a::b", "a:~", "home:<a//b,T>", "home:<>", "", ":", ":::", ":a:b", "a:b:"])
    func malformedPathsAreRefused(text: String) {
        #expect(throws: FSError.self) { try FSPath(parsing: text) }
    }

    @Test func limits() {
        var limits = FileSystemLimits()
        limits.maxPathComponents = 3
        #expect(throws: FSError.limitExceeded("path components", limit: 3)) { try FSPath(parsing: "a:b:c:d", limits: limits) }
        #expect(throws: FSError.self) { try FSPath(parsing: String(repeating: "a:", count: 3000)) }
    }

    @Test(arguments: Backend.allCases)
    func resolution(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var alice = try context("alice")
            let home = try await fs.resolve(path("~"), &alice)
            #expect(home == (try await fs.resolve(path("home:<alice,alice>"), &alice)))
            _ = try await fs.create(.file(bytes("x")), label: label("alice,alice"), named: "f", in: home, &alice)
            // `%` is the facet of the label the walk starts at.
            var tainted = try context("alice", label: "alice,alice")
            #expect(try await fs.resolve(path("home:%:f"), &tainted).kind == .file)
            // A name after a file, a facet after a directory: bad paths.
            var reader = try context("T")
            await expectRefusal({ if case .badPath = $0 { true } else { false } }) {
                try await fs.resolve(path("home:<alice,alice>:f:g"), &reader)
            }
            await expectRefusal({ if case .badPath = $0 { true } else { false } }) {
                try await fs.resolve(path("home:<alice,alice>:<T,T>"), &reader)
            }
            await expectRefusal({ $0 == .notFound("nothing") }) { try await fs.resolve(path("nothing"), &reader) }
        }
    }

    @Test(arguments: Backend.allCases)
    func uninitializedStoresSaySo(backend: Backend) async throws {
        let test = try await backend.makeStore()
        let fs = FileSystem(store: test.store)
        var reader = try context("T")
        await expectRefusal({ $0 == .notInitialized }) { try await fs.resolve(path("home"), &reader) }
        await test.close()
    }
}
