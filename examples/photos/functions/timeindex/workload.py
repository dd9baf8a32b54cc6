"""timeindex: files a photo under the hour it was taken, by hard link.

Payload: {"photo": "home:<alice,alice>:photos:beach.ppm", "timestamp": "2024-07-14T15:30:00Z"}

Creates the directories home:%:YYYY:M:D:H (those that exist already are fine: indexing
twice changes nothing) and links the photo's entry there under its own name. The
directories carry the current label: the photo owner's secrecy, vouched for by the app.
"""
import datetime
import json

import faasten


def handle(syscall, payload, blobs, headers, invoker):
    request = json.loads(payload or b"{}")
    photo = request.get("photo")
    try:
        taken = datetime.datetime.fromisoformat(request.get("timestamp", ""))
    except ValueError:
        return faasten.ResponseDict({"error": "timestamp must be ISO-8601, e.g. 2024-07-14T15:30:00Z"}, 400)
    if not photo:
        return faasten.ResponseDict({"error": "give the photo's path: {\"photo\": PATH}"}, 400)
    # Opening the photo's entry taints with its directories' labels; endorse so that
    # the index says the app made it.
    with syscall.resolve(photo):
        pass
    syscall.endorse()
    directory = "home:%"
    for part in (taken.year, taken.month, taken.day, taken.hour):
        directory += ":%d" % part
        try:
            syscall.fs_createdir(directory)
        except faasten.AlreadyExistsError:
            pass
    name = photo.split(":")[-1]
    try:
        syscall.fs_hardlink(photo, directory + ":" + name)
        linked = True
    except faasten.AlreadyExistsError:
        linked = False
    return {"indexed": directory + ":" + name, "new": linked, "label": syscall.get_current_label()}
