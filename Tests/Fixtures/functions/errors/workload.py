"""Answers in every way a function can: values of each type, exceptions, exit."""
import json
import sys

import faasten


def handle(syscall, payload, blobs, headers, invoker):
    what = json.loads(payload)["do"]
    if what == "raise":
        raise ValueError("something went wrong")
    if what == "exit":
        sys.exit(4)
    if what == "bytes":
        return b"\x00\xffraw"
    if what == "str":
        return "plain text"
    if what == "none":
        return None
    if what == "status":
        return faasten.ResponseStr("created", 201, {"x-custom": "1"})
    if what == "large":
        return b"x" * (9 << 20)
    if what == "headers":
        return {"headers": headers}
    return {"unknown": what}
