// Tests of the JavaScript SDK (runtimes/node/faasten) against a scripted host.
//
// Each test gives the host's answers in advance. They are written, framed, into a
// real pipe whose write end is then closed; the SDK runs over its own Channel on the
// other ends, and afterwards the test reads back every call the SDK framed and
// compares it, field for field, with the calls a function should make. An SDK making
// a call too many reads end of file (ChannelClosed) instead of hanging: the channel
// reads synchronously, so a host answering as calls arrive could not run in this
// thread anyway.
//
// The same cases are in runtimes/python/tests/test_sdk.py with the same messages: the
// two SDKs are meant to behave alike.
//
// Run from the repository root (Node 18 or newer): node --test runtimes/node/tests/
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, describe, test } from "node:test";

import { Channel, ChannelClosed } from "../faasten/_channel.mjs";
import * as wire from "../faasten/_wire/cloudcalls.mjs";
import * as faasten from "../faasten/index.mjs";

const K = wire.Kind;
const DONE = { done: {} };
// Answers are written before the SDK reads any, so all of them must fit in the pipe
// (64 KiB on Linux) or the write would block with nobody reading.
const PIPE_BYTES = 1 << 16;

const opened = (handle, kind, label = "alice,alice") => ({ opened: { handle, kind, label } });
const failed = (code, message, rule = "") => ({ error: { code, message, rule } });
const bytes = (text) => Buffer.from(text);

const cleanups = [];
after(() => cleanups.forEach((cleanup) => cleanup()));

/** Two pipes, the host's answers already in one, and a Syscall on the other ends.
 * An answer is a Result's fields (its id is the SDK's next one) or `{ goodbye }`. */
class Host {
  constructor(answers) {
    const directory = mkdtempSync(join(tmpdir(), "faasten-sdk-"));
    const toGuest = join(directory, "to-guest");
    const fromGuest = join(directory, "from-guest");
    // Node has no pipe(2); a FIFO is the same kernel pipe with a name. Its read end
    // opened with O_NONBLOCK does not wait for a writer, so the write end then opens
    // at once; with the writer closed, reads give the data, then end of file.
    const made = spawnSync("mkfifo", [toGuest, fromGuest]);
    assert.equal(made.status, 0, `mkfifo: ${made.error ?? made.stderr}`);
    const guestIn = openSync(toGuest, constants.O_RDONLY | constants.O_NONBLOCK);
    const hostOut = openSync(toGuest, constants.O_WRONLY);
    let id = 0;
    const frames = Buffer.concat(answers.map((answer) => wire.HostMessage.encodeFrame(
      "goodbye" in answer ? answer : { result: { id: ++id, ...answer } })));
    assert.ok(frames.length < PIPE_BYTES, "answers too long to write ahead");
    for (let offset = 0; offset < frames.length;) offset += writeSync(hostOut, frames, offset);
    closeSync(hostOut);
    this.hostIn = openSync(fromGuest, constants.O_RDONLY | constants.O_NONBLOCK);
    this.received = Buffer.alloc(0);
    this.guestOut = openSync(fromGuest, constants.O_WRONLY);
    this.syscall = new faasten.Syscall(new Channel(guestIn, this.guestOut));
    const fds = [guestIn, this.hostIn];
    cleanups.push(() => {
      fds.forEach((fd) => closeSync(fd));
      if (this.guestOut !== null) closeSync(this.guestOut);
      rmSync(directory, { recursive: true, force: true });
    });
  }

  /** The calls the SDK has sent so far, decoded (all of them once its end is closed). */
  sent() {
    for (;;) {
      const chunk = Buffer.alloc(PIPE_BYTES);
      let n;
      try {
        n = readSync(this.hostIn, chunk, 0, chunk.length, null);
      } catch (error) {
        if (error.code === "EAGAIN") break; // the SDK's end is open, and nothing more is in the pipe
        throw error;
      }
      if (n === 0) break;
      this.received = Buffer.concat([this.received, chunk.subarray(0, n)]);
    }
    const calls = [];
    for (let at = 0; at < this.received.length;) {
      const length = this.received.readUInt32BE(at);
      calls.push(wire.GuestMessage.decode(this.received.subarray(at + 4, at + 4 + length)).call);
      at += 4 + length;
    }
    return calls;
  }

  /** Every call the SDK sent; its end is closed first, so that none can be missed. */
  calls() {
    closeSync(this.guestOut);
    this.guestOut = null;
    return this.sent();
  }

  /** Asserts the calls sent were exactly `expected` ([name, fields] pairs), numbered
   * from 1; each goes through the codec so that defaults compare equal. */
  assertCalls(...expected) {
    const decoded = expected.map(([name, fields], index) => wire.GuestMessage.decode(
      wire.GuestMessage.encodeFrame({ call: { id: index + 1, [name]: fields } }).subarray(4)).call);
    assert.deepStrictEqual(this.calls(), decoded);
  }
}

const host = (...answers) => new Host(answers);

describe("labels", () => {
  test("label calls send their arguments and return the answers", async () => {
    const h = host({ label: "T,T" }, { label: "a,T" }, { label: "x,T" }, { label: "x,alice" }, { label: "x,alice&p" },
      { component: "q/a/b" }, { component: "alice" }, { label: "T,alice" });
    const s = h.syscall;
    assert.deepStrictEqual([await s.getCurrentLabel(), await s.taintWithLabel("a,T"), await s.declassify("x"),
      await s.endorse(), await s.endorse("p"), await s.subPrivilege(["a", "b"], { base: "q" }), await s.getPrivilege(),
      await s.getClearance()], ["T,T", "a,T", "x,T", "x,alice", "x,alice&p", "q/a/b", "alice", "T,alice"]);
    h.assertCalls(["getCurrentLabel", {}], ["taint", { label: "a,T" }], ["declassify", { secrecy: "x" }],
      ["endorse", { privilege: "" }], ["endorse", { privilege: "p" }],
      ["subPrivilege", { base: "q", suffix: ["a", "b"] }], ["getPrivilege", {}], ["getClearance", {}]);
  });

  test("buckleParse is null only for an invalid label", async () => {
    const h = host({ label: "a,T" }, failed(wire.Code.INVALID_ARGUMENT, "bad label"),
      failed(wire.Code.LIMIT_EXCEEDED, "label too large"));
    assert.equal(await h.syscall.buckleParse("a"), "a,T");
    assert.equal(await h.syscall.buckleParse("a&"), null);
    await assert.rejects(h.syscall.buckleParse("a|b"), faasten.LimitExceededError);
    h.assertCalls(...["a", "a&", "a|b"].map((text) => ["parseLabel", { text }]));
  });
});

describe("files", () => {
  test("fsRead resolves, reads and closes", async () => {
    const h = host(opened(7, K.FILE), { data: bytes("hello") }, DONE);
    assert.deepStrictEqual(await h.syscall.fsRead("home:f"), bytes("hello"));
    h.assertCalls(["resolve", { path: "home:f" }], ["read", { handle: 7 }], ["close", { handle: 7 }]);
  });

  test("fsWrite resolves, updates and closes", async () => {
    const h = host(opened(7, K.FILE), DONE, DONE);
    assert.equal(await h.syscall.fsWrite("home:f", "new"), undefined);
    h.assertCalls(["resolve", { path: "home:f" }], ["update", { handle: 7, file: bytes("new") }],
      ["close", { handle: 7 }]);
  });

  test("fsCreateFile without a label endorses first", async () => {
    // The original SDK endorsed what it created with the function's privilege.
    const h = host(opened(3, K.DIRECTORY), { label: "T,alice" }, opened(9, K.FILE, "T,alice"), DONE);
    const created = await h.syscall.fsCreateFile("home:d:new", { data: "x" });
    assert.deepStrictEqual([created.constructor, created.fd, created.label], [faasten.File, 9, "T,alice"]);
    h.assertCalls(["resolve", { path: "home:d" }], ["endorse", { privilege: "" }],
      ["create", { file: bytes("x"), link: { directory: 3, name: "new" } }], ["close", { handle: 3 }]);
  });

  test("fsCreateDir in a faceted directory goes into the current facet", async () => {
    const h = host(opened(4, K.FACETED_DIRECTORY), { label: "a,T" }, opened(5, K.DIRECTORY), DONE,
      opened(6, K.DIRECTORY, "a,T"), DONE);
    const created = await h.syscall.fsCreateDir("home:photos:2024", { label: "a,T" });
    assert.deepStrictEqual([created.constructor, created.fd], [faasten.Directory, 6]);
    h.assertCalls(["resolve", { path: "home:photos" }], ["getCurrentLabel", {}],
      ["open", { directory: 4, facet: "a,T" }], ["close", { handle: 4 }],
      ["create", { label: "a,T", directory: {}, link: { directory: 5, name: "2024" } }], ["close", { handle: 5 }]);
  });

  test("a one-name path is created in the root, which is never closed", async () => {
    const h = host(opened(0, K.DIRECTORY, ""), opened(2, K.FACETED_DIRECTORY, ""));
    assert.ok(await h.syscall.fsCreateFaceted("home") instanceof faasten.FacetedDirectory);
    h.assertCalls(["root", {}], ["create", { facetedDirectory: {}, link: { directory: 0, name: "home" } }]);
  });

  test("fsList names kinds as the wire does, and keeps any name as its own key", async () => {
    const entries = [["d", K.DIRECTORY], ["f", K.FILE], ["fd", K.FACETED_DIRECTORY], ["g", K.GATE], ["s", K.SERVICE],
      ["b", K.BLOB], ["new", 77], ["__proto__", K.FILE]].map(([name, kind]) => ({ name, kind }));
    const h = host(opened(3, K.DIRECTORY), { listing: { entries } }, DONE);
    const listing = await h.syscall.fsList("home:d");
    assert.deepStrictEqual(Object.entries(listing), [["d", "directory"], ["f", "file"], ["fd", "faceted"],
      ["g", "gate"], ["s", "service"], ["b", "blob"], ["new", "unknown"], ["__proto__", "file"]]);
    assert.equal(Object.getPrototypeOf(listing), Object.prototype);
    h.assertCalls(["resolve", { path: "home:d" }], ["list", { handle: 3 }], ["close", { handle: 3 }]);
  });

  test("fsDelete unlinks from the parent", async () => {
    const h = host(opened(3, K.DIRECTORY), DONE, DONE);
    await h.syscall.fsDelete("home:d:old");
    h.assertCalls(["resolve", { path: "home:d" }], ["unlink", { directory: 3, name: "old" }], ["close", { handle: 3 }]);
  });

  test("a path without a last name is refused before any call", async () => {
    const h = host();
    await assert.rejects(h.syscall.fsCreateDir("home:d:"), (error) => {
      assert.ok(error instanceof faasten.InvalidArgumentError);
      assert.deepStrictEqual([error.code, error.message], ["INVALID_ARGUMENT", 'the path "home:d:" does not end with a name']);
      return true;
    });
    h.assertCalls();
  });
});

async function collect(chunks) {
  const all = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
}

describe("blobs", () => {
  test("a blob is read, iterated and streamed in pieces from where it stands", async () => {
    // The host answers a read with less than asked; the SDK asks again from there.
    const h = host(opened(6, K.BLOB), { blob: { handle: 20, size: 10 } }, DONE, { data: bytes("0123") },
      { data: bytes("456") }, { data: bytes("789") }, { data: bytes("89") }, DONE);
    const blob = await h.syscall.fsOpenBlob("home:b");
    assert.deepStrictEqual([blob.fd, blob.size], [20, 10]);
    assert.deepStrictEqual(await blob.read(4), bytes("0123"));
    assert.deepStrictEqual(await collect(blob), [bytes("456789")]);
    assert.equal(blob.seek(-2, 2), 8);
    assert.deepStrictEqual(Buffer.concat(await collect(blob.stream())), bytes("89"));
    assert.deepStrictEqual([blob.tell(), await blob.read()], [10, Buffer.alloc(0)]); // at the end: no call
    await blob.close();
    assert.equal(blob.fd, null);
    h.assertCalls(["resolve", { path: "home:b" }], ["openBlob", { handle: 6 }], ["close", { handle: 6 }],
      ["blobRead", { handle: 20, offset: 0, length: 4 }], ["blobRead", { handle: 20, offset: 4, length: 6 }],
      ["blobRead", { handle: 20, offset: 7, length: 3 }], ["blobRead", { handle: 20, offset: 8, length: 2 }],
      ["blobClose", { handle: 20 }]);
  });

  test("a new blob is streamed in as chunks, finalized and linked", async () => {
    const h = host({ blob: { handle: 30 } }, DONE, DONE, { blob: { handle: 31, size: 4 } },
      opened(3, K.DIRECTORY), { label: "T,alice" }, opened(8, K.BLOB), DONE);
    const blob = await h.syscall.createBlob();
    await pipeline(Readable.from([bytes("ab"), new Uint8Array([99, 100])]), blob.stream());
    // The stream's end finalized the blob (fsLinkBlob would have, too, but later).
    assert.deepStrictEqual(h.sent().map((call) => call.call), ["blobCreate", "blobWrite", "blobWrite", "blobFinalize"]);
    const entry = await h.syscall.fsLinkBlob("home:d:pic", blob); // finalized already: not again
    assert.deepStrictEqual([entry.constructor, entry.fd], [faasten.BlobEntry, 8]);
    const final = await blob.finalize();
    assert.deepStrictEqual([final.fd, final.size], [31, 4]);
    h.assertCalls(["blobCreate", {}], ["blobWrite", { handle: 30, data: bytes("ab") }],
      ["blobWrite", { handle: 30, data: bytes("cd") }], ["blobFinalize", { handle: 30 }],
      ["resolve", { path: "home:d" }], ["endorse", { privilege: "" }],
      ["create", { blob: 31, link: { directory: 3, name: "pic" } }], ["close", { handle: 3 }]);
  });

  test("an unfinished new blob is discarded when closed, not finalized", async () => {
    const h = host({ blob: { handle: 30 } }, DONE);
    await (await h.syscall.createBlob()).close();
    h.assertCalls(["blobCreate", {}], ["blobClose", { handle: 30 }]);
  });
});

describe("invoke", () => {
  test("invoke by path is asynchronous and closes the gate", async () => {
    const h = host(opened(8, K.GATE), { invoked: { status: 202, invocationId: "inv-1", headers: { x: "y" } } }, DONE);
    assert.deepStrictEqual(await h.syscall.invoke("home:g", "hi", { params: { k: "v" } }),
      { status: 202, headers: { x: "y" }, id: "inv-1", data: Buffer.alloc(0) });
    h.assertCalls(["resolve", { path: "home:g" }],
      ["invoke", { handle: 8, sync: false, payload: bytes("hi"), toBlob: false, parameters: { k: "v" } }],
      ["close", { handle: 8 }]);
  });

  test("a service result can come back as a blob; an object payload goes as JSON", async () => {
    const h = host(opened(9, K.SERVICE), { invoked: { status: 200, blob: 40, blobSize: 1234, invocationId: "i" } }, DONE);
    const outcome = await h.syscall.invokeService("home:svc", { q: 1 }, { toBlob: true });
    assert.deepStrictEqual([outcome.status, outcome.blob.fd, outcome.blob.size, "data" in outcome], [200, 40, 1234, false]);
    h.assertCalls(["resolve", { path: "home:svc" }],
      ["invoke", { handle: 9, sync: true, payload: bytes('{"q":1}'), toBlob: true, parameters: {} }],
      ["close", { handle: 9 }]);
  });
});

describe("errors", () => {
  // Every code the protocol has: the class, the code name and the rule a caller sees.
  const CODES = [
    [wire.Code.INVALID_ARGUMENT, faasten.InvalidArgumentError, "INVALID_ARGUMENT", ""],
    [wire.Code.NOT_FOUND, faasten.NotFoundError, "NOT_FOUND", ""],
    [wire.Code.ALREADY_EXISTS, faasten.AlreadyExistsError, "ALREADY_EXISTS", ""],
    [wire.Code.WRONG_KIND, faasten.WrongKindError, "WRONG_KIND", ""],
    [wire.Code.REFUSED, faasten.RefusedError, "REFUSED", "write rule"],
    [wire.Code.LIMIT_EXCEEDED, faasten.LimitExceededError, "LIMIT_EXCEEDED", ""],
    [wire.Code.BAD_HANDLE, faasten.InvalidArgumentError, "BAD_HANDLE", ""],
    [wire.Code.UNAVAILABLE, faasten.UnavailableError, "UNAVAILABLE", ""],
    [wire.Code.INTERNAL, faasten.FaastenError, "INTERNAL", ""],
    [wire.Code.PROTOCOL, faasten.FaastenError, "PROTOCOL", ""],
    [wire.Code.UNSUPPORTED, faasten.UnsupportedError, "UNSUPPORTED", ""],
    [wire.Code.TIMEOUT, faasten.FaastenError, "TIMEOUT", ""],
    [99, faasten.FaastenError, "INTERNAL", ""], // a code newer than the SDK
  ];

  test("the table covers every code the wire has", () => {
    assert.equal(CODES.length - 1, Object.keys(wire.Code).filter((name) => name !== "OK").length);
  });

  for (const [number, Kind, name, rule] of CODES) {
    test(`wire code ${number} rejects with ${Kind.name}, code ${name}, its message and rule`, async () => {
      const h = host(failed(number, `no: ${name}`, rule));
      await assert.rejects(h.syscall.taintWithLabel("a,T"), (error) => {
        assert.equal(error.constructor, Kind);
        assert.deepStrictEqual([error.name, error.code, error.rule, error.message], [Kind.name, name, rule, `no: ${name}`]);
        return true;
      });
      h.assertCalls(["taint", { label: "a,T" }]);
    });
  }

  test("a failing path helper still closes its handle", async () => {
    const h = host(opened(7, K.FILE), failed(wire.Code.REFUSED, "alice,T does not flow to T,T", "write rule"), DONE);
    await assert.rejects(h.syscall.fsWrite("home:f", "x"), { name: "RefusedError", rule: "write rule" });
    h.assertCalls(["resolve", { path: "home:f" }], ["update", { handle: 7, file: bytes("x") }], ["close", { handle: 7 }]);
  });

  test("a goodbye instead of a result closes the channel for good, with its reason", async () => {
    const h = host({ goodbye: { error: { code: wire.Code.TIMEOUT, message: "deadline passed" } } });
    const closed = (error) => error instanceof ChannelClosed && error.message === "deadline passed";
    await assert.rejects(h.syscall.getClearance(), closed);
    // Nothing more is sent on a channel the host has left.
    await assert.rejects(h.syscall.getPrivilege(), closed);
    h.assertCalls(["getClearance", {}]);
  });

  test("a call the host never answers is ChannelClosed", async () => {
    const h = host();
    await assert.rejects(h.syscall.getPrivilege(), { name: "ChannelClosed", message: "the host closed the channel" });
    h.assertCalls(["getPrivilege", {}]);
  });
});

describe("wrong kind", () => {
  // The path helpers check the kind themselves (the handle would have no read, write
  // or get), as the monitor would: WrongKindError, code WRONG_KIND, the wire's kind
  // name; and the handle is still closed.
  for (const [method, args, kind, message] of [
    ["fsRead", [], K.FACETED_DIRECTORY, "home:x is a faceted, not a file"],
    ["fsRead", [], K.BLOB, "home:x is a blob, not a file"],
    ["fsWrite", ["data"], K.DIRECTORY, "home:x is a directory, not a file"],
    ["fsWrite", ["data"], K.GATE, "home:x is a gate, not a file"],
    ["fsOpenBlob", [], K.FILE, "home:x is a file, not a blob"],
    ["fsOpenBlob", [], K.SERVICE, "home:x is a service, not a blob"],
    ["fsList", [], K.FILE, "home:x is a file, not a directory"],
    ["fsFacetedList", [], K.DIRECTORY, "home:x is a directory, not a faceted"],
  ]) {
    test(`${method}: ${message}`, async () => {
      const h = host(opened(7, kind), DONE);
      await assert.rejects(h.syscall[method]("home:x", ...args), (error) => {
        assert.equal(error.constructor, faasten.WrongKindError);
        assert.deepStrictEqual([error.message, error.code, error.rule], [message, "WRONG_KIND", ""]);
        return true;
      });
      h.assertCalls(["resolve", { path: "home:x" }], ["close", { handle: 7 }]);
    });
  }
});
