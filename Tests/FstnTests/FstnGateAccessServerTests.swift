import FaastenTestSupport
import Foundation
import JSONValues
import Testing

/// Safe defaults through `fstn` against a real `faasten serve`: a deployed gate is its
/// owner's until `--public` opens it, releases nothing until `--declassify` does, and
/// says so in words; making something where anyone may unlink or replace it is warned
/// about.
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
        #expect(json["created"]?.bool == false)
        #expect(json["access"]?.string == Self.closed)
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

    @Test func makingSomethingWhereAnyoneMayReplaceItIsWarnedAbout() throws {
        let server = try Server.start()
        defer { server.stop() }
        let people = try People(server)
        func warned(_ result: BuiltProducts.Result, _ path: String, _ name: String) {
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("warning: anyone who may read home:<T,T> may unlink or replace \(path)"), "\(result.stderr)")
            #expect(result.stderr.contains("home:<T,carol>:\(name) with --label T,carol"), "\(result.stderr)")
        }
        func quiet(_ result: BuiltProducts.Result) {
            #expect(result.status == 0, "\(result.stderr)")
            #expect(!result.stderr.contains("warning"), "\(result.stderr)")
        }

        warned(try people.carol(["mkdir", "home:<T,T>:carols"]), "home:<T,T>:carols", "carols")
        let json = try people.carol(["--json", "mkfaceted", "home:<T,T>:facets"])
        warned(json, "home:<T,T>:facets", "facets")
        #expect(try FstnServerTests.json(json.stdout)["kind"]?.string == "faceted")
        quiet(try people.carol(["mkdir", "~:private"]))
        quiet(try people.carol(["mkdir", "home:<T,carol>:apps", "--label", "T,carol"]))
        quiet(try people.carol(["deploy", Self.toolkit, "--path", "home:<T,carol>:apps:tool", "--label", "T,carol"]))

        let gate = try people.carol(["gate", "create", "home:<T,T>:tool", "--privilege", "carol", "--image", "home:<T,carol>:apps:tool.image"])
        warned(gate, "home:<T,T>:tool", "tool")
        #expect(gate.stdout.hasSuffix(Self.closed + "\n"), "\(gate.stdout)")
        warned(try people.carol(["ln", "home:<T,carol>:apps:tool", "home:<T,T>:linked"]), "home:<T,T>:linked", "linked")
        quiet(try people.carol(["ln", "home:<T,carol>:apps:tool", "home:<T,carol>:apps:again"]))

        // What the warning says: bob may unlink carol's gate from home:<T,T>, not from her facet.
        #expect(try people.bob(["rm", "home:<T,T>:tool"]).status == 0)
        #expect(try people.bob(["rm", "home:<T,carol>:apps:tool"]).status == 1)
    }
}
