"""Reads the file at payload["path"] and answers its text."""
import json


def handle(syscall, payload, blobs, headers, invoker):
    return syscall.fs_read(json.loads(payload)["path"]).decode()
