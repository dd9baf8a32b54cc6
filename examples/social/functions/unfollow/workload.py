"""unfollow: {"followee": "bob"} — you stop following bob: removes what follow wrote
(in bob's followers facet vouched for by your follow function, and in your following)."""
import json

import faasten


def handle(syscall, payload, blobs, headers, invoker):
    followee = json.loads(payload or b"{}").get("followee", "")
    if not followee or any(c in followee for c in ":<>,&|\\/~%"):
        return faasten.ResponseDict({"error": "give a plain user name: {\"followee\": NAME}"}, 400)
    me = syscall.get_privilege()  # e.g. alice/social/follow
    user = me.split("/")[0]
    removed = []
    for path in ("home:<T,%s/social>:followers:<T,%s>:%s" % (followee, me, user),
                 "home:<T,%s/social>:following:%s" % (user, followee)):
        try:
            syscall.fs_delete(path)
            removed.append(path)
        except faasten.NotFoundError:
            pass
    return {"user": user, "unfollowed": followee, "removed": removed}
