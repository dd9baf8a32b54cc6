"""For trigger tests: answers with the event it was given, the repository it names,
who invoked it and the label it ran at (after reading a file, if the payload names one)."""
import json


def handle(syscall, payload, blobs, headers, invoker):
    request = json.loads(payload)
    body = request.get("payload")
    repository = body.get("repository", {}).get("full_name") if isinstance(body, dict) else None
    read = None
    if isinstance(body, dict) and "read" in body:
        read = syscall.fs_read(body["read"]).decode()
    return {
        "event": request["event"],
        "delivery": request["delivery"],
        "trigger": request["trigger"],
        "repository": repository,
        "read": read,
        "invoker": invoker,
        "header": headers.get("x-faasten-event"),
        "label": syscall.get_current_label(),
    }
