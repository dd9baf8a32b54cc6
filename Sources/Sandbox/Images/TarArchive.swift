import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A strict reader of function images (POSIX ustar, with GNU long names and pax
/// path/size records). Images come from users and may be hostile, so it extracts
/// regular files and directories only — no links, devices or FIFOs — refuses
/// absolute paths and `..`, and bounds the total size and the number of files.
enum TarArchive {
    static func extract(_ archive: [UInt8], into destination: String, limits: StagingArea.ImageLimits) throws(SandboxError) {
        var offset = 0
        var files = 0
        var total: Int64 = 0
        var longName: String?
        var paxPath: String?
        var paxSize: Int?
        func fail(_ reason: String) -> SandboxError { .setup("bad function image: \(reason)") }

        while offset + 512 <= archive.count {
            let header = Array(archive[offset..<(offset + 512)])
            if header.allSatisfy({ $0 == 0 }) { return }  // end of archive
            guard checksumIsValid(header) else { throw fail("a header checksum does not match at byte \(offset)") }
            let type = header[156]
            guard let declared = number(header[124..<136]) else { throw fail("a bad size field at byte \(offset)") }
            let size = paxSize ?? declared
            let dataStart = offset + 512
            // Compared by subtraction: a hostile pax `size` near Int.max must not overflow.
            guard size >= 0, size <= archive.count - dataStart else { throw fail("an entry runs past the end of the archive") }
            let data = archive[dataStart..<(dataStart + size)]
            offset = dataStart + (size + 511) / 512 * 512

            switch type {
            case UInt8(ascii: "L"):  // GNU long name for the next entry
                longName = string(Array(data))
                continue
            case UInt8(ascii: "x"):  // pax extended header for the next entry
                (paxPath, paxSize) = try pax(Array(data))
                continue
            case UInt8(ascii: "g"):  // pax global header: nothing we use
                continue
            default:
                break
            }
            var name = paxPath ?? longName ?? fullName(header)
            longName = nil
            paxPath = nil
            paxSize = nil
            while name.hasPrefix("./") { name.removeFirst(2) }
            if name.isEmpty || name == "." { continue }
            let components = name.split(separator: "/", omittingEmptySubsequences: true)
            guard !name.hasPrefix("/"), !components.contains(".."), !name.utf8.contains(0), name.utf8.count <= 4096 else {
                throw fail("the path \(name.debugDescription) is absolute or leaves the image")
            }
            let path = destination + "/" + components.joined(separator: "/")
            files += 1
            guard files <= limits.maxFiles else { throw fail("more than \(limits.maxFiles) entries") }
            switch type {
            case UInt8(ascii: "5"):
                try makeDirectory(path)
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                total += Int64(size)
                guard total <= limits.maxBytes else { throw fail("more than \(limits.maxBytes) bytes of files") }
                try makeDirectory((path as NSString).deletingLastPathComponent)
                let mode = number(header[100..<108]) ?? 0o644
                try write(Array(data), to: path, executable: mode & 0o111 != 0)
            case UInt8(ascii: "1"), UInt8(ascii: "2"):
                throw fail("\(name) is a link; images may hold only regular files and directories")
            default:
                throw fail("\(name) has entry type \(Character(UnicodeScalar(type))); images may hold only regular files and directories")
            }
        }
        throw fail("the archive ends without its end-of-archive blocks")
    }

    static func makeDirectory(_ path: String) throws(SandboxError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw .setup("cannot create \(path): \(error.localizedDescription)")
        }
    }

    static func write(_ bytes: [UInt8], to path: String, executable: Bool) throws(SandboxError) {
        // O_EXCL|O_NOFOLLOW: never write through something already there.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, executable ? 0o755 : 0o644)
        guard fd >= 0 else { throw .setup("bad function image: cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
        guard ok else { throw .setup("cannot write \(path): \(String(cString: strerror(errno)))") }
        fchmod(fd, executable ? 0o755 : 0o644)
    }

    static func fullName(_ header: [UInt8]) -> String {
        let name = string(Array(header[0..<100]))
        let magic = string(Array(header[257..<262]))
        let prefix = magic == "ustar" ? string(Array(header[345..<500])) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    static func string(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field (NUL- or space-terminated), or GNU base-256 for large values.
    static func number(_ field: ArraySlice<UInt8>) -> Int? {
        if let first = field.first, first & 0x80 != 0 {
            var value = Int(first & 0x7F)
            for byte in field.dropFirst() {
                guard value < Int.max >> 8 else { return nil }
                value = value << 8 | Int(byte)
            }
            return value
        }
        let digits = field.prefix { $0 != 0 && $0 != UInt8(ascii: " ") }.drop { $0 == UInt8(ascii: " ") }
        if digits.isEmpty { return 0 }
        var value = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7"), value < Int.max >> 3 else { return nil }
            value = value << 3 | Int(digit - UInt8(ascii: "0"))
        }
        return value
    }

    static func checksumIsValid(_ header: [UInt8]) -> Bool {
        guard let stored = number(header[148..<156]) else { return false }
        var sum = 0
        for (index, byte) in header.enumerated() { sum += (148..<156).contains(index) ? 32 : Int(byte) }
        return sum == stored
    }

    /// The `path` and `size` records of a pax header ("<length> <key>=<value>\n"…).
    static func pax(_ data: [UInt8]) throws(SandboxError) -> (String?, Int?) {
        var path: String?
        var size: Int?
        var index = 0
        while index < data.count {
            guard let space = data[index...].firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: data[index..<space], as: UTF8.self)), length > 0, index + length <= data.count
            else { throw .setup("bad function image: a malformed pax header") }
            let record = data[(space + 1)..<(index + length)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                let key = String(decoding: record[..<equals], as: UTF8.self)
                var value = String(decoding: record[(equals + 1)...], as: UTF8.self)
                if value.hasSuffix("\n") { value.removeLast() }
                if key == "path" { path = value }
                if key == "size" { size = Int(value) }
            }
            index += length
        }
        return (path, size)
    }
}
