"""A function for engine tests: runs the steps of its payload in order and reports
what happened, with the label it ended at, which sandbox ran it and the state it keeps
(module state and /tmp) between invocations in a warm sandbox.

Payload: {"steps": [step, ...]} (or {"result_bytes": n}: answer n bytes of "x" and nothing
else; or a trigger's event whose webhook body holds the steps); each step is one of
  {"read": path}                         read a file (remembered in state)
  {"write": path, "data": text}          replace a file's bytes
  {"create": path, "data": text, "label": L}   create a file
  {"call": path, "sync": bool, "payload": obj, "params": {...}}   invoke a gate
  {"service": path, "payload": text, "params": {...}}            call a service
  {"recurse": path, "depth": n}          call the gate at path with depth n-1, down to 0
  {"declassify": secrecy} / {"taint": label} / {"endorse": privilege or null}
  {"print": text} / {"stderr": text}
  {"sleep": seconds} / {"crash": code} / {"allocate_mb": n}
An error in a step is reported in its place and the later steps still run.
"""
import json
import os
import sys
import time

import faasten

SEEN = []
# Which sandbox this is (process ids repeat: every sandbox has its own pid namespace).
INSTANCE = os.urandom(8).hex()
TMP = "/tmp/seen.txt"


def _tmp_state():
    try:
        with open(TMP) as f:
            return [line for line in f.read().split("\n") if line]
    except FileNotFoundError:
        return []


def _step(syscall, step):
    if "read" in step:
        text = syscall.fs_read(step["read"]).decode()
        SEEN.append(text)
        with open(TMP, "a") as f:
            f.write(text + "\n")
        return text
    if "write" in step:
        syscall.fs_write(step["write"], step["data"].encode())
        return "ok"
    if "create" in step:
        syscall.fs_createfile(step["create"], label=step.get("label"), data=step.get("data", "").encode())
        return "ok"
    if "call" in step:
        outcome = syscall.invoke(step["call"], json.dumps(step.get("payload", {})).encode(),
                                 sync=step.get("sync", True), params=step.get("params"))
        data = outcome.get("data", b"")
        try:
            data = json.loads(data)
        except ValueError:
            data = data.decode(errors="replace")
        return {"status": outcome["status"], "data": data, "id": outcome["id"],
                "label": syscall.get_current_label()}
    if "service" in step:
        outcome = syscall.invoke_service(step["service"], step.get("payload", "").encode(), params=step.get("params"))
        return {"status": outcome["status"], "data": outcome["data"].decode(errors="replace"),
                "headers": outcome["headers"], "label": syscall.get_current_label()}
    if "recurse" in step:
        depth = step["depth"]
        if depth <= 0:
            return {"depth": 0, "sandbox": INSTANCE}
        inner = syscall.invoke(step["recurse"], json.dumps({"steps": [{"recurse": step["recurse"], "depth": depth - 1}]}),
                               sync=True)
        result = json.loads(inner["data"])["results"][0]
        return {"depth": depth, "sandbox": INSTANCE, "inner": result}
    if "declassify" in step:
        syscall.declassify(step["declassify"])
        return syscall.get_current_label()
    if "taint" in step:
        syscall.taint_with_label(step["taint"])
        return syscall.get_current_label()
    if "endorse" in step:
        syscall.endorse(step["endorse"])
        return syscall.get_current_label()
    if "print" in step:
        print(step["print"])
        return "ok"
    if "stderr" in step:
        print(step["stderr"], file=sys.stderr)
        return "ok"
    if "sleep" in step:
        time.sleep(step["sleep"])
        return "ok"
    if "crash" in step:
        sys.stdout.flush()
        os._exit(step["crash"])
    if "allocate_mb" in step:
        blocks = [bytearray(1 << 20) for _ in range(step["allocate_mb"])]
        return len(blocks)
    raise ValueError("unknown step %r" % (step,))


def handle(syscall, payload, blobs, headers, invoker):
    request = json.loads(payload or b"{}")
    if "result_bytes" in request:
        return b"x" * request["result_bytes"]
    steps = request.get("steps")
    if steps is None and isinstance(request.get("payload"), dict):
        steps = request["payload"].get("steps")  # a trigger's event: the webhook's body
    results = []
    for step in steps or []:
        try:
            results.append(_step(syscall, step))
        except faasten.FaastenError as error:
            results.append({"error": error.code, "rule": error.rule, "message": str(error)})
    return {"results": results, "label": syscall.get_current_label(), "sandbox": INSTANCE, "seen": SEEN,
            "tmp": _tmp_state(), "invoker": invoker, "privilege": syscall.get_privilege(), "headers": headers}
