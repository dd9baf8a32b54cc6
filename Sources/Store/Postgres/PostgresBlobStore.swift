import Crypto
import Foundation
import NIOCore
import PostgresNIO

/// Blob bytes in PostgreSQL, in 1 MiB chunks, so that every node of a cluster sees
/// every blob without a shared file system.
///
/// An upload is a `blob_uploads` row plus chunks written as they fill; finalize
/// names it by its SHA-256 and publishes it in `blobs` in one transaction (or drops
/// the chunks if that name already exists). Uploads abandoned by a crash are
/// removed after a day.
final class PostgresBlobStore: BlobStore {
    static let chunkSize = 1 << 20
    let executor: PostgresExecutor

    init(executor: PostgresExecutor) {
        self.executor = executor
    }

    func create(naming: BlobNaming) throws -> any BlobUpload {
        let id = try executor.pool.withConnection { connection in
            _ = try self.executor.query(
                connection,
                """
                DELETE FROM blob_chunks WHERE upload IN (
                    SELECT id FROM blob_uploads WHERE started < now() - interval '1 day'
                    AND id NOT IN (SELECT upload FROM blobs))
                """)
            _ = try self.executor.query(connection, "DELETE FROM blob_uploads WHERE started < now() - interval '1 day'")
            guard let row = try self.executor.query(connection, "INSERT INTO blob_uploads DEFAULT VALUES RETURNING id").rows.first
            else { throw StoreError("postgres: could not start a blob upload") }
            return try row.decode(Int64.self)
        }
        return PostgresBlobUpload(store: self, upload: id, hashing: naming == .contentDigest)
    }

    func open(_ name: BlobName) throws -> (any BlobReader)? {
        try executor.pool.withConnection { connection -> PostgresBlobReader? in
            guard let row = try self.executor.query(connection, "SELECT upload, size FROM blobs WHERE name = \(name.hex)").rows.first
            else { return nil }
            let (upload, size) = try row.decode((Int64, Int64).self)
            return PostgresBlobReader(store: self, name: name, upload: upload, size: size)
        }
    }
}

final class PostgresBlobUpload: BlobUpload, @unchecked Sendable {
    private let store: PostgresBlobStore
    private let upload: Int64
    // Uploads are driven by one caller at a time; the lock only guards misuse.
    private let lock = NSLock()
    private var pending: [UInt8] = []
    private var nextChunk: Int32 = 0
    private var hasher: SHA256?
    private var written: Int64 = 0
    private var finished = false

    init(store: PostgresBlobStore, upload: Int64, hashing: Bool) {
        self.store = store
        self.upload = upload
        hasher = hashing ? SHA256() : nil
    }

    var size: Int64 { lock.withLock { written } }

    func write(_ bytes: [UInt8]) throws {
        let full: [(Int32, [UInt8])] = try lock.withLock {
            guard !finished else { throw StoreError("the blob upload is already finished") }
            hasher?.update(data: bytes)
            written += Int64(bytes.count)
            pending.append(contentsOf: bytes)
            var chunks: [(Int32, [UInt8])] = []
            while pending.count >= PostgresBlobStore.chunkSize {
                chunks.append((nextChunk, Array(pending[..<PostgresBlobStore.chunkSize])))
                pending.removeFirst(PostgresBlobStore.chunkSize)
                nextChunk += 1
            }
            return chunks
        }
        if !full.isEmpty { try store(full) }
    }

    private func store(_ chunks: [(Int32, [UInt8])]) throws {
        let upload = upload
        try store.executor.pool.withConnection { connection in
            for (seq, data) in chunks {
                let buffer = ByteBuffer(bytes: data)
                _ = try self.store.executor.query(
                    connection, "INSERT INTO blob_chunks (upload, seq, data) VALUES (\(upload), \(seq), \(buffer))")
            }
        }
    }

    func finalize(as given: BlobName?) throws -> BlobName {
        let named = try lock.withLock { () throws -> ([(Int32, [UInt8])], BlobName, Int64)? in
            guard !finished else { throw StoreError("the blob upload is already finished") }
            guard let name = given ?? hasher.map({ BlobName(digest: $0.finalize()) }) else { return nil }
            finished = true
            let last = pending.isEmpty ? [] : [(nextChunk, pending)]
            pending = []
            return (last, name, written)
        }
        guard let (last, name, size) = named else {
            abort()
            throw StoreError("this blob upload is named by its caller, who gave no name")
        }
        if !last.isEmpty { try store(last) }
        let upload = upload
        let executor = store.executor
        try executor.pool.withConnection { connection in
            try executor.inTransaction(connection, .write) {
                let inserted = try executor.query(
                    connection,
                    "INSERT INTO blobs (name, upload, size) VALUES (\(name.hex), \(upload), \(size)) ON CONFLICT DO NOTHING"
                ).metadata.rows ?? 0
                if inserted == 0 {
                    _ = try executor.query(connection, "DELETE FROM blob_chunks WHERE upload = \(upload)")
                }
                _ = try executor.query(connection, "DELETE FROM blob_uploads WHERE id = \(upload)")
            }
        }
        return name
    }

    func abort() {
        let alreadyFinished = lock.withLock { () -> Bool in
            defer { finished = true }
            return finished
        }
        guard !alreadyFinished else { return }
        let upload = upload
        let executor = store.executor
        _ = try? executor.pool.withConnection { connection in
            _ = try executor.query(connection, "DELETE FROM blob_chunks WHERE upload = \(upload)")
            _ = try executor.query(connection, "DELETE FROM blob_uploads WHERE id = \(upload)")
        }
    }
}

final class PostgresBlobReader: BlobReader {
    let name: BlobName
    let size: Int64
    private let store: PostgresBlobStore
    private let upload: Int64

    init(store: PostgresBlobStore, name: BlobName, upload: Int64, size: Int64) {
        self.store = store
        self.name = name
        self.upload = upload
        self.size = size
    }

    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0 else { throw StoreError("negative blob offset or count") }
        let end = min(size, offset + Int64(count))
        guard end > offset else { return [] }
        let chunk = Int64(PostgresBlobStore.chunkSize)
        let first = Int32(offset / chunk)
        let last = Int32((end - 1) / chunk)
        let upload = upload
        let executor = store.executor
        let rows = try executor.pool.withConnection { connection in
            try executor.query(
                connection,
                "SELECT seq, data FROM blob_chunks WHERE upload = \(upload) AND seq BETWEEN \(first) AND \(last) ORDER BY seq"
            ).rows.map { row -> (Int32, [UInt8]) in
                let (seq, data) = try row.decode((Int32, ByteBuffer).self)
                return (seq, Array(data.readableBytesView))
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(Int(end - offset))
        for (seq, data) in rows {
            let chunkStart = Int64(seq) * chunk
            let from = Int(max(offset, chunkStart) - chunkStart)
            let to = Int(min(end, chunkStart + Int64(data.count)) - chunkStart)
            if from < to { out.append(contentsOf: data[from..<to]) }
        }
        guard Int64(out.count) == end - offset else { throw StoreError("blob \(name) is missing chunks") }
        return out
    }
}
