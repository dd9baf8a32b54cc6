"""Does nothing, for faasten-bench invoke: what an invocation costs beyond the function."""


def handle(syscall, payload, blobs, headers, invoker):
    return b""
