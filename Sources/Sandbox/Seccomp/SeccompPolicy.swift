/// The system calls a sandboxed function may not make, as data. Each rule is one
/// row: the call, and what the kernel answers instead of running it.
///
/// Refused outright: tracing and inspecting other processes, mounting and namespace
/// changes, kernel keys, BPF, perf events, userfaultfd, kexec, module loading,
/// io_uring (it bypasses this filter), raw handle opening, clock and system
/// changes. Sockets are allowed only in the AF_UNIX family (the sandbox has no
/// network either way; this stops netlink, packet and vsock sockets too). `clone`
/// may not create namespaces; `clone3` (whose flags the filter cannot read) answers
/// ENOSYS so that libc falls back to `clone`.
public enum SeccompPolicy {
    public enum Action: Hashable, Sendable {
        case errno(Int32)
    }

    /// A call refused whatever its arguments.
    public struct Rule: Hashable, Sendable {
        public let syscall: String
        public let action: Action
    }

    static let EPERM: Int32 = 1
    static let ENOSYS: Int32 = 38
    static let EAFNOSUPPORT: Int32 = 97

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
}
