import Crypto
import FaastenTestSupport
import FileSystem
import Foundation
import Keys
import LocalPostgres
import Store
import Testing

/// Blobs encrypted at rest on real stores (blob files beside SQLite, chunk rows in
/// PostgreSQL): content is nowhere in clear, names are keyed digests that confirm no
/// guess, and blob bytes changed, swapped, cut, reordered or planted are tampering.
@Suite("Sealed blobs")
struct SealedBlobTests {
    typealias Sealed = SealingTests.Sealed

    static func random(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in generator.next() }
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// The bytes the raw store holds for `name`.
    static func raw(_ sealed: Sealed, _ name: BlobName) throws -> [UInt8] {
        try #require(try sealed.test.store.blobs.open(name)).readAll()
    }

    /// Replaces what the raw store holds for `name`, as someone with write access to the
    /// blob directory or the database would.
    static func replaceRaw(_ sealed: Sealed, _ name: BlobName, with bytes: [UInt8], backend: Backend) async throws {
        switch backend {
        case .sqlite:
            let directory = try #require(sealed.test.directory?.path)
            let path = "\(directory)/blobs/\(name.hex.prefix(2))/\(name.hex.dropFirst(2))"
            try FileManager.default.removeItem(atPath: path)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        case .postgres:
            precondition(bytes.count < 1 << 20, "one chunk row")
            try await sealed.sql(
                "UPDATE blob_chunks SET data = ? WHERE upload = (SELECT upload FROM blobs WHERE name = ?) AND seq = 0",
                [.blob(bytes), .text(name.hex)])
            try await sealed.sql("UPDATE blobs SET size = ? WHERE name = ?", [.integer(Int64(bytes.count)), .text(name.hex)])
        }
    }

    static func expectTampered(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("tampered blob bytes were released", sourceLocation: sourceLocation)
        } catch {
            guard let error = error as? KeyError, case .tampered = error else {
                Issue.record("expected tampering, got \(error)", sourceLocation: sourceLocation)
                return
            }
        }
    }

    /// Whether `body` fails with the file system's tampering error.
    static func isTampering(_ body: () throws -> Void) -> Bool {
        do {
            try body()
            return false
        } catch {
            if let error = error as? FSError, case .tampered = error { return true }
            return false
        }
    }

    @Test(arguments: Backend.allCases)
    func roundTripsAtEveryChunkBoundaryUnderAKeyedName(backend: Backend) async throws {
        let sealed = try await Sealed.make(backend)
        let chunk = 64 * 1024
        for size in [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 5] {
            let content = Self.random(size)
            let name = try sealed.fs.blobs.put(content)
            #expect(name.hex != Self.sha256(content), "a plain digest would confirm a guess of the content")
            let reader = try #require(try sealed.fs.blobs.open(name))
            #expect(reader.size == Int64(size))
            #expect(try reader.readAll() == content, "size \(size)")
            for (offset, count) in [(0, 10), (chunk - 6, 20), (chunk, 1), (size - 3, 10), (1, 2 * chunk + 7)] where offset >= 0 {
                let expected = Array(content[min(offset, size)..<min(size, offset + count)])
                #expect(try reader.read(at: Int64(offset), count: count) == expected, "size \(size), read \(offset)+\(count)")
            }
            #expect(try sealed.fs.blobs.put(content) == name, "identical content keeps one name")
            if size >= 16 {
                let raw = try Self.raw(sealed, name)
                #expect(Data(raw).range(of: Data(content.prefix(16))) == nil, "the raw store holds the content in clear")
            }
        }
        // Another store's keys name the same content differently.
        let other = try await Sealed.make(backend)
        let content = Array("the same content".utf8)
        #expect(try sealed.fs.blobs.put(content) != other.fs.blobs.put(content))
        await other.test.close()
        await sealed.test.close()
    }

    @Test(arguments: Backend.allCases)
    func aSecretIsNowhereInTheBlobStoreNorItsDigest(backend: Backend) async throws {
        let sealed = try await Sealed.make(backend)
        let secret = Array("blob-secret-\(UUID().uuidString)".utf8)
        let name = try sealed.fs.blobs.put(secret)
        #expect(try sealed.fs.open(blob: name).readAll() == secret)
        // A control stored in clear, beside it, shows the search finds what is there.
        let control = Array("blob-control-\(UUID().uuidString)".utf8)
        _ = try sealed.test.store.blobs.put(control)
        let digests = [Self.sha256(secret), Self.sha256(secret).uppercased()].map { Array($0.utf8) }
        let rawDigest = Array(SHA256.hash(data: secret))
        let directory: String
        switch backend {
        case .sqlite: directory = try #require(sealed.test.directory?.path)
        case .postgres:
            try await sealed.sql("CHECKPOINT", [])
            directory = try LocalPostgres.shared().directory
        }
        #expect(!(try SealingTests.filesContaining(control, under: directory)).isEmpty)
        #expect(try SealingTests.filesContaining(secret, under: directory).isEmpty, "the secret is stored in clear")
        for needle in digests + [rawDigest] {
            #expect(try SealingTests.filesContaining(needle, under: directory).isEmpty, "the secret's plain digest is stored")
        }
        await sealed.test.close()
    }

    @Test(arguments: Backend.allCases)
    func changedSwappedCutReorderedOrPlantedBlobsAreTampering(backend: Backend) async throws {
        let sealed = try await Sealed.make(backend)
        let chunk = 64 * 1024
        let sealedChunk = chunk + 16
        let first = Self.random(3 * chunk + 100)
        let second = Self.random(chunk / 2)
        let a = try sealed.fs.blobs.put(first)
        let b = try sealed.fs.blobs.put(second)
        let rawA = try Self.raw(sealed, a)
        let header = rawA.count - 56 - 3 * sealedChunk - (100 + 16)

        // A byte of the second chunk changed: that chunk no longer opens; the first still does.
        var changed = rawA
        changed[header + sealedChunk + 10] ^= 0x01
        try await Self.replaceRaw(sealed, a, with: changed, backend: backend)
        let reader = try #require(try sealed.fs.blobs.open(a))
        #expect(try reader.read(at: 0, count: 100) == Array(first[..<100]))
        Self.expectTampered { _ = try reader.read(at: Int64(chunk), count: 10) }
        Self.expectTampered { _ = try reader.readAll() }

        // Another blob's bytes under this name: its trailer names the other blob.
        try await Self.replaceRaw(sealed, a, with: try Self.raw(sealed, b), backend: backend)
        Self.expectTampered { _ = try sealed.fs.blobs.open(a) }
        #expect(Self.isTampering { _ = try sealed.fs.open(blob: a) }, "the file system says a swapped blob is tampering")

        // Cut: the last chunk removed, the trailer kept.
        let cut = Array(rawA[..<(header + 3 * sealedChunk)]) + Array(rawA.suffix(56))
        try await Self.replaceRaw(sealed, a, with: cut, backend: backend)
        Self.expectTampered { _ = try sealed.fs.blobs.open(a) }

        // Reordered: the first two chunks swapped.
        let c0 = rawA[header..<(header + sealedChunk)]
        let c1 = rawA[(header + sealedChunk)..<(header + 2 * sealedChunk)]
        let reordered = Array(rawA[..<header]) + Array(c1) + Array(c0) + Array(rawA[(header + 2 * sealedChunk)...])
        try await Self.replaceRaw(sealed, a, with: reordered, backend: backend)
        Self.expectTampered { _ = try #require(try sealed.fs.blobs.open(a)).read(at: 0, count: 10) }

        // Planted in clear under the name: its content does not have that digest.
        try await Self.replaceRaw(sealed, a, with: Array("a forged image".utf8), backend: backend)
        Self.expectTampered { _ = try sealed.fs.blobs.open(a) }

        // The original bytes put back open again: nothing was cached from the forgeries.
        try await Self.replaceRaw(sealed, a, with: rawA, backend: backend)
        #expect(try #require(try sealed.fs.blobs.open(a)).readAll() == first)

        #expect(sealed.events.all.filter { $0.action == "key_tamper_detected" }.count >= 5)
        await sealed.test.close()
    }

    @Test(arguments: Backend.allCases)
    func aBlobStoredInClearBeforeEncryptionIsReadOnceItsDigestMatches(backend: Backend) async throws {
        let sealed = try await Sealed.make(backend)
        let legacy = Array("an image from before encryption at rest".utf8)
        let name = try sealed.test.store.blobs.put(legacy)
        #expect(name.hex == Self.sha256(legacy))
        #expect(try #require(try sealed.fs.blobs.open(name)).readAll() == legacy)
        // One whose content happens to begin like a sealed blob is still read by its digest.
        let lookalike = [0x46, 0x42, 0x01, 0x05] + Array("a binary file from before".utf8)
        let lookalikeName = try sealed.test.store.blobs.put(lookalike)
        #expect(try #require(try sealed.fs.blobs.open(lookalikeName)).readAll() == lookalike)
        #expect(try sealed.fs.blobs.open(try #require(BlobName(hex: Self.sha256(Array("absent".utf8))))) == nil)
        await sealed.test.close()
    }
}
