import Crypto
import FaastenTestSupport
import Foundation
import JSONValues
import Keys
import NIOHTTP1
import Store
import Testing

@testable import Gateway

extension AttackTests {
    /// Tokens say what they are: a token signed with the server's own key is refused unless
    /// its header says `alg: ES256` with the `kid` of a key the server holds.
    @Suite("attack: token algorithms", .serialized)
    struct TokenAlgorithmTests {
        typealias S = ServedPlatform

        static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
            Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_")
        }

        /// A token for alice signed (ES256) with the server's key, whatever its header says.
        static func token(header: [String: Any], key: P256.Signing.PrivateKey) throws -> String {
            let now = Int(Date().timeIntervalSince1970)
            let claims: [String: Any] = [
                "sub": "alice", "priv": "alice", "exp": now + 600, "iat": now, "jti": UUID().uuidString.lowercased(), "kind": "login",
            ]
            let input = base64URL(try JSONSerialization.data(withJSONObject: header)) + "." + base64URL(try JSONSerialization.data(withJSONObject: claims))
            let signature = try key.signature(for: Data(input.utf8)).rawRepresentation
            return input + "." + base64URL(signature)
        }

        @Test func onlyES256WithAKnownKeyIsAccepted() async throws {
            try await S.with { s in
                _ = try await s.user("alice")
                let keys = try FileManager.default.contentsOfDirectory(atPath: s.data + "/keys").filter { $0.hasSuffix(".pem") }
                let file = try #require(keys.first)
                let kid = String(file.dropLast(4))
                // The key file is sealed at rest: opened here as the server opens it.
                let store = try SQLiteStore(directory: s.data)
                let ring = try await KeyRing.open(store: store, master: .file(s.data + "/master-key", create: false))
                let sealed = try String(contentsOfFile: s.data + "/keys/" + file, encoding: .utf8)
                let pem = try #require(SigningKeys.opened((name: kid, pem: sealed), with: ring))
                try await store.close()
                let key = try P256.Signing.PrivateKey(pemRepresentation: pem)

                let genuine = try Self.token(header: ["alg": "ES256", "kid": kid, "typ": "JWT"], key: key)
                let me = try await s.request(.GET, "/v1/me", headers: ["Authorization": "Bearer \(genuine)"])
                #expect(me.status == 200 && me.json["principal"]?.string == "alice", "\(me.text)")

                for header: [String: Any] in [
                    ["alg": "ES384", "kid": kid], ["alg": "ES512", "kid": kid], ["alg": "RS256", "kid": kid], ["alg": "HS256", "kid": kid],
                    ["alg": "EdDSA", "kid": kid], ["alg": "PS256", "kid": kid], ["alg": "none", "kid": kid], ["alg": "es256", "kid": kid],
                    ["kid": kid], ["alg": "ES256"], ["alg": "ES256", "kid": "not-a-key"], ["alg": ["ES256"], "kid": kid],
                ] {
                    let forged = try Self.token(header: header, key: key)
                    let reply = try await s.request(.GET, "/v1/me", headers: ["Authorization": "Bearer \(forged)"])
                    #expect(reply.status == 401, "\(header): \(reply.status) \(reply.text)")
                    #expect(reply.json["principal"] == nil)
                }
            }
        }
    }
}
