import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where downloaded bytes go: stdout or a file, written as they arrive and with every
/// write error reported (a full disk must not look like a finished download).
///
/// ```swift
/// let sink = try ByteSink(creating: "photo.jpg")
/// try sink.write(chunk); try sink.finish()   // or sink.abandon() to remove a partial file
/// ```
public final class ByteSink {
    private var descriptor: Int32
    /// The file's path; `nil` for stdout.
    public let path: String?

    /// Standard output.
    public static func standardOutput() -> ByteSink { ByteSink(descriptor: 1, path: nil) }

    /// Standard error (for notes, never data).
    public static func standardError() -> ByteSink { ByteSink(descriptor: 2, path: nil) }

    private init(descriptor: Int32, path: String?) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Creates (or truncates) the file at `path`.
    public convenience init(creating path: String) throws(FstnError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw FstnError("cannot create \(path): \(String(cString: strerror(errno)))", next: "choose another file with -o")
        }
        self.init(descriptor: descriptor, path: path)
    }

    deinit {
        if path != nil && descriptor >= 0 { close(descriptor) }
    }

    public func write(_ bytes: some ContiguousBytes) throws(FstnError) {
        let failure: Int32? = bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
        if let failure {
            throw FstnError(
                "cannot write \(path ?? "the output"): \(String(cString: strerror(failure)))",
                next: path == nil ? "check where the output goes" : "check the disk's free space and the file's permissions")
        }
    }

    /// Closes a file, reporting a late write error (e.g. on a network file system).
    public func finish() throws(FstnError) {
        guard let path, descriptor >= 0 else { return }
        let result = close(descriptor)
        descriptor = -1
        if result != 0 {
            throw FstnError("cannot write \(path): \(String(cString: strerror(errno)))", next: "check the disk's free space")
        }
    }

    /// Closes and removes a partly written file.
    public func abandon() {
        guard let path else { return }
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(path)
    }
}
