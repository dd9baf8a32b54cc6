"""follow: {"followee": "bob"} — you follow bob.

Runs with the delegated sub-principal <you>/social/follow, never with your whole
privilege, and writes two 8-byte big-endian timestamps:
  home:<T,bob/social>:followers:<T,you/social/follow>:you   (in bob's faceted followers:
      the facet vouched for by your follow function, the only place it may write there)
  home:<T,you/social>:following:bob                          (your own list)
Following twice changes nothing.
"""
import json
import struct
import time

import faasten


def handle(syscall, payload, blobs, headers, invoker):
    followee = json.loads(payload or b"{}").get("followee", "")
    if not followee or any(c in followee for c in ":<>,&|\\/~%"):
        return faasten.ResponseDict({"error": "give a plain user name: {\"followee\": NAME}"}, 400)
    me = syscall.get_privilege()  # e.g. alice/social/follow
    user = me.split("/")[0]
    vouched = "T," + me
    stamp = struct.pack(">d", time.time())
    created = []
    for path in ("home:<T,%s/social>:followers:<%s>:%s" % (followee, vouched, user),
                 "home:<T,%s/social>:following:%s" % (user, followee)):
        try:
            syscall.fs_createfile(path, label=vouched, data=stamp)
            created.append(path)
        except faasten.AlreadyExistsError:
            pass
    return {"user": user, "follows": followee, "created": created}
