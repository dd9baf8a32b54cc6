import FaastenTestSupport
import Foundation
import Processes
import Sandbox
import Testing

/// Function images: ordinary archives unpack; hostile ones are refused.
@Suite("Function images")
struct TarArchiveTests {
    /// One ustar entry (header and padded data).
    static func entry(_ name: String, type: UInt8 = UInt8(ascii: "0"), data: [UInt8] = [], link: String = "") -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, length: Int) {
            for (i, byte) in text.utf8.prefix(length).enumerated() { header[offset + i] = byte }
        }
        put(name, at: 0, length: 100)
        put("0000644\0", at: 100, length: 8)
        put("0000000\0", at: 108, length: 8)
        put("0000000\0", at: 116, length: 8)
        put(String(format: "%011o\0", data.count), at: 124, length: 12)
        put("00000000000\0", at: 136, length: 12)
        header[156] = type
        put(link, at: 157, length: 100)
        put("ustar\0", at: 257, length: 6)
        put("00", at: 263, length: 2)
        put("        ", at: 148, length: 8)
        let sum = header.reduce(0) { $0 + Int($1) }
        put(String(format: "%06o\0 ", sum), at: 148, length: 8)
        return header + data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    static let end = [UInt8](repeating: 0, count: 1024)

    static func staging() throws -> (StagingArea, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        return (try StagingArea(root: directory.path + "/staging"), directory)
    }

    @Test func anOrdinaryImageUnpacksOnce() throws {
        let (staging, directory) = try Self.staging()
        let source = directory.path + "/function"
        try FileManager.default.createDirectory(atPath: source + "/package/lib", withIntermediateDirectories: true)
        try "def handle(s, **k): return 'hi'\n".write(toFile: source + "/workload.py", atomically: true, encoding: .utf8)
        try "x = 1\n".write(toFile: source + "/package/lib/mod.py", atomically: true, encoding: .utf8)
        let archive = try ChildProcess.run("/usr/bin/tar", ["-czf", "-", "-C", source, "."])
        try #require(archive.status.succeeded)
        let unpacked = try staging.unpack(image: "abc", bytes: archive.stdout)
        #expect(try String(contentsOfFile: unpacked + "/workload.py", encoding: .utf8).contains("handle"))
        #expect(try String(contentsOfFile: unpacked + "/package/lib/mod.py", encoding: .utf8) == "x = 1\n")
        // Unpacked once: the same name is reused even with other bytes.
        #expect(try staging.unpack(image: "abc", bytes: []) == unpacked)
        let plain = Self.entry("workload.py", data: Array("ok".utf8)) + Self.end
        #expect(try String(contentsOfFile: staging.unpack(image: "plain", bytes: plain) + "/workload.py", encoding: .utf8) == "ok")
    }

    @Test(arguments: [
        ("../escape.py", UInt8(ascii: "0"), ""),
        ("/etc/evil", UInt8(ascii: "0"), ""),
        ("a/../../x", UInt8(ascii: "0"), ""),
        ("link", UInt8(ascii: "2"), "/etc/passwd"),
        ("hard", UInt8(ascii: "1"), "workload.py"),
        ("device", UInt8(ascii: "3"), ""),
        ("fifo", UInt8(ascii: "6"), ""),
    ])
    func hostileEntriesAreRefused(name: String, type: UInt8, link: String) throws {
        let (staging, directory) = try Self.staging()
        let archive = Self.entry("workload.py", data: Array("ok".utf8)) + Self.entry(name, type: type, link: link) + Self.end
        #expect(throws: SandboxError.self) { try staging.unpack(image: "bad", bytes: archive) }
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/escape.py"))
        #expect(!FileManager.default.fileExists(atPath: staging.root + "/functions/image-bad"))
    }

    @Test func damagedArchivesAreRefused() throws {
        let (staging, _) = try Self.staging()
        var corrupt = Self.entry("workload.py", data: Array("ok".utf8)) + Self.end
        corrupt[10] ^= 0xFF  // the checksum no longer matches
        #expect(throws: SandboxError.self) { try staging.unpack(image: "c1", bytes: corrupt) }
        let cut = Array((Self.entry("workload.py", data: Array(repeating: 1, count: 2000)) + Self.end).prefix(700))
        #expect(throws: SandboxError.self) { try staging.unpack(image: "c2", bytes: cut) }
        #expect(throws: SandboxError.self) { try staging.unpack(image: "c3", bytes: [0x1F, 0x8B, 1, 2, 3]) }
        var limits = StagingArea.ImageLimits()
        limits.maxBytes = 100
        #expect(throws: SandboxError.self) {
            try staging.unpack(image: "c4", bytes: Self.entry("big", data: Array(repeating: 1, count: 101)) + Self.end, limits: limits)
        }
    }

    /// A pax `size` record near `Int.max` once made the bounds check overflow and trap.
    @Test(arguments: ["9223372036854775807", "9223372036854775296", "-1", "99999999999999999999"])
    func aHostilePaxSizeIsRefusedNotATrap(_ size: String) throws {
        let (staging, _) = try Self.staging()
        var record = " size=\(size)\n"
        record = "\(record.utf8.count + String(record.utf8.count).count)" + record
        let archive = Self.entry("pax", type: UInt8(ascii: "x"), data: Array(record.utf8))
            + Self.entry("workload.py", data: Array("ok".utf8)) + Self.end
        #expect(throws: SandboxError.self) { try staging.unpack(image: "pax", bytes: archive) }
    }

    /// A small gzip that expands past the image limits is stopped while decompressing,
    /// before the archive is held in memory whole.
    @Test func aDecompressionBombIsStoppedAtTheLimit() throws {
        let (staging, directory) = try Self.staging()
        let zeros = directory.path + "/zeros"
        #expect(FileManager.default.createFile(atPath: zeros, contents: Data(count: 8 << 20)))
        let bomb = try ChildProcess.run("/bin/gzip", ["-c", zeros])
        try #require(bomb.status.succeeded && bomb.stdout.count < 64 << 10)
        var limits = StagingArea.ImageLimits()
        limits.maxBytes = 1 << 20
        limits.maxFiles = 10
        #expect {
            try staging.unpack(image: "bomb", bytes: bomb.stdout, limits: limits)
        } throws: { error in
            "\(error)".contains("decompressed, the output exceeds")
        }
        #expect(!FileManager.default.fileExists(atPath: staging.root + "/functions/image-bomb"))
    }
}
