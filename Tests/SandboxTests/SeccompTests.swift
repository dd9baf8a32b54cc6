import Foundation
import Sandbox
import Testing

/// The compiled filter, run by a small BPF interpreter: each rule of the policy
/// answers what it says, and everything else is allowed.
@Suite("Seccomp filter")
struct SeccompTests {
    /// Evaluates the program for one system call, as the kernel would.
    static func evaluate(_ program: [UInt8], arch: UInt32, nr: UInt32, arg0: UInt32 = 0) -> UInt32 {
        func word(_ offset: UInt32) -> UInt32 {
            switch offset {
            case 0: return nr
            case 4: return arch
            case 16: return arg0
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

    @Test func x86_64DecisionsMatchThePolicy() throws {
        let table = SyscallTable.x86_64
        let program = try SeccompCompiler.compile(table)
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

    @Test func aarch64TableCompiles() throws {
        let program = try SeccompCompiler.compile(SyscallTable.aarch64)
        #expect(Self.evaluate(program, arch: SyscallTable.aarch64.auditArch, nr: 117) == Self.errno(1))  // ptrace
        #expect(Self.evaluate(program, arch: SyscallTable.aarch64.auditArch, nr: 63) == Self.allow)  // read
    }
}
