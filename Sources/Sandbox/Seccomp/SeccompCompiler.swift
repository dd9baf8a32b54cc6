/// Compiles ``SeccompPolicy`` into a classic BPF program (an array of `sock_filter`)
/// in the form `bwrap --seccomp FD` loads.
///
/// The program checks the architecture (a foreign one is killed), refuses other
/// ABIs' numbers, answers each refused call with its errno, filters the socket
/// family and the clone flags, and allows everything else.
public enum SeccompCompiler {
    /// One BPF instruction.
    struct Instruction: Equatable {
        let code: UInt16
        let jt: UInt8
        let jf: UInt8
        let k: UInt32
    }

    // BPF opcodes.
    static let loadWord: UInt16 = 0x20  // BPF_LD | BPF_W | BPF_ABS
    static let jumpEqual: UInt16 = 0x15  // BPF_JMP | BPF_JEQ | BPF_K
    static let jumpGreaterOrEqual: UInt16 = 0x35  // BPF_JMP | BPF_JGE | BPF_K
    static let jumpAnyBit: UInt16 = 0x45  // BPF_JMP | BPF_JSET | BPF_K
    static let ret: UInt16 = 0x06  // BPF_RET | BPF_K

    // seccomp return values.
    static let allow: UInt32 = 0x7FFF_0000
    static let killProcess: UInt32 = 0x8000_0000
    static func errno(_ value: Int32) -> UInt32 { 0x0005_0000 | UInt32(value & 0xFFFF) }

    // Offsets in struct seccomp_data.
    static let nrOffset: UInt32 = 0
    static let archOffset: UInt32 = 4
    static func argumentLowOffset(_ index: UInt32) -> UInt32 { 16 + 8 * index }

    /// Why a program could not be built.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The program's bytes (`struct sock_filter[]`, native byte order).
    public static func compile(_ table: SyscallTable) throws -> [UInt8] {
        try instructions(table).flatMap { instruction -> [UInt8] in
            withUnsafeBytes(of: instruction.code.littleEndian, Array.init)
                + [instruction.jt, instruction.jf]
                + withUnsafeBytes(of: instruction.k.littleEndian, Array.init)
        }
    }

    static func instructions(_ table: SyscallTable) throws -> [Instruction] {
        func number(_ name: String) throws -> UInt32 {
            guard let number = table.numbers[name] else {
                throw Failure(description: "no system call number for \(name) on this architecture")
            }
            return number
        }
        var program: [Instruction] = [
            Instruction(code: loadWord, jt: 0, jf: 0, k: archOffset),
            Instruction(code: jumpEqual, jt: 1, jf: 0, k: table.auditArch),
            Instruction(code: ret, jt: 0, jf: 0, k: killProcess),
            Instruction(code: loadWord, jt: 0, jf: 0, k: nrOffset),
        ]
        if let base = table.foreignABIBase {
            program += [
                Instruction(code: jumpGreaterOrEqual, jt: 0, jf: 1, k: base),
                Instruction(code: ret, jt: 0, jf: 0, k: errno(SeccompPolicy.EPERM)),
            ]
        }
        for rule in SeccompPolicy.refused where !table.absent.contains(rule.syscall) {
            guard case let .errno(value) = rule.action else { continue }
            program += [
                Instruction(code: jumpEqual, jt: 0, jf: 1, k: try number(rule.syscall)),
                Instruction(code: ret, jt: 0, jf: 0, k: errno(value)),
            ]
        }
        // socket(family, …) and socketpair(family, …): family must be AF_UNIX.
        for name in ["socket", "socketpair"] {
            program += [
                Instruction(code: jumpEqual, jt: 0, jf: 4, k: try number(name)),
                Instruction(code: loadWord, jt: 0, jf: 0, k: argumentLowOffset(0)),
                Instruction(code: jumpEqual, jt: 1, jf: 0, k: SeccompPolicy.allowedSocketFamily),
                Instruction(code: ret, jt: 0, jf: 0, k: errno(SeccompPolicy.EAFNOSUPPORT)),
                Instruction(code: ret, jt: 0, jf: 0, k: allow),
            ]
        }
        // clone(flags, …): no namespace flags.
        program += [
            Instruction(code: jumpEqual, jt: 0, jf: 4, k: try number("clone")),
            Instruction(code: loadWord, jt: 0, jf: 0, k: argumentLowOffset(0)),
            Instruction(code: jumpAnyBit, jt: 0, jf: 1, k: SeccompPolicy.namespaceCloneFlags),
            Instruction(code: ret, jt: 0, jf: 0, k: errno(SeccompPolicy.EPERM)),
            Instruction(code: ret, jt: 0, jf: 0, k: allow),
            Instruction(code: ret, jt: 0, jf: 0, k: allow),
        ]
        return program
    }
}
