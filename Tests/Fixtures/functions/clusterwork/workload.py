"""For cluster tests: sleeps as long as the payload asks, then answers with the
payload's number (so that each result can be matched to its request)."""
import json
import time


def handle(syscall, payload, blobs, headers, invoker):
    request = json.loads(payload or b"{}")
    time.sleep(request.get("sleep", 0))
    return {"n": request.get("n"), "invoker": invoker}
