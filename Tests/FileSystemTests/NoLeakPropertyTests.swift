import FaastenTestSupport
import FileSystem
import LabelSamples
import Labels
import PropertyBased
import Store
import Testing

/// Random operation sequences by low contexts never return data or metadata of an
/// object they could not read within their clearance, and their labels only grow.
///
/// Every file's content, every entry name and every facet is a token that the test
/// maps to the label that guards it: a file's own label, a name's directory label, a
/// facet's label. After each operation, every token in what came back must be guarded
/// by a label that flows to the context's (raised) label and to its clearance.
@Suite("No leaks through the file system")
struct NoLeakPropertyTests {
    static let labelPool = [
        "T,T", "alice,T", "bob,T", "alice&bob,T", "alice|bob,T", "T,alice", "alice,alice", "bob,bob",
        "alice/photo,T", "carol,T",
    ]
    static let privilegePool = ["T", "alice", "bob", "alice/photo", "carol"]

    /// The world: a directory per label holding a file per label, plus a faceted
    /// directory with a facet per label, each holding a file.
    struct World {
        var guards: [String: Label] = [:]
        var directories: [FSPath] = []
        var files: [FSPath] = []
        var faceted: FSPath = .root
    }

    static func build(_ fs: FileSystem) async throws -> World {
        var world = World()
        var root = try SecurityContext(privilege: .root)
        let rootDirectory = try await fs.root()
        let labels = try labelPool.map { try Label(parsing: $0) }
        for (d, directoryLabel) in labels.enumerated() {
            let name = "d\(d)"
            let directory = try await fs.create(.directory, label: directoryLabel, named: name, in: rootDirectory, &root)
            world.directories.append(try FSPath(parsing: name))
            for (f, fileLabel) in labels.enumerated() {
                let token = "tok-d\(d)-f\(f)"
                _ = try await fs.create(.file(Array("data \(token)-content".utf8)), label: fileLabel, named: token, in: directory, &root)
                world.guards[token] = directoryLabel  // the name is guarded by the directory
                world.guards["\(token)-content"] = fileLabel  // the content by the file
                world.files.append(try FSPath(parsing: "\(name):\(token)"))
            }
        }
        let faceted = try await fs.create(.facetedDirectory, named: "fd", in: rootDirectory, &root)
        world.faceted = try FSPath(parsing: "fd")
        for (n, facetLabel) in labels.enumerated() {
            let facet = try await fs.openFacet(faceted, facetLabel)
            let token = "tok-facet\(n)"
            _ = try await fs.create(.file(Array("data \(token)-content".utf8)), label: facetLabel, named: token, in: facet, &root)
            world.guards[token] = facetLabel
            world.guards["\(token)-content"] = facetLabel
            world.guards["facet:\(facetLabel)"] = facetLabel
            world.files.append(try FSPath(parsing: "fd:<\(facetLabel)>:\(token)"))
        }
        return world
    }

    /// Tokens in a piece of returned text.
    static func tokens(in text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == ":" }).map(String.init).filter { $0.hasPrefix("tok-") }
    }

    @Test(arguments: Backend.allCases)
    func randomSequencesNeverLeak(backend: Backend) async throws {
        try await withFileSystem(backend) { fs in
            let world = try await Self.build(fs)
            await propertyCheck(count: backend == .sqlite ? 60 : 25, input: Gen.int(in: 0...Int.max)) { seed in
                try await Self.runSequence(fs, world, seed: UInt64(seed))
            }
        }
    }

    static func runSequence(_ fs: FileSystem, _ world: World, seed: UInt64) async throws {
        var rng = SplitMix64(seed: seed)
        let labels = try labelPool.map { try Label(parsing: $0) }
        let clearance = labels.randomElement(using: &rng)!
        let start = labels.filter { $0.canFlow(to: clearance) }.randomElement(using: &rng)!
        var context = try SecurityContext(
            label: start, privilege: Privilege(parsing: privilegePool.randomElement(using: &rng)!), clearance: clearance)

        for _ in 0..<15 {
            let before = context.label
            var revealed: [String] = []
            do {
                switch Int.random(in: 0..<7, using: &rng) {
                case 0:
                    let file = try await fs.resolve(world.files.randomElement(using: &rng)!, &context)
                    revealed += tokens(in: String(decoding: try await fs.read(file: file, &context), as: UTF8.self))
                case 1:
                    let directory = try await fs.resolve(world.directories.randomElement(using: &rng)!, &context)
                    revealed += try await fs.list(directory, &context).flatMap { tokens(in: $0.name) }
                case 2:
                    let faceted = try await fs.resolve(world.faceted, &context)
                    let under = labels.randomElement(using: &rng)!
                    revealed += try await fs.listFacets(faceted, under: under, &context).map { "facet:\($0)" }
                case 3:
                    let faceted = try await fs.resolve(world.faceted, &context)
                    let facet = try await fs.openFacet(faceted, labels.randomElement(using: &rng)!)
                    revealed += try await fs.list(facet, &context).flatMap { tokens(in: $0.name) }
                case 4:
                    // Writing never reveals anything but its own success.
                    let file = try await fs.resolve(world.files.randomElement(using: &rng)!, &context)
                    try await fs.write(file: file, Array("overwritten".utf8), &context)
                case 5:
                    let directory = try await fs.resolve(world.directories.randomElement(using: &rng)!, &context)
                    _ = try await fs.create(.file([]), named: "new-\(rng.next())", in: directory, &context)
                default:
                    // Walk a path and stop: traversal alone may not reveal anything.
                    _ = try await fs.resolve(world.files.randomElement(using: &rng)!, &context)
                }
            } catch {
                // Refusals are expected; the invariants below must hold for them too.
            }
            #expect(before.canFlow(to: context.label), "the label went down: \(before) → \(context.label)")
            #expect(context.label.canFlow(to: context.clearance), "above clearance: \(context)")
            for token in revealed {
                guard let guardLabel = world.guards[token] else { continue }
                #expect(guardLabel.canFlow(to: context.label), "\(token) (\(guardLabel)) seen at \(context.label)")
                #expect(guardLabel.canFlow(to: context.clearance), "\(token) (\(guardLabel)) seen under clearance \(context.clearance)")
            }
        }
    }
}
