import Foundation
import Sandbox
import Testing

/// The compiled filters, run by a small BPF interpreter: each runtime's allowlist is
/// allowed, each rule of the policy answers what it says, and everything else is refused.
@Suite("Seccomp filter")
struct SeccompTests {
    /// Evaluates the program for one system call, as the kernel would.
    static func evaluate(_ program: [UInt8], arch: UInt32, nr: UInt32, arg0: UInt32 = 0, arg1: UInt32 = 0) -> UInt32 {
        func word(_ offset: UInt32) -> UInt32 {
            switch offset {
            case 0: return nr
            case 4: return arch
            case 16: return arg0
            case 24: return arg1
            default: return 0
            }
        }
        let count = program.count / 8
        var pc = 0
        var accumulator: UInt32 = 0
        while pc < count {
            let base = pc * 8
            let code = UInt16(program[base]) | UInt16(program[base + 1]) << 8
            let jt = Int(program[base + 2])
            let jf = Int(program[base + 3])
            let k = (0..<4).reduce(UInt32(0)) { $0 | UInt32(program[base + 4 + $1]) << (8 * UInt32($1)) }
            switch code {
            case 0x20: accumulator = word(k); pc += 1
            case 0x15: pc += 1 + (accumulator == k ? jt : jf)
            case 0x35: pc += 1 + (accumulator >= k ? jt : jf)
            case 0x45: pc += 1 + (accumulator & k != 0 ? jt : jf)
            case 0x06: return k
            default:
                Issue.record("unknown instruction \(code)")
                return 0
            }
        }
        Issue.record("the program fell off its end")
        return 0
    }

    static let allow: UInt32 = 0x7FFF_0000
    static func errno(_ value: UInt32) -> UInt32 { 0x0005_0000 | value }
    static let EPERM = errno(1)
    static let ENOSYS = errno(38)
    static let ENOTTY = errno(25)

    @Test(arguments: SeccompPolicy.runtimes)
    func x86_64DecisionsMatchThePolicy(policy: SeccompPolicy) throws {
        let table = SyscallTable.x86_64
        let program = try SeccompCompiler.compile(policy, table: table)
        #expect(program.count % 8 == 0 && program.count / 8 < 4096)
        let arch = table.auditArch
        for rule in SeccompPolicy.refused where !table.absent.contains(rule.syscall) {
            guard case let .errno(value) = rule.action else { continue }
            #expect(Self.evaluate(program, arch: arch, nr: table.numbers[rule.syscall]!) == Self.errno(UInt32(value)), "\(rule.syscall)")
        }
        for ordinary: UInt32 in [0, 1, 2, 3, 9, 57, 59, 60, 231, 257] {  // read, write, open, close, mmap, fork, execve, exit…
            #expect(Self.evaluate(program, arch: arch, nr: ordinary) == Self.allow, "syscall \(ordinary)")
        }
        let socket = table.numbers["socket"]!
        #expect(Self.evaluate(program, arch: arch, nr: socket, arg0: 1) == Self.allow)  // AF_UNIX
        for family: UInt32 in [2, 10, 16, 17, 40] {  // INET, INET6, NETLINK, PACKET, VSOCK
            #expect(Self.evaluate(program, arch: arch, nr: socket, arg0: family) == Self.errno(97))
            #expect(Self.evaluate(program, arch: arch, nr: table.numbers["socketpair"]!, arg0: family) == Self.errno(97))
        }
        let clone = table.numbers["clone"]!
        #expect(Self.evaluate(program, arch: arch, nr: clone, arg0: 0x0001_1200) == Self.allow)  // a thread or fork
        #expect(Self.evaluate(program, arch: arch, nr: clone, arg0: 0x1000_0000) == Self.errno(1))  // CLONE_NEWUSER
        #expect(Self.evaluate(program, arch: arch, nr: clone, arg0: 0x4000_0011) == Self.errno(1))  // CLONE_NEWNET
        // x32 numbers and foreign architectures.
        #expect(Self.evaluate(program, arch: arch, nr: 0x4000_0000 + 101) == Self.errno(1))
        #expect(Self.evaluate(program, arch: 0x4000_0003, nr: 26) == 0x8000_0000)  // i386 ptrace: killed
    }

    @Test(arguments: SeccompPolicy.runtimes)
    func aarch64TableCompiles(policy: SeccompPolicy) throws {
        let table = SyscallTable.aarch64
        let program = try SeccompCompiler.compile(policy, table: table)
        #expect(Self.evaluate(program, arch: table.auditArch, nr: 117) == Self.errno(1))  // ptrace
        #expect(Self.evaluate(program, arch: table.auditArch, nr: 63) == Self.allow)  // read
        // The generic names of what x86_64 measured under its legacy ones.
        for generic: UInt32 in [56, 24, 22, 34, 35, 78, 48] {  // openat, dup3, epoll_pwait, mkdirat, unlinkat, readlinkat, faccessat
            #expect(Self.evaluate(program, arch: table.auditArch, nr: generic) == Self.allow, "syscall \(generic)")
        }
        #expect(Self.evaluate(program, arch: table.auditArch, nr: 76) == Self.EPERM)  // splice
    }

    /// Every number below the table's end: allowed exactly when the policy lists it
    /// (calls with an argument rule checked apart), otherwise the refusal's answer or EPERM.
    @Test(arguments: SeccompPolicy.runtimes)
    func everyNumberIsAllowedOnlyIfListed(policy: SeccompPolicy) throws {
        let table = SyscallTable.x86_64
        let program = try SeccompCompiler.compile(policy, table: table)
        let names = Dictionary(table.numbers.map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let allowed = Set(policy.allowed)
        let ruled = Set(SeccompPolicy.argumentRules.map(\.syscall))
        let answers = Dictionary(SeccompPolicy.refused.map { ($0.syscall, $0.action) }, uniquingKeysWith: { first, _ in first })
        var allowedCount = 0
        for nr in 0..<table.firstUnknown {
            let name = names[nr]
            if let name, ruled.contains(name) { continue }
            let decision = Self.evaluate(program, arch: table.auditArch, nr: nr)
            if let name, allowed.contains(name) {
                #expect(decision == Self.allow, "\(policy.name) \(name)")
                allowedCount += 1
            } else if let name, case let .errno(value) = answers[name] {
                #expect(decision == Self.errno(UInt32(value)), "\(policy.name) \(name)")
            } else {
                #expect(decision == Self.EPERM, "\(policy.name) \(name ?? "syscall \(nr)")")
            }
        }
        #expect(allowedCount + allowed.intersection(ruled).count == allowed.count)
    }

    @Test func eachRuntimeGetsItsOwnList() throws {
        let table = SyscallTable.x86_64
        let python = try SeccompCompiler.compile(.python, table: table)
        let node = try SeccompCompiler.compile(.node, table: table)
        func decision(_ program: [UInt8], _ name: String) -> UInt32 {
            Self.evaluate(program, arch: table.auditArch, nr: table.numbers[name]!)
        }
        // Python's: subprocess's vfork, shutil's sendfile, select; not Node's.
        for name in ["vfork", "sendfile", "pselect6", "close_range", "listxattr"] {
            #expect(decision(python, name) == Self.allow, "python3 \(name)")
        }
        #expect(decision(node, "sendfile") == Self.EPERM)
        #expect(decision(node, "listxattr") == Self.EPERM)
        // Node's: libuv's statx, eventfd and copy_file_range, V8's memory protection keys; not Python's.
        for name in ["statx", "eventfd2", "copy_file_range", "pkey_alloc", "pkey_mprotect", "capget"] {
            #expect(decision(node, name) == Self.allow, "node \(name)")
            #expect(decision(python, name) == Self.EPERM, "python3 \(name)")
        }
    }

    /// Calls the old default-allow filter let through and no runtime needs.
    @Test(arguments: SeccompPolicy.runtimes)
    func rarelyUsedCallsAreRefused(policy: SeccompPolicy) throws {
        let table = SyscallTable.x86_64
        let program = try SeccompCompiler.compile(policy, table: table)
        // splice, tee, vmsplice (Dirty Pipe's and older exploits' door), modify_ldt, memfd_create,
        // mknod, msgget, prctl, seccomp, fanotify_mark, inotify_init1, sched_setattr.
        for nr: UInt32 in [275, 276, 278, 154, 319, 133, 68, 157, 317, 301, 294, 314] {
            #expect(Self.evaluate(program, arch: table.auditArch, nr: nr) == Self.EPERM, "\(policy.name) syscall \(nr)")
        }
    }

    @Test(arguments: SeccompPolicy.runtimes)
    func callsNewerThanTheTableAnswerENOSYS(policy: SeccompPolicy) throws {
        for table in [SyscallTable.x86_64, .aarch64] {
            let program = try SeccompCompiler.compile(policy, table: table)
            for nr: UInt32 in [451, 452, 453, 462, 1000] {  // cachestat, fchmodat2, map_shadow_stack, mseal, …
                #expect(Self.evaluate(program, arch: table.auditArch, nr: nr) == Self.ENOSYS, "syscall \(nr)")
            }
            #expect(Self.evaluate(program, arch: table.auditArch, nr: table.numbers["clone3"]!) == Self.ENOSYS)
        }
    }

    @Test(arguments: SeccompPolicy.runtimes)
    func ioctlTakesOnlyTheMeasuredRequests(policy: SeccompPolicy) throws {
        let table = SyscallTable.x86_64
        let program = try SeccompCompiler.compile(policy, table: table)
        let ioctl = table.numbers["ioctl"]!
        for request in SeccompPolicy.allowedIoctlRequests {
            #expect(Self.evaluate(program, arch: table.auditArch, nr: ioctl, arg0: 5, arg1: request) == Self.allow)
        }
        // TIOCSETD (line disciplines), TIOCSTI (typing into a terminal), FIONREAD, FICLONE, FS_IOC_GETFLAGS.
        for request: UInt32 in [0x5423, 0x5412, 0x541B, 0x4004_9409, 0x8008_6601] {
            #expect(Self.evaluate(program, arch: table.auditArch, nr: ioctl, arg0: 5, arg1: request) == Self.ENOTTY, "request \(request)")
        }
    }

    @Test func aPolicyListingARefusedCallDoesNotCompile() {
        #expect(throws: SeccompCompiler.Failure.self) {
            try SeccompCompiler.compile(SeccompPolicy(name: "bad", calls: ["read", "ptrace"]), table: .x86_64)
        }
        #expect(throws: SeccompCompiler.Failure.self) {
            try SeccompCompiler.compile(SeccompPolicy(name: "typo", calls: ["read", "wirte"]), table: .x86_64)
        }
    }

    /// Every name the tables hold has the number of the kernel's uapi headers on this machine.
    @Test func tablesMatchTheKernelHeaders() throws {
        let generic = "/usr/include/asm-generic/unistd.h"
        try #require(
            FileManager.default.fileExists(atPath: generic), "the kernel headers are missing; install them with: sudo apt-get install -y linux-libc-dev")
        var tables = [(SyscallTable.aarch64, Self.genericNumbers(try String(contentsOfFile: generic, encoding: .utf8)))]
        #if arch(x86_64)
            let x86 = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
            tables.append((.x86_64, Self.defines(try String(contentsOfFile: x86, encoding: .utf8), prefix: "__NR_")))
        #endif
        for (table, headers) in tables {
            for (name, number) in table.numbers {
                #expect(headers[name] == number, "\(name): \(number) here, \(headers[name].map(String.init) ?? "absent") in the headers")
            }
            for name in table.absent {
                #expect(headers[name] == nil, "\(name) is in the headers")
            }
            #expect(headers.values.max().map { $0 < table.firstUnknown } == true)
        }
        let named = Set(SeccompPolicy.runtimes.flatMap(\.allowed) + SeccompPolicy.refused.map(\.syscall))
        for table in [SyscallTable.x86_64, .aarch64] {
            for name in named { #expect(table.numbers[name] != nil || table.absent.contains(name), "\(name)") }
        }
    }

    /// `#define PREFIXname number` lines.
    static func defines(_ text: String, prefix: String) -> [String: UInt32] {
        var result: [String: UInt32] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count == 3, words[0] == "#define", words[1].hasPrefix(prefix), let number = UInt32(words[2]) else { continue }
            result[String(words[1].dropFirst(prefix.count))] = number
        }
        return result
    }

    /// asm-generic's numbers for a 64-bit architecture: `__NR_x` and the `__NR3264_y` aliases
    /// (`#define __NR_newfstatat __NR3264_fstatat`), without 32-bit-only names.
    static func genericNumbers(_ text: String) -> [String: UInt32] {
        var numbers = defines(text, prefix: "__NR_")
        let sized = defines(text, prefix: "__NR3264_")
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count == 3, words[0] == "#define", words[1].hasPrefix("__NR_"), words[2].hasPrefix("__NR3264_"),
                let number = sized[String(words[2].dropFirst("__NR3264_".count))]
            else { continue }
            let name = String(words[1].dropFirst("__NR_".count))
            if !name.hasSuffix("64") && numbers[name] == nil { numbers[name] = number }
        }
        numbers.removeValue(forKey: "syscalls")
        return numbers
    }
}
