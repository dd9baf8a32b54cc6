"""Tries to get out of the sandbox. The payload names one attempt; the answer says
whether it was blocked, with what the attempt saw. Run by Tests/SandboxTests."""
import errno
import json
import os
import socket
import sys


def attempt_tcp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(("127.0.0.1", port))
    return "connected to the host's 127.0.0.1:%d" % port


def attempt_tcp_public(_):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(("1.1.1.1", 80))
    return "connected to 1.1.1.1:80"


def attempt_udp(_):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"x", ("1.1.1.1", 53))
    return "sent a UDP datagram"


def attempt_inet6(_):
    socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    return "made an AF_INET6 socket"


def attempt_netlink(_):
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    return "made a netlink socket"


def attempt_packet(_):
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    return "made a packet socket"


def attempt_read_shadow(_):
    with open("/etc/shadow") as f:
        return "read /etc/shadow: %d bytes" % len(f.read())


def attempt_read_path(path):
    with open(path, "rb") as f:
        return "read %s: %d bytes" % (path, len(f.read()))


def attempt_list_root(_):
    entries = sorted(os.listdir("/"))
    allowed = {"dev", "lib", "lib64", "opt", "proc", "srv", "tmp", "usr"}
    extra = [e for e in entries if e not in allowed]
    if extra:
        return "the root shows host entries: %s" % extra
    raise PermissionError("only the sandbox's own entries: %s" % entries)


def attempt_write_outside_tmp(_):
    for path in ("/srv/x", "/usr/x", "/opt/faasten/x", "/x"):
        try:
            with open(path, "w") as f:
                f.write("x")
            return "wrote %s" % path
        except OSError:
            pass
    raise PermissionError("every write outside /tmp failed")


def attempt_write_tmp(_):
    with open("/tmp/ok", "w") as f:
        f.write("fine")
    raise PermissionError("allowed, as it should be (a control)")


def attempt_processes(_):
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    if len(pids) > 3:
        return "sees %d processes: %s" % (len(pids), pids[:10])
    raise PermissionError("sees only its own processes: %s" % pids)


def attempt_ptrace(_):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(0, 0, None, None) == 0:  # PTRACE_TRACEME
        return "ptrace worked"
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def attempt_unshare(_):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x10000000) == 0:  # CLONE_NEWUSER
        return "made a new user namespace"
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def attempt_clone_namespace(_):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    # clone(CLONE_NEWNET | SIGCHLD) through the raw system call (56 on x86_64).
    pid = libc.syscall(56, 0x40000000 | 17, None, None, None, None)
    if pid == 0:
        os._exit(0)
    if pid > 0:
        os.waitpid(pid, 0)
        return "cloned into a new network namespace"
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def attempt_mount(_):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == 0:
        return "mounted"
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def attempt_keyctl(_):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(250, 0, -3) >= 0:  # keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING) on x86_64
        return "keyctl worked"
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def attempt_bpf(_):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(321, 0, None, 0) >= 0:  # bpf on x86_64
        return "bpf worked"
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def attempt_splice(_):
    # Dirty Pipe's first step (CVE-2022-0847): a page of a read-only host file into a
    # pipe, which the bug then let a write change. No runtime needs splice.
    source = os.open("/usr/bin/python3", os.O_RDONLY)
    _, write = os.pipe()
    return "spliced %d byte(s) of a read-only host file into a pipe" % os.splice(source, write, 1)


def attempt_tty_line_discipline(_):
    # A pseudo-terminal's line discipline (TIOCSETD), the door to n_hdlc (CVE-2017-2636)
    # and n_gsm (CVE-2023-6546). /dev/ptmx is there; the ioctl request is not allowed.
    import fcntl
    import struct
    terminal = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
    fcntl.ioctl(terminal, 0x5423, struct.pack("i", 0))  # TIOCSETD, N_TTY
    return "set a pseudo-terminal's line discipline"


def attempt_uid(_):
    if os.geteuid() == 0:
        return "runs as root inside"
    raise PermissionError("runs as uid %d" % os.geteuid())


def attempt_fork_bomb(_):
    children = []
    try:
        for _ in range(10000):
            pid = os.fork()
            if pid == 0:
                import time
                time.sleep(30)
                os._exit(0)
            children.append(pid)
    except OSError as error:
        for pid in children:
            os.kill(pid, 9)
        raise OSError(error.errno, "stopped after %d processes: %s" % (len(children), error.strerror))
    return "started %d processes" % len(children)


def attempt_memory(megabytes):
    hoard = []
    for _ in range(megabytes):
        hoard.append(bytearray(1 << 20))
        hoard[-1][::4096] = b"x" * len(hoard[-1][::4096])
    return "allocated %d MiB" % megabytes


def attempt_loop(_):
    while True:
        pass


def attempt_exit(_):
    os._exit(3)


ATTEMPTS = {name[len("attempt_"):]: value for name, value in globals().items() if name.startswith("attempt_")}


def handle(syscall, payload, blobs, headers, invoker):
    request = json.loads(payload)
    try:
        detail = ATTEMPTS[request["attempt"]](request.get("argument"))
        return {"attempt": request["attempt"], "blocked": False, "detail": detail}
    except Exception as error:  # the attempt failed: that is the expected outcome
        return {"attempt": request["attempt"], "blocked": True,
                "detail": "%s: %s" % (type(error).__name__, error)}
