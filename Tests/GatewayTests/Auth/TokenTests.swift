import Foundation
import JSONValues
import JWTKit
import NIOHTTP1
import Testing

@testable import Gateway

extension GatewayTests {
    /// Tokens against a real server: forged, foreign, malformed and expired ones are
    /// refused (never taken as anonymous); delegation only to what the caller speaks for.
    @Suite("tokens and delegation")
    struct TokenTests {
        @Test func badTokensAreRefusedNeverAnonymous() async throws {
            try await H.with(tokenLifetime: .seconds(1)) { h in
                let token = try await h.user("carol")
                let parts = token.split(separator: ".").map(String.init)
                // Tampered payload: another principal, same signature.
                let forged = Data(#"{"sub":"admin","priv":"F","exp":9999999999,"iat":0,"jti":"x","kind":"login"}"#.utf8)
                    .base64EncodedString().replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-")
                    .replacingOccurrences(of: "/", with: "_")
                let none = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
                // Signed with a key of the same kind the server does not hold.
                let stranger = JWTKeyCollection()
                await stranger.add(ecdsa: ES256PrivateKey(), kid: "stranger")
                let claims = AccessClaims(
                    sub: SubjectClaim(value: "carol"), priv: "carol", exp: ExpirationClaim(value: Date().addingTimeInterval(600)),
                    iat: IssuedAtClaim(value: Date()), jti: IDClaim(value: "y"), kind: "login")
                let foreign = try await stranger.sign(claims, kid: "stranger")
                for bad in [parts[0] + "." + forged + "." + parts[2], none + "." + parts[1] + ".", foreign, "garbage", ""] {
                    let reply = try await h.request(.GET, "/v1/me", headers: ["Authorization": "Bearer \(bad)"])
                    #expect(reply.status == 401, "\(bad): \(reply.text)")
                }
                #expect(try await h.request(.GET, "/v1/me", headers: ["Authorization": "Basic abc"]).status == 401)
                try await Task.sleep(for: .seconds(2.2))
                let expired = try await h.request(.GET, "/v1/me", token: token)
                #expect(expired.status == 401)
                #expect((expired.json["reason"]?.string)?.contains("expired") == true)
            }
        }

        @Test func delegationOnlyToWhatTheCallerSpeaksFor() async throws {
            try await H.with { h in
                let alice = try await h.user("alice")
                let delegated = try await h.request(.POST, "/v1/delegate", token: alice, json: ["privilege": "alice/photos", "expires_in": 60])
                #expect(delegated.status == 201)
                let photos = try #require(delegated.json["token"]?.string)
                #expect(try await h.request(.GET, "/v1/me", token: photos).json["privilege"]?.string == "alice/photos")
                let refused = try await h.request(.POST, "/v1/delegate", token: alice, json: ["privilege": "bob"])
                #expect(refused.status == 403 && refused.json["rule"]?.string == "delegation rule")
                // The weaker token cannot climb back.
                #expect(try await h.request(.POST, "/v1/delegate", token: photos, json: ["privilege": "alice"]).status == 403)
                #expect(try await h.request(.POST, "/v1/delegate", json: ["privilege": "T"]).status == 401)
                #expect(try await h.request(.POST, "/v1/delegate", token: alice, json: ["privilege": "a//b"]).status == 400)
            }
        }
    }
}
