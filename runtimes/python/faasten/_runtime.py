"""The guest loop: say hello, then serve invocations until the host closes the channel.

Each invocation calls the function's ``handle``:

- ``handle(syscall, payload=..., blobs=..., headers=..., invoker=...)`` (current API), or
- ``handle(request_json, syscall)`` returning a dict (the original's older API).

What it returns becomes the response (a ``Response``, a dict or list as JSON, a str
as text, bytes as is, None as empty). An exception becomes a 500 response with the
error and its traceback; the sandbox keeps serving.
"""
import os
import sys

import faasten
from faasten._channel import Channel, ChannelClosed
from faasten._wire import cloudcalls as wire

PROTOCOL_VERSION = 1


def _error_response(exception):
    import traceback

    return faasten.ResponseDict(
        {"error": {"type": type(exception).__name__, "value": str(exception),
                   "traceback": traceback.format_exc()}}, 500)


def _as_response(result):
    if isinstance(result, faasten.Response):
        return result
    if result is None:
        return faasten.Response(b"", 200)
    if isinstance(result, (bytes, bytearray, memoryview)):
        return faasten.ResponseRaw(result)
    if isinstance(result, str):
        return faasten.ResponseStr(result)
    return faasten.ResponseDict(result)


def _load_workload():
    """The function's ``handle`` and whether it uses the older two-argument API.

    Loaded at the first invocation: a pre-started sandbox is given its function
    (files appear under /srv) only when it is assigned one.
    """
    import importlib

    for path in ("/srv", "/srv/package"):
        sys.path_importer_cache.pop(path, None)
    importlib.invalidate_caches()
    import workload

    handle = workload.handle
    code = getattr(handle, "__code__", None)
    names = code.co_varnames[:code.co_argcount] if code else ()
    keywords = set(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]) if code else set()
    legacy = len(names) == 2 and names[0] != "syscall" and not keywords & {"payload", "blobs", "headers", "invoker"}
    return handle, legacy


def _serve(invocation, syscall, handle, legacy):
    try:
        if handle is None:
            raise RuntimeError("the function could not be loaded: %s" % legacy)
        blobs = {name: faasten.Blob(syscall, info.handle, info.size) for name, info in invocation.blobs.items()}
        if legacy:
            import json

            try:
                request = json.loads(invocation.payload) if invocation.payload else {}
            except ValueError:
                request = invocation.payload
            result = handle(request, syscall)
        else:
            result = handle(syscall, payload=invocation.payload, blobs=blobs, headers=dict(invocation.headers),
                            invoker=invocation.invoker)
        return _as_response(result)
    except ChannelClosed:
        raise
    except BaseException as exception:  # noqa: BLE001 - any failure of the function (even sys.exit) is its response
        return _error_response(exception)


def main():
    channel = Channel(int(os.environ.get("FAASTEN_CHANNEL_FD", "3")), int(os.environ.get("FAASTEN_CHANNEL_OUT_FD", "4")))
    channel.send(wire.GuestMessage(hello=wire.Hello(protocol_version=PROTOCOL_VERSION, runtime="python3")))
    try:
        welcome = channel.receive()
    except ChannelClosed:
        return
    if welcome.welcome is None:
        return
    if welcome.welcome.max_message_bytes:
        channel.max_bytes = welcome.welcome.max_message_bytes
    handle = legacy = loaded = None
    while True:
        try:
            message = channel.receive()
        except ChannelClosed:
            return
        invocation = message.invocation
        if invocation is None:
            return
        if not loaded:
            loaded = True
            try:
                handle, legacy = _load_workload()
            except BaseException as exception:  # noqa: BLE001 - reported with every invocation
                handle, legacy = None, "%s: %s" % (type(exception).__name__, exception)
        syscall = faasten.Syscall(channel)
        try:
            response = _serve(invocation, syscall, handle, legacy)
            body = bytes(response.body) if not isinstance(response.body, str) else response.body.encode()
            # Logs first: the host takes what was written before the response as this
            # invocation's.
            sys.stdout.flush()
            sys.stderr.flush()
            syscall._channel.send(wire.GuestMessage(call=wire.Call(
                response=wire.Response(body=body, status=int(response.status),
                                       headers={str(k): str(v) for k, v in response.headers.items()}))))
        except ChannelClosed:
            return
