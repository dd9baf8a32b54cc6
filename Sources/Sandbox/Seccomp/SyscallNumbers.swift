/// System call numbers and the audit architecture of the machines we filter for.
public struct SyscallTable: Sendable {
    /// `AUDIT_ARCH_*`: checked first, so that a call made through another ABI cannot
    /// slip past numbers that mean something else there.
    public let auditArch: UInt32
    /// Calls numbered at or above this belong to another ABI (x32) and are refused.
    public let foreignABIBase: UInt32?
    public let numbers: [String: UInt32]
    /// Calls of the policy that do not exist on this architecture (nothing to refuse).
    public var absent: Set<String> = []

    /// The table of the machine this runs on.
    public static var native: SyscallTable? {
        #if arch(x86_64)
            return .x86_64
        #elseif arch(arm64)
            return .aarch64
        #else
            return nil
        #endif
    }

    public static let x86_64 = SyscallTable(
        auditArch: 0xC000_003E, foreignABIBase: 0x4000_0000,
        numbers: [
            "socket": 41, "socketpair": 53, "clone": 56, "ptrace": 101, "syslog": 103, "personality": 135,
            "pivot_root": 155, "adjtimex": 159, "chroot": 161, "acct": 163, "settimeofday": 164,
            "mount": 165, "umount2": 166, "swapon": 167, "swapoff": 168, "reboot": 169, "iopl": 172,
            "ioperm": 173, "init_module": 175, "delete_module": 176, "quotactl": 179, "lookup_dcookie": 212,
            "clock_settime": 227, "kexec_load": 246, "add_key": 248, "request_key": 249, "keyctl": 250,
            "unshare": 272, "perf_event_open": 298, "fanotify_init": 300, "name_to_handle_at": 303,
            "open_by_handle_at": 304, "clock_adjtime": 305, "setns": 308, "process_vm_readv": 310,
            "process_vm_writev": 311, "kcmp": 312, "finit_module": 313, "kexec_file_load": 320, "bpf": 321,
            "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
            "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
            "clone3": 435, "pidfd_getfd": 438, "mount_setattr": 442,
        ])

    public static let aarch64 = SyscallTable(absentCalls: ["iopl", "ioperm"],
        auditArch: 0xC000_00B7, foreignABIBase: nil,
        numbers: [
            "socket": 198, "socketpair": 199, "clone": 220, "ptrace": 117, "syslog": 116, "personality": 92,
            "pivot_root": 41, "adjtimex": 171, "chroot": 51, "acct": 89, "settimeofday": 170,
            "mount": 40, "umount2": 39, "swapon": 224, "swapoff": 225, "reboot": 142,
            "init_module": 105, "delete_module": 106, "quotactl": 60, "lookup_dcookie": 18,
            "clock_settime": 112, "kexec_load": 104, "add_key": 217, "request_key": 218, "keyctl": 219,
            "unshare": 97, "perf_event_open": 241, "fanotify_init": 262, "name_to_handle_at": 264,
            "open_by_handle_at": 265, "clock_adjtime": 266, "setns": 268, "process_vm_readv": 270,
            "process_vm_writev": 271, "kcmp": 272, "finit_module": 273, "kexec_file_load": 294, "bpf": 280,
            "userfaultfd": 282, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
            "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
            "clone3": 435, "pidfd_getfd": 438, "mount_setattr": 442,
        ])

    init(absentCalls: Set<String> = [], auditArch: UInt32, foreignABIBase: UInt32?, numbers: [String: UInt32]) {
        self.auditArch = auditArch
        self.foreignABIBase = foreignABIBase
        self.numbers = numbers
        absent = absentCalls
    }
}
