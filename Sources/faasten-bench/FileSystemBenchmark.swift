import ArgumentParser
import FileSystem
import Keys
import Foundation
import GRDB
import Labels
import LocalPostgres
import PostgresNIO
import Store

/// `faasten-bench fs`: file system operations against raw SQL of the same shape.
struct FileSystemBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fs",
        abstract: "µs/op and ops/s of read-by-path, create, list and link at 1k and 100k objects, SQLite and PostgreSQL.",
        discussion: """
            The tree is bench:photos holding N files (N = 1,000 or 100,000), bench:album holding 10,
            and bench:links. read_path reads bench:photos:fK for a random K (walk the path, read
            the file); create adds a file to bench:photos; list lists bench:album (a small
            directory, so that the figure shows how the store's size matters, not the listing's);
            link adds a name to bench:links. Each is timed beside raw SQL of the same shape (the
            same lookups, inserts and updates, with no flow checks) run on the same store in
            the same iteration. PostgreSQL runs on a local server this command starts (fsync on).
            """
    )

    @OptionGroup var options: BenchmarkOptions

    @Option(help: "Backends to measure: sqlite, postgres.") var backend: [String] = ["sqlite", "postgres"]
    @Option(help: "Object counts.") var size: [Int] = [1_000, 100_000]

    func run() async throws {
        var report = BenchmarkReport(title: "faasten-bench fs (µs/op, median and p99; ops/s; baseline: raw SQL of the same shape)")
        var server: LocalPostgres?
        defer { server?.stop() }
        for backend in backend {
            for count in size {
                let workload: Workload
                switch backend {
                case "sqlite":
                    workload = try await Workload.sqlite(count: count)
                case "postgres":
                    if server == nil { server = try LocalPostgres(durable: true) }
                    workload = try await Workload.postgres(url: try server!.createDatabase(prefix: "bench"), count: count)
                default:
                    throw BenchmarkError("unknown backend \(backend): use sqlite or postgres")
                }
                try await measure(workload, into: &report)
                try await workload.close()
            }
        }
        if backend.contains("sqlite") {
            try await measureSealing(into: &report)
            try await measureSealedBlobs(into: &report)
        }
        options.print(report)
        if !options.json {
            print("""

                Targets (SQLite): read_path p50 ≤ 30 µs and ≤ 2× raw SQL; read_path at 100k within 1.5× of 1k;
                read_path with encryption at rest ≤ 1.15× without; blob upload and download with
                encryption at rest ≥ 0.8× the throughput without.
                """)
        }
    }

    /// read_path with content sealed at rest, beside the same on a store in clear, in
    /// alternation (two SQLite stores of 1,000 files).
    func measureSealing(into report: inout BenchmarkReport) async throws {
        let plain = try await Workload.sqlite(count: 1000)
        let sealed = try await Workload.sqlite(count: 1000, sealed: true)
        var generator = SystemRandomNumberGenerator()
        let samples = try await interleave(options.iterations(2000)) {
            let k = Int.random(in: 0..<1000, using: &generator)
            return ({ try await sealed.readPath(k) }, { try await plain.readPath(k) })
        }
        let subject = Distribution(samples.subject)
        let baseline = Distribution(samples.baseline)
        report.add(
            "fs.read_path.sealed.sqlite.1k.p50", unit: "us", subject.p50, baseline: baseline.p50, target: baseline.p50 * 1.15,
            note: "the same, content in clear")
        report.add("fs.read_path.sealed.sqlite.1k.p99", unit: "us", subject.p99, baseline: baseline.p99, note: "the same, content in clear")
        try await plain.close()
        try await sealed.close()
    }

    /// Blob upload and download throughput (16 MiB, written and read a MiB at a time, as
    /// the gateway streams them) sealed at rest, beside the same in clear, in alternation.
    func measureSealedBlobs(into report: inout BenchmarkReport) async throws {
        let plain = try await Workload.sqlite(count: 10)
        let sealed = try await Workload.sqlite(count: 10, sealed: true)
        let mebibyte = 1 << 20
        var generator = SystemRandomNumberGenerator()
        let pieces = (0..<16).map { _ in (0..<mebibyte).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        var upload = (sealed: [Double](), plain: [Double]())
        var download = (sealed: [Double](), plain: [Double]())
        func time(_ body: () throws -> Void) rethrows -> Double {
            let start = Stopwatch.nanoseconds()
            try body()
            return Double(Stopwatch.nanoseconds() - start) / 1e9
        }
        for iteration in 0..<(options.iterations(12) + 2) {
            // Distinct content each time: identical content would be stored once.
            var first = pieces[0]
            withUnsafeBytes(of: UInt64(iteration)) { first.replaceSubrange(0..<8, with: $0) }
            for (side, blobs) in [(0, sealed.fs.blobs), (1, plain.fs.blobs)] {
                var name: BlobName?
                let up = try time {
                    let upload = try blobs.create()
                    try upload.write(first)
                    for piece in pieces.dropFirst() { try upload.write(piece) }
                    name = try upload.finalize()
                }
                let reader = try blobs.open(name!)!
                let down = try time {
                    var offset: Int64 = 0
                    while offset < reader.size { offset += Int64(try reader.read(at: offset, count: mebibyte).count) }
                }
                guard iteration >= 2 else { continue }
                if side == 0 {
                    upload.sealed.append(16 / up)
                    download.sealed.append(16 / down)
                } else {
                    upload.plain.append(16 / up)
                    download.plain.append(16 / down)
                }
            }
        }
        let upSealed = Distribution(upload.sealed).p50, upPlain = Distribution(upload.plain).p50
        let downSealed = Distribution(download.sealed).p50, downPlain = Distribution(download.plain).p50
        report.add("blob.upload.sealed.sqlite.16MiB", unit: "MiB/s", upSealed, baseline: upPlain, target: upPlain * 0.8, note: "the same, in clear")
        report.add("blob.download.sealed.sqlite.16MiB", unit: "MiB/s", downSealed, baseline: downPlain, target: downPlain * 0.8, note: "the same, in clear")
        try await plain.close()
        try await sealed.close()
    }

    func measure(_ workload: Workload, into report: inout BenchmarkReport) async throws {
        let postgres = workload.backend == "postgres"
        let iterations = options.iterations(postgres ? 400 : 2000)
        let writes = options.iterations(postgres ? 200 : 1000)
        let size = workload.count >= 1000 ? "\(workload.count / 1000)k" : "\(workload.count)"
        var generator = SystemRandomNumberGenerator()

        func record(_ metric: String, _ samples: Samples, target: Double? = nil) {
            let prefix = "fs.\(metric).\(workload.backend).\(size)"
            let subject = Distribution(samples.subject)
            let baseline = Distribution(samples.baseline)
            report.add("\(prefix).p50", unit: "us", subject.p50, baseline: baseline.p50, target: target, note: "raw SQL")
            report.add("\(prefix).p99", unit: "us", subject.p99, baseline: baseline.p99, note: "raw SQL")
            report.add("\(prefix).ops", unit: "1/s", samples.throughput(\.subject), baseline: samples.throughput(\.baseline), note: "raw SQL")
        }

        let readTarget: Double? = workload.backend == "sqlite" ? 30 : nil
        record("read_path", try await interleave(iterations) {
            let k = Int.random(in: 0..<workload.count, using: &generator)
            return (
                { try await workload.readPath(k) },
                { try await workload.rawReadPath(k) }
            )
        }, target: readTarget)
        var created = 0
        record("create", try await interleave(writes) {
            created += 1
            let n = created
            return ({ try await workload.create(n) }, { try await workload.rawCreate(n) })
        })
        record("list", try await interleave(iterations) {
            ({ try await workload.list() }, { try await workload.rawList() })
        })
        var linked = 0
        record("link", try await interleave(writes) {
            linked += 1
            let n = linked
            let k = Int.random(in: 0..<workload.count, using: &generator)
            return ({ try await workload.link(n, k) }, { try await workload.rawLink(n, k) })
        })
    }

    /// Per-operation times in µs for the subject and the baseline, taken in alternation.
    struct Samples {
        var subject: [Double] = []
        var baseline: [Double] = []

        func throughput(_ side: KeyPath<Samples, [Double]>) -> Double {
            let total = self[keyPath: side].reduce(0, +)
            return total > 0 ? Double(self[keyPath: side].count) / (total / 1e6) : 0
        }
    }

    func interleave(
        _ iterations: Int, _ next: () -> (() async throws -> Void, () async throws -> Void)
    ) async throws -> Samples {
        var samples = Samples()
        let warmup = max(5, iterations / 20)
        for iteration in 0..<(warmup + iterations) {
            let (subject, baseline) = next()
            let t0 = Stopwatch.nanoseconds()
            try await subject()
            let t1 = Stopwatch.nanoseconds()
            try await baseline()
            let t2 = Stopwatch.nanoseconds()
            if iteration >= warmup {
                samples.subject.append(Double(t1 - t0) / 1000)
                samples.baseline.append(Double(t2 - t1) / 1000)
            }
        }
        return samples
    }
}

/// One store prepared for the benchmark, with each operation and its raw-SQL twin.
struct Workload: Sendable {
    let backend: String
    let count: Int
    let fs: FileSystem
    let ids: Tree
    let raw: RawSQL
    let temporary: String?

    /// The benchmark tree: entries for the file system, object ids for raw SQL.
    struct Tree: Sendable {
        let root: ObjectID
        let photos: Entry
        let album: Entry
        let links: Entry
        let paths: [FSPath]
    }

    /// With `sealed`, content is sealed at rest (a key ring with its master key file in
    /// the temporary directory), as `faasten` stores it.
    static func sqlite(count: Int, sealed: Bool = false) async throws -> Workload {
        let directory = NSTemporaryDirectory() + "faasten-bench-\(UUID().uuidString)"
        let store = try SQLiteStore(directory: directory)
        var fs = FileSystem(store: store)
        let tree = try await prepare(fs)
        try store.withWritableDatabase { db in
            let insertObject = try db.cachedStatement(sql: "INSERT INTO objects (kind, label, data) VALUES (1, 'T,T', ?)")
            let insertEntry = try db.cachedStatement(sql: "INSERT INTO entries (directory, name, target, kind, label) VALUES (?, ?, ?, 1, 'T,T')")
            for k in 0..<count {
                try insertObject.execute(arguments: [Data("file \(k)".utf8)])
                try insertEntry.execute(arguments: [tree.photos.objectID, "f\(k)", db.lastInsertedRowID])
            }
            try db.execute(sql: "UPDATE objects SET entry_count = entry_count + ? WHERE id = ?", arguments: [count, tree.photos.objectID])
        }
        try store.withWritableDatabase { db in try db.execute(sql: "ANALYZE") }
        if sealed {
            let keys = try await KeyRing.open(store: store, master: .file(directory + "/master-key", create: true))
            fs = FileSystem(store: store, keys: keys)
            try await fs.sealContentInClear()
        }
        return Workload(backend: "sqlite", count: count, fs: fs, ids: tree.with(count: count), raw: .sqlite(store), temporary: directory)
    }

    static func postgres(url: String, count: Int) async throws -> Workload {
        let store = try await PostgresStore(location: PostgresLocation(url: url))
        let fs = FileSystem(store: store)
        let tree = try await prepare(fs)
        let photos = tree.photos.objectID!
        try await store.withConnection { connection in
            _ = try connection.query(
                """
                WITH new AS (
                    INSERT INTO objects (kind, label, data)
                    SELECT 1, 'T,T', convert_to('file ' || g, 'UTF8') FROM generate_series(0, \(count - 1)) AS g
                    RETURNING id, convert_from(data, 'UTF8') AS content)
                INSERT INTO entries (directory, name, target, kind, label)
                SELECT \(photos), 'f' || substr(content, 6), id, 1, 'T,T' FROM new
                """, logger: Workload.logger
            ).wait()
            _ = try connection.query(
                "UPDATE objects SET entry_count = entry_count + \(count) WHERE id = \(photos)", logger: Workload.logger
            ).wait()
            _ = try connection.query("ANALYZE", logger: Workload.logger).wait()
        }
        return Workload(backend: "postgres", count: count, fs: fs, ids: tree.with(count: count), raw: .postgres(store), temporary: nil)
    }

    static let logger = Logger(label: "faasten.bench")

    /// bench (T,T) holding photos, album (10 files) and links.
    static func prepare(_ fs: FileSystem) async throws -> Tree {
        try await fs.bootstrap()
        var root = try SecurityContext(privilege: .root)
        let rootDirectory = try await fs.root()
        let bench = try await fs.create(.directory, label: .public, named: "bench", in: rootDirectory, &root)
        let photos = try await fs.create(.directory, label: .public, named: "photos", in: bench, &root)
        let album = try await fs.create(.directory, label: .public, named: "album", in: bench, &root)
        let links = try await fs.create(.directory, label: .public, named: "links", in: bench, &root)
        for k in 0..<10 { _ = try await fs.create(.file(Array("album \(k)".utf8)), label: .public, named: "a\(k)", in: album, &root) }
        func id(_ entry: Entry) -> ObjectID { entry.objectID! }
        return Tree(root: id(rootDirectory), photos: photos, album: album, links: links, paths: [])
    }

    func close() async throws {
        try await fs.store.close()
        if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
    }

    // MARK: Through the file system

    func readPath(_ k: Int) async throws {
        var context = try SecurityContext()
        blackHole(try await fs.read(fileAt: ids.paths[k], &context))
    }

    func create(_ n: Int) async throws {
        var context = try SecurityContext(privilege: .root)
        _ = try await fs.create(.file(Array("new \(n)".utf8)), label: .public, named: "c\(n)", in: ids.photos, &context)
    }

    func list() async throws {
        var context = try SecurityContext()
        blackHole(try await fs.list(ids.album, &context))
    }

    func link(_ n: Int, _ k: Int) async throws {
        var context = try SecurityContext(privilege: .root)
        let file = try await fs.lookup(ids.photos, "f\(k)", &context)
        try await fs.link(ids.links, "l\(n)", to: file, &context)
    }

    // MARK: Raw SQL of the same shape

    func rawReadPath(_ k: Int) async throws {
        let names = ["bench", "photos", "f\(k)"]
        let root = ids.root
        switch raw {
        case let .sqlite(store):
            blackHole(try store.withDatabase { db -> Data? in
                var directory = root
                for name in names {
                    guard let target = try Int64.fetchOne(
                        db.cachedStatement(sql: "SELECT target FROM entries WHERE directory = ? AND name = ?"),
                        arguments: [directory, name])
                    else { return nil }
                    directory = target
                }
                return try Data.fetchOne(db.cachedStatement(sql: "SELECT data FROM objects WHERE id = ?"), arguments: [directory])
            })
        case let .postgres(store):
            blackHole(try await store.withConnection { connection -> Int in
                var directory = root
                for name in names {
                    let rows = try connection.query(
                        "SELECT target FROM entries WHERE directory = \(directory) AND name = \(name)", logger: Workload.logger
                    ).wait().rows
                    guard let row = rows.first else { return 0 }
                    directory = try row.decode(Int64.self)
                }
                return try connection.query("SELECT data FROM objects WHERE id = \(directory)", logger: Workload.logger).wait().rows.count
            })
        }
    }

    func rawCreate(_ n: Int) async throws {
        let photos = ids.photos.objectID!
        switch raw {
        case let .sqlite(store):
            try store.withWritableDatabase { db in
                try db.cachedStatement(sql: "INSERT INTO objects (kind, label, data) VALUES (1, 'T,T', ?)").execute(arguments: [Data("raw \(n)".utf8)])
                try db.cachedStatement(sql: "INSERT INTO entries (directory, name, target, kind, label) VALUES (?, ?, ?, 1, 'T,T')")
                    .execute(arguments: [photos, "r\(n)", db.lastInsertedRowID])
                try db.cachedStatement(sql: "UPDATE objects SET entry_count = entry_count + 1 WHERE id = ?").execute(arguments: [photos])
            }
        case let .postgres(store):
            try await store.withConnection { connection in
                _ = try connection.query("BEGIN", logger: Workload.logger).wait()
                let id = try connection.query(
                    "INSERT INTO objects (kind, label, data) VALUES (1, 'T,T', \(ByteBuffer(string: "raw \(n)"))) RETURNING id",
                    logger: Workload.logger
                ).wait().rows.first!.decode(Int64.self)
                _ = try connection.query(
                    "INSERT INTO entries (directory, name, target, kind, label) VALUES (\(photos), \("r\(n)"), \(id), 1, 'T,T')", logger: Workload.logger
                ).wait()
                _ = try connection.query("UPDATE objects SET entry_count = entry_count + 1 WHERE id = \(photos)", logger: Workload.logger).wait()
                _ = try connection.query("COMMIT", logger: Workload.logger).wait()
            }
        }
    }

    func rawList() async throws {
        let album = ids.album.objectID!
        switch raw {
        case let .sqlite(store):
            blackHole(try store.withDatabase { db in
                return try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT name, kind FROM entries WHERE directory = ? ORDER BY name"), arguments: [album]
                ).count
            })
        case let .postgres(store):
            blackHole(try await store.withConnection { connection in
                return try connection.query(
                    "SELECT name, kind FROM entries WHERE directory = \(album) ORDER BY name", logger: Workload.logger
                ).wait().rows.count
            })
        }
    }

    func rawLink(_ n: Int, _ k: Int) async throws {
        let (photos, links) = (ids.photos.objectID!, ids.links.objectID!)
        switch raw {
        case let .sqlite(store):
            try store.withWritableDatabase { db in
                let target = try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT target FROM entries WHERE directory = ? AND name = ?"), arguments: [photos, "f\(k)"])
                try db.cachedStatement(sql: "INSERT INTO entries (directory, name, target, kind, label) VALUES (?, ?, ?, 1, 'T,T')")
                    .execute(arguments: [links, "r\(n)", target])
                try db.cachedStatement(sql: "UPDATE objects SET entry_count = entry_count + 1 WHERE id = ?").execute(arguments: [links])
            }
        case let .postgres(store):
            try await store.withConnection { connection in
                let target = try connection.query(
                    "SELECT target FROM entries WHERE directory = \(photos) AND name = \("f\(k)")", logger: Workload.logger
                ).wait().rows.first!.decode(Int64.self)
                _ = try connection.query("BEGIN", logger: Workload.logger).wait()
                _ = try connection.query(
                    "INSERT INTO entries (directory, name, target, kind, label) VALUES (\(links), \("r\(n)"), \(target), 1, 'T,T')", logger: Workload.logger
                ).wait()
                _ = try connection.query("UPDATE objects SET entry_count = entry_count + 1 WHERE id = \(links)", logger: Workload.logger).wait()
                _ = try connection.query("COMMIT", logger: Workload.logger).wait()
            }
        }
    }

    /// The store behind the file system, for raw statements.
    enum RawSQL: Sendable {
        case sqlite(SQLiteStore)
        case postgres(PostgresStore)
    }
}

extension Workload.Tree {
    func with(count: Int) -> Workload.Tree {
        Workload.Tree(
            root: root, photos: photos, album: album, links: links,
            paths: (0..<count).map { FSPath([.name("bench"), .name("photos"), .name("f\($0)")]) })
    }
}
