"""Times CloudCalls from inside the sandbox, for faasten-bench cloudcall.

Payload: {"call": "label" | "read", "n": iterations, "path": file path for "read"}.
Answer: {"samples": [ns per call, …]}.
"""
import json
import time


def handle(syscall, payload, blobs, headers, invoker):
    request = json.loads(payload)
    if request["call"] == "label":
        call = syscall.get_current_label
    else:
        call = syscall.resolve(request["path"]).read
    for _ in range(200):
        call()
    clock = time.perf_counter_ns
    samples = []
    for _ in range(request["n"]):
        start = clock()
        call()
        samples.append(clock() - start)
    return {"samples": samples}
