import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Blobs as read-only files `<directory>/<2 hex>/<62 hex>`.
///
/// An upload writes a temporary file in `<directory>/tmp` (same file system, so the
/// final rename is atomic) while hashing; finalize fsyncs it, renames it to its name
/// (keeping an existing identical blob) and fsyncs the directory. A crash leaves at
/// most a stray temporary file, removed at the next start.
public final class LocalBlobStore: BlobStore {
    public let directory: String
    private let temporaryDirectory: String

    public init(directory: String) throws {
        self.directory = directory
        temporaryDirectory = (directory as NSString).appendingPathComponent("tmp")
        do {
            try FileManager.default.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
            // Uploads interrupted by a crash can never be finalized.
            for stale in try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory) {
                try? FileManager.default.removeItem(atPath: (temporaryDirectory as NSString).appendingPathComponent(stale))
            }
        } catch {
            throw StoreError("cannot prepare the blob directory \(directory): \(error.localizedDescription)")
        }
    }

    func path(of name: BlobName) -> String {
        let hex = name.hex
        return "\(directory)/\(hex.prefix(2))/\(hex.dropFirst(2))"
    }

    public func create(naming: BlobNaming) throws -> any BlobUpload {
        let template = (temporaryDirectory as NSString).appendingPathComponent("upload-XXXXXX")
        var buffer = Array(template.utf8CString)
        let fd = mkstemp(&buffer)
        guard fd >= 0 else { throw StoreError("cannot create a blob upload: \(String(cString: strerror(errno)))") }
        let tempPath = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return LocalBlobUpload(store: self, fd: fd, tempPath: tempPath, hashing: naming == .contentDigest)
    }

    public func open(_ name: BlobName) throws -> (any BlobReader)? {
        let fd = Glibc.open(path(of: name), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw StoreError("cannot open blob \(name): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            Glibc.close(fd)
            throw StoreError("cannot stat blob \(name): \(String(cString: strerror(errno)))")
        }
        return LocalBlobReader(name: name, fd: fd, size: Int64(info.st_size))
    }

    /// Moves a finished temporary file to its content address.
    fileprivate func install(tempPath: String, name: BlobName) throws {
        let final = path(of: name)
        let shard = (final as NSString).deletingLastPathComponent
        if mkdir(shard, 0o755) != 0 && errno != EEXIST {
            throw StoreError("cannot create \(shard): \(String(cString: strerror(errno)))")
        }
        if access(final, F_OK) == 0 {
            // Same content, same name: keep the existing blob.
            unlink(tempPath)
            return
        }
        chmod(tempPath, 0o444)
        guard rename(tempPath, final) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tempPath)
            throw StoreError("cannot store blob \(name): \(reason)")
        }
        let dirFD = Glibc.open(shard, O_RDONLY | O_DIRECTORY)
        if dirFD >= 0 {
            fsync(dirFD)
            Glibc.close(dirFD)
        }
    }
}

/// An upload to a temporary file with a running SHA-256 (when the store names it).
final class LocalBlobUpload: BlobUpload, @unchecked Sendable {
    private let store: LocalBlobStore
    private let tempPath: String
    private let lock = NSLock()
    private var fd: Int32
    private var hasher: SHA256?
    private var written: Int64 = 0

    init(store: LocalBlobStore, fd: Int32, tempPath: String, hashing: Bool) {
        self.store = store
        self.fd = fd
        self.tempPath = tempPath
        hasher = hashing ? SHA256() : nil
    }

    deinit {
        if fd >= 0 {
            Glibc.close(fd)
            unlink(tempPath)
        }
    }

    var size: Int64 { lock.withLock { written } }

    func write(_ bytes: [UInt8]) throws {
        try lock.withLock {
            guard fd >= 0 else { throw StoreError("the blob upload is already finished") }
            try bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw StoreError("cannot write blob data: \(String(cString: strerror(errno)))")
                    }
                    offset += n
                }
            }
            hasher?.update(data: bytes)
            written += Int64(bytes.count)
        }
    }

    func finalize(as given: BlobName?) throws -> BlobName {
        try lock.withLock {
            guard fd >= 0 else { throw StoreError("the blob upload is already finished") }
            guard let name = given ?? hasher.map({ BlobName(digest: $0.finalize()) }) else {
                abortLocked()
                throw StoreError("this blob upload is named by its caller, who gave no name")
            }
            defer {
                Glibc.close(fd)
                fd = -1
            }
            guard fsync(fd) == 0 else {
                unlink(tempPath)
                throw StoreError("cannot sync blob data: \(String(cString: strerror(errno)))")
            }
            try store.install(tempPath: tempPath, name: name)
            return name
        }
    }

    func abort() {
        lock.withLock { abortLocked() }
    }

    private func abortLocked() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
        unlink(tempPath)
    }
}

/// A read-only file descriptor on a finalized blob; `pread` needs no shared offset.
final class LocalBlobReader: BlobReader, @unchecked Sendable {
    let name: BlobName
    let size: Int64
    private let fd: Int32

    init(name: BlobName, fd: Int32, size: Int64) {
        self.name = name
        self.fd = fd
        self.size = size
    }

    deinit { Glibc.close(fd) }

    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0 else { throw StoreError("negative blob offset or count") }
        let wanted = Int(max(0, min(Int64(count), size - offset)))
        guard wanted > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: wanted)
        var done = 0
        try out.withUnsafeMutableBytes { raw in
            while done < wanted {
                let n = pread(fd, raw.baseAddress! + done, wanted - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StoreError("cannot read blob \(name): \(String(cString: strerror(errno)))")
                }
                if n == 0 { break }
                done += n
            }
        }
        return done == wanted ? out : Array(out[..<done])
    }
}
