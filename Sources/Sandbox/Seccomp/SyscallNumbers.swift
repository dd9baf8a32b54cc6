/// System call numbers and the audit architecture of the machines we filter for: every
/// call a ``SeccompPolicy`` names (allowed, refused or with an argument rule), from
/// the kernel's uapi headers (Linux 6.1: `asm/unistd_64.h` for x86_64,
/// `asm-generic/unistd.h` for aarch64). `SeccompTests` checks them against the
/// headers of the machine that runs the tests.
public struct SyscallTable: Sendable {
    /// `AUDIT_ARCH_*`: checked first, so that a call made through another ABI cannot
    /// slip past numbers that mean something else there.
    public let auditArch: UInt32
    /// Calls numbered at or above this belong to another ABI (x32) and are refused.
    public let foreignABIBase: UInt32?
    /// One past the highest call of the headers the table was taken from: a call at or
    /// above it is newer than the policy and answers ``SeccompPolicy/newerCallAnswer``.
    public let firstUnknown: UInt32
    public let numbers: [String: UInt32]
    /// Calls of the policies that do not exist on this architecture (nothing to allow or refuse).
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
        auditArch: 0xC000_003E, foreignABIBase: 0x4000_0000, firstUnknown: 451,
        numbers: [
            "read": 0, "write": 1, "open": 2, "close": 3, "stat": 4, "fstat": 5, "lstat": 6, "poll": 7, "lseek": 8,
            "mmap": 9, "mprotect": 10, "munmap": 11, "brk": 12, "rt_sigaction": 13, "rt_sigprocmask": 14,
            "rt_sigreturn": 15, "ioctl": 16, "pread64": 17, "pwrite64": 18, "access": 21, "pipe": 22, "select": 23,
            "mremap": 25, "msync": 26, "madvise": 28, "dup2": 33, "nanosleep": 35, "alarm": 37, "setitimer": 38,
            "getpid": 39, "sendfile": 40, "socket": 41, "connect": 42, "sendto": 44, "recvfrom": 45, "shutdown": 48,
            "bind": 49, "listen": 50, "getsockname": 51, "socketpair": 53, "getsockopt": 55, "clone": 56, "fork": 57,
            "vfork": 58, "execve": 59, "exit": 60, "wait4": 61, "kill": 62, "uname": 63, "fcntl": 72, "fsync": 74,
            "fdatasync": 75, "truncate": 76, "ftruncate": 77, "getcwd": 79, "rename": 82, "mkdir": 83, "rmdir": 84,
            "link": 86, "unlink": 87, "symlink": 88, "readlink": 89, "chmod": 90, "fchmod": 91, "getrusage": 98,
            "sysinfo": 99, "times": 100, "ptrace": 101, "getuid": 102, "syslog": 103, "getgid": 104, "geteuid": 107,
            "getegid": 108, "getppid": 110, "capget": 125, "personality": 135, "pivot_root": 155, "arch_prctl": 158,
            "adjtimex": 159, "chroot": 161, "acct": 163, "settimeofday": 164, "mount": 165, "umount2": 166, "swapon": 167,
            "swapoff": 168, "reboot": 169, "iopl": 172, "ioperm": 173, "init_module": 175, "delete_module": 176,
            "quotactl": 179, "gettid": 186, "listxattr": 194, "futex": 202, "sched_getaffinity": 204,
            "lookup_dcookie": 212, "epoll_create": 213, "getdents64": 217, "set_tid_address": 218, "restart_syscall": 219,
            "clock_settime": 227, "clock_gettime": 228, "clock_nanosleep": 230, "exit_group": 231, "epoll_wait": 232,
            "epoll_ctl": 233, "tgkill": 234, "kexec_load": 246, "add_key": 248, "request_key": 249, "keyctl": 250,
            "openat": 257, "mkdirat": 258, "newfstatat": 262, "unlinkat": 263, "renameat": 264, "linkat": 265,
            "symlinkat": 266, "readlinkat": 267, "fchmodat": 268, "faccessat": 269, "pselect6": 270, "ppoll": 271,
            "unshare": 272, "set_robust_list": 273, "utimensat": 280, "epoll_pwait": 281, "eventfd": 284, "accept4": 288,
            "eventfd2": 290, "epoll_create1": 291, "dup3": 292, "pipe2": 293, "perf_event_open": 298, "fanotify_init": 300,
            "prlimit64": 302, "name_to_handle_at": 303, "open_by_handle_at": 304, "clock_adjtime": 305, "setns": 308,
            "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "finit_module": 313, "renameat2": 316,
            "getrandom": 318, "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323, "copy_file_range": 326,
            "pkey_mprotect": 329, "pkey_alloc": 330, "pkey_free": 331, "statx": 332, "rseq": 334, "io_uring_setup": 425,
            "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430,
            "fsconfig": 431, "fsmount": 432, "fspick": 433, "clone3": 435, "close_range": 436, "pidfd_getfd": 438,
            "faccessat2": 439, "mount_setattr": 442,
        ])

    /// The generic table, without x86_64's legacy calls (`open`, `stat`, `fork`, …; glibc
    /// uses the `…at` and generic forms, which ``SeccompPolicy/spellings`` allows with them).
    public static let aarch64 = SyscallTable(
        absentCalls: [
            "access", "alarm", "arch_prctl", "chmod", "dup2", "epoll_create", "epoll_wait", "eventfd", "fork", "ioperm",
            "iopl", "link", "lstat", "mkdir", "open", "pipe", "poll", "readlink", "rename", "rmdir", "select", "stat",
            "symlink", "unlink", "vfork",
        ],
        auditArch: 0xC000_00B7, foreignABIBase: nil, firstUnknown: 451,
        numbers: [
            "listxattr": 11, "getcwd": 17, "lookup_dcookie": 18, "eventfd2": 19, "epoll_create1": 20, "epoll_ctl": 21,
            "epoll_pwait": 22, "dup3": 24, "fcntl": 25, "ioctl": 29, "mkdirat": 34, "unlinkat": 35, "symlinkat": 36,
            "linkat": 37, "renameat": 38, "umount2": 39, "mount": 40, "pivot_root": 41, "truncate": 45, "ftruncate": 46,
            "faccessat": 48, "chroot": 51, "fchmod": 52, "fchmodat": 53, "openat": 56, "close": 57, "pipe2": 59,
            "quotactl": 60, "getdents64": 61, "lseek": 62, "read": 63, "write": 64, "pread64": 67, "pwrite64": 68,
            "sendfile": 71, "pselect6": 72, "ppoll": 73, "readlinkat": 78, "newfstatat": 79, "fstat": 80, "fsync": 82,
            "fdatasync": 83, "utimensat": 88, "acct": 89, "capget": 90, "personality": 92, "exit": 93, "exit_group": 94,
            "set_tid_address": 96, "unshare": 97, "futex": 98, "set_robust_list": 99, "nanosleep": 101, "setitimer": 103,
            "kexec_load": 104, "init_module": 105, "delete_module": 106, "clock_settime": 112, "clock_gettime": 113,
            "clock_nanosleep": 115, "syslog": 116, "ptrace": 117, "sched_getaffinity": 123, "restart_syscall": 128,
            "kill": 129, "tgkill": 131, "rt_sigaction": 134, "rt_sigprocmask": 135, "rt_sigreturn": 139, "reboot": 142,
            "times": 153, "uname": 160, "getrusage": 165, "settimeofday": 170, "adjtimex": 171, "getpid": 172,
            "getppid": 173, "getuid": 174, "geteuid": 175, "getgid": 176, "getegid": 177, "gettid": 178, "sysinfo": 179,
            "socket": 198, "socketpair": 199, "bind": 200, "listen": 201, "connect": 203, "getsockname": 204,
            "sendto": 206, "recvfrom": 207, "getsockopt": 209, "shutdown": 210, "brk": 214, "munmap": 215, "mremap": 216,
            "add_key": 217, "request_key": 218, "keyctl": 219, "clone": 220, "execve": 221, "mmap": 222, "swapon": 224,
            "swapoff": 225, "mprotect": 226, "msync": 227, "madvise": 233, "perf_event_open": 241, "accept4": 242,
            "wait4": 260, "prlimit64": 261, "fanotify_init": 262, "name_to_handle_at": 264, "open_by_handle_at": 265,
            "clock_adjtime": 266, "setns": 268, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272,
            "finit_module": 273, "renameat2": 276, "getrandom": 278, "bpf": 280, "userfaultfd": 282,
            "copy_file_range": 285, "pkey_mprotect": 288, "pkey_alloc": 289, "pkey_free": 290, "statx": 291, "rseq": 293,
            "kexec_file_load": 294, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
            "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
            "clone3": 435, "close_range": 436, "pidfd_getfd": 438, "faccessat2": 439, "mount_setattr": 442,
        ])

    init(absentCalls: Set<String> = [], auditArch: UInt32, foreignABIBase: UInt32?, firstUnknown: UInt32, numbers: [String: UInt32]) {
        self.auditArch = auditArch
        self.foreignABIBase = foreignABIBase
        self.firstUnknown = firstUnknown
        self.numbers = numbers
        absent = absentCalls
    }
}
