/// The calls each runtime may make, measured: every sandbox of the test suite (the
/// conformance, toolkit, escape and `everyday` fixtures in both languages, warm and
/// pre-started sandboxes, memory-limit kills, timeouts, fork bombs, chains, the
/// gateway, CLI and cluster tests), the examples (photos with Pillow, word count,
/// social) and the benchmarks' functions, run under `strace -f` with the old
/// default-allow filter on Debian 12 (Python 3.11.2, glibc 2.36) and Node.js 20.20,
/// x86_64. What bubblewrap does after it loads the filter counts too (its pid 1 waits
/// for the function and exits). Calls made only by escape attempts (`ptrace`, `mount`,
/// `keyctl`, `bpf`, `unshare`, other socket families) are not listed.
///
/// Names are x86_64's; ``SeccompPolicy/spellings`` adds the other names of the same
/// operations. Calls not measured are marked as such, with the reason they are here.
/// To measure again, prefix bubblewrap's command with `strace -f -ff -o DIR/RUNTIME`
/// (``BubblewrapBackend``), run the suites, and list the calls each process made after
/// `prctl(PR_SET_SECCOMP, …)`, and those of the processes it started.
extension SeccompPolicy {
    /// Python 3 (`/usr/bin/python3`): the shared core and Python's own calls.
    public static let python = SeccompPolicy(name: "python3", calls: core + pythonCalls)
    /// Node.js (`/usr/bin/node`): the shared core and Node's own calls.
    public static let node = SeccompPolicy(name: "node", calls: core + nodeCalls)

    /// Calls both runtimes were measured making.
    static let core: [String] =
        // Starting: bubblewrap's exec of the runtime (and the runtime's of a child), the
        // dynamic loader and libc's start (TLS, thread and rseq registration, the stack
        // limit, hash seeds, memory size, the interpreter's own path).
        ["execve", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64", "getrandom", "sysinfo"]
        + ["access", "readlink", "uname"]
        // Memory: the allocators (glibc's, pymalloc, V8's heap and its executable code).
        + ["brk", "mmap", "munmap", "mprotect", "madvise"]
        // Files: reading the runtime, the function and vendored packages; /tmp.
        + ["openat", "read", "write", "pread64", "pwrite64", "close", "newfstatat", "getdents64", "fcntl", "ioctl"]
        + ["fsync", "getcwd", "mkdir", "rmdir", "unlink", "rename", "link", "symlink", "chmod", "utimensat"]
        // Descriptors and event loops: pipes to children, asyncio's and libuv's epoll.
        + ["dup2", "pipe2", "epoll_create1", "epoll_ctl"]
        // Threads (a Python function's, V8's and libuv's): `clone` (without namespace
        // flags, ``argumentRules``), futexes, a thread's exit.
        + ["clone", "futex", "exit", "gettid", "sched_getaffinity"]
        // Signals, and processes of the sandbox's own pid namespace: the guest loop's
        // children (a fork bomb's cleanup kills them), bubblewrap's pid 1 waiting for
        // the function, the exit.
        + ["rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "kill", "wait4", "exit_group"]
        + ["getpid", "getuid", "geteuid", "getgid", "getrusage"]
        // AF_UNIX sockets (other families refused, ``argumentRules``): a function's own
        // sockets in /tmp, asyncio's self-pipe.
        + ["socket", "socketpair", "bind", "listen", "accept4", "connect", "getsockname"]
        // Not measured: the kernel restarts a sleep interrupted by a stop and a continue
        // (SIGSTOP/SIGCONT, which a function may send its children) under this number.
        + ["restart_syscall"]

    /// Calls only Python was measured making.
    static let pythonCalls: [String] =
        // Reading files (seek), growing large buffers (mremap), mmap.flush (msync).
        ["lseek", "mremap", "msync"]
        // time.sleep, per-thread and process CPU clocks (not in the vDSO), os.times,
        // signal.setitimer.
        + ["clock_nanosleep", "clock_gettime", "times", "setitimer"]
        // select.select, select.poll, selectors' epoll; socket send and recv.
        + ["pselect6", "poll", "epoll_wait", "sendto", "recvfrom"]
        // shutil.copy (sendfile), copy2 (listxattr), rmtree (unlinkat), os.truncate;
        // SQLite's fdatasync.
        + ["sendfile", "listxattr", "unlinkat", "truncate", "fdatasync"]
        // subprocess: vfork, the child closing inherited descriptors; os.getppid.
        + ["vfork", "close_range", "getppid"]

    /// Calls only Node.js was measured making.
    static let nodeCalls: [String] =
        // libuv's files: statx, fstat, ftruncate, fchmod, copyFile (copy_file_range).
        ["statx", "fstat", "ftruncate", "fchmod", "copy_file_range"]
        // libuv's event loop: epoll_pwait, eventfd wake-ups; socket options and shutdown.
        + ["epoll_pwait", "eventfd2", "getsockopt", "shutdown"]
        // Node's start (it checks its capabilities and effective group), and V8 aborting
        // at its heap limit (tgkill, SIGABRT to itself).
        + ["capget", "getegid", "tgkill"]
        // V8's memory protection keys: pkey_alloc measured (refused by this CPU, EINVAL);
        // where the CPU has them, V8 goes on with pkey_mprotect and pkey_free (not measured).
        + ["pkey_alloc", "pkey_mprotect", "pkey_free"]
}
