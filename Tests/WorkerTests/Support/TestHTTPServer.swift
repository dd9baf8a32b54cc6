import FaastenTestSupport
import Foundation
import Processes

#if canImport(Glibc)
    import Glibc
#endif

/// The fixture HTTP server (Tests/Fixtures/http/service.py) on 127.0.0.1 and an
/// ephemeral port, stopped when released.
final class TestHTTPServer: Sendable {
    let port: Int
    private let process: ChildProcess

    init() throws {
        let pipe = try RawPipe.make()
        process = try ChildProcess(
            "/usr/bin/python3", ["-u", TestSandboxes.repository + "/Tests/Fixtures/http/service.py"],
            stdout: .descriptor(pipe.write), newSession: true)
        close(pipe.write)
        defer { close(pipe.read) }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(pipe.read, &byte, 1) == 1, byte != 0x0A { line.append(byte) }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.signal(SIGKILL)
            process.wait()
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "the test HTTP server did not start"])
        }
        self.port = port
    }

    deinit {
        process.signal(SIGKILL)
        process.wait()
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// How many requests (other than /count) reached the server.
    func requestCount() throws -> Int {
        let answer = String(decoding: try get("/count"), as: UTF8.self)
        guard let body = answer.components(separatedBy: "\r\n\r\n").last, let count = Int(body) else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "bad /count answer: \(answer)"])
        }
        return count
    }

    /// The raw HTTP/1.0 answer to GET `path` (Foundation on Linux has no HTTP client).
    private func get(_ path: String) throws -> [UInt8] {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.EIO) }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        RawPipe.writeAll(socket, Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        return RawPipe.readAll(socket)
    }
}
