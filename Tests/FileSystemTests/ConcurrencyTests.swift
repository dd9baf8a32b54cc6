import FaastenTestSupport
import FileSystem
import Labels
import Store
import Testing

/// Many writers at once: nothing lost, nothing duplicated.
@Suite("Concurrent changes")
struct ConcurrencyTests {
    @Test(arguments: Backend.allCases)
    func concurrentLinksIntoOneDirectory(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var root = try context("F")
            let directory = try await fs.create(.directory, label: .public, named: "busy", in: fs.root(), &root)
            let results = await withTaskGroup(of: Result<String, FSError>.self) { group in
                for n in 0..<80 {
                    group.addTask {
                        // 60 distinct names and 20 attempts at one contested name.
                        let name = n < 60 ? "file-\(n)" : "contested"
                        var context = try! SecurityContext(privilege: .root)
                        do {
                            _ = try await fs.create(.file(Array("\(n)".utf8)), label: .public, named: name, in: directory, &context)
                            return .success(name)
                        } catch let error as FSError {
                            return .failure(error)
                        } catch {
                            return .failure(.storage("\(error)"))
                        }
                    }
                }
                var all: [Result<String, FSError>] = []
                for await result in group { all.append(result) }
                return all
            }
            let created = results.compactMap { try? $0.get() }
            let refused = results.compactMap { if case let .failure(error) = $0 { error } else { nil } }
            #expect(created.count == 61)
            #expect(created.filter { $0 == "contested" }.count == 1)
            #expect(refused.count == 19 && refused.allSatisfy { $0 == .nameExists("contested") })
            var reader = try context("T")
            let names = try await fs.list(directory, &reader).map(\.name)
            #expect(names.count == 61 && Set(names).count == 61)
            guard case let .object(id) = directory.target else { return }
            let entryCount = try await fs.store.transaction(.read) { try $0.object(id)?.entryCount }
            #expect(entryCount == 61)
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentWritesToOneFileAreAllApplied(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var root = try context("F")
            let file = try await fs.create(.file([]), label: .public, named: "counter", in: fs.root(), &root)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<50 {
                    group.addTask {
                        var context = try SecurityContext(privilege: .root)
                        try await fs.write(file: file, Array("writer \(n)".utf8), &context)
                    }
                }
                try await group.waitForAll()
            }
            guard case let .object(id) = file.target else { return }
            let record = try await fs.store.transaction(.read) { try $0.object(id) }
            // Every write was applied in turn (a lost update would leave fewer versions).
            #expect(record?.version == 50)
            let content = String(decoding: record?.data ?? [], as: UTF8.self)
            #expect(content.hasPrefix("writer "))
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentGateUpdatesOfDifferentFieldsAreAllKept(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var root = try context("F")
            let image = try await fs.create(.blob(storedBlob(fs, Array("img".utf8))), label: .public, named: "img", in: fs.root(), &root)
            let gate = try await fs.create(
                .gate(GateSpec(target: .function(runtime: "python3", image: image, memoryMB: 100, timeoutMilliseconds: 100),
                               privilege: .none)), label: .public, named: "g", in: fs.root(), &root)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 1...20 {
                    group.addTask {
                        var context = try SecurityContext(privilege: .root)
                        let change = n % 2 == 0 ? GateUpdate(memoryMB: 1000 + n) : GateUpdate(timeoutMilliseconds: 5000 + n)
                        try await fs.update(gate: gate, change, &context)
                    }
                }
                try await group.waitForAll()
            }
            var reader = try context("T")
            guard case let .function(function) = try await fs.read(gate: gate, &reader).target else { return }
            // Read-modify-write under a row lock: both kinds of change survive.
            #expect(function.memoryMB > 1000 && function.timeoutMilliseconds > 5000)
            guard case let .object(id) = gate.target else { return }
            #expect(try await fs.store.transaction(.read) { try $0.object(id)?.version } == 20)
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentWritersIntoANewFacetMakeOneFacet(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            var root = try context("F")
            let faceted = try await fs.create(.facetedDirectory, named: "fd", in: fs.root(), &root)
            let facet = try await fs.openFacet(faceted, label("T,carol"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<30 {
                    group.addTask {
                        var carol = try context("carol")
                        _ = try await fs.create(.file([]), label: label("T,carol"), named: "f\(n)", in: facet, &carol)
                    }
                }
                try await group.waitForAll()
            }
            var lister = try context("F")
            #expect(try await fs.listFacets(faceted, under: .top, &lister) == [try label("T,carol")])
            var reader = try context("T")
            #expect(try await fs.list(facet, &reader).count == 30)
        }
    }
}
