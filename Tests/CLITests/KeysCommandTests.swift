import FaastenTestSupport
import Foundation
import Testing

/// `faasten keys` and the master key check at start, through the built executable.
@Suite("faasten keys")
struct KeysCommandTests {
    @Test func statusRotateAndAWrongKeyAtStart() throws {
        let directory = try TemporaryDirectory()
        let data = directory.path + "/data"
        func faasten(_ arguments: [String]) throws -> BuiltProducts.Result {
            try BuiltProducts.run("faasten", arguments, environment: ProcessInfo.processInfo.environment.merging(["FAASTEN_DATA": data]) { $1 })
        }
        let first = try faasten(["keys", "status"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("master key: the file \(data)/master-key"))
        let firstKey = try #require(first.stdout.split(separator: "\n").first { $0.hasPrefix("data key ") })
        let keyFile = try Data(contentsOf: URL(fileURLWithPath: data + "/master-key"))

        #expect(try faasten(["keys", "rotate"]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: data + "/master-key")) != keyFile)
        let rotated = try faasten(["keys", "rotate", "--data"])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(rotated.stdout.contains("moved 0 values to data key"), "\(rotated.stdout)")
        let resealed = try faasten(["keys", "reseal"])
        #expect(resealed.status == 0 && resealed.stdout.contains("moved 0 values"), "\(resealed.stdout) \(resealed.stderr)")
        let status = try faasten(["keys", "status"]).stdout
        #expect(status.split(separator: "\n").filter { $0.hasPrefix("data key ") }.count == 2)
        #expect(status.contains(String(firstKey.split(separator: " ")[2])) && status.contains("retired"))

        // A wrong master key: `faasten serve` stops at start with the reason, and the
        // store is as it was.
        let wrong = directory.path + "/wrong-key"
        _ = FileManager.default.createFile(
            atPath: wrong, contents: Data(Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString().utf8),
            attributes: [.posixPermissions: 0o600])
        let database = try Data(contentsOf: URL(fileURLWithPath: data + "/faasten.sqlite"))
        let serve = try faasten(["serve", "--listen", "127.0.0.1:0", "--no-limits", "--master-key", wrong])
        #expect(serve.status == 2)
        #expect(serve.stderr.contains("wrong master key"), "\(serve.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: data + "/faasten.sqlite")) == database)
        #expect(!FileManager.default.fileExists(atPath: data + "/admin-password"))
    }
}
