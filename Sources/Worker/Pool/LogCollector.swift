import Foundation
import Processes

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a sandbox's stdout and stderr (one pipe) as they come, so the function never
/// blocks on a full pipe, and hands them out per invocation, size-limited.
final class LogCollector: @unchecked Sendable {
    let writeEnd: Int32
    private let readEnd: Int32
    private let limit: Int
    private let lock = NSLock()
    private var buffer: [UInt8] = []
    private var dropped = 0
    private var closed = false

    init(limit: Int) throws {
        let pipe = try RawPipe.make()
        readEnd = pipe.read
        writeEnd = pipe.write
        self.limit = limit
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
        let thread = Thread { [self] in loop() }
        thread.name = "faasten-logs"
        thread.start()
    }

    private func loop() {
        while true {
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 1000)
            if lock.withLock({ closed }) { return }
            if ready > 0 && !drain() {
                lock.withLock { closed = true }
                Glibc.close(readEnd)
                return
            }
        }
    }

    /// Reads what is there; `false` once the writer is gone.
    @discardableResult
    private func drain() -> Bool {
        lock.withLock {
            var chunk = [UInt8](repeating: 0, count: 16384)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress!, $0.count) }
                if n > 0 {
                    let room = max(0, limit - buffer.count)
                    buffer.append(contentsOf: chunk[0..<min(n, room)])
                    dropped += n - min(n, room)
                    continue
                }
                return n < 0 && (errno == EAGAIN || errno == EINTR)
            }
        }
    }

    /// Everything written so far (the runtime flushes before responding), and a fresh start.
    func take() -> [UInt8] {
        drain()
        return lock.withLock {
            var logs = buffer
            if dropped > 0 { logs += Array("\n[\(dropped) more bytes dropped]\n".utf8) }
            buffer = []
            dropped = 0
            return logs
        }
    }

    /// Stops reading; the thread exits within a second.
    func close() {
        lock.withLock { closed = true }
        Glibc.close(writeEnd)
    }
}
