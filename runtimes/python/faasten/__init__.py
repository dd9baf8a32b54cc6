"""The Faasten SDK for Python functions.

A function is ``handle(syscall, payload, blobs, headers, invoker)`` in ``workload.py``::

    import faasten

    def handle(syscall, payload, blobs, headers, invoker):
        photos = syscall.fs_list("~:photos")
        return faasten.ResponseDict({"photos": sorted(photos)})

``syscall`` is the function's only way out of its sandbox: every call goes to the
trusted monitor, which checks it against the labels (reads raise the current label,
writes must flow). Errors are raised as ``FaastenError`` subclasses; a refusal by a
flow rule is ``RefusedError`` and names the rule.

Labels, privileges and components are strings in Faasten's label syntax:
``"alice&bob,alice"``, ``"alice"``, ``"T"``.

The SDK is split by layer (``errors`` ← ``handles`` ← ``calls``, and ``responses``);
everything a function uses is here, as ``faasten.X``.
"""
from faasten._wire import cloudcalls as wire  # noqa: F401 - faasten.wire has always been reachable
from faasten.calls import Syscall
from faasten.errors import (AlreadyExistsError, FaastenError, InvalidArgumentError, LimitExceededError, NotFoundError,
                            RefusedError, UnavailableError, UnsupportedError, WrongKindError)
from faasten.handles import Blob, BlobEntry, Dent, Directory, FacetedDirectory, File, Gate, NewBlob, Service
from faasten.responses import Response, ResponseDict, ResponseRaw, ResponseStr

__all__ = [
    "Syscall", "Directory", "FacetedDirectory", "File", "BlobEntry", "Gate", "Service", "Blob", "NewBlob",
    "ResponseDict", "ResponseStr", "ResponseRaw", "FaastenError", "RefusedError", "NotFoundError",
    "AlreadyExistsError", "WrongKindError", "InvalidArgumentError", "LimitExceededError", "UnsupportedError",
    "UnavailableError",
]

# Tracebacks and reprs keep naming these classes as before the split
# (faasten.RefusedError, not faasten.errors.RefusedError): a function's error
# response carries its traceback.
for _class in (Syscall, Directory, FacetedDirectory, File, BlobEntry, Gate, Service, Blob, NewBlob, Dent, Response,
               ResponseDict, ResponseStr, ResponseRaw, FaastenError, RefusedError, NotFoundError, AlreadyExistsError,
               WrongKindError, InvalidArgumentError, LimitExceededError, UnsupportedError, UnavailableError):
    _class.__module__ = __name__
del _class
