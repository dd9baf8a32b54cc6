import FaastenTestSupport
import Foundation
import LocalPostgres
import Processes
import Testing

/// `faasten fs` as an operator uses it, on a fresh data directory or PostgreSQL database.
@Suite("faasten fs")
struct FSCommandTests {
    /// Runs `faasten fs --store STORE ARGS…`.
    struct Operator {
        let store: String
        /// For PostgreSQL: where the master key is (a directory store keeps its own).
        var masterKey: String?

        func fs(_ arguments: [String], input: String = "") throws -> BuiltProducts.Result {
            let key = masterKey.map { ["--master-key", $0] } ?? []
            return try BuiltProducts.run("faasten", ["fs", "--store", store] + key + arguments, input: Data(input.utf8))
        }
    }

    static func sqlite() throws -> (Operator, String) {
        var template = Array((NSTemporaryDirectory() + "faasten-cli-XXXXXX").utf8CString)
        _ = mkdtemp(&template)
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (Operator(store: path + "/data"), path)
    }

    @Test func aWalkThroughOnAFreshDataDirectory() throws {
        let (op, temporary) = try Self.sqlite()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        try walkThrough(op)
    }

    @Test func theSameWalkThroughOnPostgreSQL() throws {
        let keys = try TemporaryDirectory()
        let op = Operator(store: try LocalPostgres.shared().createDatabase(prefix: "cli"), masterKey: keys.path + "/master-key")
        try walkThrough(op)
    }

    func walkThrough(_ op: Operator) throws {
        #expect(try op.fs(["init"]).stdout == "initialized\n")
        #expect(try op.fs(["init"]).stdout == "already initialized\n")
        #expect(try op.fs(["adduser", "alice"]).stdout == "home:<alice,alice>\n")
        #expect(try op.fs(["adduser", "bob"]).status == 0)

        let mkdir = try op.fs(["--as", "alice", "mkdir", "~:photos", "--label", "alice,alice"])
        #expect(mkdir.status == 0, "\(mkdir.stderr)")
        #expect(mkdir.stderr.contains("object: directory, label alice,alice"))
        #expect(try op.fs(["--as", "alice", "mkfile", "~:photos:notes", "--label", "alice,alice"]).status == 0)
        #expect(try op.fs(["--as", "alice", "write", "~:photos:notes"], input: "dear diary").status == 0)

        let cat = try op.fs(["--as", "alice", "cat", "~:photos:notes"])
        #expect(cat.status == 0 && cat.stdout == "dear diary")
        #expect(cat.stderr.contains("context: label alice,T, privilege alice"))

        let json = try op.fs(["--as", "alice", "--json", "cat", "home:<alice,alice>:photos:notes"])
        #expect(json.stdout.contains(#""text":"dear diary""#) && json.stdout.contains(#""label":"alice,alice""#))

        let blob = try op.fs(["--as", "alice", "blob", "put", "~:photos:cat.jpg", "--label", "alice,alice"], input: "JPEG…")
        #expect(blob.status == 0 && blob.stdout.count == 65)
        #expect(try op.fs(["--as", "alice", "blob", "get", "~:photos:cat.jpg"]).stdout == "JPEG…")

        let listing = try op.fs(["--as", "alice", "ls", "~:photos"])
        #expect(listing.stdout == "cat.jpg\tblob\nnotes\tfile\n")
        #expect(try op.fs(["--as", "alice", "stat", "~:photos:cat.jpg"]).stdout == "blob\talice,alice\n")

        #expect(try op.fs(["--as", "alice", "ln", "~:photos:notes", "~:photos:notes-again"]).status == 0)
        #expect(try op.fs(["--as", "alice", "rm", "~:photos:notes-again"]).status == 0)
        #expect(try op.fs(["--as", "F", "facets", "home", "--under", "F,T"]).stdout == "<T,faasten>\n<alice,alice>\n<bob,bob>\n")
    }

    @Test func refusalsNameTheRuleAndPrintNoData() throws {
        let (op, temporary) = try Self.sqlite()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        _ = try op.fs(["init"])
        _ = try op.fs(["adduser", "alice"])
        _ = try op.fs(["--as", "alice", "mkfile", "~:secret", "--label", "alice,alice"])
        _ = try op.fs(["--as", "alice", "write", "~:secret"], input: "the secret")

        // What bob would see is labeled alice: his clearance is what he may be shown, so
        // the read is refused before anything is read or printed.
        let read = try op.fs(["--as", "bob", "cat", "home:<alice,alice>:secret"])
        #expect(read.status == 1)
        #expect(read.stdout.isEmpty && !read.stderr.contains("the secret"))
        #expect(read.stderr.contains("read rule") && read.stderr.contains("alice,alice"), "\(read.stderr)")

        let write = try op.fs(["--as", "bob", "--json", "write", "home:<alice,alice>:secret"], input: "overwritten")
        #expect(write.status == 1)
        #expect(write.stdout.contains("read rule") || write.stdout.contains("write rule"), "\(write.stdout)")
        #expect(try op.fs(["--as", "alice", "cat", "~:secret"]).stdout == "the secret")

        // A bob whose clearance stops below alice cannot even walk into her home.
        let bounded = try op.fs(["--as", "bob", "--clearance", "bob,T", "ls", "home:<alice,alice>"])
        #expect(bounded.status == 1 && bounded.stderr.contains("read rule"))

        // A board only bob vouches for: alice's write is refused by the write rule, and
        // since nothing secret was read the refusal itself may be shown to her.
        _ = try op.fs(["--as", "F", "mkfile", "board", "--label", "T,bob"])
        let forged = try op.fs(["--as", "alice", "write", "board"], input: "bob says")
        #expect(forged.status == 1 && forged.stderr.contains("write rule"), "\(forged.stderr)")
        // Tainted with alice's secret, bob cannot even start: nothing he did could be shown to him.
        let tainted = try op.fs(["--as", "bob", "--start-label", "alice,T", "write", "board"], input: "leak")
        #expect(tainted.status != 0 && tainted.stderr.contains("clearance"), "\(tainted.stderr)")
        // Nor may he claim integrity he does not own: the start rule.
        let forgedStart = try op.fs(["--as", "bob", "--start-label", "T,alice", "mkfile", "~:claimed"])
        #expect(forgedStart.status != 0 && forgedStart.stderr.contains("start rule"), "\(forgedStart.stderr)")
        #expect(try op.fs(["--as", "F", "cat", "board"]).stdout.isEmpty)
    }

    @Test func badInputIsAnErrorThatChangesNothing() throws {
        let (op, temporary) = try Self.sqlite()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        _ = try op.fs(["init"])
        for arguments in [
            ["--as", "alice", "ls", "<alice,alice>:x"],
            ["--as", "a//b", "ls", "home"],
            ["ls", "home"],
            ["--as", "alice", "--start-label", "alice,T", "--clearance", "T,T", "ls", "home"],
            ["--as", "F", "mkdir", "bad:<x,y>"],
            ["--as", "F", "mkdir", "x", "--label", "a,b,c"],
            ["adduser", "a||b"],
        ] {
            let result = try op.fs(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("error: "), "\(arguments): \(result.stderr)")
        }
        #expect(try op.fs(["--as", "F", "ls"]).stdout == "home\tfaceted directory\n")
        // A path must start with a name: separators alone are not the root.
        for text in ["", ":", ":::"] {
            let separators = try op.fs(["--as", "F", "ls", text])
            #expect(separators.status == 2 && separators.stderr.contains("a path"), "\(text): \(separators.stderr)")
        }
        let missing = try BuiltProducts.run("faasten", ["fs", "--store", "postgres://nobody@127.0.0.1:1/none", "--as", "T", "ls"])
        #expect(missing.status == 2 && missing.stderr.contains("cannot open the store"))
    }
}
