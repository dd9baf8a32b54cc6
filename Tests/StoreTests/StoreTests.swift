import Crypto
import FaastenTestSupport
import FileSystem
import Foundation
import Store
import Testing

/// The storage backends themselves: schema, rows, blobs.
@Suite("Stores")
struct StoreTests {
    @Test(arguments: Backend.allCases)
    func reopeningKeepsDataAndTheSchemaVersion(backend: Backend) async throws {
        let test = try await backend.makeStore()
        let id = try await test.store.transaction(.write) { try $0.insertObject(kind: 1, label: "T,T", data: [1, 2, 3]) }
        await test.close()
        let again = try await StoreLocation(test.location).open()
        #expect(try await again.transaction(.read) { try $0.object(id)?.data } == [1, 2, 3])
        try await again.close()
        _ = test
    }

    @Test(arguments: Backend.allCases)
    func aThrowingTransactionChangesNothing(backend: Backend) async throws {
        let test = try await backend.makeStore()
        struct Stop: Error {}
        await #expect(throws: Stop.self) {
            try await test.store.transaction(.write) { tx in
                _ = try tx.insertObject(kind: 0, label: "T,T", data: [])
                try tx.setMetadata("k", "v")
                throw Stop()
            }
        }
        #expect(try await test.store.transaction(.read) { try $0.metadata("k") } == nil)
        #expect(try await test.store.transaction(.read) { try $0.object(1) } == nil)
        await test.close()
    }

    @Test(arguments: Backend.allCases)
    func entriesAreUniqueAndOrderedByBytes(backend: Backend) async throws {
        let test = try await backend.makeStore()
        let ok = try await test.store.transaction(.write) { tx -> [Bool] in
            let directory = try tx.insertObject(kind: 0, label: "T,T", data: [])
            let target = try tx.insertObject(kind: 1, label: "T,T", data: [])
            return try ["b", "B", "a", "é", "a"].map {
                try tx.insertEntry(EntryRecord(directory: directory, name: $0, target: target, kind: 1, label: "T,T"))
            }
        }
        #expect(ok == [true, true, true, true, false])
        let names = try await test.store.transaction(.read) { try $0.entries(directory: 1).map(\.name) }
        #expect(names == ["B", "a", "b", "é"])
        #expect(try await test.store.transaction(.read) { try $0.object(1)?.entryCount } == 4)
        await test.close()
    }

    @Test(arguments: Backend.allCases)
    func blobsAreContentAddressedStreamedAndDeduplicated(backend: Backend) async throws {
        let test = try await backend.makeStore()
        // 2.5 MiB in uneven writes, across chunk boundaries.
        var content: [UInt8] = []
        for n in 0..<(5 << 19) { content.append(UInt8(truncatingIfNeeded: n &* 2_654_435_761 >> 13)) }
        let upload = try test.store.blobs.create()
        var offset = 0
        for size in [1, 4095, 1 << 20, 333_333] + Array(repeating: 700_001, count: 4) where offset < content.count {
            let end = min(content.count, offset + size)
            try upload.write(Array(content[offset..<end]))
            offset = end
        }
        if offset < content.count { try upload.write(Array(content[offset...])) }
        #expect(upload.size == Int64(content.count))
        let name = try upload.finalize()
        #expect(name.hex == SHA256.hash(data: content).map { String(format: "%02x", $0) }.joined())

        let reader = try #require(try test.store.blobs.open(name))
        #expect(reader.size == Int64(content.count))
        #expect(try reader.read(at: 0, count: 10) == Array(content[0..<10]))
        let middle = (1 << 20) - 5
        #expect(try reader.read(at: Int64(middle), count: 10) == Array(content[middle..<(middle + 10)]))
        #expect(try reader.read(at: Int64(content.count - 3), count: 100) == Array(content.suffix(3)))
        #expect(try reader.read(at: Int64(content.count), count: 100) == [])
        #expect(try reader.readAll() == content)

        // The same bytes again: the same name, stored once.
        #expect(try test.store.blobs.put(content) == name)
        // An aborted upload leaves nothing.
        let aborted = try test.store.blobs.create()
        try aborted.write([1, 2, 3])
        aborted.abort()
        #expect(try test.store.blobs.open(BlobName(hex: SHA256.hash(data: [1, 2, 3]).map { String(format: "%02x", $0) }.joined())!) == nil)
        #expect(try test.store.blobs.put([]) == BlobName(hex: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
        await test.close()
    }

    @Test func blobNamesAreValidated() {
        #expect(BlobName(hex: String(repeating: "a", count: 64)) != nil)
        #expect(BlobName(hex: String(repeating: "A", count: 64)) == nil)
        #expect(BlobName(hex: String(repeating: "a", count: 63)) == nil)
        #expect(BlobName(hex: "../" + String(repeating: "a", count: 61)) == nil)
    }

    @Test func postgresURLs() throws {
        let location = try PostgresLocation(url: "postgres://fa%40st:s3cret@db.example:6543/faasten?sslmode=require")
        #expect(location.username == "fa@st" && location.password == "s3cret")
        #expect(location.host == "db.example" && location.port == 6543 && location.database == "faasten")
        #expect(location.tlsMode == "require")
        #expect(!location.description.contains("s3cret"))
        #expect(try PostgresLocation(url: "postgresql://u@127.0.0.1/d").tlsMode == "disable")
        #expect(throws: StoreError.self) { try PostgresLocation(url: "mysql://x") }
        #expect(throws: StoreError.self) { try PostgresLocation(url: "postgres://u@h:99999/d") }
        #expect(throws: StoreError.self) { try PostgresLocation(url: "postgres://u@h/d?sslmode=maybe") }
    }
}
