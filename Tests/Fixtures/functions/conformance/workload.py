"""The CloudCall conformance suite, run inside a real sandbox by Tests/MonitorTests.

The payload names a scenario; each scenario makes calls that must be allowed and
calls that must be refused, and answers {"checks": [{name, ok, detail}], "label"}.
The host side checks the answers, the final label and the file system afterwards.
"""
import json

import faasten
from faasten import (AlreadyExistsError, FacetedDirectory, File, Gate, InvalidArgumentError, LimitExceededError, NotFoundError,
                     RefusedError, UnsupportedError, WrongKindError)


class Checks:
    def __init__(self):
        self.results = []

    def equal(self, name, call, expected):
        try:
            value = call()
        except Exception as error:  # noqa: BLE001 - reported
            self.results.append({"name": name, "ok": False, "detail": "raised %s: %s" % (type(error).__name__, error)})
            return None
        self.results.append({"name": name, "ok": value == expected, "detail": "got %r, expected %r" % (value, expected)})
        return value

    def raises(self, name, call, kind, rule=None):
        try:
            value = call()
        except kind as error:
            ok = rule is None or error.rule == rule
            self.results.append({"name": name, "ok": ok, "detail": "%s (%s): %s" % (type(error).__name__, error.rule, error)})
            return
        except Exception as error:  # noqa: BLE001 - reported
            self.results.append({"name": name, "ok": False, "detail": "raised %s, expected %s: %s" % (type(error).__name__, kind.__name__, error)})
            return
        self.results.append({"name": name, "ok": False, "detail": "returned %r, expected %s" % (value, kind.__name__)})


def labels(sys, c):
    c.equal("get_privilege", sys.get_privilege, "alice")
    c.equal("get_clearance", sys.get_clearance, "alice&bob,T")
    c.equal("buckle_parse canonical", lambda: sys.buckle_parse("b|a,T"), "a|b,T")
    c.equal("buckle_parse malformed", lambda: sys.buckle_parse("a//b,T"), None)
    c.equal("get_current_label", sys.get_current_label, "T,T")
    c.equal("taint within clearance", lambda: sys.taint_with_label("alice,T"), "alice,T")
    c.raises("taint above clearance", lambda: sys.taint_with_label("carol,T"), RefusedError, "read rule")
    c.equal("label kept after refusal", sys.get_current_label, "alice,T")
    c.equal("declassify owned secrecy", lambda: sys.declassify("T"), "T,T")
    c.equal("taint with bob", lambda: sys.taint_with_label("bob,T"), "bob,T")
    c.raises("declassify unowned secrecy", lambda: sys.declassify("T"), RefusedError, "declassification rule")
    c.equal("label kept after refused declassify", sys.get_current_label, "bob,T")
    c.equal("endorse with the privilege", sys.endorse, "bob,alice")
    c.raises("endorse with unowned privilege", lambda: sys.endorse("bob"), RefusedError, "delegation rule")
    c.equal("sub_privilege", lambda: sys.sub_privilege("photo"), "alice/photo")
    c.equal("sub_privilege of a sub-principal", lambda: sys.sub_privilege("x", base="alice/photo"), "alice/photo/x")
    c.raises("sub_privilege of bob", lambda: sys.sub_privilege("x", base="bob"), RefusedError, "delegation rule")
    c.raises("sub_privilege too deep", lambda: sys.sub_privilege(*(["t"] * 100000)), LimitExceededError)
    c.raises("taint with malformed label", lambda: sys.taint_with_label("a//b,T"), InvalidArgumentError)


def files(sys, c):
    c.equal("root listing", lambda: sys.root().ls(), {"home": "faceted"})
    home = sys.resolve("~")
    c.equal("home label", lambda: (type(home).__name__, home.label), ("Directory", "alice,alice"))
    notes = home.create_file("notes", b"dear diary", label="alice,alice")
    c.equal("create file", lambda: (type(notes).__name__, notes.label), ("File", "alice,alice"))
    c.equal("read file", notes.read, b"dear diary")
    c.equal("write then read", lambda: (notes.write(b"v2"), notes.read())[1], b"v2")
    c.raises("create existing name", lambda: home.create_file("notes"), AlreadyExistsError)
    c.raises("open missing name", lambda: home.open("missing"), NotFoundError)
    c.equal("link", lambda: (home.link(notes, "notes2"), sorted(home.ls()))[1], ["notes", "notes2"])
    c.equal("unlink", lambda: (home.unlink("notes2"), sorted(home.ls()))[1], ["notes"])
    c.raises("unlink missing name", lambda: home.unlink("notes2"), NotFoundError)
    c.raises("read a directory", lambda: sys.dent_read(home.fd), WrongKindError)
    c.raises("list a file", lambda: sys.dent_list(notes.fd), WrongKindError)
    c.raises("bad handle", lambda: sys.dent_read(99999), InvalidArgumentError)
    closed = home.open("notes")
    closed_fd = closed.fd
    closed.close()
    c.raises("closed handle", lambda: sys.dent_read(closed_fd), InvalidArgumentError)
    album = home.create_faceted("album")
    c.equal("create faceted", lambda: type(album).__name__, "FacetedDirectory")
    facet = album.open("alice,alice")
    c.equal("write into a facet", lambda: facet.create_file("p", b"1", label="alice,alice").read(), b"1")
    c.equal("list facets", lambda: album.ls("alice,alice"), ["alice,alice"])
    c.raises("name that paths cannot spell", lambda: home.create_file("a:b"), InvalidArgumentError)
    # Reading bob's secret raises the label to include bob: alice's home is then off limits.
    bob_home = sys.resolve("home:<bob,bob>")
    c.raises("create in bob's home", lambda: bob_home.create_file("x"), RefusedError, "write rule")
    secret = bob_home.open("secret")
    c.equal("read bob's secret", secret.read, b"bob data")
    c.raises("write bob's secret", lambda: secret.write(b"x"), RefusedError, "write rule")
    c.raises("link into alice's home after reading bob's", lambda: home.link(notes, "leak"), RefusedError, "write rule")
    c.raises("write alice's notes after reading bob's", lambda: notes.write(b"bob data"), RefusedError, "write rule")


def facets(sys, c):
    home = sys.resolve("home")
    c.equal("faceted kind", lambda: type(home).__name__, "FacetedDirectory")
    c.equal("facets under T,T", home.ls, ["T,faasten"])
    c.equal("label after listing under T,T", sys.get_current_label, "T,T")
    c.equal("facets under bob,bob", lambda: home.ls("bob,bob"), ["bob,bob"])
    c.equal("label after listing under bob,bob", sys.get_current_label, "bob,T")
    alice = home.open("alice,alice")
    c.equal("opening a facet does not taint", sys.get_current_label, "bob,T")
    c.equal("listing a facet taints", lambda: (alice.ls(), sys.get_current_label())[1], "alice&bob,T")


def blobs(sys, c, request_blobs):
    c.equal("request blob", lambda: request_blobs["input"].read(), b"request blob bytes")
    new = sys.create_blob()
    new.write(b"hello ")
    new.write(b"world")
    blob = new.finalize()
    c.equal("finalized size", lambda: blob.size, 11)
    c.equal("read all", blob.read, b"hello world")
    c.equal("seek and read", lambda: (blob.seek(6), blob.read(3), blob.tell())[1:], (b"wor", 9))
    c.equal("seek from end", lambda: (blob.seek(-2, 2), blob.read())[1], b"ld")
    c.equal("read past the end", lambda: sys.blob_read(blob.fd, 100, 10), b"")
    c.raises("write after finalize", lambda: new.write(b"x"), InvalidArgumentError)
    c.raises("bad blob handle", lambda: sys.blob_read(99999), InvalidArgumentError)
    home = sys.resolve("~")
    entry = home.create_blob("greeting", blob, label="alice,alice")
    c.equal("blob entry", lambda: entry.get().read(), b"hello world")
    c.equal("fs_linkblob and fs_openblob", lambda: (sys.fs_linkblob("~:g2", blob), sys.fs_openblob("~:g2").read())[1],
            b"hello world")
    with sys.create_blob() as other:
        other.write(b"second")
    c.equal("re-point a blob entry", lambda: (entry.update(other.finalize()), entry.get().read())[1], b"second")
    c.equal("blob close", lambda: blob.close(), None)
    bob_home = sys.resolve("home:<bob,bob>")
    c.raises("blob entry in bob's home", lambda: bob_home.create_blob("b", other.finalize()), RefusedError, "write rule")


def gates(sys, c):
    home = sys.resolve("~")
    with sys.create_blob() as image:
        image.write(b"an image")
    img = home.create_blob("img", image.finalize(), label="alice,alice")
    gate = sys.dent_create_direct_gate("T,alice", "alice/photo", "T", 128, img)
    c.equal("create direct gate", lambda: type(gate).__name__, "Gate")
    home.link(gate, "thumb")
    info = gate.ls()
    c.equal("gate description", lambda: (info["privilege"], info["declassify"], info["runtime"], info["memory_mb"]),
            ("alice/photo", "T", "python3", 128))
    c.equal("gate image", lambda: info["image"].read(), b"an image")
    c.raises("gate with unowned privilege", lambda: sys.dent_create_direct_gate("T,alice", "bob", "T", 128, img),
             RefusedError, "delegation rule")
    redirect = sys.dent_create_redirect_gate("T,T", "alice", "T", gate)
    c.equal("redirect gate", lambda: redirect.ls()["redirect"], True)
    c.equal("update gate", lambda: (sys.dent_update_gate(gate.fd, memory_mb=256), gate.ls()["memory_mb"])[1], 256)
    c.raises("update with unowned privilege", lambda: sys.dent_update_gate(gate.fd, privilege="bob"), RefusedError,
             "delegation rule")
    c.raises("invoke without an engine", lambda: gate.invoke(b"x"), UnsupportedError)
    c.raises("invoke a blob entry", lambda: sys.dent_invoke(img.fd, b"x"), WrongKindError)


def services(sys, c):
    service = sys.dent_create_service("alice,alice", "alice", "T", "alice,T", "https://api.example.com/{x}", "POST",
                                      {"Authorization": "token"})
    c.equal("service description", lambda: sys.dent_ls_service(service.fd)["url"], "https://api.example.com/{x}")
    c.raises("service with unowned privilege",
             lambda: sys.dent_create_service("T,bob", "bob", "T", "T,T", "https://x.example", "GET"),
             RefusedError, "delegation rule")
    c.raises("service with a file URL",
             lambda: sys.dent_create_service("T,alice", "alice", "T", "T,T", "file:///etc/passwd", "GET"),
             InvalidArgumentError)


def paths(sys, c):
    docs = sys.fs_createdir("~:docs")
    c.equal("fs_createdir label", lambda: docs.label, "alice,alice")
    c.equal("fs_createfile and fs_read", lambda: (sys.fs_createfile("~:docs:a", data=b"A"), sys.fs_read("~:docs:a"))[1], b"A")
    c.equal("fs_write", lambda: (sys.fs_write("~:docs:a", b"A2"), sys.fs_read("~:docs:a"))[1], b"A2")
    c.equal("fs_hardlink", lambda: (sys.fs_hardlink("~:docs:a", "~:docs:b"), sorted(sys.fs_list("~:docs")))[1], ["a", "b"])
    c.equal("fs_delete", lambda: (sys.fs_delete("~:docs:b"), sorted(sys.fs_list("~:docs")))[1], ["a"])
    c.equal("fs_faceted_list", lambda: sys.fs_faceted_list("home"), ["T,faasten"])
    sys.fs_createfaceted("~:fd")
    label = sys.get_current_label()
    c.equal("create under a faceted directory uses the current label's facet",
            lambda: (sys.fs_createfile("~:fd:x", data=b"X"), sys.fs_read("~:fd:<%s>:x" % label))[1], b"X")
    c.raises("fs_read missing", lambda: sys.fs_read("~:nothing"), NotFoundError)
    c.raises("fs_read a directory", lambda: sys.fs_read("~:docs"), WrongKindError)
    c.raises("fs_createfile in bob's home", lambda: sys.fs_createfile("home:<bob,bob>:x"), RefusedError, "write rule")


SCENARIOS = {"labels": labels, "files": files, "facets": facets, "gates": gates, "services": services, "paths": paths}


def handle(syscall, payload, blobs, headers, invoker):
    request = json.loads(payload)
    checks = Checks()
    if request["scenario"] == "blobs":
        globals()["blobs_scenario"](syscall, checks, blobs)
    else:
        SCENARIOS[request["scenario"]](syscall, checks)
    return faasten.ResponseDict({"checks": checks.results, "label": syscall.get_current_label(), "invoker": invoker})


blobs_scenario = blobs
