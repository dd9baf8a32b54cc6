import Crypto
import FaastenTestSupport
import Foundation
import Keys
import Store
import Testing

/// The key ring on real stores: master key sources, wrapped data keys, sealing with a
/// binding, and rotation; a wrong or missing master key changes nothing.
@Suite("Keys")
struct KeyRingTests {
    @Test(arguments: Backend.allCases)
    func theFirstStartMakesAPrivateMasterKeyFileAndADataKey(backend: Backend) async throws {
        let test = try await backend.makeStore()
        let directory = try TemporaryDirectory()
        let source = try MasterKeySource.parse(nil, dataDirectory: directory.path)
        let ring = try await KeyRing.open(store: test.store, master: source)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.path + "/master-key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(ring.status.keys.count == 1)
        // Reopened with the same file: the same key opens what was sealed.
        let binding = Array("object 7 file T,T v1".utf8)
        let sealed = try ring.seal(Array("the secret".utf8), binding: binding)
        let again = try await KeyRing.open(store: test.store, master: source)
        #expect(try again.open(sealed, binding: binding, what: "object 7") == Array("the secret".utf8))
        #expect(again.status.keys.count == 1)
        await test.close()
    }

    @Test(arguments: Backend.allCases)
    func aWrongOrMissingMasterKeyStopsAndChangesNothing(backend: Backend) async throws {
        let test = try await backend.makeStore()
        let directory = try TemporaryDirectory()
        let keyFile = directory.path + "/master-key"
        _ = try await KeyRing.open(store: test.store, master: .file(keyFile, create: true))
        let before = try await dataKeys(test.store)

        let other = directory.path + "/other-key"
        try Self.writeKey(SymmetricKey(size: .bits256), to: other)
        await #expect(throws: KeyError.self) { _ = try await KeyRing.open(store: test.store, master: .file(other, create: true)) }
        do {
            _ = try await KeyRing.open(store: test.store, master: .file(other, create: true))
        } catch {
            #expect("\(error)".contains("wrong master key"))
        }
        // Missing: refused, and no key file is made for it.
        let missing = directory.path + "/missing-key"
        await #expect(throws: KeyError.self) { _ = try await KeyRing.open(store: test.store, master: .file(missing, create: true)) }
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(try await dataKeys(test.store) == before)
        await test.close()
    }

    @Test
    func aKeyFileOthersMayReadIsRefused() async throws {
        let test = try await Backend.sqlite.makeStore()
        let directory = try TemporaryDirectory()
        let path = directory.path + "/master-key"
        try Self.writeKey(SymmetricKey(size: .bits256), to: path)
        chmod(path, 0o644)
        do {
            _ = try await KeyRing.open(store: test.store, master: .file(path, create: true))
            Issue.record("a world-readable key file was accepted")
        } catch {
            #expect("\(error)".contains("chmod 600"))
        }
        #expect(try await dataKeys(test.store).isEmpty)
        await test.close()
    }

    @Test
    func environmentAndCommandSources() async throws {
        let test = try await Backend.sqlite.makeStore()
        let directory = try TemporaryDirectory()
        let key = SymmetricKey(size: .bits256)
        let text = key.withUnsafeBytes { Data($0).base64EncodedString() }
        let path = directory.path + "/kms-answer"
        try Self.writeKey(key, to: path)
        setenv("FAASTEN_TEST_MASTER_KEY", text, 1)
        defer { unsetenv("FAASTEN_TEST_MASTER_KEY") }
        let fromEnvironment = try MasterKeySource.parse("env:FAASTEN_TEST_MASTER_KEY", dataDirectory: nil)
        let fromCommand = try MasterKeySource.parse("command:cat \(path)", dataDirectory: nil)
        let ring = try await KeyRing.open(store: test.store, master: fromEnvironment)
        let sealed = try ring.seal([1, 2, 3], binding: [9])
        // The same key through a command (an external KMS) opens what it sealed.
        let viaCommand = try await KeyRing.open(store: test.store, master: fromCommand)
        #expect(try viaCommand.open(sealed, binding: [9], what: "x") == [1, 2, 3])
        // A command that fails, or prints no key, stops with the reason.
        await #expect(throws: KeyError.self) {
            _ = try await KeyRing.open(store: test.store, master: .command("echo nope; exit 3"))
        }
        await #expect(throws: KeyError.self) { _ = try await KeyRing.open(store: test.store, master: .command("echo not-a-key")) }
        await #expect(throws: KeyError.self) { _ = try await KeyRing.open(store: test.store, master: .environment("FAASTEN_UNSET_VARIABLE")) }
        await test.close()
    }

    @Test
    func aSealedValueOpensOnlyWithItsBindingAndUnchanged() async throws {
        let test = try await Backend.sqlite.makeStore()
        let directory = try TemporaryDirectory()
        let events = KeyEvents()
        let ring = try await KeyRing.open(store: test.store, master: .file(directory.path + "/k", create: true), onEvent: events.add)
        let plaintext = Array("alice's diary".utf8)
        let binding = Array("object 1 file alice,alice v3".utf8)
        let sealed = try ring.seal(plaintext, binding: binding)
        #expect(!Self.contains(sealed, plaintext))
        #expect(try ring.open(sealed, binding: binding, what: "object 1") == plaintext)
        // Moved to another object, relabelled, rolled back to another version: refused.
        for other in ["object 2 file alice,alice v3", "object 1 file T,T v3", "object 1 file alice,alice v2"] {
            #expect(throws: KeyError.self) { try ring.open(sealed, binding: Array(other.utf8), what: "object 1") }
        }
        var flipped = sealed
        flipped[flipped.count - 20] ^= 1
        #expect(throws: KeyError.self) { try ring.open(flipped, binding: binding, what: "object 1") }
        #expect(throws: KeyError.self) { try ring.open(Array(sealed.prefix(10)), binding: binding, what: "object 1") }
        #expect(throws: KeyError.self) { try ring.open(plaintext, binding: binding, what: "object 1") }
        #expect(events.all.filter { $0.action == "key_tamper_detected" }.count == 6)
        await test.close()
    }

    @Test(arguments: Backend.allCases)
    func rotatingTheMasterKeyRewrapsWithoutReencrypting(backend: Backend) async throws {
        let test = try await backend.makeStore()
        let directory = try TemporaryDirectory()
        let source = MasterKeySource.file(directory.path + "/master-key", create: true)
        let ring = try await KeyRing.open(store: test.store, master: source)
        let sealed = try ring.seal(Array("kept".utf8), binding: [1])
        let oldKey = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/master-key"))
        let before = try await dataKeys(test.store)
        let events = KeyEvents()
        try await KeyRing.rotateMaster(store: test.store, from: source, onEvent: events.add)
        let after = try await dataKeys(test.store)
        #expect(before.map(\.id) == after.map(\.id))
        #expect(before.map(\.wrapped) != after.map(\.wrapped))
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path + "/master-key")) != oldKey)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/master-key.new"))
        #expect(events.all.contains { $0.action == "key_master_rotate" })
        // What was sealed before still opens; the old master key no longer opens the store.
        let reopened = try await KeyRing.open(store: test.store, master: source)
        #expect(try reopened.open(sealed, binding: [1], what: "x") == Array("kept".utf8))
        let old = directory.path + "/old-key"
        _ = FileManager.default.createFile(atPath: old, contents: oldKey, attributes: [.posixPermissions: 0o600])
        await #expect(throws: KeyError.self) { _ = try await KeyRing.open(store: test.store, master: .file(old, create: false)) }
        await test.close()
    }

    @Test
    func aMasterRotationInterruptedBeforeOrAfterItsCommitIsFinishedOrUndone() async throws {
        let test = try await Backend.sqlite.makeStore()
        let directory = try TemporaryDirectory()
        let path = directory.path + "/master-key"
        let source = MasterKeySource.file(path, create: true)
        let ring = try await KeyRing.open(store: test.store, master: source)
        let sealed = try ring.seal([5], binding: [])
        // Interrupted before the store committed: a stray PATH.new is dropped.
        try Self.writeKey(SymmetricKey(size: .bits256), to: path + ".new")
        let undone = try await KeyRing.open(store: test.store, master: source)
        #expect(try undone.open(sealed, binding: [], what: "x") == [5])
        #expect(!FileManager.default.fileExists(atPath: path + ".new"))
        // Interrupted after the commit, before the rename: the new key is put in place.
        let newPath = directory.path + "/next-key"
        try await KeyRing.rotateMaster(store: test.store, from: source, to: .file(newPath, create: true))
        _ = rename(path, directory.path + "/retired-key")
        _ = rename(newPath, path + ".new")
        try Self.writeKey(SymmetricKey(size: .bits256), to: path)  // an old, wrong key left in place
        let finished = try await KeyRing.open(store: test.store, master: source)
        #expect(try finished.open(sealed, binding: [], what: "x") == [5])
        #expect(!FileManager.default.fileExists(atPath: path + ".new"))
        await test.close()
    }

    @Test(arguments: Backend.allCases)
    func aNewDataKeySealsNewValuesAndTheOldOneStillOpensItsOwn(backend: Backend) async throws {
        let test = try await backend.makeStore()
        let directory = try TemporaryDirectory()
        let source = MasterKeySource.file(directory.path + "/master-key", create: true)
        let ring = try await KeyRing.open(store: test.store, master: source)
        let first = ring.status.current
        let old = try ring.seal([1], binding: [])
        // Another process of the cluster rotates; this one learns the new key when it meets it.
        let other = try await KeyRing.open(store: test.store, master: source)
        let second = try await other.rotateDataKey()
        #expect(second != first)
        let new = try other.seal([2], binding: [])
        #expect(try ring.open(new, binding: [], what: "x") == [2])
        #expect(try other.open(old, binding: [], what: "x") == [1])
        let keys = try await dataKeys(test.store)
        #expect(keys.count == 2)
        #expect(keys.first { $0.id == first }?.retiredAt != nil)
        #expect(keys.first { $0.id == second }?.retiredAt == nil)
        await test.close()
    }

    @Test(arguments: Backend.allCases)
    func aReplacedWrappedKeyIsTampering(backend: Backend) async throws {
        let test = try await backend.makeStore()
        let directory = try TemporaryDirectory()
        let source = MasterKeySource.file(directory.path + "/master-key", create: true)
        let ring = try await KeyRing.open(store: test.store, master: source)
        try await ring.rotateDataKey()
        // A database writer swaps the second key's wrapped bytes for the first's.
        try await test.store.transaction(.write) { transaction in
            _ = try transaction.execute(
                "UPDATE data_keys SET wrapped = (SELECT wrapped FROM data_keys WHERE id = ?) WHERE id <> ?",
                [.text(ring.status.keys[0].id), .text(ring.status.keys[0].id)])
        }
        do {
            _ = try await KeyRing.open(store: test.store, master: source)
            Issue.record("a swapped wrapped key was accepted")
        } catch {
            #expect("\(error)".contains("tampering"))
        }
        await test.close()
    }

    // MARK: Helpers

    private func dataKeys(_ store: any Store) async throws -> [DataKeyRow] {
        try store.prepare(KeyRing.schema)
        return try await store.transaction(.read) { transaction in
            try transaction.query("SELECT id, wrapped, created_at, retired_at FROM data_keys ORDER BY created_at, id", []).map {
                DataKeyRow(id: try $0.string(0), wrapped: try $0.optionalBytes(1) ?? [], createdAt: try $0.double(2), retiredAt: try $0.optionalDouble(3))
            }
        }
    }

    static func writeKey(_ key: SymmetricKey, to path: String) throws {
        let text = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]))
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}
