import CloudCalls
import FaastenTestSupport
import FileSystem
import Foundation
import LabelSamples
import Labels
import Monitor
import Store
import SwiftProtobuf
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Random and mutated frames against a real monitor (a Swift guest on a socketpair):
/// no crash, no hang, and every frame is answered or the channel is closed.
@Suite("Monitor fuzzing")
struct MonitorFuzzTests {
    /// A monitor serving one invocation on a background thread, and the guest's end.
    final class Session: @unchecked Sendable {
        let guest: FrameChannel
        let guestFD: Int32
        let hostFD: Int32
        let done = DispatchSemaphore(value: 0)

        init(fs: FileSystem, handshake: Bool) throws {
            var pair: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { throw CancellationError() }
            hostFD = pair[0]
            guestFD = pair[1]
            guest = FrameChannel(input: guestFD, output: guestFD)
            let monitor = Monitor(channel: FrameChannel(input: hostFD, output: hostFD), fileSystem: fs)
            let done = done
            Thread.detachNewThread {
                if (try? monitor.handshake(deadline: .now + .seconds(5))) != nil {
                    _ = monitor.serve(
                        GuestRequest(id: "fuzz", payload: []), context: try! SecurityContext(privilege: Privilege(parsing: "alice")),
                        deadline: .now + .seconds(20))
                }
                done.signal()
            }
            if handshake {
                var hello = WireGuestMessage()
                hello.hello.protocolVersion = CloudCallProtocol.version
                try guest.write(hello)
                _ = try guest.read(WireHostMessage.self, deadline: .now + .seconds(5))  // welcome
                _ = try guest.read(WireHostMessage.self, deadline: .now + .seconds(5))  // invocation
            }
        }

        /// Sends raw frame bytes (already length-prefixed or not) and reads the answer.
        /// `true` if answered with a result, `false` if the host closed or said goodbye.
        func exchange(_ raw: [UInt8]) -> Bool? {
            RawWrite.all(guestFD, raw)
            do {
                let answer = try guest.read(WireHostMessage.self, deadline: .now + .seconds(5))
                if case .result? = answer.kind { return true }
                return false
            } catch FrameError.timedOut {
                return nil
            } catch {
                return false
            }
        }

        func finish() -> Bool {
            shutdown(guestFD, Int32(SHUT_RDWR))
            let finished = done.wait(timeout: .now() + 25) == .success
            close(guestFD)
            close(hostFD)
            return finished
        }
    }

    static func frame(_ body: [UInt8]) -> [UInt8] {
        let n = UInt32(body.count)
        return [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)] + body
    }

    /// A well-formed call with random contents (handles, names, labels, sizes).
    static func randomCall(_ rng: inout SplitMix64) -> WireGuestMessage {
        func text() -> String {
            ["", "alice,T", "T,T", "a//b,T", "home", "~", "%:x", "home:<alice,alice>", "\u{0}", String(repeating: "x", count: 300),
             LabelSampler.escaping.label(using: &rng).description].randomElement(using: &rng)!
        }
        func handle() -> UInt64 { [0, 1, 2, 3, 99, .max].randomElement(using: &rng)! }
        var call = WireCall()
        call.id = rng.next()
        switch Int.random(in: 0..<22, using: &rng) {
        case 0: call.parseLabel.text = text()
        case 1: call.taint.label = text()
        case 2: call.declassify.secrecy = text()
        case 3: call.endorse.privilege = text()
        case 4: call.subPrivilege.suffix = [text(), text()]
        case 5: call.root = WireEmpty()
        case 6:
            call.open.directory = handle()
            if Bool.random(using: &rng) { call.open.name = text() } else { call.open.facet = text() }
        case 7: call.resolve.path = text()
        case 8: call.close.handle = handle()
        case 9: call.read.handle = handle()
        case 10: call.list.handle = handle()
        case 11:
            call.create.label = text()
            call.create.file = Data(repeating: 7, count: Int.random(in: 0..<100, using: &rng))
            if Bool.random(using: &rng) {
                call.create.link.directory = handle()
                call.create.link.name = text()
            }
        case 12: call.update.handle = handle(); call.update.file = Data([1, 2])
        case 13: call.link.directory = handle(); call.link.target = handle(); call.link.name = text()
        case 14: call.unlink.directory = handle(); call.unlink.name = text()
        case 15: call.listFacets.handle = handle(); call.listFacets.clearance = text()
        case 16: call.blobCreate = WireEmpty()
        case 17: call.blobWrite.handle = handle(); call.blobWrite.data = Data([1])
        case 18: call.blobRead.handle = handle(); call.blobRead.offset = rng.next(); call.blobRead.length = UInt32(truncatingIfNeeded: rng.next())
        case 19: call.blobFinalize.handle = handle()
        case 20: call.invoke.handle = handle()
        default: call.readGate.handle = handle()
        }
        var message = WireGuestMessage()
        message.call = call
        return message
    }

    @Test func randomAndMutatedFramesAreAnsweredOrClose() async throws {
        try await withFileSystem(.sqlite) { fs in
            var rng = SplitMix64(seed: 0xF022)
            for round in 0..<40 {
                let session = try Session(fs: fs, handshake: true)
                for _ in 0..<25 {
                    let bytes: [UInt8]
                    switch Int.random(in: 0..<10, using: &rng) {
                    case 0:  // random bytes
                        bytes = Self.frame((0..<Int.random(in: 0..<64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
                    case 1, 2:  // a valid call with bytes flipped
                        var body: [UInt8] = try Self.randomCall(&rng).serializedBytes()
                        for _ in 0..<Int.random(in: 1...3, using: &rng) where !body.isEmpty {
                            body[Int.random(in: 0..<body.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                        }
                        bytes = Self.frame(body)
                    case 3:  // a hello in the middle of an invocation
                        var hello = WireGuestMessage()
                        hello.hello.protocolVersion = 1
                        bytes = Self.frame(try hello.serializedBytes())
                    default:  // a well-formed call with random contents
                        bytes = Self.frame(try Self.randomCall(&rng).serializedBytes())
                    }
                    guard let answered = session.exchange(bytes) else {
                        Issue.record("round \(round): no answer within 5 s")
                        break
                    }
                    if !answered { break }  // goodbye or closed: allowed, and the end of this round
                }
                #expect(session.finish(), "round \(round): the monitor did not stop")
            }
        }
    }

    @Test func oversizedAndTruncatedFramesCloseTheChannel() async throws {
        try await withFileSystem(.sqlite) { fs in
            // A length above the limit: a goodbye, then the channel closes.
            let oversized = try Session(fs: fs, handshake: true)
            #expect(oversized.exchange([0xFF, 0xFF, 0xFF, 0xFF]) == false)
            #expect(oversized.finish())
            // A frame cut short: the monitor sees the close and stops.
            let truncated = try Session(fs: fs, handshake: true)
            RawWrite.all(truncated.guestFD, [0, 0, 0, 100, 1, 2, 3])
            #expect(truncated.finish())
            // Garbage before the hello: no welcome.
            let early = try Session(fs: fs, handshake: false)
            #expect(early.exchange(Self.frame([0xDE, 0xAD])) == false)
            #expect(early.finish())
            // A hello from the future: a goodbye naming the version.
            let future = try Session(fs: fs, handshake: false)
            var hello = WireGuestMessage()
            hello.hello.protocolVersion = 99
            RawWrite.all(future.guestFD, Self.frame(try hello.serializedBytes()))
            let goodbye = try future.guest.read(WireHostMessage.self, deadline: .now + .seconds(5))
            #expect(goodbye.goodbye.error.message.contains("version 99"))
            #expect(future.finish())
        }
    }
}

enum RawWrite {
    static func all(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
