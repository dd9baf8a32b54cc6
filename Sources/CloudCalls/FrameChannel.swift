import Foundation
import SwiftProtobuf

#if canImport(Glibc)
    import Glibc
#endif

/// The CloudCall protocol's constants.
public enum CloudCallProtocol {
    /// The version this build speaks (`Hello.protocol_version`).
    public static let version: UInt32 = 1
    /// The default largest frame, 16 MiB.
    public static let defaultMaxMessageBytes = 16 << 20
}

/// Why a frame could not be read or written.
public enum FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The peer closed the channel at a frame boundary.
    case closed
    /// The peer closed the channel in the middle of a frame.
    case truncated
    /// The frame announced more bytes than the limit.
    case oversized(length: Int, limit: Int)
    /// No complete frame before the deadline.
    case timedOut
    /// The bytes are not a valid message.
    case malformed(String)
    case io(String)

    public var description: String {
        switch self {
        case .closed: return "the channel was closed"
        case .truncated: return "the channel was closed in the middle of a frame"
        case let .oversized(length, limit): return "a frame of \(length) bytes exceeds the limit of \(limit)"
        case .timedOut: return "timed out"
        case let .malformed(reason): return "malformed message: \(reason)"
        case let .io(reason): return "channel error: \(reason)"
        }
    }
}

/// One end of a CloudCall channel: 4-byte big-endian length + message, over a file
/// descriptor (a socketpair or a pipe pair). Blocking, with deadlines: meant for a
/// thread that serves one sandbox.
public final class FrameChannel: @unchecked Sendable {
    public let input: Int32
    public let output: Int32
    public let maxMessageBytes: Int
    /// Whether `output` is a socket, decided once: a socket is written with
    /// send(MSG_NOSIGNAL), a pipe with write (a send on a pipe fails, and would cost a
    /// second system call on every frame).
    private let outputIsSocket: Bool
    /// Bytes read but not yet consumed are `storage[start..<end]`; the storage only grows.
    private var storage = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0
    private var end = 0

    /// A channel reading `input` and writing `output` (the same descriptor for a socket).
    /// The channel does not own the descriptors.
    public init(input: Int32, output: Int32, maxMessageBytes: Int = CloudCallProtocol.defaultMaxMessageBytes) {
        self.input = input
        self.output = output
        self.maxMessageBytes = maxMessageBytes
        var info = stat()
        outputIsSocket = fstat(output, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK
    }

    /// The next frame's bytes, waiting until `deadline` (`nil`: no deadline).
    public func readFrame(deadline: ContinuousClock.Instant? = nil) throws(FrameError) -> [UInt8] {
        try fill(4, deadline: deadline, atBoundary: true)
        let length = storage[start..<(start + 4)].reduce(0) { ($0 << 8) | Int($1) }
        guard length <= maxMessageBytes else {
            throw .oversized(length: length, limit: maxMessageBytes)
        }
        try fill(4 + length, deadline: deadline, atBoundary: false)
        let frame = Array(storage[(start + 4)..<(start + 4 + length)])
        start += 4 + length
        if start == end {
            start = 0
            end = 0
            // Do not keep a large frame's memory for the life of the channel.
            if storage.count > 1 << 20 { storage = [UInt8](repeating: 0, count: 1 << 16) }
        }
        return frame
    }

    /// The next frame decoded as `M`.
    public func read<M: SwiftProtobuf.Message>(_ type: M.Type, deadline: ContinuousClock.Instant? = nil) throws(FrameError) -> M {
        let frame = try readFrame(deadline: deadline)
        do {
            return try M(serializedBytes: frame)
        } catch {
            throw .malformed("\(error)")
        }
    }

    /// Writes one message as a frame.
    public func write(_ message: some SwiftProtobuf.Message) throws(FrameError) {
        let body: [UInt8]
        do {
            body = try message.serializedBytes()
        } catch {
            throw .malformed("cannot encode \(type(of: message)): \(error)")
        }
        try writeFrame(body)
    }

    /// Writes raw frame contents.
    public func writeFrame(_ body: [UInt8]) throws(FrameError) {
        guard body.count <= maxMessageBytes else { throw .oversized(length: body.count, limit: maxMessageBytes) }
        let n = UInt32(body.count)
        var frame: [UInt8] = [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
        frame.append(contentsOf: body)
        let failure: FrameError? = frame.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                // On a socket, MSG_NOSIGNAL: a guest that went away must not kill us with
                // SIGPIPE (on a pipe, the process ignores SIGPIPE: see BubblewrapBackend).
                let written =
                    outputIsSocket
                    ? send(output, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                    : Glibc.write(output, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    if errno == EPIPE || errno == ECONNRESET { return .closed }
                    return .io(String(cString: strerror(errno)))
                }
                offset += written
            }
            return nil
        }
        if let failure { throw failure }
    }

    /// Reads until `count` bytes are buffered past `start`.
    private func fill(_ count: Int, deadline: ContinuousClock.Instant?, atBoundary: Bool) throws(FrameError) {
        guard end - start < count else { return }
        if start + count > storage.count {
            // Move what is buffered to the front, then grow to hold the whole frame.
            if start > 0 {
                storage.withUnsafeMutableBufferPointer { buffer in
                    _ = memmove(buffer.baseAddress!, buffer.baseAddress! + start, end - start)
                }
                end -= start
                start = 0
            }
            if count > storage.count {
                storage.append(contentsOf: repeatElement(0, count: count - storage.count))
            }
        }
        while end - start < count {
            try waitReadable(deadline)
            let room = storage.count - end
            let n = storage.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress! + end, room) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == ECONNRESET { throw atBoundary && end == start ? .closed : .truncated }
                throw .io(String(cString: strerror(errno)))
            }
            if n == 0 { throw atBoundary && end == start ? .closed : .truncated }
            end += n
        }
    }

    private func waitReadable(_ deadline: ContinuousClock.Instant?) throws(FrameError) {
        while true {
            var timeout: Int32 = -1
            if let deadline {
                let remaining = deadline - ContinuousClock.now
                if remaining <= .zero { throw .timedOut }
                let (seconds, attoseconds) = remaining.components
                timeout = Int32(min(Int64(Int32.max), seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1))
            }
            var descriptor = pollfd(fd: input, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, timeout)
            if ready > 0 { return }
            if ready == 0 { continue }  // re-check the deadline
            if errno == EINTR { continue }
            throw .io(String(cString: strerror(errno)))
        }
    }
}
