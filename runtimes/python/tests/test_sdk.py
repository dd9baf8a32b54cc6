"""Tests of the Python SDK (runtimes/python/faasten) against a scripted host.

Each test gives the host's answers in advance. They are written, framed, into a real
pipe whose write end is then closed; the SDK runs over ``faasten._channel.Channel`` on
the other ends, and afterwards the test reads back every call the SDK framed and
compares it, field for field, with the calls a function should make. An SDK making a
call too many reads end of file (``ChannelClosed``) instead of hanging.

The same cases are in runtimes/node/tests/sdk.test.mjs with the same messages: the two
SDKs are meant to behave alike.

Run from the repository root:
  /usr/bin/python3 -m unittest discover -s runtimes/python/tests -v
"""
import os
import sys
import unittest

# The SDK in this tree, not one installed elsewhere.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import faasten  # noqa: E402
from faasten._channel import Channel, ChannelClosed, frame  # noqa: E402
from faasten._wire import cloudcalls as wire  # noqa: E402

K = wire.Kind
DONE = wire.Result(done=wire.Empty())
# Answers are written before the SDK reads any, so all of them must fit in the pipe
# (64 KiB on Linux) or the write would block with nobody reading.
PIPE_BYTES = 1 << 16


def opened(handle, kind, label="alice,alice"):
    return wire.Result(opened=wire.Opened(handle=handle, kind=kind, label=label))


def failed(code, message, rule=""):
    return wire.Result(error=wire.Error(code=code, message=message, rule=rule))


def call(**fields):
    return wire.Call(**fields)


class Host:
    """Two pipes, the host's answers already in one, and a ``Syscall`` on the other ends."""

    def __init__(self, test, *answers):
        to_guest, to_guest_writer = os.pipe()
        self._from_guest, from_guest_writer = os.pipe()
        os.set_blocking(self._from_guest, False)
        self._received = b""
        frames = b"".join(frame(a if isinstance(a, wire.HostMessage) else wire.HostMessage(result=a))
                          for a in answers)
        test.assertLess(len(frames), PIPE_BYTES, "answers too long to write ahead")
        os.write(to_guest_writer, frames)
        os.close(to_guest_writer)
        self._guest_fds = [to_guest, from_guest_writer]
        self.syscall = faasten.Syscall(Channel(to_guest, from_guest_writer))
        test.addCleanup(self._close)

    def sent(self):
        """The calls the SDK has sent so far, decoded (all of them once its end is closed)."""
        while True:
            try:
                chunk = os.read(self._from_guest, PIPE_BYTES)
            except BlockingIOError:  # the SDK's end is open, and nothing more is in the pipe
                break
            if not chunk:
                break
            self._received += chunk
        calls = []
        data = self._received
        while data:
            length = int.from_bytes(data[:4], "big")
            calls.append(wire.GuestMessage.decode(data[4:4 + length]).call)
            data = data[4 + length:]
        return calls

    def calls(self):
        """Every call the SDK sent; its end is closed first, so that none can be missed."""
        os.close(self._guest_fds.pop())
        return self.sent()

    def _close(self):
        for fd in self._guest_fds + [self._from_guest]:
            os.close(fd)


class SdkTest(unittest.TestCase):
    def host(self, *answers):
        self._host = Host(self, *answers)
        return self._host.syscall

    def assertCalls(self, *expected):
        self.assertEqual(self._host.calls(), list(expected))


class Labels(SdkTest):
    def test_label_calls_send_their_arguments_and_return_the_answers(self):
        s = self.host(wire.Result(label="T,T"), wire.Result(label="a,T"), wire.Result(label="x,T"),
                      wire.Result(label="x,alice"), wire.Result(label="x,alice&p"), wire.Result(component="q/a/b"),
                      wire.Result(component="alice"), wire.Result(label="T,alice"))
        self.assertEqual([s.get_current_label(), s.taint_with_label("a,T"), s.declassify("x"), s.endorse(),
                          s.endorse("p"), s.sub_privilege("a", "b", base="q"), s.get_privilege(), s.get_clearance()],
                         ["T,T", "a,T", "x,T", "x,alice", "x,alice&p", "q/a/b", "alice", "T,alice"])
        self.assertCalls(call(get_current_label=wire.Empty()), call(taint=wire.Taint(label="a,T")),
                         call(declassify=wire.Declassify(secrecy="x")), call(endorse=wire.Endorse(privilege="")),
                         call(endorse=wire.Endorse(privilege="p")),
                         call(sub_privilege=wire.SubPrivilege(base="q", suffix=["a", "b"])),
                         call(get_privilege=wire.Empty()), call(get_clearance=wire.Empty()))

    def test_buckle_parse_is_none_only_for_an_invalid_label(self):
        s = self.host(wire.Result(label="a,T"), failed(wire.Code.INVALID_ARGUMENT, "bad label"),
                      failed(wire.Code.LIMIT_EXCEEDED, "label too large"))
        self.assertEqual(s.buckle_parse("a"), "a,T")
        self.assertIsNone(s.buckle_parse("a&"))
        with self.assertRaises(faasten.LimitExceededError):
            s.buckle_parse("a|b")
        self.assertCalls(*(call(parse_label=wire.ParseLabel(text=t)) for t in ("a", "a&", "a|b")))


class Files(SdkTest):
    def test_fs_read_resolves_reads_and_closes(self):
        s = self.host(opened(7, K.FILE), wire.Result(data=b"hello"), DONE)
        self.assertEqual(s.fs_read("home:f"), b"hello")
        self.assertCalls(call(resolve=wire.Resolve(path="home:f")), call(read=wire.Handle(handle=7)),
                         call(close=wire.Handle(handle=7)))

    def test_fs_write_resolves_updates_and_closes(self):
        s = self.host(opened(7, K.FILE), DONE, DONE)
        self.assertIsNone(s.fs_write("home:f", bytearray(b"new")))
        self.assertCalls(call(resolve=wire.Resolve(path="home:f")),
                         call(update=wire.Update(handle=7, file=b"new")), call(close=wire.Handle(handle=7)))

    def test_fs_createfile_without_a_label_endorses_first(self):
        # The original SDK endorsed what it created with the function's privilege.
        s = self.host(opened(3, K.DIRECTORY), wire.Result(label="T,alice"), opened(9, K.FILE, "T,alice"), DONE)
        created = s.fs_createfile("home:d:new", data=b"x")
        self.assertEqual((type(created), created.fd, created.label), (faasten.File, 9, "T,alice"))
        self.assertCalls(call(resolve=wire.Resolve(path="home:d")), call(endorse=wire.Endorse()),
                         call(create=wire.Create(file=b"x", link=wire.LinkAs(directory=3, name="new"))),
                         call(close=wire.Handle(handle=3)))

    def test_fs_createdir_in_a_faceted_directory_goes_into_the_current_facet(self):
        s = self.host(opened(4, K.FACETED_DIRECTORY), wire.Result(label="a,T"), opened(5, K.DIRECTORY), DONE,
                      opened(6, K.DIRECTORY, "a,T"), DONE)
        created = s.fs_createdir("home:photos:2024", label="a,T")
        self.assertEqual((type(created), created.fd), (faasten.Directory, 6))
        self.assertCalls(call(resolve=wire.Resolve(path="home:photos")), call(get_current_label=wire.Empty()),
                         call(open=wire.Open(directory=4, facet="a,T")), call(close=wire.Handle(handle=4)),
                         call(create=wire.Create(label="a,T", directory=wire.Empty(),
                                                 link=wire.LinkAs(directory=5, name="2024"))),
                         call(close=wire.Handle(handle=5)))

    def test_a_one_name_path_is_created_in_the_root_which_is_never_closed(self):
        s = self.host(opened(0, K.DIRECTORY, ""), opened(2, K.FACETED_DIRECTORY, ""))
        self.assertIsInstance(s.fs_createfaceted("home"), faasten.FacetedDirectory)
        self.assertCalls(call(root=wire.Empty()),
                         call(create=wire.Create(faceted_directory=wire.Empty(),
                                                 link=wire.LinkAs(directory=0, name="home"))))

    def test_fs_list_names_kinds_as_the_wire_does(self):
        entries = [wire.ListedEntry(name=n, kind=k) for n, k in
                   (("d", K.DIRECTORY), ("f", K.FILE), ("fd", K.FACETED_DIRECTORY), ("g", K.GATE),
                    ("s", K.SERVICE), ("b", K.BLOB), ("new", 77))]
        s = self.host(opened(3, K.DIRECTORY), wire.Result(listing=wire.Listing(entries=entries)), DONE)
        self.assertEqual(s.fs_list("home:d"), {"d": "directory", "f": "file", "fd": "faceted", "g": "gate",
                                               "s": "service", "b": "blob", "new": "unknown"})
        self.assertCalls(call(resolve=wire.Resolve(path="home:d")), call(list=wire.Handle(handle=3)),
                         call(close=wire.Handle(handle=3)))

    def test_fs_delete_unlinks_from_the_parent(self):
        s = self.host(opened(3, K.DIRECTORY), DONE, DONE)
        s.fs_delete("home:d:old")
        self.assertCalls(call(resolve=wire.Resolve(path="home:d")),
                         call(unlink=wire.Unlink(directory=3, name="old")), call(close=wire.Handle(handle=3)))

    def test_a_path_without_a_last_name_is_refused_before_any_call(self):
        s = self.host()
        with self.assertRaises(faasten.InvalidArgumentError) as raised:
            s.fs_createdir("home:d:")
        self.assertEqual((raised.exception.code, str(raised.exception)),
                         ("INVALID_ARGUMENT", "the path 'home:d:' does not end with a name"))
        self.assertCalls()


class Blobs(SdkTest):
    def test_a_blob_is_read_in_pieces_from_where_it_stands(self):
        # The host answers a read with less than asked; the SDK asks again from there.
        s = self.host(opened(6, K.BLOB), wire.Result(blob=wire.BlobInfo(handle=20, size=10)), DONE,
                      wire.Result(data=b"0123"), wire.Result(data=b"456"), wire.Result(data=b"789"),
                      wire.Result(data=b"89"), DONE)
        blob = s.fs_openblob("home:b")
        self.assertEqual((blob.fd, len(blob)), (20, 10))
        self.assertEqual(blob.read(4), b"0123")
        self.assertEqual(blob.read(), b"456789")
        self.assertEqual(blob.seek(-2, 2), 8)
        self.assertEqual(blob.read(), b"89")
        self.assertEqual((blob.tell(), blob.read()), (10, b""))  # at the end: no call
        with blob:
            pass
        self.assertIsNone(blob.fd)
        self.assertCalls(call(resolve=wire.Resolve(path="home:b")), call(open_blob=wire.Handle(handle=6)),
                         call(close=wire.Handle(handle=6)), call(blob_read=wire.BlobRead(handle=20, length=4)),
                         call(blob_read=wire.BlobRead(handle=20, offset=4, length=6)),
                         call(blob_read=wire.BlobRead(handle=20, offset=7, length=3)),
                         call(blob_read=wire.BlobRead(handle=20, offset=8, length=2)),
                         call(blob_close=wire.BlobHandle(handle=20)))

    def test_a_new_blob_is_written_in_chunks_finalized_and_linked(self):
        s = self.host(wire.Result(blob=wire.BlobInfo(handle=30)), DONE, DONE,
                      wire.Result(blob=wire.BlobInfo(handle=31, size=4)),
                      opened(3, K.DIRECTORY), wire.Result(label="T,alice"), opened(8, K.BLOB), DONE)
        with s.create_blob() as new:
            self.assertEqual(new.write(b"ab"), 2)
            self.assertEqual(new.write(bytearray(b"cd")), 2)
        # Leaving the block finalized the blob (fs_linkblob would have, too, but later).
        self.assertEqual([c.which_call() for c in self._host.sent()],
                         ["blob_create", "blob_write", "blob_write", "blob_finalize"])
        entry = s.fs_linkblob("home:d:pic", new)  # finalized already: not again
        self.assertEqual((type(entry), entry.fd), (faasten.BlobEntry, 8))
        self.assertEqual((new.finalize().fd, new.finalize().size), (31, 4))
        self.assertCalls(call(blob_create=wire.Empty()), call(blob_write=wire.BlobWrite(handle=30, data=b"ab")),
                         call(blob_write=wire.BlobWrite(handle=30, data=b"cd")),
                         call(blob_finalize=wire.BlobHandle(handle=30)), call(resolve=wire.Resolve(path="home:d")),
                         call(endorse=wire.Endorse()),
                         call(create=wire.Create(blob=31, link=wire.LinkAs(directory=3, name="pic"))),
                         call(close=wire.Handle(handle=3)))

    def test_a_new_blob_left_by_an_exception_is_discarded_not_finalized(self):
        s = self.host(wire.Result(blob=wire.BlobInfo(handle=30)), DONE)
        with self.assertRaises(KeyError):
            with s.create_blob():
                raise KeyError("stop")
        self.assertCalls(call(blob_create=wire.Empty()), call(blob_close=wire.BlobHandle(handle=30)))


class Invoke(SdkTest):
    def test_invoke_by_path_is_asynchronous_and_closes_the_gate(self):
        s = self.host(opened(8, K.GATE),
                      wire.Result(invoked=wire.InvokeResult(status=202, invocation_id="inv-1", headers={"x": "y"})),
                      DONE)
        self.assertEqual(s.invoke("home:g", "hi", params={"k": "v"}),
                         {"status": 202, "headers": {"x": "y"}, "id": "inv-1", "data": b""})
        self.assertCalls(call(resolve=wire.Resolve(path="home:g")),
                         call(invoke=wire.Invoke(handle=8, payload=b"hi", parameters={"k": "v"})),
                         call(close=wire.Handle(handle=8)))

    def test_a_service_result_can_come_back_as_a_blob(self):
        s = self.host(opened(9, K.SERVICE),
                      wire.Result(invoked=wire.InvokeResult(status=200, blob=40, blob_size=1234, invocation_id="i")),
                      DONE)
        outcome = s.invoke_service("home:svc", b"q", toblob=True)
        self.assertEqual((outcome["status"], outcome["blob"].fd, outcome["blob"].size, "data" in outcome),
                         (200, 40, 1234, False))
        self.assertCalls(call(resolve=wire.Resolve(path="home:svc")),
                         call(invoke=wire.Invoke(handle=9, sync=True, payload=b"q", to_blob=True)),
                         call(close=wire.Handle(handle=9)))


class Errors(SdkTest):
    # Every code the protocol has: the class, the code name and the rule a caller sees.
    CODES = [
        (wire.Code.INVALID_ARGUMENT, faasten.InvalidArgumentError, "INVALID_ARGUMENT", ""),
        (wire.Code.NOT_FOUND, faasten.NotFoundError, "NOT_FOUND", ""),
        (wire.Code.ALREADY_EXISTS, faasten.AlreadyExistsError, "ALREADY_EXISTS", ""),
        (wire.Code.WRONG_KIND, faasten.WrongKindError, "WRONG_KIND", ""),
        (wire.Code.REFUSED, faasten.RefusedError, "REFUSED", "write rule"),
        (wire.Code.LIMIT_EXCEEDED, faasten.LimitExceededError, "LIMIT_EXCEEDED", ""),
        (wire.Code.BAD_HANDLE, faasten.InvalidArgumentError, "BAD_HANDLE", ""),
        (wire.Code.UNAVAILABLE, faasten.UnavailableError, "UNAVAILABLE", ""),
        (wire.Code.INTERNAL, faasten.FaastenError, "INTERNAL", ""),
        (wire.Code.PROTOCOL, faasten.FaastenError, "PROTOCOL", ""),
        (wire.Code.UNSUPPORTED, faasten.UnsupportedError, "UNSUPPORTED", ""),
        (wire.Code.TIMEOUT, faasten.FaastenError, "TIMEOUT", ""),
        (99, faasten.FaastenError, "INTERNAL", ""),  # a code newer than the SDK
    ]

    def test_every_wire_code_raises_its_class_with_code_message_and_rule(self):
        self.assertEqual(len(self.CODES) - 1, len([n for n in dir(wire.Code) if n.isupper() and n != "OK"]))
        for number, kind, name, rule in self.CODES:
            with self.subTest(name=name, number=number):
                s = self.host(failed(number, "no: %s" % name, rule))
                with self.assertRaises(faasten.FaastenError) as raised:
                    s.taint_with_label("a,T")
                error = raised.exception
                self.assertIs(type(error), kind)
                self.assertEqual((error.code, error.rule, str(error)), (name, rule, "no: %s" % name))
                self.assertCalls(call(taint=wire.Taint(label="a,T")))

    def test_a_failing_path_helper_still_closes_its_handle(self):
        s = self.host(opened(7, K.FILE), failed(wire.Code.REFUSED, "alice,T does not flow to T,T", "write rule"), DONE)
        with self.assertRaises(faasten.RefusedError) as raised:
            s.fs_write("home:f", b"x")
        self.assertEqual(raised.exception.rule, "write rule")
        self.assertCalls(call(resolve=wire.Resolve(path="home:f")),
                         call(update=wire.Update(handle=7, file=b"x")), call(close=wire.Handle(handle=7)))

    def test_a_goodbye_instead_of_a_result_closes_the_channel_with_its_reason(self):
        s = self.host(wire.HostMessage(goodbye=wire.Goodbye(error=wire.Error(code=wire.Code.TIMEOUT,
                                                                             message="deadline passed"))))
        with self.assertRaisesRegex(ChannelClosed, "^deadline passed$"):
            s.get_clearance()

    def test_a_call_the_host_never_answers_is_channel_closed(self):
        s = self.host()
        with self.assertRaisesRegex(ChannelClosed, "^the host closed the channel$"):
            s.get_privilege()
        self.assertCalls(call(get_privilege=wire.Empty()))


class WrongKind(SdkTest):
    # The path helpers check the kind themselves (the handle would have no read, write
    # or get), as the monitor would: WrongKindError, code WRONG_KIND, the wire's kind
    # name; and the handle is still closed.
    CASES = [
        ("fs_read", (), K.FACETED_DIRECTORY, "home:x is a faceted, not a file"),
        ("fs_read", (), K.BLOB, "home:x is a blob, not a file"),
        ("fs_write", (b"data",), K.DIRECTORY, "home:x is a directory, not a file"),
        ("fs_write", (b"data",), K.GATE, "home:x is a gate, not a file"),
        ("fs_openblob", (), K.FILE, "home:x is a file, not a blob"),
        ("fs_openblob", (), K.SERVICE, "home:x is a service, not a blob"),
        ("fs_list", (), K.FILE, "home:x is a file, not a directory"),
        ("fs_faceted_list", (), K.DIRECTORY, "home:x is a directory, not a faceted"),
        ("invoke", (), K.FILE, "home:x is a file, not a gate"),
        ("invoke_service", (), K.GATE, "home:x is a gate, not a service"),
    ]

    def test_path_helpers_refuse_a_handle_of_the_wrong_kind(self):
        for method, arguments, kind, message in self.CASES:
            with self.subTest(method=method, kind=kind):
                s = self.host(opened(7, kind), DONE)
                with self.assertRaises(faasten.WrongKindError) as raised:
                    getattr(s, method)("home:x", *arguments)
                error = raised.exception
                self.assertEqual((str(error), error.code, error.rule), (message, "WRONG_KIND", ""))
                self.assertCalls(call(resolve=wire.Resolve(path="home:x")), call(close=wire.Handle(handle=7)))


if __name__ == "__main__":
    unittest.main()
