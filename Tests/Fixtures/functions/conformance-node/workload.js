// The CloudCall conformance suite in JavaScript, run inside a real sandbox by
// Tests/MonitorTests (ConformanceTests); the same scenarios, calls and expectations as
// Tests/Fixtures/functions/conformance/workload.py.
//
// The payload names a scenario; each scenario makes calls that must be allowed and
// calls that must be refused, and answers {"checks": [{name, ok, detail}], "label"}.
// The host side checks the answers, the final label and the file system afterwards.
import { isDeepStrictEqual } from "node:util";

import {
  AlreadyExistsError, Blob, Directory, FacetedDirectory, File, Gate, InvalidArgumentError, LimitExceededError,
  NotFoundError, RefusedError, Response, UnsupportedError, WrongKindError,
} from "faasten";

const text = (value) => (Buffer.isBuffer(value) ? `Buffer(${JSON.stringify(value.toString())})` : JSON.stringify(value));
const bytes = (value) => Buffer.from(value);

class Checks {
  constructor() {
    this.results = [];
  }

  async equal(name, call, expected) {
    let value;
    try {
      value = await call();
    } catch (error) {
      this.results.push({ name, ok: false, detail: `raised ${error.name}: ${error.message}` });
      return undefined;
    }
    const ok = Buffer.isBuffer(value) ? Buffer.isBuffer(expected) && value.equals(expected) : isDeepStrictEqual(value, expected);
    this.results.push({ name, ok, detail: `got ${text(value)}, expected ${text(expected)}` });
    return value;
  }

  async raises(name, call, Kind, rule) {
    let value;
    try {
      value = await call();
    } catch (error) {
      if (error instanceof Kind) {
        const ok = rule === undefined || error.rule === rule;
        this.results.push({ name, ok, detail: `${error.name} (${error.rule}): ${error.message}` });
      } else {
        this.results.push({ name, ok: false, detail: `raised ${error.name}, expected ${Kind.name}: ${error.message}` });
      }
      return;
    }
    this.results.push({ name, ok: false, detail: `returned ${text(value)}, expected ${Kind.name}` });
  }
}

const kindOf = (handle) => handle.constructor.name;

async function labels(sys, c) {
  await c.equal("getPrivilege", () => sys.getPrivilege(), "alice");
  await c.equal("getClearance", () => sys.getClearance(), "alice&bob,T");
  await c.equal("buckleParse canonical", () => sys.buckleParse("b|a,T"), "a|b,T");
  await c.equal("buckleParse malformed", () => sys.buckleParse("a//b,T"), null);
  await c.equal("getCurrentLabel", () => sys.getCurrentLabel(), "T,T");
  await c.equal("taint within clearance", () => sys.taintWithLabel("alice,T"), "alice,T");
  await c.raises("taint above clearance", () => sys.taintWithLabel("carol,T"), RefusedError, "read rule");
  await c.equal("label kept after refusal", () => sys.getCurrentLabel(), "alice,T");
  await c.equal("declassify owned secrecy", () => sys.declassify("T"), "T,T");
  await c.equal("taint with bob", () => sys.taintWithLabel("bob,T"), "bob,T");
  await c.raises("declassify unowned secrecy", () => sys.declassify("T"), RefusedError, "declassification rule");
  await c.equal("label kept after refused declassify", () => sys.getCurrentLabel(), "bob,T");
  await c.equal("endorse with the privilege", () => sys.endorse(), "bob,alice");
  await c.raises("endorse with unowned privilege", () => sys.endorse("bob"), RefusedError, "delegation rule");
  await c.equal("subPrivilege", () => sys.subPrivilege("photo"), "alice/photo");
  await c.equal("subPrivilege of a sub-principal", () => sys.subPrivilege("x", { base: "alice/photo" }), "alice/photo/x");
  await c.raises("subPrivilege of bob", () => sys.subPrivilege("x", { base: "bob" }), RefusedError, "delegation rule");
  await c.raises("subPrivilege too deep", () => sys.subPrivilege(Array(100000).fill("t")), LimitExceededError);
  await c.raises("taint with malformed label", () => sys.taintWithLabel("a//b,T"), InvalidArgumentError);
}

async function files(sys, c) {
  await c.equal("root listing", async () => (await sys.root()).ls(), { home: "faceted" });
  const home = await sys.resolve("~");
  await c.equal("home label", () => [kindOf(home), home.label], ["Directory", "alice,alice"]);
  // The runtime and the function share one SDK module: its handles are the exported classes.
  await c.equal("handles are the SDK's classes", () => home instanceof Directory, true);
  const notes = await home.createFile("notes", bytes("dear diary"), { label: "alice,alice" });
  await c.equal("create file", () => [notes instanceof File, notes.label], [true, "alice,alice"]);
  await c.equal("read file", () => notes.read(), bytes("dear diary"));
  await c.equal("write then read", async () => (await notes.write(bytes("v2")), notes.read()), bytes("v2"));
  await c.raises("create existing name", () => home.createFile("notes"), AlreadyExistsError);
  await c.raises("open missing name", () => home.open("missing"), NotFoundError);
  await c.equal("link", async () => (await home.link(notes, "notes2"), Object.keys(await home.ls()).sort()), ["notes", "notes2"]);
  await c.equal("unlink", async () => (await home.unlink("notes2"), Object.keys(await home.ls()).sort()), ["notes"]);
  await c.raises("unlink missing name", () => home.unlink("notes2"), NotFoundError);
  await c.raises("read a directory", () => sys.dentRead(home.fd), WrongKindError);
  await c.raises("list a file", () => sys.dentList(notes.fd), WrongKindError);
  await c.raises("bad handle", () => sys.dentRead(99999), InvalidArgumentError);
  const closed = await home.open("notes");
  const closedFd = closed.fd;
  await closed.close();
  await c.raises("closed handle", () => sys.dentRead(closedFd), InvalidArgumentError);
  const album = await home.createFaceted("album");
  await c.equal("create faceted", () => kindOf(album), "FacetedDirectory");
  const facet = await album.open("alice,alice");
  await c.equal("write into a facet", async () => (await facet.createFile("p", bytes("1"), { label: "alice,alice" })).read(),
    bytes("1"));
  await c.equal("list facets", () => album.ls("alice,alice"), ["alice,alice"]);
  await c.raises("name that paths cannot spell", () => home.createFile("a:b"), InvalidArgumentError);
  // Reading bob's secret raises the label to include bob: alice's home is then off limits.
  const bobHome = await sys.resolve("home:<bob,bob>");
  await c.raises("create in bob's home", () => bobHome.createFile("x"), RefusedError, "write rule");
  const secret = await bobHome.open("secret");
  await c.equal("read bob's secret", () => secret.read(), bytes("bob data"));
  await c.raises("write bob's secret", () => secret.write(bytes("x")), RefusedError, "write rule");
  await c.raises("link into alice's home after reading bob's", () => home.link(notes, "leak"), RefusedError, "write rule");
  await c.raises("write alice's notes after reading bob's", () => notes.write(bytes("bob data")), RefusedError, "write rule");
}

async function facets(sys, c) {
  const home = await sys.resolve("home");
  await c.equal("faceted kind", () => home instanceof FacetedDirectory, true);
  await c.equal("facets under T,T", () => home.ls(), ["T,faasten"]);
  await c.equal("label after listing under T,T", () => sys.getCurrentLabel(), "T,T");
  await c.equal("facets under bob,bob", () => home.ls("bob,bob"), ["bob,bob"]);
  await c.equal("label after listing under bob,bob", () => sys.getCurrentLabel(), "bob,T");
  const alice = await home.open("alice,alice");
  await c.equal("opening a facet does not taint", () => sys.getCurrentLabel(), "bob,T");
  await c.equal("listing a facet taints", async () => (await alice.ls(), sys.getCurrentLabel()), "alice&bob,T");
}

async function blobs(sys, c, requestBlobs) {
  await c.equal("request blob", () => requestBlobs.input.read(), bytes("request blob bytes"));
  await c.equal("request blobs are the SDK's Blobs", () => requestBlobs.input instanceof Blob, true);
  const fresh = await sys.createBlob();
  await fresh.write(bytes("hello "));
  await fresh.write("world");
  const blob = await fresh.finalize();
  await c.equal("finalized size", () => blob.size, 11);
  await c.equal("read all", () => blob.read(), bytes("hello world"));
  await c.equal("seek and read", async () => (blob.seek(6), [(await blob.read(3)).toString(), blob.tell()]), ["wor", 9]);
  await c.equal("seek from end", async () => (blob.seek(-2, 2), blob.read()), bytes("ld"));
  await c.equal("read past the end", () => sys.blobRead(blob.fd, 100, 10), Buffer.alloc(0));
  await c.equal("stream the blob", async () => {
    blob.seek(0);
    const chunks = [];
    for await (const chunk of blob) chunks.push(chunk);
    return Buffer.concat(chunks);
  }, bytes("hello world"));
  await c.raises("write after finalize", () => fresh.write(bytes("x")), InvalidArgumentError);
  await c.raises("bad blob handle", () => sys.blobRead(99999), InvalidArgumentError);
  const home = await sys.resolve("~");
  const entry = await home.createBlob("greeting", blob, { label: "alice,alice" });
  await c.equal("blob entry", async () => (await entry.get()).read(), bytes("hello world"));
  await c.equal("fsLinkBlob and fsOpenBlob", async () => {
    await sys.fsLinkBlob("~:g2", blob);
    return (await sys.fsOpenBlob("~:g2")).read();
  }, bytes("hello world"));
  const other = await sys.createBlob();
  const { pipeline } = await import("node:stream/promises");
  const { Readable } = await import("node:stream");
  await pipeline(Readable.from([bytes("sec"), bytes("ond")]), other.stream());
  await c.equal("re-point a blob entry", async () => (await entry.update(other), (await entry.get()).read()), bytes("second"));
  await c.equal("blob close", () => blob.close(), undefined);
  const bobHome = await sys.resolve("home:<bob,bob>");
  await c.raises("blob entry in bob's home", async () => bobHome.createBlob("b", await other.finalize()), RefusedError,
    "write rule");
}

async function gates(sys, c) {
  const home = await sys.resolve("~");
  const image = await sys.createBlob();
  await image.write("an image");
  const img = await home.createBlob("img", await image.finalize(), { label: "alice,alice" });
  const gate = await sys.dentCreateDirectGate({ label: "T,alice", privilege: "alice/photo", clearance: "T", memory: 128, image: img });
  await c.equal("create direct gate", () => gate instanceof Gate, true);
  await home.link(gate, "thumb");
  const info = await gate.ls();
  await c.equal("gate description", () => [info.privilege, info.declassify, info.runtime, info.memoryMb],
    ["alice/photo", "T", "node", 128]);
  await c.equal("gate image", () => info.image.read(), bytes("an image"));
  await c.raises("gate with unowned privilege",
    () => sys.dentCreateDirectGate({ label: "T,alice", privilege: "bob", clearance: "T", memory: 128, image: img }),
    RefusedError, "delegation rule");
  const redirect = await sys.dentCreateRedirectGate({ label: "T,T", privilege: "alice", clearance: "T", gate });
  await c.equal("redirect gate", async () => (await redirect.ls()).redirect, true);
  await c.equal("update gate", async () => (await sys.dentUpdateGate(gate.fd, { memoryMb: 256 }), (await gate.ls()).memoryMb), 256);
  await c.raises("update with unowned privilege", () => sys.dentUpdateGate(gate.fd, { privilege: "bob" }), RefusedError,
    "delegation rule");
  await c.raises("invoke without an engine", () => gate.invoke(bytes("x")), UnsupportedError);
  await c.raises("invoke a blob entry", () => sys.dentInvoke(img.fd, bytes("x")), WrongKindError);
}

async function services(sys, c) {
  const service = await sys.dentCreateService({
    label: "alice,alice", privilege: "alice", clearance: "T", taint: "alice,T", url: "https://api.example.com/{x}", verb: "POST",
    headers: { Authorization: "token" },
  });
  await c.equal("service description", async () => (await sys.dentLsService(service.fd)).url, "https://api.example.com/{x}");
  await c.raises("service with unowned privilege",
    () => sys.dentCreateService({ label: "T,bob", privilege: "bob", clearance: "T", taint: "T,T", url: "https://x.example" }),
    RefusedError, "delegation rule");
  await c.raises("service with a file URL",
    () => sys.dentCreateService({ label: "T,alice", privilege: "alice", clearance: "T", taint: "T,T", url: "file:///etc/passwd" }),
    InvalidArgumentError);
}

async function paths(sys, c) {
  const docs = await sys.fsCreateDir("~:docs");
  await c.equal("fsCreateDir label", () => docs.label, "alice,alice");
  await c.equal("fsCreateFile and fsRead", async () => (await sys.fsCreateFile("~:docs:a", { data: bytes("A") }), sys.fsRead("~:docs:a")),
    bytes("A"));
  await c.equal("fsWrite", async () => (await sys.fsWrite("~:docs:a", bytes("A2")), sys.fsRead("~:docs:a")), bytes("A2"));
  await c.equal("fsHardLink", async () => (await sys.fsHardLink("~:docs:a", "~:docs:b"), Object.keys(await sys.fsList("~:docs")).sort()),
    ["a", "b"]);
  await c.equal("fsDelete", async () => (await sys.fsDelete("~:docs:b"), Object.keys(await sys.fsList("~:docs")).sort()), ["a"]);
  await c.equal("fsFacetedList", () => sys.fsFacetedList("home"), ["T,faasten"]);
  await sys.fsCreateFaceted("~:fd");
  const label = await sys.getCurrentLabel();
  await c.equal("create under a faceted directory uses the current label's facet",
    async () => (await sys.fsCreateFile("~:fd:x", { data: bytes("X") }), sys.fsRead(`~:fd:<${label}>:x`)), bytes("X"));
  await c.raises("fsRead missing", () => sys.fsRead("~:nothing"), NotFoundError);
  await c.raises("fsRead a directory", () => sys.fsRead("~:docs"), WrongKindError);
  await c.raises("fsCreateFile in bob's home", () => sys.fsCreateFile("home:<bob,bob>:x"), RefusedError, "write rule");
}

const SCENARIOS = { labels, files, facets, gates, services, paths };

export async function handle(syscall, { payload, blobs: requestBlobs, invoker }) {
  const request = JSON.parse(payload);
  const checks = new Checks();
  if (request.scenario === "blobs") await blobs(syscall, checks, requestBlobs);
  else await SCENARIOS[request.scenario](syscall, checks);
  return Response.json({ checks: checks.results, label: await syscall.getCurrentLabel(), invoker });
}
