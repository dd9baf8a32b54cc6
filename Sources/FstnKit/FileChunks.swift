import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// A file (or stdin) as an async sequence of chunks, for a streamed request body: at most
/// one chunk is in memory, whatever the file's size.
///
/// Each iteration opens the file anew, so a request with a file body can be retried; stdin
/// can be read once only. Reads are plain `read(2)` calls on the task's thread (never on a
/// NIO event loop: AsyncHTTPClient pulls the next chunk from a task), which suits a local
/// file and keeps `fstn` free of a file-system dependency.
public struct FileChunks: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    /// How much is read and sent at a time.
    public static let chunkSize = 256 * 1024

    /// The file's path; `nil` for stdin.
    public let path: String?
    /// The size when known (a regular file): sent as Content-Length.
    public let size: Int64?
    /// Told the byte count after each chunk.
    public let progress: (@Sendable (Int64) -> Void)?

    /// A regular file; throws if it cannot be opened or is not a regular file.
    public init(file path: String, progress: (@Sendable (Int64) -> Void)? = nil) throws(FstnError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw FstnError("cannot read \(path): \(String(cString: strerror(errno)))", next: "check the file's path")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FstnError("\(path) is not a regular file", next: "give a file, or - for stdin")
        }
        self.path = path
        self.size = Int64(info.st_size)
        self.progress = progress
    }

    /// Standard input, of unknown size (sent chunked).
    public static func standardInput(progress: (@Sendable (Int64) -> Void)? = nil) -> FileChunks {
        FileChunks(path: nil, size: nil, progress: progress)
    }

    private init(path: String?, size: Int64?, progress: (@Sendable (Int64) -> Void)?) {
        self.path = path
        self.size = size
        self.progress = progress
    }

    public var isRepeatable: Bool { path != nil }

    public func makeAsyncIterator() -> Iterator {
        Iterator(path: path, progress: progress)
    }

    /// Reads one chunk per `next()`; closes the file at the end.
    public final class Iterator: AsyncIteratorProtocol {
        private var descriptor: Int32 = -1
        private let path: String?
        private let progress: (@Sendable (Int64) -> Void)?
        private var opened = false
        private var finished = false
        private var sent: Int64 = 0

        init(path: String?, progress: (@Sendable (Int64) -> Void)?) {
            self.path = path
            self.progress = progress
        }

        deinit {
            if path != nil && descriptor >= 0 { close(descriptor) }
        }

        public func next() async throws -> ByteBuffer? {
            if finished { return nil }
            if !opened {
                opened = true
                if let path {
                    descriptor = open(path, O_RDONLY | O_CLOEXEC)
                    guard descriptor >= 0 else {
                        throw FstnError("cannot open \(path): \(String(cString: strerror(errno)))", next: "check the file's path")
                    }
                } else {
                    descriptor = 0
                }
            }
            var buffer = ByteBufferAllocator().buffer(capacity: FileChunks.chunkSize)
            let count = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: FileChunks.chunkSize) { pointer in
                while true {
                    let n = read(descriptor, pointer.baseAddress!, FileChunks.chunkSize)
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 {
                        throw FstnError("cannot read \(path ?? "stdin"): \(String(cString: strerror(errno)))", next: "check the file")
                    }
                    return n
                }
            }
            if count == 0 {
                finished = true
                if path != nil {
                    close(descriptor)
                    descriptor = -1
                }
                return nil
            }
            sent += Int64(count)
            progress?(sent)
            return buffer
        }
    }
}
