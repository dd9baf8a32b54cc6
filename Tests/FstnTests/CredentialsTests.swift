import FaastenTestSupport
import Foundation
import FstnKit
import Testing
import JSONValues

/// The credentials file: mode 0600 in a 0700 directory, keyed by server then user.
@Suite("Credentials")
struct CredentialsTests {
    static let server = "http://127.0.0.1:8080"

    static func session(_ token: String, loggedInAt: Double? = nil) -> SavedSession {
        SavedSession(
            token: token, refreshToken: "refresh-" + token, expiresAt: 2_000_000_000, refreshExpiresAt: 2_100_000_000,
            principal: "alice", loggedInAt: loggedInAt)
    }

    @Test func aWrittenFileReadsBackTheSame() throws {
        let directory = try TemporaryDirectory()
        let file = directory.url.appendingPathComponent("fstn/credentials.json")
        var credentials = Credentials()
        credentials.save(Self.session("a", loggedInAt: 1), server: Self.server, user: "alice")
        credentials.save(Self.session("b"), server: "https://faasten.example", user: "bob")
        try credentials.write(to: file)
        #expect(try Credentials.load(from: file) == credentials)
    }

    @Test func theFileIs0600AndItsNewDirectory0700() throws {
        let directory = try TemporaryDirectory()
        let file = directory.url.appendingPathComponent("config/fstn/credentials.json")
        var credentials = Credentials()
        credentials.save(Self.session("a"), server: Self.server, user: "alice")
        try credentials.write(to: file)
        #expect(try Self.mode(file.path) == 0o600)
        #expect(try Self.mode(file.deletingLastPathComponent().path) == 0o700)
        // Rewriting replaces the file with another 0600 one and leaves no temporary behind.
        credentials.save(Self.session("b"), server: Self.server, user: "bob")
        try credentials.write(to: file)
        #expect(try Self.mode(file.path) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path) == ["credentials.json"])
    }

    @Test func aLooserExistingFileIsReplacedByA0600One() throws {
        let directory = try TemporaryDirectory()
        let file = directory.url.appendingPathComponent("credentials.json")
        try Data("{}".utf8).write(to: file)
        chmod(file.path, 0o644)
        var credentials = try Credentials.load(from: file)
        credentials.save(Self.session("a"), server: Self.server, user: "alice")
        try credentials.write(to: file)
        #expect(try Self.mode(file.path) == 0o600)
    }

    @Test func theJSONIsKeyedByServerThenUserWithSnakeCaseFields() throws {
        let directory = try TemporaryDirectory()
        let file = directory.url.appendingPathComponent("credentials.json")
        var credentials = Credentials()
        credentials.save(Self.session("a"), server: Self.server, user: "alice")
        try credentials.write(to: file)
        let json = try JSONValue(decoding: try Data(contentsOf: file))
        let saved = try #require(json[Self.server]?["alice"])
        #expect(saved["token"] == "a")
        #expect(saved["refresh_token"] == "refresh-a")
        #expect(saved["expires_at"] == 2_000_000_000)
        #expect(saved["refresh_expires_at"] == 2_100_000_000)
        #expect(saved["principal"] == "alice")
    }

    @Test func aMissingFileIsNoCredentialsAndAGarbledOneAnError() throws {
        let directory = try TemporaryDirectory()
        let file = directory.url.appendingPathComponent("credentials.json")
        #expect(try Credentials.load(from: file) == Credentials())
        try Data("not json".utf8).write(to: file)
        #expect(throws: FstnError.self) { try Credentials.load(from: file) }
    }

    @Test func theDefaultUserIsTheLastLoginAndADelegatedTokenDoesNotChangeIt() {
        var credentials = Credentials()
        #expect(credentials.defaultUser(server: Self.server) == nil)
        credentials.save(Self.session("d"), server: Self.server, user: "alice/photos")
        #expect(credentials.defaultUser(server: Self.server) == "alice/photos")  // the only one
        credentials.save(Self.session("a", loggedInAt: 100), server: Self.server, user: "alice")
        credentials.save(Self.session("b", loggedInAt: 200), server: Self.server, user: "bob")
        #expect(credentials.defaultUser(server: Self.server) == "bob")
        credentials.save(Self.session("a2", loggedInAt: 300), server: Self.server, user: "alice")
        credentials.save(Self.session("e"), server: Self.server, user: "alice/docs")
        #expect(credentials.defaultUser(server: Self.server) == "alice")
        #expect(credentials.defaultUser(server: "http://elsewhere:8080") == nil)
        credentials.remove(server: Self.server, user: "alice")
        #expect(credentials.defaultUser(server: Self.server) == "bob")
    }

    @Test func expiryAndRefreshability() {
        let now = Date(timeIntervalSince1970: 1_000)
        let session = SavedSession(token: "t", refreshToken: "r", expiresAt: 1_010, refreshExpiresAt: 2_000)
        #expect(!session.isExpired(at: now))
        #expect(session.isExpired(at: now, margin: 30))
        #expect(session.canRefresh(at: now))
        #expect(!session.canRefresh(at: Date(timeIntervalSince1970: 2_000)))
        #expect(!SavedSession(token: "delegated", expiresAt: 1_010).canRefresh(at: now))
    }

    @Test func aSessionIsReadFromTheServersSessionObject() throws {
        let json: JSONValue = [
            "token": "t", "token_type": "Bearer", "expires_at": 10, "refresh_token": "r", "refresh_expires_at": 20,
            "principal": "alice", "privilege": "alice",
        ]
        let session = try SavedSession(session: json, loggedInAt: 5)
        #expect(session == SavedSession(token: "t", refreshToken: "r", expiresAt: 10, refreshExpiresAt: 20, principal: "alice", loggedInAt: 5))
        #expect(throws: FstnError.self) { try SavedSession(session: ["error": "x"], loggedInAt: nil) }
    }

    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}
