import FaastenTestSupport
import FileSystem
import Foundation
import Labels
import Processes
import Store
import Testing

/// A writer killed with SIGKILL loses nothing it acknowledged, and the store reopens.
@Suite("Crash safety")
struct CrashTests {
    @Test(arguments: Backend.allCases)
    func killedWriterLosesNothingAcknowledged(backend: Backend) async throws {
        let test = try await backend.makeStore()
        await test.close()  // the child process opens it

        let helper = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("faasten-test-helper")
        try #require(FileManager.default.isExecutableFile(atPath: helper.path), "build the helper: swift build --build-tests")
        let output = try RawPipe.make()
        let child = try ChildProcess(helper.path, ["crash-writer", test.location], stdout: .descriptor(output.write))
        close(output.write)
        var acknowledged: [Int] = []
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while acknowledged.count < 150 {
            let n = chunk.withUnsafeMutableBytes { read(output.read, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            buffer.append(contentsOf: chunk[0..<n])
            while let newline = buffer.firstIndex(of: 0x0A) {
                if let number = Int(String(decoding: buffer[..<newline], as: UTF8.self)) { acknowledged.append(number) }
                buffer.removeSubrange(...newline)
            }
        }
        // Killed in the middle of its next write.
        child.signal(SIGKILL)
        #expect(await child.exited() == .signaled(SIGKILL))
        close(output.read)
        try #require(acknowledged.count >= 150, "the writer stopped early")

        let reopened = try await StoreLocation(test.location).open()
        let fs = FileSystem(store: reopened)
        var reader_ = try SecurityContext()
        let directory = try await fs.resolve(FSPath(parsing: "crash"), &reader_)
        let names = Set(try await fs.list(directory, &reader_).map(\.name))
        for n in acknowledged {
            #expect(names.contains("f\(n)"), "acknowledged write f\(n) is missing")
        }
        let sample = try await fs.lookup(directory, "f\(acknowledged.last!)", &reader_)
        #expect(try await fs.read(file: sample, &reader_) == Array("\(acknowledged.last!)".utf8))
        if let sqlite = reopened as? SQLiteStore {
            #expect(try sqlite.integrityCheck() == "ok")
        }
        try await reopened.close()
        _ = test
    }
}
