import FaastenTestSupport
import FileSystem
import Foundation
import JSONValues
import Labels
import Monitor
import Processes
import Store
import Testing
import Worker

/// The acceptance scenarios of faasten-reference.md §8, end to end through the Engine
/// API, with the example apps of examples/ and the refusals they should produce.
@Suite(.serialized) struct ExampleScenarioTests {
    static let examples = TestSandboxes.repository + "/examples"

    /// The thumbnail function without a vendored Pillow (install.sh may have added one):
    /// the pure-Python transform is what the tests check.
    static func thumbnailWithoutPillow() throws -> TemporaryDirectory {
        let copy = try TemporaryDirectory()
        for file in ["workload.py", "netpbm.py"] {
            try FileManager.default.copyItem(
                atPath: examples + "/photos/functions/thumbnail/" + file, toPath: copy.path + "/" + file)
        }
        return copy
    }

    // MARK: Photo management

    /// pma's app in home:<T,T>:pma, alice's photo in her private home.
    private static func installPhotos(_ harness: EngineHarness, thumbnail: String) async throws -> [UInt8] {
        try await harness.createDirectory("home:<T,T>:pma", label: "T,pma", as: "pma")
        try await harness.install("", at: "home:<T,T>:pma:thumbnail", as: "pma", privilege: "pma", label: "T,pma",
                                  memoryMB: 256, directory: thumbnail)
        try await harness.install("", at: "home:<T,T>:pma:timeindex", as: "pma", privilege: "pma", label: "T,pma",
                                  directory: examples + "/photos/functions/timeindex")
        try await harness.createDirectory("home:<alice,alice>:photos", label: "alice,alice", as: "alice")
        let photo = try ChildProcess.run("/usr/bin/python3", [examples + "/photos/sample.py"]).stdout
        let blobs = harness.fileSystem.blobs
        let blob = try blobs.store(photo)
        try await harness.create(.blob(blob), at: "home:<alice,alice>:photos:beach.ppm", label: "alice,alice", as: "alice")
        return photo
    }

    private static var photoRequest: [String: Any] { ["photo": "home:<alice,alice>:photos:beach.ppm", "size": [64, 64]] }

    private static func invoke(_ harness: EngineHarness, _ gate: String, as invoker: String, _ payload: [String: Any]) async throws
        -> InvocationResult
    {
        await harness.engine.invoke(
            InvocationRequest(
                target: .path(try path(gate)), invoker: try Privilege(parsing: invoker),
                payload: [UInt8](try JSONSerialization.data(withJSONObject: payload))))
    }

    @Test func theThumbnailLandsInTheOwnersFacetWhereOnlyTheOwnerCanReadIt() async throws {
        let thumbnail = try Self.thumbnailWithoutPillow()
        try await EngineHarness.with { harness in
            let photo = try await Self.installPhotos(harness, thumbnail: thumbnail.path)
            let result = try await Self.invoke(harness, "home:<T,T>:pma:thumbnail", as: "alice", Self.photoRequest)
            let body = try result.json()
            #expect(body["engine"]?.string == "pure-python")
            #expect(body["size"] == .array([64, 48]))
            // The result is alice's (her secrecy), vouched for by the app; shown to her only.
            #expect(result.label == (try label("alice,pma")))
            try ReleaseCheck.check(result.label, to: Privilege(parsing: "alice"))
            #expect(throws: FSError.self) { try ReleaseCheck.check(result.label, to: Privilege(parsing: "bob")) }
            // The thumbnail: in the facet of the function's label, really smaller.
            let stored = try await harness.read("home:<alice,pma>:beach.ppm.thumb", as: "alice")
            #expect(stored.label == (try label("alice,T")))
            let header = Array("P6\n64 48\n255\n".utf8)
            #expect(Array(stored.bytes.prefix(header.count)) == header)
            #expect(stored.bytes.count == header.count + 64 * 48 * 3)
            #expect(stored.bytes.count < photo.count)
            // bob may walk to it, but what he reads is alice's: never released to him.
            let asBob = try await harness.read("home:<alice,pma>:beach.ppm.thumb", as: "bob")
            #expect(throws: FSError.self) { try ReleaseCheck.check(asBob.label, to: Privilege(parsing: "bob")) }
        }
    }

    @Test func theAppCanCreateButNotDeclassifyTheOwnersData() async throws {
        let thumbnail = try Self.thumbnailWithoutPillow()
        try await EngineHarness.with { harness in
            _ = try await Self.installPhotos(harness, thumbnail: thumbnail.path)
            // bob runs the app on alice's photo: it works, and what it returns is alice's.
            let bobs = try await Self.invoke(harness, "home:<T,T>:pma:thumbnail", as: "bob", Self.photoRequest)
            _ = try bobs.json()
            #expect(bobs.label.secrecy == (try label("alice,T")).secrecy)
            #expect(throws: FSError.self) { try ReleaseCheck.check(bobs.label, to: Privilege(parsing: "bob")) }
            // Code running with pma's privilege cannot declassify alice's data, nor write it
            // anywhere public.
            try await harness.createFile("home:<alice,alice>:note", "alice's note", label: "alice,alice", as: "alice")
            try await harness.install("toolkit", at: "home:<T,T>:pma:tool", as: "pma", privilege: "pma", label: "T,pma")
            let body = try await harness.invoke(
                "home:<T,T>:pma:tool", as: "bob",
                steps: [
                    ["read": "home:<alice,alice>:note"], ["declassify": "T"],
                    ["create": "home:<T,T>:pma:copy", "data": "alice's note", "label": "T,pma"],
                ]
            ).json()
            let results = try #require(body["results"]?.array)
            #expect(results[1]["rule"]?.string == "declassification rule")
            #expect(results[2]["rule"]?.string == "write rule")
        }
    }

    @Test func theTimeIndexHardLinksThePhotoUnderNestedDirectoriesIdempotently() async throws {
        let thumbnail = try Self.thumbnailWithoutPillow()
        try await EngineHarness.with { harness in
            let photo = try await Self.installPhotos(harness, thumbnail: thumbnail.path)
            let request: [String: Any] = ["photo": "home:<alice,alice>:photos:beach.ppm", "timestamp": "2024-07-14T15:30:00Z"]
            let first = try await Self.invoke(harness, "home:<T,T>:pma:timeindex", as: "alice", request).json()
            #expect(first["new"]?.bool == true)
            let again = try await Self.invoke(harness, "home:<T,T>:pma:timeindex", as: "alice", request).json()
            #expect(again["new"]?.bool == false)
            // The hour directory is alice's (vouched for by pma) and links the very photo.
            var aliceContext = try context("alice")
            let hour = try await harness.fileSystem.resolve(try path("home:<alice,pma>:2024:7:14:15"), &aliceContext)
            #expect(hour.label == (try label("alice,pma")))
            let linked = try await harness.read("home:<alice,pma>:2024:7:14:15:beach.ppm", as: "alice")
            #expect(linked.bytes == photo)
            // A bad timestamp is the function's own 400.
            let bad = try await Self.invoke(
                harness, "home:<T,T>:pma:timeindex", as: "alice", ["photo": "home:<alice,alice>:photos:beach.ppm", "timestamp": "July"])
            guard case let .completed(response) = bad.outcome else {
                Issue.record("expected a response, got \(bad.outcome)")
                return
            }
            #expect(response.status == 400)
        }
    }

    // MARK: Social graph

    private static func installSocial(_ harness: EngineHarness, users: [String]) async throws {
        for user in users {
            try await harness.create(.facetedDirectory, at: "home:<T,\(user)/social>:followers", label: nil, as: user)
            try await harness.createDirectory("home:<T,\(user)/social>:following", label: "T,\(user)/social/follow", as: user)
            for function in ["follow", "unfollow"] {
                try await harness.install(
                    "", at: "home:<T,\(user)/social>:\(function)", as: user, privilege: "\(user)/social/follow",
                    label: "T,\(user)/social", invokerClearance: user, directory: examples + "/social/functions/\(function)")
            }
            try await harness.install(
                "", at: "home:<T,\(user)/social>:followers-of", as: user, privilege: "T", label: "T,\(user)/social",
                directory: examples + "/social/functions/followers")
        }
    }

    private static func followers(_ harness: EngineHarness, of user: String) async throws -> [String] {
        let body = try await invoke(harness, "home:<T,\(user)/social>:followers-of", as: user, ["user": user]).json()
        return (body["followers"]?.array ?? []).compactMap { $0["name"]?.string }
    }

    @Test func followAndUnfollowWriteThroughFacetsVouchedForBySubPrincipals() async throws {
        try await EngineHarness.with { harness in
            try await harness.fileSystem.addUser(Principal("carol"))
            try await Self.installSocial(harness, users: ["alice", "bob", "carol"])
            let follow = try await Self.invoke(harness, "home:<T,alice/social>:follow", as: "alice", ["followee": "bob"])
            #expect((try follow.json()["created"]?.array)?.count == 2)
            #expect(follow.label == (try label("T,alice/social/follow")))
            _ = try await Self.invoke(harness, "home:<T,carol/social>:follow", as: "carol", ["followee": "bob"]).json()
            #expect(try await Self.followers(harness, of: "bob") == ["alice", "carol"])
            // The entries: an 8-byte big-endian timestamp, labeled by the follower's delegate.
            let entry = try await harness.read("home:<T,bob/social>:followers:<T,alice/social/follow>:alice", as: "bob")
            #expect(entry.bytes.count == 8)
            let seconds = Double(bitPattern: entry.bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            #expect(abs(seconds - Date().timeIntervalSince1970) < 60)
            _ = try await harness.read("home:<T,alice/social>:following:bob", as: "alice")
            // Following twice changes nothing.
            let twice = try await Self.invoke(harness, "home:<T,alice/social>:follow", as: "alice", ["followee": "bob"]).json()
            #expect(twice["created"]?.array?.isEmpty == true)

            let unfollow = try await Self.invoke(harness, "home:<T,alice/social>:unfollow", as: "alice", ["followee": "bob"])
            #expect((try unfollow.json()["removed"]?.array)?.count == 2)
            #expect(try await Self.followers(harness, of: "bob") == ["carol"])
        }
    }

    @Test func theSocialGraphRefusesWhatItShould() async throws {
        try await EngineHarness.with { harness in
            try await Self.installSocial(harness, users: ["alice", "bob"])
            // Only alice may run her follow function.
            let stolen = try await Self.invoke(harness, "home:<T,alice/social>:follow", as: "bob", ["followee": "bob"])
            #expect(try stolen.refusal().rule == "invoke rule")
            // bob cannot forge a follower entry in alice's name.
            await #expect(throws: FSError.self) {
                try await harness.createFile(
                    "home:<T,bob/social>:followers:<T,alice/social/follow>:alice", "x", label: "T,alice/social/follow", as: "bob")
            }
            // The delegate writes where its own integrity is required, but not where alice's is:
            // the prefix rule goes one way.
            try await harness.createFile(
                "home:<T,alice/social>:following:dave", "x", label: "T,alice/social/follow", as: "alice/social/follow")
            do {
                try await harness.createFile("home:<T,alice/social>:note", "x", label: "T,alice/social", as: "alice/social/follow")
                Issue.record("alice/social/follow wrote where alice/social's integrity is required")
            } catch let error as FSError {
                #expect(error.rule == "write rule")
            }
            do {
                try await harness.createFile("home:<alice,alice>:note", "x", label: "alice,alice", as: "alice/social/follow")
                Issue.record("alice/social/follow wrote where alice's integrity is required")
            } catch let error as FSError {
                #expect(error.rule == "write rule")
            }
            // And a follow function may not delete bob's other followers.
            try await harness.install("toolkit", at: "home:<T,alice/social>:tool", as: "alice", privilege: "alice/social/follow",
                                      label: "T,alice/social")
            try await harness.fileSystem.addUser(Principal("carol"))
            try await Self.installSocial(harness, users: ["carol"])
            _ = try await Self.invoke(harness, "home:<T,carol/social>:follow", as: "carol", ["followee": "bob"]).json()
            let body = try await harness.invoke(
                "home:<T,alice/social>:tool", as: "alice",
                steps: [["write": "home:<T,bob/social>:followers:<T,carol/social/follow>:carol", "data": "forged"]]
            ).json()
            #expect(body["results"]?.array?.first?["rule"]?.string == "write rule")
        }
    }

    // MARK: §8.5: a service whose taint makes the result unreadable

    @Test func aServicesTaintMakesTheCallersResultUnreadableToOthers() async throws {
        let server = try TestHTTPServer()
        try await EngineHarness.with { harness in
            try await harness.createDirectory("home:<T,T>:apps", label: "T,T", as: "alice")
            try await harness.install("toolkit", at: "home:<T,T>:apps:tool", as: "alice", privilege: "T", label: "T,T")
            let service = Service(
                privilege: .none, taint: try label("alice,T"), url: server.base + "/echo/weather", verb: .get)
            try await harness.create(.service(service), at: "home:<T,T>:apps:weather", label: "T,T", as: "alice")
            let result = try await harness.invoke("home:<T,T>:apps:tool", as: "bob", steps: [["service": "home:<T,T>:apps:weather"]])
            _ = try result.json()
            #expect(result.label == (try label("alice,T")))
            #expect(throws: FSError.self) { try ReleaseCheck.check(result.label, to: Privilege(parsing: "bob")) }
            try ReleaseCheck.check(result.label, to: Privilege(parsing: "alice"))
        }
    }
}
