"""Everyday library work a function may do, none of it asking for more than the
sandbox gives: threads, sleeping, files and directories in /tmp, SQLite, a child
process, AF_UNIX sockets, select/poll/epoll, asyncio, signals, hashing. Each check
answers "ok" or its error. Run by Tests/SandboxTests (EscapeTests) as the control
for the seccomp allowlist, and one of the workloads the allowlist was measured with
(Sources/Sandbox/Seccomp/SeccompPolicy.swift)."""
import asyncio
import hashlib
import mmap
import os
import queue
import random
import resource
import select
import selectors
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import zlib


def check_threads():
    results = queue.Queue()
    workers = [threading.Thread(target=results.put, args=(i * i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    lock = threading.Lock()
    with lock:
        threading.Event().wait(0.01)
    assert sorted(results.get() for _ in range(4)) == [0, 1, 4, 9]


def check_time():
    start = time.monotonic()
    time.sleep(0.01)
    assert time.monotonic() - start >= 0.01
    time.time(), time.process_time(), time.thread_time()


def check_files():
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "a.txt")
        with open(path, "w") as f:
            f.write("x" * 100_000)
        shutil.copy(path, path + ".copy")
        shutil.copy2(path, path + ".copy2")
        os.rename(path + ".copy", path + ".moved")
        os.chmod(path, 0o600)
        os.utime(path)
        os.truncate(path + ".moved", 10)
        os.makedirs(directory + "/sub/deeper")
        os.symlink(path, directory + "/sub/link")
        os.link(path, directory + "/sub/hard")
        assert os.readlink(directory + "/sub/link") == path
        assert len(list(os.walk(directory))) == 3
        os.stat(path), os.lstat(directory + "/sub/link"), os.access(path, os.R_OK)
        with open(path, "r+b") as f:
            mapped = mmap.mmap(f.fileno(), 0)
            mapped[0:1] = b"y"
            mapped.flush()
            mapped.close()
            os.fsync(f.fileno())
        with tempfile.NamedTemporaryFile(dir=directory) as f:
            f.write(b"z")
            f.flush()
        shutil.rmtree(directory + "/sub")
        os.unlink(path + ".moved")


def check_sqlite():
    with tempfile.TemporaryDirectory() as directory:
        db = sqlite3.connect(directory + "/t.db")
        db.execute("create table t (x integer)")
        db.executemany("insert into t values (?)", [(i,) for i in range(100)])
        db.commit()
        assert db.execute("select sum(x) from t").fetchone() == (4950,)
        db.close()


def check_subprocess():
    result = subprocess.run(["/usr/bin/python3", "-I", "-S", "-c", "print(6 * 7)"], capture_output=True, check=True, timeout=20)
    assert result.stdout.strip() == b"42", result


def check_unix_sockets():
    a, b = socket.socketpair()
    a.sendall(b"ping")
    assert b.recv(4) == b"ping"
    a.close(), b.close()
    path = tempfile.mktemp(dir="/tmp")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(path)
    connection, _ = server.accept()
    client.sendall(b"pong")
    assert connection.recv(4) == b"pong"
    for s in (connection, client, server):
        s.close()
    os.unlink(path)


def check_select():
    read, write = os.pipe()
    os.write(write, b"x")
    assert select.select([read], [], [], 1)[0] == [read]
    poller = select.poll()
    poller.register(read, select.POLLIN)
    assert poller.poll(1000)
    with selectors.DefaultSelector() as selector:
        selector.register(read, selectors.EVENT_READ)
        assert selector.select(1)
    os.close(read), os.close(write)


def check_asyncio():
    async def main():
        await asyncio.sleep(0.001)
        return await asyncio.get_running_loop().run_in_executor(None, lambda: 7)

    assert asyncio.run(main()) == 7


def check_signals():
    received = []
    previous = signal.signal(signal.SIGUSR1, lambda number, frame: received.append(number))
    os.kill(os.getpid(), signal.SIGUSR1)
    signal.signal(signal.SIGUSR1, previous)
    signal.setitimer(signal.ITIMER_REAL, 0)
    assert received == [signal.SIGUSR1]


def check_hashing():
    data = os.urandom(1024) + random.randbytes(16)
    hashlib.sha256(data).hexdigest()
    assert zlib.decompress(zlib.compress(data)) == data


def check_process():
    os.getpid(), os.getppid(), os.getuid(), os.getgid(), os.getcwd(), os.uname(), os.cpu_count()
    os.sched_getaffinity(0), os.times(), resource.getrusage(resource.RUSAGE_SELF)
    resource.getrlimit(resource.RLIMIT_NOFILE)


CHECKS = {name[len("check_"):]: value for name, value in globals().items() if name.startswith("check_")}


def handle(syscall, payload, blobs, headers, invoker):
    answers = {}
    for name, check in CHECKS.items():
        try:
            check()
            answers[name] = "ok"
        except Exception as error:
            answers[name] = "%s: %s" % (type(error).__name__, error)
    return answers
