/// Compiles a ``SeccompPolicy`` into a classic BPF program (an array of `sock_filter`)
/// in the form `bwrap --seccomp FD` loads.
///
/// The program checks the architecture (a foreign one is killed), refuses other
/// ABIs' numbers, answers calls newer than the table ENOSYS, checks the argument rules
/// of the allowed calls that have one, answers the refusals whose answer is not the
/// default, allows the policy's calls, and answers everything else with the default
/// (EPERM). Argument rules come first: they are the only allowed calls the kernel
/// cannot cache (it skips the filter for calls it always allows whatever the
/// arguments), so they get the shortest path.
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
    static func answer(_ action: SeccompPolicy.Action) -> UInt32 {
        switch action {
        case let .errno(value): return errno(value)
        }
    }

    // Offsets in struct seccomp_data.
    static let nrOffset: UInt32 = 0
    static let archOffset: UInt32 = 4
    static func argumentLowOffset(_ index: UInt32) -> UInt32 { 16 + 8 * index }

    /// Why a program could not be built.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The program's bytes (`struct sock_filter[]`, native byte order).
    public static func compile(_ policy: SeccompPolicy, table: SyscallTable) throws -> [UInt8] {
        try instructions(policy, table).flatMap { instruction -> [UInt8] in
            withUnsafeBytes(of: instruction.code.littleEndian, Array.init)
                + [instruction.jt, instruction.jf]
                + withUnsafeBytes(of: instruction.k.littleEndian, Array.init)
        }
    }

    static func instructions(_ policy: SeccompPolicy, _ table: SyscallTable) throws -> [Instruction] {
        /// The call's number, or nil if it does not exist on this architecture.
        func number(_ name: String) throws -> UInt32? {
            if let number = table.numbers[name] { return number }
            guard table.absent.contains(name) else {
                throw Failure(description: "no system call number for \(name) on this architecture")
            }
            return nil
        }
        let refused = Set(SeccompPolicy.refused.map(\.syscall))
        if let name = policy.allowed.first(where: refused.contains) {
            throw Failure(description: "the \(policy.name) policy allows \(name), which is never allowed")
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
        program += [
            Instruction(code: jumpGreaterOrEqual, jt: 0, jf: 1, k: table.firstUnknown),
            Instruction(code: ret, jt: 0, jf: 0, k: answer(SeccompPolicy.newerCallAnswer)),
        ]
        let allowed = Set(policy.allowed)
        var ruled = Set<String>()
        for rule in SeccompPolicy.argumentRules where allowed.contains(rule.syscall) {
            guard let nr = try number(rule.syscall) else { continue }
            program += try block(rule, number: nr)
            ruled.insert(rule.syscall)
        }
        for rule in SeccompPolicy.refused where rule.action != SeccompPolicy.defaultAnswer {
            guard let nr = try number(rule.syscall) else { continue }
            program += [
                Instruction(code: jumpEqual, jt: 0, jf: 1, k: nr),
                Instruction(code: ret, jt: 0, jf: 0, k: answer(rule.action)),
            ]
        }
        for name in policy.allowed where !ruled.contains(name) {
            guard let nr = try number(name) else { continue }
            program += [
                Instruction(code: jumpEqual, jt: 0, jf: 1, k: nr),
                Instruction(code: ret, jt: 0, jf: 0, k: allow),
            ]
        }
        program.append(Instruction(code: ret, jt: 0, jf: 0, k: answer(SeccompPolicy.defaultAnswer)))
        return program
    }

    /// `if nr == number { load the argument; allow if it passes, else answer }`; the
    /// accumulator still holds the number when the call is another.
    static func block(_ rule: SeccompPolicy.ArgumentRule, number: UInt32) throws -> [Instruction] {
        var test: [Instruction]
        switch rule.condition {
        case let .oneOf(values):
            // Each match jumps over the rest of the tests and the refusal, to `allow`.
            guard values.count < 250 else { throw Failure(description: "too many values for \(rule.syscall)") }
            test = values.enumerated().map { index, value in
                Instruction(code: jumpEqual, jt: UInt8(values.count - index), jf: 0, k: value)
            }
        case let .noBitsOf(bits):
            test = [Instruction(code: jumpAnyBit, jt: 0, jf: 1, k: bits)]
        }
        test += [
            Instruction(code: ret, jt: 0, jf: 0, k: answer(rule.otherwise)),
            Instruction(code: ret, jt: 0, jf: 0, k: allow),
        ]
        return [
            Instruction(code: jumpEqual, jt: 0, jf: UInt8(test.count + 1), k: number),
            Instruction(code: loadWord, jt: 0, jf: 0, k: argumentLowOffset(rule.argument)),
        ] + test
    }
}
