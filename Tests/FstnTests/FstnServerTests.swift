import FaastenTestSupport
import Foundation
import JSONValues
import Processes
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Whether the built `faasten` has a `serve` command.
enum ServeCommand {
    /// True only when `faasten` is built and `faasten serve --help` fails.
    static let isMissing: Bool = {
        guard BuiltProducts.isBuilt("faasten") else { return false }
        return ((try? BuiltProducts.run("faasten", ["serve", "--help"]).status) ?? 1) != 0
    }()
}

/// `fstn` against a real `faasten serve` on an ephemeral loopback port, with its own
/// data directory and config directory. Disabled only while the built `faasten` has no
/// `serve` command (the gateway is not there yet); a missing binary fails.
@Suite("fstn against faasten serve", .disabled(if: ServeCommand.isMissing, "`faasten serve` is not implemented yet"))
struct FstnServerTests {
    @Test func aUserRegistersLogsInAndWorksWithTheirFiles() throws {
        let server = try Server.start()
        defer { server.stop() }
        let alice = server.user()

        #expect(try alice.run(["ping"]).stdout.contains("Pong."))
        for name in ["alice", "bob"] {
            let registered = try alice.run(["register", name, "--password-stdin"], input: "\(name)-password\n")
            #expect(registered.status == 0, "\(registered.stderr)")
        }
        let taken = try alice.run(["register", "alice", "--password-stdin"], input: "alice-password\n")
        #expect(taken.status == 2 && taken.stderr.hasPrefix("error: "))

        let wrong = try alice.run(["login", "alice", "--password-stdin"], input: "not-the-password\n")
        #expect(wrong.status == 2 && wrong.stderr.hasPrefix("error: "))
        let login = try alice.run(["login", "alice", "--password-stdin"], input: "alice-password\n")
        #expect(login.status == 0, "\(login.stderr)")
        let credentials = server.config.url.appendingPathComponent("fstn/credentials.json").path
        #expect(try Self.mode(credentials) == 0o600)
        #expect(try Self.mode(server.config.url.appendingPathComponent("fstn").path) == 0o700)

        let whoami = try alice.run(["whoami", "--json"])
        #expect(whoami.status == 0)
        #expect(try Self.json(whoami.stdout)["principal"]?.string == "alice")

        let mkdir = try alice.run(["mkdir", "~:docs", "--label", "alice,alice"])
        #expect(mkdir.status == 0, "\(mkdir.stderr)")
        let put = try alice.run(["put", "~:docs:note", "-", "--label", "alice,alice"], input: "dear diary")
        #expect(put.status == 0, "\(put.stderr)")
        #expect(try alice.run(["cat", "~:docs:note"]).stdout == "dear diary")
        // An existing file is overwritten (PUT), keeping its label.
        #expect(try alice.run(["put", "~:docs:note"], input: "dear diary, again").status == 0)
        #expect(try alice.run(["cat", "home:<alice,alice>:docs:note"]).stdout == "dear diary, again")

        let stat = try alice.run(["stat", "~:docs:note"])
        #expect(stat.status == 0, "\(stat.stderr)")
        #expect(stat.stdout.contains("kind:  file") && stat.stdout.contains("alice,alice"), "\(stat.stdout)")
        let listing = try alice.run(["ls", "~:docs"])
        #expect(listing.status == 0)
        #expect(listing.stdout.split(separator: "\n").contains { $0.hasPrefix("note") && $0.hasSuffix("file") }, "\(listing.stdout)")
        let json = try Self.json(try alice.run(["--json", "ls", "~:docs"]).stdout)
        #expect(json["kind"]?.string == "directory")

        // bob can reach the path, but what he would see is alice's: refused, exit 1, nothing shown.
        let bobLogin = try alice.run(["login", "bob", "--password-stdin"], input: "bob-password\n")
        #expect(bobLogin.status == 0, "\(bobLogin.stderr)")
        let refused = try alice.run(["cat", "home:<alice,alice>:docs:note"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stdout.isEmpty && !refused.stderr.contains("dear diary"))
        #expect(refused.stderr.hasPrefix("error: "))

        // bob was the last login; alice's session is still saved.
        let delegated = try alice.run(["--user", "alice", "delegate", "alice/docs", "--save-as", "alice-docs"])
        #expect(delegated.status == 0, "\(delegated.stderr)")
        #expect(delegated.stdout.split(separator: ".").count == 3, "not a JWT: \(delegated.stdout)")
        let narrow = try Self.json(try alice.run(["--user", "alice-docs", "--json", "whoami"]).stdout)
        #expect(narrow["privilege"]?.string?.contains("alice/docs") == true, "\(JSONValue.object(narrow).text)")
        let tooWide = try alice.run(["--user", "bob", "delegate", "alice"])
        #expect(tooWide.status == 1, "\(tooWide.stderr)")

        #expect(try alice.run(["--user", "alice", "ln", "~:docs:note", "~:docs:again"]).status == 0)
        #expect(try alice.run(["--user", "alice", "cat", "~:docs:again"]).stdout == "dear diary, again")
        let removed = try alice.run(["--user", "alice", "rm", "~:docs:note"])
        #expect(removed.status == 0, "\(removed.stderr)")
        let gone = try alice.run(["--user", "alice", "cat", "~:docs:note"])
        #expect(gone.status == 2 && gone.stderr.hasPrefix("error: "))

        #expect(try alice.run(["--user", "alice", "logout"]).status == 0)
        let loggedOut = try alice.run(["--user", "alice", "whoami"])
        #expect(loggedOut.status == 2 && loggedOut.stderr.contains("fstn login alice"))
    }

    @Test func aLargeBlobIsStreamedUpAndDown() throws {
        let server = try Server.start()
        defer { server.stop() }
        let alice = server.user()
        _ = try alice.run(["register", "alice", "--password-stdin"], input: "alice-password\n")
        #expect(try alice.run(["login", "alice", "--password-stdin"], input: "alice-password\n").status == 0)

        let local = server.config.url.appendingPathComponent("big.bin")
        let bytes = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: local)
        let put = try alice.run(["blob", "put", "~:big", local.path, "--label", "alice,alice"])
        #expect(put.status == 0, "\(put.stderr)")
        let copy = server.config.url.appendingPathComponent("copy.bin")
        let get = try alice.run(["blob", "get", "~:big", "-o", copy.path])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(try Data(contentsOf: copy) == Data(bytes))
    }

    @Test func triggersAreCreatedListedShownAndDeleted() throws {
        let server = try Server.start()
        defer { server.stop() }
        let alice = server.user()
        _ = try alice.run(["register", "alice", "--password-stdin"], input: "alice-password\n")
        #expect(try alice.run(["login", "alice", "--password-stdin"], input: "alice-password\n").status == 0)
        let created = try alice.run(
            ["trigger", "create", "nightly", "--source", "schedule", "--gate", "~:job", "--privilege", "alice/cron",
             "--schedule", "0 3 * * *", "--timezone", "Europe/Paris", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let id = try #require(try Self.json(created.stdout)["id"]?.string)
        let listed = try alice.run(["trigger", "list"])
        #expect(listed.status == 0 && listed.stdout.contains("nightly") && listed.stdout.contains(id), "\(listed.stdout)")
        let shown = try alice.run(["trigger", "show", id])
        #expect(shown.status == 0 && shown.stdout.contains("0 3 * * *"), "\(shown.stdout)")
        #expect(try alice.run(["trigger", "deliveries", id]).status == 0)
        // Someone else's privilege is refused by the server (exit 1: a rule refused).
        let refused = try alice.run(["trigger", "create", "x", "--source", "github", "--gate", "~:job", "--privilege", "bob"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(try alice.run(["trigger", "delete", id]).status == 0)
        #expect(try alice.run(["trigger", "show", id]).status == 2)
    }

    @Test func anExpiredOrRejectedTokenIsRefreshedOnceAndSaved() throws {
        let server = try Server.start()
        defer { server.stop() }
        let alice = server.user()
        _ = try alice.run(["register", "alice", "--password-stdin"], input: "alice-password\n")
        #expect(try alice.run(["login", "alice", "--password-stdin"], input: "alice-password\n").status == 0)
        let file = server.config.url.appendingPathComponent("fstn/credentials.json")

        func edit(_ change: (inout [String: Any]) -> Void) throws -> [String: Any] {
            var all = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: [String: Any]])
            var session = try #require(all[server.url]?["alice"] as? [String: Any])
            change(&session)
            all[server.url]?["alice"] = session
            try JSONSerialization.data(withJSONObject: all).write(to: file)
            return session
        }
        func saved() throws -> [String: Any] {
            let all = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: [String: Any]])
            return try #require(all[server.url]?["alice"] as? [String: Any])
        }

        // Expired by the clock: refreshed before the request.
        let expired = try edit { $0["expires_at"] = 1000 }
        #expect(try Self.json(try alice.run(["--json", "whoami"]).stdout)["principal"]?.string == "alice")
        #expect(try saved()["refresh_token"] as? String != expired["refresh_token"] as? String)
        #expect(try saved()["expires_at"] as? Double ?? 0 > Date().timeIntervalSince1970)

        // Rejected by the server (401): refreshed, and the request sent again.
        _ = try edit { $0["token"] = "not.a.token" }
        let retried = try alice.run(["ls", "~"])
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(try saved()["token"] as? String != "not.a.token")

        // Both dead: one refresh fails, and the user is told to log in.
        _ = try edit {
            $0["token"] = "not.a.token"
            $0["refresh_token"] = "not-a-refresh-token"
        }
        let dead = try alice.run(["ls", "~"])
        #expect(dead.status == 2)
        #expect(dead.stderr.contains("run `fstn login alice`"), "\(dead.stderr)")
        #expect(try Self.mode(file.path) == 0o600)
    }

    @Test func aDeployedFunctionIsInvokedSyncAndAsync() throws {
        let server = try Server.start()
        defer { server.stop() }
        let alice = server.user()
        _ = try alice.run(["register", "alice", "--password-stdin"], input: "alice-password\n")
        #expect(try alice.run(["login", "alice", "--password-stdin"], input: "alice-password\n").status == 0)
        let toolkit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/functions/toolkit").path

        let deployed = try alice.run(["deploy", toolkit, "--path", "~:tool"])
        #expect(deployed.status == 0, "\(deployed.stderr)")
        #expect(deployed.stdout.contains("created gate ~:tool (runtime python3"))
        let again = try alice.run(["deploy", toolkit, "--path", "~:tool", "--memory", "256"])
        #expect(again.status == 0 && again.stdout.contains("updated gate ~:tool"), "\(again.stderr)")
        #expect(try alice.run(["gate", "show", "~:tool"]).stdout.contains("memory_mb:         256"))

        let steps = #"{"steps": [{"print": "hello from the function"}]}"#
        let sync = try alice.run(["invoke", "~:tool", steps])
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(try Self.json(sync.stdout)["invoker"]?.string == "alice")
        #expect(sync.stderr.hasPrefix("status 200, label "))

        let queued = try alice.run(["invoke", "~:tool", "-", "--async"], input: steps)
        #expect(queued.status == 0, "\(queued.stderr)")
        let id = queued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var record: [String: JSONValue] = [:]
        for _ in 0..<100 {
            record = try Self.json(try alice.run(["--json", "invocation", id]).stdout)
            if record["state"]?.string == "finished" { break }
            usleep(100_000)
        }
        #expect(record["state"]?.string == "finished", "\(JSONValue.object(record).text)")
        #expect(try alice.run(["logs", id]).stdout == "hello from the function\n")
    }

    // MARK: Fixtures

    /// A `faasten serve` on 127.0.0.1 with a fresh data directory; stopped by ``stop()``.
    final class Server {
        let process: LaunchedProduct
        let url: String
        let data: TemporaryDirectory
        let config: TemporaryDirectory

        private init(process: LaunchedProduct, url: String, data: TemporaryDirectory, config: TemporaryDirectory) {
            self.process = process
            self.url = url
            self.data = data
            self.config = config
        }

        static func start() throws -> Server {
            let data = try TemporaryDirectory()
            let config = try TemporaryDirectory()
            let process = try LaunchedProduct.start(
                "faasten", ["serve", "--data", data.url.path + "/data", "--listen", "127.0.0.1:0", "--no-limits"],
                log: data.url.path + "/server.log", ready: "faasten listening on ")
            let url = process.readyValue(after: "faasten listening on ") ?? ""
            return Server(process: process, url: url, data: data, config: config)
        }

        /// Runs `fstn` against this server with its own config directory.
        func user() -> User {
            User(server: url, config: config.url.path)
        }

        /// SIGTERM, then SIGKILL if it has not stopped within 10 seconds.
        func stop() {
            process.stop()
        }
    }

    /// `fstn` with a fixed environment.
    struct User {
        let server: String
        let config: String

        func run(_ arguments: [String], input: String = "") throws -> BuiltProducts.Result {
            try BuiltProducts.fstn(arguments, input: input, server: server, config: config)
        }
    }

    static func json(_ text: String) throws -> [String: JSONValue] {
        try jsonObject(Array(text.utf8))
    }

    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}
