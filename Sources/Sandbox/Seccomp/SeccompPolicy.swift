/// What a sandboxed function may ask the kernel, as data: an allowlist per runtime
/// (``python``, ``node``; measured, see `SeccompAllowlists.swift`), rules on the
/// arguments of a few allowed calls, and calls that are never allowed. Compiled to
/// BPF by ``SeccompCompiler``.
///
/// Everything not allowed is refused: an unlisted call answers EPERM (``defaultAnswer``),
/// the truth (the call exists and may not be made), so a program reports it rather than
/// quietly taking another path. Two kinds of call answer ENOSYS instead, because that
/// is the answer on which the C library falls back to a call the filter can judge:
/// `clone3` (whose flags sit in memory the filter cannot read; glibc then uses `clone`),
/// and calls newer than the system call table (``SyscallTable/firstUnknown``), which a
/// future C library may try before an older equivalent, as it would on an older kernel.
/// Other architectures are killed and x32 numbers refused.
public struct SeccompPolicy: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        case errno(Int32)
    }

    /// A call refused whatever its arguments, and what it answers.
    public struct Rule: Hashable, Sendable {
        public let syscall: String
        public let action: Action
    }

    /// An allowed call that is allowed only when one argument passes a test, and what it
    /// answers otherwise. The filter reads the argument's low 32 bits, which is all the
    /// kernel reads of these (an `int` family, `clone`'s flags, an `ioctl` request).
    public struct ArgumentRule: Hashable, Sendable {
        public enum Condition: Hashable, Sendable {
            /// The argument is one of these values.
            case oneOf([UInt32])
            /// The argument has none of these bits.
            case noBitsOf(UInt32)
        }

        public let syscall: String
        public let argument: UInt32
        public let condition: Condition
        public let otherwise: Action
    }

    /// The runtime it is for: `python3` or `node` (``GuestRuntime/name``).
    public let name: String
    /// The calls allowed, in the order of the measured lists, with the other names of the
    /// same operations (``spellings``) after them.
    public let allowed: [String]

    /// A policy allowing `calls` and their other ``spellings``.
    public init(name: String, calls: [String]) {
        self.name = name
        var seen = Set<String>()
        let measured = calls.filter { seen.insert($0).inserted }
        let others = measured.flatMap { call in Self.spellings.first { $0.contains(call) } ?? [] }
        allowed = measured + others.filter { seen.insert($0).inserted }
    }

    static let EPERM: Int32 = 1
    static let ENOSYS: Int32 = 38
    static let ENOTTY: Int32 = 25
    static let EAFNOSUPPORT: Int32 = 97

    /// What a call the policy does not allow answers.
    public static let defaultAnswer = Action.errno(EPERM)
    /// What a call newer than the system call table answers (the kernel's answer to a call it does not have).
    public static let newerCallAnswer = Action.errno(ENOSYS)

    /// Calls no policy may allow, whatever a measurement shows (the compiler refuses a
    /// policy that lists one). All but `clone3` answer what any unlisted call answers;
    /// they are named so that the list of what must stay shut is written down.
    public static let refused: [Rule] = [
        // Other processes.
        Rule(syscall: "ptrace", action: .errno(EPERM)),
        Rule(syscall: "process_vm_readv", action: .errno(EPERM)),
        Rule(syscall: "process_vm_writev", action: .errno(EPERM)),
        Rule(syscall: "kcmp", action: .errno(EPERM)),
        Rule(syscall: "pidfd_getfd", action: .errno(EPERM)),
        // Mounts and namespaces.
        Rule(syscall: "mount", action: .errno(EPERM)),
        Rule(syscall: "umount2", action: .errno(EPERM)),
        Rule(syscall: "pivot_root", action: .errno(EPERM)),
        Rule(syscall: "chroot", action: .errno(EPERM)),
        Rule(syscall: "open_tree", action: .errno(EPERM)),
        Rule(syscall: "move_mount", action: .errno(EPERM)),
        Rule(syscall: "fsopen", action: .errno(EPERM)),
        Rule(syscall: "fsconfig", action: .errno(EPERM)),
        Rule(syscall: "fsmount", action: .errno(EPERM)),
        Rule(syscall: "fspick", action: .errno(EPERM)),
        Rule(syscall: "mount_setattr", action: .errno(EPERM)),
        Rule(syscall: "unshare", action: .errno(EPERM)),
        Rule(syscall: "setns", action: .errno(EPERM)),
        Rule(syscall: "clone3", action: .errno(ENOSYS)),
        // Kernel facilities a function never needs.
        Rule(syscall: "keyctl", action: .errno(EPERM)),
        Rule(syscall: "add_key", action: .errno(EPERM)),
        Rule(syscall: "request_key", action: .errno(EPERM)),
        Rule(syscall: "bpf", action: .errno(EPERM)),
        Rule(syscall: "perf_event_open", action: .errno(EPERM)),
        Rule(syscall: "userfaultfd", action: .errno(EPERM)),
        Rule(syscall: "io_uring_setup", action: .errno(EPERM)),
        Rule(syscall: "io_uring_enter", action: .errno(EPERM)),
        Rule(syscall: "io_uring_register", action: .errno(EPERM)),
        Rule(syscall: "open_by_handle_at", action: .errno(EPERM)),
        Rule(syscall: "name_to_handle_at", action: .errno(EPERM)),
        Rule(syscall: "fanotify_init", action: .errno(EPERM)),
        Rule(syscall: "lookup_dcookie", action: .errno(EPERM)),
        Rule(syscall: "syslog", action: .errno(EPERM)),
        // Kernel images and modules.
        Rule(syscall: "kexec_load", action: .errno(EPERM)),
        Rule(syscall: "kexec_file_load", action: .errno(EPERM)),
        Rule(syscall: "init_module", action: .errno(EPERM)),
        Rule(syscall: "finit_module", action: .errno(EPERM)),
        Rule(syscall: "delete_module", action: .errno(EPERM)),
        // The machine's state.
        Rule(syscall: "reboot", action: .errno(EPERM)),
        Rule(syscall: "swapon", action: .errno(EPERM)),
        Rule(syscall: "swapoff", action: .errno(EPERM)),
        Rule(syscall: "acct", action: .errno(EPERM)),
        Rule(syscall: "quotactl", action: .errno(EPERM)),
        Rule(syscall: "settimeofday", action: .errno(EPERM)),
        Rule(syscall: "clock_settime", action: .errno(EPERM)),
        Rule(syscall: "clock_adjtime", action: .errno(EPERM)),
        Rule(syscall: "adjtimex", action: .errno(EPERM)),
        Rule(syscall: "iopl", action: .errno(EPERM)),
        Rule(syscall: "ioperm", action: .errno(EPERM)),
        Rule(syscall: "personality", action: .errno(EPERM)),
    ]

    /// `socket` and `socketpair`: only this address family.
    public static let allowedSocketFamily: UInt32 = 1  // AF_UNIX

    /// `clone` flags that create namespaces.
    public static let namespaceCloneFlags: UInt32 =
        0x0002_0000  // CLONE_NEWNS
        | 0x0200_0000  // CLONE_NEWCGROUP
        | 0x0400_0000  // CLONE_NEWUTS
        | 0x0800_0000  // CLONE_NEWIPC
        | 0x1000_0000  // CLONE_NEWUSER
        | 0x2000_0000  // CLONE_NEWPID
        | 0x4000_0000  // CLONE_NEWNET

    /// `ioctl` requests: the ones measured (is it a terminal, non-blocking, close on exec)
    /// and FIONCLEX, FIOCLEX's inverse. Any other request (terminal line disciplines,
    /// file-system and device requests) answers ENOTTY, the kernel's own answer to a
    /// request a descriptor does not support, so code that probes takes its fallback.
    public static let allowedIoctlRequests: [UInt32] = [
        0x5401,  // TCGETS (isatty)
        0x5421,  // FIONBIO
        0x5451,  // FIOCLEX
        0x5450,  // FIONCLEX
    ]

    /// Allowed calls that are allowed only for some arguments.
    public static let argumentRules: [ArgumentRule] = [
        ArgumentRule(syscall: "socket", argument: 0, condition: .oneOf([allowedSocketFamily]), otherwise: .errno(EAFNOSUPPORT)),
        ArgumentRule(syscall: "socketpair", argument: 0, condition: .oneOf([allowedSocketFamily]), otherwise: .errno(EAFNOSUPPORT)),
        ArgumentRule(syscall: "clone", argument: 0, condition: .noBitsOf(namespaceCloneFlags), otherwise: .errno(EPERM)),
        ArgumentRule(syscall: "ioctl", argument: 1, condition: .oneOf(allowedIoctlRequests), otherwise: .errno(ENOTTY)),
    ]

    /// Names of one operation: the kernel runs the same code under each (an x86_64
    /// legacy number and the generic one), so allowing one and not the other would
    /// guard nothing. The measured x86_64 name is allowed with the others, which also
    /// gives an architecture without the legacy number (aarch64) the name it uses.
    public static let spellings: [[String]] = [
        ["openat", "open"],
        ["newfstatat", "fstat", "stat", "lstat"],
        ["access", "faccessat", "faccessat2"],
        ["readlink", "readlinkat"],
        ["mkdir", "mkdirat"],
        ["unlink", "rmdir", "unlinkat"],
        ["rename", "renameat", "renameat2"],
        ["link", "linkat"],
        ["symlink", "symlinkat"],
        ["chmod", "fchmodat"],
        ["pipe2", "pipe"],
        ["dup2", "dup3"],
        ["poll", "ppoll"],
        ["pselect6", "select"],
        ["epoll_wait", "epoll_pwait"],
        ["epoll_create1", "epoll_create"],
        ["eventfd2", "eventfd"],
        ["clone", "fork", "vfork"],
        ["clock_nanosleep", "nanosleep"],
        ["setitimer", "alarm"],
    ]

    /// The policies of the runtimes there are.
    public static let runtimes: [SeccompPolicy] = [.python, .node]
}

extension SeccompPolicy: CustomStringConvertible {
    public var description: String { name }
}
