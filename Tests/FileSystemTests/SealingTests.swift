import FaastenTestSupport
import FileSystem
import Foundation
import Keys
import Labels
import LocalPostgres
import Store
import Testing

/// Encryption at rest of what objects hold, on real stores: a secret written through
/// the file system is nowhere in the raw database files; a value moved, relabelled,
/// rolled back or planted in clear in the database is refused as tampering, audited,
/// and nothing of it is released.
@Suite("Sealed content")
struct SealingTests {
    /// A bootstrapped file system (alice, bob) sealing with a new key ring.
    struct Sealed {
        let test: TestStore
        let keys: KeyRing
        let fs: FileSystem
        let events: KeyEvents
        let keyDirectory: TemporaryDirectory

        static func make(_ backend: Backend) async throws -> Sealed {
            let test = try await backend.makeStore()
            let keyDirectory = try TemporaryDirectory()
            let events = KeyEvents()
            let store = test.store
            let keys = try await KeyRing.open(
                store: store, master: .file(keyDirectory.path + "/master-key", create: true), onEvent: events.add,
                beforeFirstKey: { () throws(KeyError) in try await FileSystem.checkNoSealedContent(in: store) })
            let fs = FileSystem(store: store, keys: keys)
            try await fs.bootstrap()
            try await fs.addUser(Principal("alice"))
            try await fs.addUser(Principal("bob"))
            return Sealed(test: test, keys: keys, fs: fs, events: events, keyDirectory: keyDirectory)
        }

        /// Creates `~:NAME` as alice with `content`, labeled alice,alice.
        func aliceFile(_ name: String, _ content: String) async throws -> Entry {
            var alice = try context("alice")
            let home = try await fs.resolve(try path("~"), &alice)
            return try await fs.create(.file(Array(content.utf8)), label: try label("alice,alice"), named: name, in: home, &alice)
        }

        func read(_ entry: Entry) async throws -> [UInt8] {
            var alice = try context("alice")
            return try await fs.read(file: entry, &alice)
        }

        func sql(_ statement: String, _ arguments: [SQLValue]) async throws {
            _ = try await test.store.transaction(.write) { try $0.execute(statement, arguments) }
        }

        func data(_ entry: Entry) async throws -> [UInt8] {
            let id = try #require(entry.objectID)
            return try await test.store.transaction(.read) { try $0.object(id)?.data ?? [] }
        }
    }

    @Test(arguments: Backend.allCases)
    func aSecretIsNowhereInTheRawDatabase(backend: Backend) async throws {
        let sealed = try await Sealed.make(backend)
        let secret = "secret-\(UUID().uuidString)"
        let file = try await sealed.aliceFile("diary", secret)
        var alice = try context("alice")
        try await sealed.fs.write(file: file, Array((secret + " and more").utf8), &alice)
        #expect(try await sealed.read(file) == Array((secret + " and more").utf8))
        #expect(KeyRing.isSealed(try await sealed.data(file)))
        // A control written in clear (a metadata row) shows the search finds what is there.
        let control = "control-\(UUID().uuidString)"
        _ = try await sealed.test.store.transaction(.write) { try $0.setMetadata("control", control) }
        switch backend {
        case .sqlite:
            let directory = try #require(sealed.test.directory?.path)
            let files = ["faasten.sqlite", "faasten.sqlite-wal"].map {
                (try? Data(contentsOf: URL(fileURLWithPath: directory + "/" + $0))) ?? Data()
            }
            #expect(files.contains { $0.range(of: Data(control.utf8)) != nil })
            #expect(!files.contains { $0.range(of: Data(secret.utf8)) != nil }, "the database holds the secret")
        case .postgres:
            try await sealed.sql("CHECKPOINT", [])
            let directory = try LocalPostgres.shared().directory
            #expect(!(try Self.filesContaining(Array(control.utf8), under: directory)).isEmpty)
            #expect(try Self.filesContaining(Array(secret.utf8), under: directory).isEmpty)
        }
        await sealed.test.close()
    }

    @Test(arguments: Backend.allCases)
    func movedRelabelledRolledBackOrPlantedContentIsTampering(backend: Backend) async throws {
        let sealed = try await Sealed.make(backend)
        let diary = try await sealed.aliceFile("diary", "alice's diary")
        let notes = try await sealed.aliceFile("notes", "alice's notes")
        let diaryID = try #require(diary.objectID)
        let notesID = try #require(notes.objectID)

        // Moved: the diary's ciphertext copied into the notes' row.
        try await sealed.sql("UPDATE objects SET data = (SELECT data FROM objects WHERE id = ?) WHERE id = ?", [.integer(diaryID), .integer(notesID)])
        await Self.expectTampered { try await sealed.read(notes) }

        // Relabelled: the diary made public in the database (row and entry).
        try await sealed.sql("UPDATE objects SET label = 'T,T' WHERE id = ?", [.integer(diaryID)])
        try await sealed.sql("UPDATE entries SET label = 'T,T' WHERE target = ?", [.integer(diaryID)])
        var bob = try context("bob")
        let publicDiary = try await sealed.fs.resolve(try path("home:<alice,alice>:diary"), &bob)
        await #expect(throws: FSError.self) { _ = try await sealed.fs.read(file: publicDiary, &bob) }
        do {
            _ = try await sealed.fs.read(file: publicDiary, &bob)
        } catch {
            #expect("\(error)".contains("tampering"), "\(error)")
        }

        // Rolled back: an older ciphertext of the same object put back.
        let letter = try await sealed.aliceFile("letter", "first draft")
        let firstDraft = try await sealed.data(letter)
        var alice = try context("alice")
        try await sealed.fs.write(file: letter, Array("final".utf8), &alice)
        try await sealed.sql("UPDATE objects SET data = ? WHERE id = ?", [.blob(firstDraft), .integer(try #require(letter.objectID))])
        await Self.expectTampered { try await sealed.read(letter) }

        // Planted in clear.
        let plan = try await sealed.aliceFile("plan", "the real plan")
        try await sealed.sql("UPDATE objects SET data = ? WHERE id = ?", [.blob(Array("a forged plan".utf8)), .integer(try #require(plan.objectID))])
        await Self.expectTampered { try await sealed.read(plan) }

        #expect(sealed.events.all.filter { $0.action == "key_tamper_detected" }.count >= 4)
        await sealed.test.close()
    }

    @Test(arguments: Backend.allCases)
    func aLabelOrKindChangedOnlyInTheEntryIsTampering(backend: Backend) async throws {
        let sealed = try await Sealed.make(backend)
        let diary = try await sealed.aliceFile("diary", "alice's diary")
        let diaryID = try #require(diary.objectID)
        // The entry alone made public: the read rule would let bob read, the write rule
        // let bob write; the row (and what its content is bound to) still says alice's.
        try await sealed.sql("UPDATE entries SET label = 'T,T' WHERE target = ?", [.integer(diaryID)])
        var bob = try context("bob")
        let publicDiary = try await sealed.fs.resolve(try path("home:<alice,alice>:diary"), &bob)
        await Self.expectTampered { try await sealed.fs.read(file: publicDiary, &bob) }
        await #expect(throws: FSError.self) { try await sealed.fs.write(file: publicDiary, Array("bob was here".utf8), &bob) }
        try await sealed.sql("UPDATE entries SET label = 'alice,alice' WHERE target = ?", [.integer(diaryID)])
        #expect(try await sealed.read(diary) == Array("alice's diary".utf8))

        // A row claiming to be a directory, with content planted in clear.
        try await sealed.sql("UPDATE objects SET kind = 0, data = ? WHERE id = ?", [.blob(Array("forged".utf8)), .integer(diaryID)])
        await Self.expectTampered { try await sealed.read(diary) }
        await sealed.test.close()
    }

    @Test
    func aGateMovedToAnotherRowIsRefusedEvenWhenCached() async throws {
        let sealed = try await Sealed.make(.sqlite)
        var alice = try context("alice")
        let home = try await sealed.fs.resolve(try path("~"), &alice)
        let image = try await sealed.fs.create(
            .blob(try sealed.fs.blobs.store(Array("image".utf8))), label: try label("alice,alice"), named: "image", in: home, &alice)
        func gate(_ name: String, privilege: String) async throws -> Entry {
            let spec = GateSpec(
                target: .function(runtime: "python3", image: image, memoryMB: 128, timeoutMilliseconds: 1000, fresh: false),
                privilege: try Privilege(parsing: privilege))
            return try await sealed.fs.create(.gate(spec), label: try label("alice,alice"), named: name, in: home, &alice)
        }
        let strong = try await gate("strong", privilege: "alice")
        let weak = try await gate("weak", privilege: "alice/sub")
        _ = try await sealed.fs.read(gate: strong, &alice)  // cached
        try await sealed.sql(
            "UPDATE objects SET data = (SELECT data FROM objects WHERE id = ?) WHERE id = ?",
            [.integer(try #require(strong.objectID)), .integer(try #require(weak.objectID))])
        await #expect(throws: FSError.self) { _ = try await sealed.fs.read(gate: weak, &alice) }
        #expect(try await sealed.fs.read(gate: strong, &alice).privilege == Privilege(parsing: "alice"))
        await sealed.test.close()
    }

    @Test(arguments: Backend.allCases)
    func aStoreFromBeforeEncryptionIsSealedAtItsFirstKey(backend: Backend) async throws {
        let test = try await backend.makeStore()
        let plain = FileSystem(store: test.store)
        try await plain.bootstrap()
        try await plain.addUser(Principal("alice"))
        var alice = try context("alice")
        let home = try await plain.resolve(try path("~"), &alice)
        let file = try await plain.create(.file(Array("old words".utf8)), label: try label("alice,alice"), named: "old", in: home, &alice)

        let keyDirectory = try TemporaryDirectory()
        let store = test.store
        let keys = try await KeyRing.open(
            store: store, master: .file(keyDirectory.path + "/master-key", create: true),
            beforeFirstKey: { () throws(KeyError) in try await FileSystem.checkNoSealedContent(in: store) })
        #expect(keys.createdFirstKey)
        let sealedFS = FileSystem(store: store, keys: keys)
        #expect(try await sealedFS.sealContentInClear() >= 1)
        #expect(try await sealedFS.read(file: file, &alice) == Array("old words".utf8))
        let data = try await store.transaction(.read) { try $0.object(try #require(file.objectID))?.data ?? [] }
        #expect(KeyRing.isSealed(data))
        #expect(try await sealedFS.sealContentInClear() == 0)
        await test.close()
    }

    @Test(arguments: Backend.allCases)
    func sealedContentWhoseKeysWereRemovedStopsTheStartAndChangesNothing(backend: Backend) async throws {
        let sealed = try await Sealed.make(backend)
        _ = try await sealed.aliceFile("diary", "words")
        try await sealed.sql("DELETE FROM data_keys", [])
        let store = sealed.test.store
        do {
            _ = try await KeyRing.open(
                store: store, master: .file(sealed.keyDirectory.path + "/master-key", create: true),
                beforeFirstKey: { () throws(KeyError) in try await FileSystem.checkNoSealedContent(in: store) })
            Issue.record("a store with sealed values and no keys was started over")
        } catch {
            #expect("\(error)".contains("no data keys"), "\(error)")
        }
        let keys = try await store.transaction(.read) { try $0.query("SELECT COUNT(*) FROM data_keys", []).first?.int(0) }
        #expect(keys == 0)
        await sealed.test.close()
    }

    /// `faasten keys rotate --data`'s move: every value ends under the new data key, and
    /// writes made while it runs are all kept (each row is re-read under its lock).
    @Test(arguments: Backend.allCases)
    func resealingMovesEveryValueToTheNewKeyAndLosesNoConcurrentWrite(backend: Backend) async throws {
        let sealed = try await Sealed.make(backend)
        let count = 300
        var files: [Entry] = []
        for k in 0..<count { files.append(try await sealed.aliceFile("f\(k)", "v0-\(k)")) }
        let entries = files
        try await sealed.keys.rotateDataKey()
        let fs = sealed.fs
        let writer = Task { () -> [Int: String] in
            var last: [Int: String] = [:]
            var alice = try context("alice")
            for i in 0..<400 {
                let k = (i * 7) % count
                let content = "v1-\(k)-\(i)"
                try await fs.write(file: entries[k], Array(content.utf8), &alice)
                last[k] = content
            }
            return last
        }
        let moved = try await fs.resealWithCurrentKey()
        let written = try await writer.value
        #expect(moved > 0 && moved <= count, "\(moved)")
        for k in 0..<count {
            let expected = written[k] ?? "v0-\(k)"
            #expect(String(decoding: try await sealed.read(files[k]), as: UTF8.self) == expected, "file \(k)")
            #expect(sealed.keys.isSealedWithCurrentKey(try await sealed.data(files[k])), "file \(k) is still under the old key")
        }
        #expect(try await fs.resealWithCurrentKey() == 0, "a second run has nothing left to move")
        #expect(sealed.events.all.contains { $0.action == "key_data_reseal" })
        await sealed.test.close()
    }

    // MARK: Helpers

    static func expectTampered(_ body: () async throws -> [UInt8], sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            let bytes = try await body()
            Issue.record("tampered content was released: \(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation)
        } catch {
            guard let error = error as? FSError, case .tampered = error else {
                Issue.record("expected tampering, got \(error)", sourceLocation: sourceLocation)
                return
            }
        }
    }

    /// Files under `directory` whose bytes contain `needle`.
    static func filesContaining(_ needle: [UInt8], under directory: String) throws -> [String] {
        var found: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let relative = enumerator?.nextObject() as? String {
            let full = directory + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
                let data = FileManager.default.contents(atPath: full)
            else { continue }
            if data.range(of: Data(needle)) != nil { found.append(relative) }
        }
        return found
    }
}
