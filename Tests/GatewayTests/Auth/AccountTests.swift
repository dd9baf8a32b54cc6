import JSONValues
import NIOHTTP1
import Testing

@testable import Gateway

extension GatewayTests {
    /// Accounts against a real server: registering, logging in, refreshing and logging
    /// out; logins limited per name and per address.
    @Suite("accounts, logins and their rate limits")
    struct AccountTests {
        @Test func accountsLoginRefreshAndLogout() async throws {
            try await H.with { h in
                let created = try await h.request(.POST, "/v1/accounts", json: ["name": "carol", "password": "carol-password"])
                #expect(created.status == 201)
                #expect(created.json["principal"]?.string == "carol")
                #expect(try await h.request(.POST, "/v1/accounts", json: ["name": "carol", "password": "another-one"]).status == 409)
                #expect(try await h.request(.POST, "/v1/accounts", json: ["name": "admin", "password": "password1"]).status == 409)
                for bad in [["name": "Carol!", "password": "password1"], ["name": "dave", "password": "short"], ["name": "dave"]] {
                    let refused = try await h.request(.POST, "/v1/accounts", json: bad)
                    #expect(refused.status == 400 && refused.json["error"]?.string == "bad_request", "\(bad): \(refused.text)")
                }
                #expect(try await h.request(.POST, "/v1/accounts", body: Array("{not json".utf8)).status == 400)

                #expect(try await h.login("carol", "wrong-password").status == 401)
                #expect(try await h.login("nobody", "wrong-password").json["reason"]?.string == "wrong name or password")
                let session = try await h.login("carol", "carol-password")
                #expect(session.status == 200)
                let token = try #require(session.json["token"]?.string)
                let me = try await h.request(.GET, "/v1/me", token: token)
                #expect(me.json["principal"]?.string == "carol" && me.json["privilege"]?.string == "carol")
                #expect(try await h.request(.GET, "/v1/me").json["anonymous"]?.bool == true)

                // A refresh token works once.
                let refresh = try #require(session.json["refresh_token"]?.string)
                let renewed = try await h.request(.POST, "/v1/refresh", json: ["refresh_token": refresh])
                #expect(renewed.status == 200)
                #expect(try await h.request(.POST, "/v1/refresh", json: ["refresh_token": refresh]).status == 401)

                // Logging out ends the token.
                let second = try #require(renewed.json["token"]?.string)
                #expect(try await h.request(.POST, "/v1/logout", token: second).status == 204)
                #expect(try await h.request(.GET, "/v1/me", token: second).status == 401)
                #expect(try await h.request(.GET, "/v1/me", token: token).status == 200)
            }
        }

        @Test func loginsAreRateLimitedPerName() async throws {
            try await H.with(loginAttemptsPerName: 3) { h in
                _ = try await h.user("carol")  // one successful login resets the count
                for _ in 0..<3 { #expect(try await h.login("carol", "wrong-password").status == 401) }
                let limited = try await h.login("carol", "carol-password")
                #expect(limited.status == 429)
                #expect(limited.headers.first(name: "Retry-After") != nil)
            }
        }

        @Test func loginsAreRateLimitedPerAddressAcrossNames() async throws {
            try await H.with(loginAttemptsPerAddress: 4) { h in
                _ = try await h.request(.POST, "/v1/accounts", json: ["name": "carol", "password": "carol-password"])
                for name in ["dave", "erin", "frank", "grace"] {
                    #expect(try await h.login(name, "guessing-a-password").status == 401)
                }
                // Guessing other names does not help: the address is out of attempts.
                let limited = try await h.login("carol", "carol-password")
                #expect(limited.status == 429 && limited.json["error"]?.string == "rate_limited", "\(limited.text)")
            }
        }
    }
}
