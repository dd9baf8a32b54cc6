"""A small notes function: {"add": text} appends a note to your home, {"list": true}
lists them, {"read": path} reads any file the labels let it reach. Run it with
`faasten run examples/python/notes --as alice`."""
import json

import faasten


def handle(syscall, payload, blobs, headers, invoker):
    request = json.loads(payload or b"{}")
    if "read" in request:
        return faasten.ResponseRaw(syscall.fs_read(request["read"]))
    if "add" in request:
        notes = _notes(syscall)
        number = len(notes.ls())
        notes.create_file("%03d" % number, request["add"].encode(), label=notes.label)
        return faasten.ResponseDict({"added": number}, 201)
    notes = _notes(syscall)
    texts = {name: notes.open(name).read().decode() for name in sorted(notes.ls())}
    return faasten.ResponseDict({"notes": texts, "label": syscall.get_current_label()})


def _notes(syscall):
    home = syscall.resolve("~")
    try:
        return home.open("notes")
    except faasten.NotFoundError:
        return home.create_directory("notes", label=home.label)
