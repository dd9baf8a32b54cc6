import FaastenTestSupport
import Foundation
import Testing

/// Safe defaults through `fstn` against a real `faasten serve`: a deployed gate is its
/// owner's until `--public` opens it, releases nothing until `--declassify` does, and
/// says so in words.
@Suite("fstn gate access against faasten serve", .disabled(if: ServeCommand.isMissing, "`faasten serve` is not implemented yet"))
struct FstnGateAccessServerTests {
    typealias Server = FstnServerTests.Server

    static let toolkit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/functions/toolkit").path
    static let hello = #"{"steps": [{"print": "hello"}]}"#
    static let readDiary = #"{"steps": [{"read": "home:<carol,carol>:diary"}]}"#
    static let diary = "carol's diary: do not show bob"
    static let closed = "only holders of carol may invoke it; its results keep the secrecy of what it reads (nothing is declassified)"

    /// carol, who keeps a diary only she may read, and bob, both registered and logged in.
    struct People {
        let user: FstnServerTests.User

        init(_ server: Server) throws {
            user = server.user()
            for name in ["carol", "bob"] {
                _ = try user.run(["register", name, "--password-stdin"], input: "\(name)-password\n")
                let login = try user.run(["login", name, "--password-stdin"], input: "\(name)-password\n")
                #expect(login.status == 0, "\(login.stderr)")
            }
            let put = try carol(["put", "~:diary", "-", "--label", "carol,carol"], input: FstnGateAccessServerTests.diary)
            #expect(put.status == 0, "\(put.stderr)")
        }

        func carol(_ arguments: [String], input: String = "") throws -> BuiltProducts.Result {
            try user.run(["--user", "carol"] + arguments, input: input)
        }

        func bob(_ arguments: [String]) throws -> BuiltProducts.Result {
            try user.run(["--user", "bob"] + arguments)
        }
    }

    @Test func aGateDeployedWithTheDefaultsIsOnlyForItsPrivilegesHolders() throws {
        let server = try Server.start()
        defer { server.stop() }
        let people = try People(server)

        let deployed = try people.carol(["deploy", Self.toolkit, "--path", "home:<T,carol>:tool"])
        #expect(deployed.status == 0, "\(deployed.stderr)")
        #expect(deployed.stdout.contains("\n" + Self.closed + "\n"), "\(deployed.stdout)")
        #expect(!deployed.stderr.contains("warning:"), "\(deployed.stderr)")

        let refused = try people.bob(["invoke", "home:<T,carol>:tool", Self.hello])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("invoke rule"), "\(refused.stderr)")
        let own = try people.carol(["invoke", "home:<T,carol>:tool", Self.hello])
        #expect(own.status == 0, "\(own.stderr)")

        // Deploying again updates the gate and says what it stored; --json carries the same words.
        let again = try people.carol(["--json", "deploy", Self.toolkit, "--path", "home:<T,carol>:tool"])
        #expect(again.status == 0, "\(again.stderr)")
        let json = try FstnServerTests.json(again.stdout)
        #expect(json["created"] as? Bool == false)
        #expect(json["access"] as? String == Self.closed)
    }

    @Test func aPublicGateMayBeInvokedByAnyoneButWithholdsWhatItRead() throws {
        let server = try Server.start()
        defer { server.stop() }
        let people = try People(server)

        let deployed = try people.carol(["deploy", Self.toolkit, "--path", "home:<T,carol>:tool", "--public"])
        #expect(deployed.status == 0, "\(deployed.stderr)")
        #expect(
            deployed.stdout.contains(
                "anyone may invoke it; its results keep the secrecy of what it reads (nothing is declassified)"),
            "\(deployed.stdout)")

        let hello = try people.bob(["invoke", "home:<T,carol>:tool", Self.hello])
        #expect(hello.status == 0, "\(hello.stderr)")
        // The function runs for bob and reads carol's diary, but its result is carol's.
        let withheld = try people.bob(["invoke", "home:<T,carol>:tool", Self.readDiary])
        #expect(withheld.status == 1, "\(withheld.stderr)")
        #expect(withheld.stderr.contains("withheld"), "\(withheld.stderr)")
        #expect(!withheld.stdout.contains("diary") && !withheld.stderr.contains(Self.diary))
    }

    @Test func aGateThatDeclassifiesNamesThePrivilegeItReleasesWith() throws {
        let server = try Server.start()
        defer { server.stop() }
        let people = try People(server)

        let deployed = try people.carol(["deploy", Self.toolkit, "--path", "home:<T,carol>:tool", "--public", "--declassify", "carol"])
        #expect(deployed.status == 0, "\(deployed.stderr)")
        let released =
            "its results are declassified with carol: anything carol may read that the function reads can be shown to whoever invokes it"
        #expect(deployed.stdout.contains("anyone may invoke it; " + released), "\(deployed.stdout)")
        // What the words say: carol's gate shows bob her diary.
        let shown = try people.bob(["invoke", "home:<T,carol>:tool", Self.readDiary])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains(Self.diary), "\(shown.stdout)")

        // `gate update` says what the gate is now.
        let closed = try people.carol(["gate", "update", "home:<T,carol>:tool", "--invoker-clearance", "carol"])
        #expect(closed.status == 0, "\(closed.stderr)")
        #expect(closed.stdout.hasSuffix("only holders of carol may invoke it; " + released + "\n"), "\(closed.stdout)")
        #expect(try people.bob(["invoke", "home:<T,carol>:tool", Self.hello]).status == 1)
    }
}
