import FaastenTestSupport
import Foundation
import JSONValues
import NIOHTTP1
import Testing

extension AttackTests {
    /// Safe by default: a new gate is its owner's alone and declassifies nothing unless the
    /// owner says otherwise; shipped apps live where only their developer may change them.
    @Suite("attack: safe defaults", .serialized)
    struct SafeDefaultTests {
        typealias S = ServedPlatform

        @Test func aFreshlyDeployedGateReleasesNothingOfItsOwnersToOthers() async throws {
            try await S.with { s in
                let carol = try await s.user("carol")
                let bob = try await s.user("bob")
                #expect(try await s.request(.POST, S.fs("~:diary"), token: carol, json: ["kind": "file", "data": "dear diary", "label": "carol,carol"]).status == 201)
                // Deployed where anyone may find it (her integrity facet), with the defaults.
                let created = try await s.deploy("toolkit", at: "home:<T,carol>:tool", token: carol, label: "T,carol", ["privilege": "carol"])
                #expect(created.status == 201, "\(created.text)")
                let gate = try #require(created.json["gate"])
                #expect(gate["invoker_clearance"]?.string == "carol" && gate["declassify"]?.string == "T", "\(created.text)")
                let read: [[String: Any]] = [["read": "home:<carol,carol>:diary"]]

                // Only carol may invoke it.
                let refused = try await s.expectNoEffect("bob invokes carol's new gate", status: 403) {
                    try await s.steps("home:<T,carol>:tool", read, token: bob)
                }
                #expect(refused.json["rule"]?.string == "invoke rule" && !refused.text.contains("dear diary"))
                let mine = try await s.steps("home:<T,carol>:tool", read, token: carol)
                #expect(mine.status == 200 && mine.text.contains("dear diary"))
                #expect(mine.endLabel == "carol,T")

                // Made public, it still declassifies nothing: bob's run reads the diary, and the
                // result is withheld, saying the function ran and its effects stand.
                #expect(try await s.request(.PATCH, S.fs("home:<T,carol>:tool"), token: carol, json: ["invoker_clearance": "T"]).status == 200)
                let withheld = try await s.steps("home:<T,carol>:tool", read, token: bob)
                #expect(withheld.status == 403 && !withheld.text.contains("dear diary"), "\(withheld.text)")
                #expect(withheld.json["rule"]?.string == "release rule")
                let invocation = try #require(withheld.json["invocation"]?.string)
                #expect(withheld.json["ran"]?.bool == true && withheld.json["effects"]?.string == "stand")
                #expect((withheld.json["reason"]?.string)?.contains("the function ran (invocation \(invocation)) and its effects stand") == true)
                #expect(withheld.headers.first(name: "X-Faasten-Invocation") == invocation)
                // Only an explicit declassify releases it.
                #expect(try await s.request(.PATCH, S.fs("home:<T,carol>:tool"), token: carol, json: ["declassify": "carol"]).status == 200)
                let released = try await s.steps("home:<T,carol>:tool", read, token: bob)
                #expect(released.status == 200 && released.text.contains("dear diary"))
            }
        }

        @Test func theDemoAppLivesWhereOnlyItsDeveloperMayChangeIt() async throws {
            try await S.with(["--demo"]) { s in
                let bob = try await s.login("bob", "bob-demo-password")
                let listed = try await s.request(.GET, S.fs("home:<T,pma>"))
                #expect(listed.status == 200, "\(listed.text)")
                let names = (listed.json["entries"]?.array)?.compactMap { $0["name"]?.string } ?? []
                #expect(names.contains("thumbnail") && names.contains("timeindex"), "\(listed.text)")
                #expect(try await s.request(.GET, S.fs("home:<T,T>:pma")).status == 404)
                for token in [bob, nil] {
                    try await s.expectNoEffect("unlink the app's gate", status: 403) {
                        try await s.request(.DELETE, S.fs("home:<T,pma>:thumbnail"), token: token)
                    }
                    try await s.expectNoEffect("squat a name beside it", status: 403) {
                        try await s.request(.POST, S.fs("home:<T,pma>:thumbnail2"), token: token, json: ["kind": "file", "label": "T,T"])
                    }
                    try await s.expectNoEffect("replace its image", status: 403) {
                        try await s.request(.PUT, S.blobs("home:<T,pma>:thumbnail.image"), token: token, body: [1])
                    }
                }
            }
        }
    }
}
