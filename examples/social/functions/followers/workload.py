"""followers: {"user": "bob"} — who follows bob, and whose follow function vouched for
each entry (the facet's integrity): a name can only appear in the facet of the follow
function of the user it names."""
import json

import faasten


def handle(syscall, payload, blobs, headers, invoker):
    user = json.loads(payload or b"{}").get("user", "")
    if not user or any(c in user for c in ":<>,&|\\/~%"):
        return faasten.ResponseDict({"error": "give a plain user name: {\"user\": NAME}"}, 400)
    followers = []
    with syscall.resolve("home:<T,%s/social>:followers" % user) as faceted:
        for facet_label in faceted.ls("T,T"):
            with faceted.open(facet_label) as facet:
                for name in sorted(facet.ls()):
                    followers.append({"name": name, "vouched_by": facet_label.split(",", 1)[1]})
    return {"user": user, "followers": followers}
