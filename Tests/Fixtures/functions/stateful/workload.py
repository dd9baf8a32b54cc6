"""Keeps what it read in module state, to show that a warm sandbox never carries data
into an invocation at a lower label: {"remember": path} or {"recall": true}."""
import json

SEEN = []


def handle(syscall, payload, blobs, headers, invoker):
    request = json.loads(payload)
    if "remember" in request:
        SEEN.append(syscall.fs_read(request["remember"]).decode())
    return {"seen": SEEN, "label": syscall.get_current_label()}
