import FaastenTestSupport
import Foundation
import Testing

/// `fstn` as a user runs it, where no server is needed: bad arguments are refused before
/// any request, and an unreachable server is reported with what to do.
@Suite("fstn without a server")
struct FstnCommandLineTests {
    /// A port nothing listens on: connections are refused at once.
    static let closedServer = "http://127.0.0.1:9"
    /// A function directory to deploy.
    static let toolkit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/functions/toolkit").path

    static func fstn(_ arguments: [String], input: String = "", config: TemporaryDirectory) throws -> BuiltProducts.Result {
        try BuiltProducts.fstn(arguments, input: input, server: closedServer, config: config.url.path)
    }

    @Test(arguments: [
        (["gate", "create", "~:g", "--privilege", "alice"], "give exactly one of --image and --redirect"),
        (["gate", "create", "~:g", "--image", "~:g.image"], "--privilege is required"),
        (["gate", "create", "~:g", "--privilege", "alice", "--redirect", "~:h", "--memory", "64"], "--memory applies to a gate with an image"),
        (["gate", "update", "~:g"], "nothing to change"),
        (
            ["gate", "create", "~:g", "--privilege", "alice", "--image", "~:g.image", "--public", "--invoker-clearance", "bob"],
            "give at most one of --public and --invoker-clearance"
        ),
        (["gate", "update", "~:g", "--public", "--invoker-clearance", "T"], "give at most one of --public and --invoker-clearance"),
        (
            ["deploy", FstnCommandLineTests.toolkit, "--privilege", "alice", "--public", "--invoker-clearance", "alice"],
            "give at most one of --public and --invoker-clearance"
        ),
        (["gate", "update", "~:g", "--memory", "0"], "--memory must be positive"),
        (["mkdir", "~:docs", "--label", "alice,"], "--label: invalid label"),
        (["invoke", "~:g", "x", "--header", "no-colon"], "--header takes NAME:VALUE"),
        (["register", "Alice", "--password-stdin"], "invalid account name"),
        (["delegate", "alice"], "not logged in"),
        (["--user", "carol", "ls", "~"], "no saved session for carol"),
        (["--server", "ftp://x", "ping"], "invalid server URL"),
        (["deploy", "/nonexistent-function-directory"], "is not a directory"),
        (["trigger", "create", "n", "--source", "schedule", "--gate", "~:g", "--privilege", "alice"], "--schedule is required"),
        (
            ["trigger", "create", "n", "--source", "github", "--gate", "~:g", "--privilege", "alice", "--schedule", "0 3 * * *"],
            "--schedule applies only to --source schedule"
        ),
        (
            [
                "trigger", "create", "n", "--source", "schedule", "--gate", "~:g", "--privilege", "alice", "--schedule", "0 3 * * *",
                "--secret-stdin",
            ],
            "--secret-stdin applies to webhooks"
        ),
        (["trigger", "create", "N", "--source", "generic", "--gate", "~:g", "--privilege", "alice"], "invalid trigger name"),
        (["trigger", "create", "n", "--source", "generic", "--gate", "~:g", "--privilege", "alice"], "not logged in"),
        (["trigger", "deliveries", "t1", "--limit", "500"], "--limit must be 1 to 200"),
        (["trigger", "list"], "not logged in"),
    ])
    func badArgumentsAreRefusedBeforeAnyRequest(arguments: [String], message: String) throws {
        let config = try TemporaryDirectory()
        let result = try Self.fstn(arguments, input: "password1\n", config: config)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stderr.contains("cannot reach"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count >= 2, "no line says what to do next: \(result.stderr)")
    }

    @Test func aShortPasswordIsRefusedBeforeAnyRequest() throws {
        let config = try TemporaryDirectory()
        let result = try Self.fstn(["register", "alice", "--password-stdin"], input: "short\n", config: config)
        #expect(result.status == 2)
        #expect(result.stderr.contains("8 to 1024 bytes"))
    }

    @Test func anUnreachableServerSaysHowToStartOne() throws {
        let config = try TemporaryDirectory()
        let result = try Self.fstn(["ls", "~"], config: config)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == """
            error: cannot reach \(Self.closedServer): connection refused
            is the server running? start it with `faasten serve` or set --server/FSTN_SERVER

            """)
        let json = try Self.fstn(["--json", "ping"], config: config)
        #expect(json.status == 2)
        #expect(json.stdout.contains(#""reason":"cannot reach"#))
    }

    @Test func usageErrorsExitTwo() throws {
        let config = try TemporaryDirectory()
        let result = try Self.fstn(["ls"], config: config)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("error: "))
        #expect(try Self.fstn(["--help"], config: config).status == 0)
        #expect(try Self.fstn(["check-label", "alice,alice"], config: config).stdout == "alice,alice\n")
    }
}
