import Processes

#if canImport(Glibc)
    import Glibc
#endif

/// Unbuffered writes to a file descriptor, retried until complete.
struct FileDescriptorOutput: Sendable {
    let fileDescriptor: Int32

    static let standardOutput = FileDescriptorOutput(fileDescriptor: 1)
    static let standardError = FileDescriptorOutput(fileDescriptor: 2)

    func write(_ bytes: [UInt8]) {
        RawPipe.writeAll(fileDescriptor, bytes)
    }

    func writeLine(_ text: String) {
        write(Array((text + "\n").utf8))
    }
}

/// Reads newline-terminated lines from a file descriptor as they arrive.
///
/// `nextLines()` returns every complete line that one `read(2)` made available, so a
/// caller answering them can flush before blocking for more input.
struct LineReader {
    let fileDescriptor: Int32
    private var pending: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)
    private var finished = false

    init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
    }

    /// The next group of lines (without terminators), or `nil` at the end of input.
    mutating func nextLines() throws -> [ArraySlice<UInt8>]? {
        while !finished {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fileDescriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReadError(errno: errno)
            }
            if count == 0 {
                finished = true
                break
            }
            pending.append(contentsOf: chunk[0..<count])
            if let lines = takeCompleteLines() { return lines }
        }
        if pending.isEmpty { return nil }
        defer { pending = [] }
        return [pending[...]]
    }

    private mutating func takeCompleteLines() -> [ArraySlice<UInt8>]? {
        guard let lastNewline = pending.lastIndex(of: UInt8(ascii: "\n")) else { return nil }
        let complete = Array(pending[...lastNewline])
        pending.removeFirst(lastNewline + 1)
        var lines = complete.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        lines.removeLast()  // the empty piece after the final newline
        return lines
    }

    struct ReadError: Error, CustomStringConvertible {
        let errno: Int32
        var description: String { "cannot read input: \(String(cString: strerror(errno)))" }
    }
}
