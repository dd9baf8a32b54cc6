// The Faasten SDK for JavaScript functions.
//
// A function is `handle(syscall, { payload, blobs, headers, invoker })`, exported by
// `workload.js` (or `workload.mjs`):
//
//   import { Response } from "faasten";
//
//   export async function handle(syscall, { payload }) {
//     const photos = await syscall.fsList("~:photos");
//     return Response.json({ photos: Object.keys(photos).sort() });
//   }
//
// `syscall` is the function's only way out of its sandbox: every call goes to the
// trusted monitor, which checks it against the labels (reads raise the current
// label, writes must flow). Every call returns a promise; failures reject with
// `FaastenError` subclasses, and a refusal by a flow rule is a `RefusedError` that
// names the rule.
//
// Labels, privileges and components are strings in Faasten's label syntax:
// "alice&bob,alice", "alice", "T". The surface mirrors the Python SDK
// (runtimes/python/faasten) with JavaScript names: `fs_read` is `fsRead`,
// keyword arguments are an options object.
import { Readable, Writable } from "node:stream";

import { ChannelClosed, ProtocolError } from "./_channel.mjs";
import * as wire from "./_wire/cloudcalls.mjs";

const EMPTY = Object.freeze({});
const NO_BYTES = Buffer.alloc(0);

// --- Responses ------------------------------------------------------------------

/** What a function returns: a body, a status code and headers. */
export class Response {
  constructor(body = NO_BYTES, status = 200, headers = {}) {
    this.body = toBytes(body, "a response body");
    this.status = status;
    this.headers = { ...headers };
  }

  /** A JSON response (content-type application/json). */
  static json(value, status = 200, headers = {}) {
    return new Response(Buffer.from(JSON.stringify(value) ?? "null"), status,
      { "content-type": "application/json", ...headers });
  }

  /** A text response (content-type text/plain; charset=utf-8). */
  static text(text, status = 200, headers = {}) {
    return new Response(Buffer.from(String(text)), status, { "content-type": "text/plain; charset=utf-8", ...headers });
  }

  /** A response of raw bytes. */
  static raw(bytes, status = 200, headers = {}) {
    return new Response(bytes, status, headers);
  }

  /** Whether `value` is a Response, also one made by another copy of this module (a
   * function that vendors the SDK into its node_modules). */
  static [Symbol.hasInstance](value) {
    return value !== null && typeof value === "object" && value[RESPONSE] === true;
  }
}

const RESPONSE = Symbol.for("faasten.Response");
Response.prototype[RESPONSE] = true;

// --- Errors ---------------------------------------------------------------------

/** A CloudCall failed. `code` is the protocol's error code name; `rule` names a refusing rule. */
export class FaastenError extends Error {
  constructor(message, code = "INTERNAL", rule = "") {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.rule = rule;
  }
}

/** A flow rule refused the call; `rule` names it (e.g. "write rule"). */
export class RefusedError extends FaastenError {}
export class NotFoundError extends FaastenError {}
export class AlreadyExistsError extends FaastenError {}
export class WrongKindError extends FaastenError {}
export class InvalidArgumentError extends FaastenError {}
export class LimitExceededError extends FaastenError {}
export class UnsupportedError extends FaastenError {}
/** A service failed or timed out, or the engine had no room for the call. */
export class UnavailableError extends FaastenError {}

const ERRORS = new Map([
  [wire.Code.REFUSED, ["REFUSED", RefusedError]],
  [wire.Code.NOT_FOUND, ["NOT_FOUND", NotFoundError]],
  [wire.Code.ALREADY_EXISTS, ["ALREADY_EXISTS", AlreadyExistsError]],
  [wire.Code.WRONG_KIND, ["WRONG_KIND", WrongKindError]],
  [wire.Code.INVALID_ARGUMENT, ["INVALID_ARGUMENT", InvalidArgumentError]],
  [wire.Code.LIMIT_EXCEEDED, ["LIMIT_EXCEEDED", LimitExceededError]],
  [wire.Code.UNSUPPORTED, ["UNSUPPORTED", UnsupportedError]],
  [wire.Code.BAD_HANDLE, ["BAD_HANDLE", InvalidArgumentError]],
  [wire.Code.UNAVAILABLE, ["UNAVAILABLE", UnavailableError]],
  [wire.Code.PROTOCOL, ["PROTOCOL", FaastenError]],
  [wire.Code.TIMEOUT, ["TIMEOUT", FaastenError]],
  [wire.Code.INTERNAL, ["INTERNAL", FaastenError]],
]);

function toError(error) {
  const [code, Kind] = ERRORS.get(error.code) ?? ["INTERNAL", FaastenError];
  return new Kind(error.message, code, error.rule);
}

const KIND_NAMES = new Map([
  [wire.Kind.DIRECTORY, "directory"], [wire.Kind.FILE, "file"], [wire.Kind.FACETED_DIRECTORY, "faceted"],
  [wire.Kind.GATE, "gate"], [wire.Kind.SERVICE, "service"], [wire.Kind.BLOB, "blob"],
]);
const VERB_NAMES = new Map(Object.entries(wire.Verb).map(([name, value]) => [value, name]));

// --- Values ---------------------------------------------------------------------

/** Bytes from a Buffer, a typed array, an ArrayBuffer or a string (UTF-8). */
function toBytes(value, what) {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (value === undefined || value === null) return NO_BYTES;
  throw new TypeError(`${what} must be a Buffer, a Uint8Array or a string, not ${typeof value}`);
}

/** A payload: bytes as for toBytes, or any other value as its JSON. */
function toPayload(value) {
  if (value !== null && typeof value === "object" && !ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer)) {
    return Buffer.from(JSON.stringify(value));
  }
  return toBytes(value, "a payload");
}

/** A plain object from [key, value] pairs; a key such as "__proto__" stays an own key. */
export function record(pairs) {
  const result = {};
  for (const [key, value] of pairs) {
    Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return result;
}

function stringMap(object, what) {
  const result = Object.create(null);
  for (const [key, value] of Object.entries(object ?? EMPTY)) {
    if (typeof value !== "string") throw new TypeError(`${what} values must be strings (${key})`);
    result[key] = value;
  }
  return result;
}

// --- Handles --------------------------------------------------------------------

/** A directory-entry handle: a capability for one object. */
export class Dent {
  constructor(syscall, fd, kind, label) {
    this._sys = syscall;
    this.fd = fd;
    this.kind = kind;
    this.label = label || null;
  }

  /** Releases the handle (the root cannot be closed). */
  async close() {
    if (this.fd) {
      const fd = this.fd;
      this.fd = null;
      await this._sys.dentClose(fd);
    }
  }
}

export class Directory extends Dent {
  /** `{name: kind}` (taints with the directory's label). */
  ls() {
    return this._sys.dentList(this.fd);
  }

  /** The entry `name` (taints with the directory's label). */
  open(name) {
    return this._sys.dentOpen(this.fd, { name });
  }

  /** Opens a path given as a list of names (and facet label texts), returning the last
   * handle; intermediate handles are closed. */
  async openAt(components) {
    let current = this;
    const opened = [];
    try {
      for (const component of components) {
        current = await current.open(component);
        opened.push(current);
      }
    } finally {
      for (const handle of opened.slice(0, -1)) await handle.close();
    }
    return current;
  }

  link(target, name) {
    return this._sys.dentLink(this.fd, target.fd, name);
  }

  unlink(name) {
    return this._sys.dentUnlink(this.fd, name);
  }

  createDirectory(name, { label } = EMPTY) {
    return this._sys._create({ directory: EMPTY }, label, this, name);
  }

  createFile(name, data = NO_BYTES, { label } = EMPTY) {
    return this._sys._create({ file: toBytes(data, "file data") }, label, this, name);
  }

  createFaceted(name) {
    return this._sys._create({ facetedDirectory: EMPTY }, undefined, this, name);
  }

  /** A blob entry for a finalized or opened `Blob`. */
  createBlob(name, blob, { label } = EMPTY) {
    return this._sys._create({ blob: blob.fd }, label, this, name);
  }
}

export class FacetedDirectory extends Dent {
  /** The facet labels that flow to `clearance` (default T,T); taints with it. */
  ls(clearance) {
    return this._sys.dentLsFaceted(this.fd, clearance);
  }

  /** The facet at `label` (no taint). */
  open(label) {
    return this._sys.dentOpen(this.fd, { facet: label });
  }
}

export class File extends Dent {
  /** The file's bytes (taints with its label). */
  read() {
    return this._sys.dentRead(this.fd);
  }

  /** Replaces the bytes (the current label must flow to the file's). */
  write(data) {
    return this._sys.dentUpdateFile(this.fd, data);
  }
}

export class BlobEntry extends Dent {
  /** The blob, readable like a file or a stream (taints with the entry's label). */
  async get() {
    const info = (await this._sys._call("openBlob", { handle: this.fd })).blob;
    return new Blob(this._sys, info.handle, info.size);
  }

  /** Points the entry at another blob (a `Blob`, or a `NewBlob`, finalized here). */
  async update(blob) {
    if (blob instanceof NewBlob) blob = await blob.finalize();
    await this._sys._call("update", { handle: this.fd, blob: blob.fd });
  }
}

export class Gate extends Dent {
  /** Runs the gate's function; a synchronous result taints the caller. */
  invoke(payload = NO_BYTES, options = EMPTY) {
    return this._sys.dentInvoke(this.fd, payload, { sync: true, ...options });
  }

  /** The gate's description (taints with its label). */
  ls() {
    return this._sys.dentLsGate(this.fd);
  }
}

export class Service extends Dent {
  /** Calls the external service (URL parameters from `params`). */
  invoke(payload = NO_BYTES, options = EMPTY) {
    return this._sys.dentInvoke(this.fd, payload, { sync: true, ...options });
  }
}

const CLASSES = new Map([
  [wire.Kind.DIRECTORY, Directory], [wire.Kind.FILE, File], [wire.Kind.FACETED_DIRECTORY, FacetedDirectory],
  [wire.Kind.GATE, Gate], [wire.Kind.SERVICE, Service], [wire.Kind.BLOB, BlobEntry],
]);

// Handles close with `await using` where the runtime has explicit resource management.
if (typeof Symbol.asyncDispose === "symbol") {
  Dent.prototype[Symbol.asyncDispose] = function () {
    return this.close();
  };
}

/** How much a blob stream reads per call. */
const STREAM_CHUNK = 1 << 20;
/** The most one blob read asks for. */
const READ_LIMIT = 4 << 20;

/** A readable blob: `read`, `seek`, `tell` like a file, or a stream of Buffers
 * (`for await (const chunk of blob)`, `blob.stream()`). */
export class Blob {
  constructor(syscall, fd, size) {
    this._sys = syscall;
    this.fd = fd;
    this.size = size;
    this.position = 0;
  }

  /** Up to `size` bytes from the current position (all the rest by default). */
  async read(size = -1) {
    if (size === null || size === undefined || size < 0) size = this.size - this.position;
    const chunks = [];
    while (size > 0) {
      const chunk = await this._sys.blobRead(this.fd, this.position, Math.min(size, READ_LIMIT));
      if (chunk.length === 0) break;
      chunks.push(chunk);
      this.position += chunk.length;
      size -= chunk.length;
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }

  /** Moves the position: from the start (`whence` 0), the current position (1) or the end (2). */
  seek(offset, whence = 0) {
    let position;
    if (whence === 0) position = offset;
    else if (whence === 1) position = this.position + offset;
    else if (whence === 2) position = this.size + offset;
    else throw new RangeError("whence must be 0, 1 or 2");
    if (position < 0) throw new RangeError("negative position");
    this.position = position;
    return position;
  }

  tell() {
    return this.position;
  }

  /** The chunks from the current position to the end. */
  async *[Symbol.asyncIterator]() {
    while (this.position < this.size) {
      const chunk = await this.read(Math.min(STREAM_CHUNK, this.size - this.position));
      if (chunk.length === 0) return;
      yield chunk;
    }
  }

  /** A Readable stream of the rest of the blob. */
  stream() {
    return Readable.from(this[Symbol.asyncIterator](), { objectMode: false });
  }

  async close() {
    if (this.fd) {
      const fd = this.fd;
      this.fd = null;
      await this._sys.blobClose(fd);
    }
  }
}

/** A blob being written: `write` chunks, then `finalize` it into a readable `Blob`. */
export class NewBlob {
  constructor(syscall, fd) {
    this._sys = syscall;
    this.fd = fd;
    this._final = null;
  }

  async write(data) {
    const bytes = toBytes(data, "blob data");
    await this._sys._call("blobWrite", { handle: this.fd, data: bytes });
    return bytes.length;
  }

  /** Makes the blob immutable; returns it as a readable `Blob` (the same one if called again). */
  async finalize() {
    if (this._final === null) {
      const info = (await this._sys._call("blobFinalize", { handle: this.fd })).blob;
      this._final = new Blob(this._sys, info.handle, info.size);
    }
    return this._final;
  }

  /** Discards an unfinished blob (or closes the finalized one). */
  async close() {
    if (this._final === null) await this._sys.blobClose(this.fd);
    else await this._final.close();
  }

  /** A Writable stream into the blob; it is finalized when the stream finishes
   * (then `await newBlob.finalize()` gives the readable blob). */
  stream() {
    return new Writable({
      write: (chunk, _encoding, callback) => {
        this.write(chunk).then(() => callback(), callback);
      },
      final: (callback) => {
        this.finalize().then(() => callback(), callback);
      },
    });
  }
}

// --- The syscall object ---------------------------------------------------------

/** The CloudCall interface of one invocation. */
export class Syscall {
  constructor(channel) {
    this._channel = channel;
    this._nextID = 1;
  }

  /** Sends one call and waits for its result; rejects with a FaastenError on failure. */
  async _call(name, value) {
    const id = this._nextID++;
    this._channel.sendFrame(wire.GuestMessage.encodeFrame({ call: { id, [name]: value } }));
    const message = this._channel.receive();
    if (message.kind !== "result") {
      if (message.kind === "goodbye") {
        throw this._channel.broken(new ChannelClosed(message.goodbye.error?.message || "the host said goodbye"));
      }
      throw this._channel.broken(new ProtocolError(`the host answered a call with ${message.kind ?? "nothing"}`));
    }
    const result = message.result;
    if (result.id !== id) {
      throw this._channel.broken(new ProtocolError(`the host answered call ${result.id} instead of ${id}`));
    }
    if (result.error !== undefined && result.error.code) throw toError(result.error);
    return result;
  }

  _opened(opened) {
    const Class = CLASSES.get(opened.kind) ?? Dent;
    return new Class(this, opened.handle, opened.kind, opened.label);
  }

  async _create(create, label, directory, name) {
    if (label) create.label = label;
    if (directory !== undefined) create.link = { directory: directory.fd, name };
    return this._opened((await this._call("create", create)).opened);
  }

  // Labels and privileges.

  /** The invocation's current label. */
  async getCurrentLabel() {
    return (await this._call("getCurrentLabel", EMPTY)).label;
  }

  /** Raises the current label to include `label`; returns the new label. */
  async taintWithLabel(label) {
    return (await this._call("taint", { label })).label;
  }

  /** The canonical form of a label, or null if it does not parse. */
  async buckleParse(text) {
    try {
      return (await this._call("parseLabel", { text })).label;
    } catch (error) {
      if (error instanceof InvalidArgumentError) return null;
      throw error;
    }
  }

  /** Lowers the current secrecy to `secrecy` if the privilege allows it. */
  async declassify(secrecy) {
    return (await this._call("declassify", { secrecy })).label;
  }

  /** Adds the privilege (or the part `withPrivilege`) to the current integrity. */
  async endorse(withPrivilege) {
    return (await this._call("endorse", { privilege: withPrivilege || "" })).label;
  }

  /** The sub-principal `base/suffix…` of the privilege, as a component; `suffix` is a
   * string or a list of them. */
  async subPrivilege(suffix, { base } = EMPTY) {
    const tokens = Array.isArray(suffix) ? suffix : [suffix];
    return (await this._call("subPrivilege", { base: base || "", suffix: tokens })).component;
  }

  async getPrivilege() {
    return (await this._call("getPrivilege", EMPTY)).component;
  }

  async getClearance() {
    return (await this._call("getClearance", EMPTY)).label;
  }

  // Handles.

  /** The root directory. */
  async root() {
    return this._opened((await this._call("root", EMPTY)).opened);
  }

  /** The object at a path such as `home:<alice,alice>:photos`, `~:x` or `%:y`. */
  async resolve(path) {
    return this._opened((await this._call("resolve", { path })).opened);
  }

  /** Opens `name` in a directory, or the facet `facet` of a faceted directory. */
  async dentOpen(fd, { name, facet } = EMPTY) {
    const request = facet !== undefined && facet !== null ? { directory: fd, facet } : { directory: fd, name };
    return this._opened((await this._call("open", request)).opened);
  }

  async dentClose(fd) {
    await this._call("close", { handle: fd });
  }

  async dentList(fd) {
    const listing = (await this._call("list", { handle: fd })).listing;
    return record(listing.entries.map((entry) => [entry.name, KIND_NAMES.get(entry.kind) ?? "unknown"]));
  }

  async dentLsFaceted(fd, clearance) {
    return (await this._call("listFacets", { handle: fd, clearance: clearance || "" })).labels.labels;
  }

  async dentRead(fd) {
    return (await this._call("read", { handle: fd })).data;
  }

  async dentUpdateFile(fd, data) {
    await this._call("update", { handle: fd, file: toBytes(data, "file data") });
  }

  async dentLink(directoryFd, targetFd, name) {
    await this._call("link", { directory: directoryFd, name, target: targetFd });
  }

  async dentUnlink(directoryFd, name) {
    await this._call("unlink", { directory: directoryFd, name });
  }

  dentCreateDir({ label } = EMPTY) {
    return this._create({ directory: EMPTY }, label);
  }

  dentCreateFile({ label, data = NO_BYTES } = EMPTY) {
    return this._create({ file: toBytes(data, "file data") }, label);
  }

  dentCreateFaceted() {
    return this._create({ facetedDirectory: EMPTY });
  }

  dentCreateBlob(label, blob) {
    return this._create({ blob: blob.fd }, label);
  }

  /** A direct gate running the image in `image` (a BlobEntry). */
  dentCreateDirectGate({
    label, privilege, clearance = "T", memory = 128, image, runtime = "node", timeoutMs = 30000, declassify,
    fresh = false, concurrency = 0,
  }) {
    const gate = {
      function: { runtime, image: image.fd, memoryMb: memory, timeoutMs, fresh, concurrency },
      privilege, invokerClearance: clearance, declassify: declassify || "",
    };
    return this._create({ gate }, label);
  }

  /** A redirect gate in front of `gate` (a Gate). */
  dentCreateRedirectGate({ label, privilege, clearance = "T", gate, declassify }) {
    return this._create({ gate: { redirect: gate.fd, privilege, invokerClearance: clearance, declassify: declassify || "" } },
      label);
  }

  dentCreateService({ label, privilege, clearance = "T", taint, url, verb = "GET", headers }) {
    return this._create({ service: serviceSpec({ privilege, clearance, taint, url, verb, headers }) }, label);
  }

  /** Changes fields of a gate: privilege, invokerClearance, declassify, image (a
   * BlobEntry), runtime, memoryMb, timeoutMs, fresh, concurrency, redirect (a Gate). */
  async dentUpdateGate(fd, changes) {
    const update = {};
    for (const [key, value] of Object.entries(changes)) {
      if (!GATE_UPDATE_FIELDS.has(key)) throw new TypeError(`a gate has no field ${key}`);
      update[key] = key === "image" || key === "redirect" ? value.fd : value;
    }
    await this._call("update", { handle: fd, gate: update });
  }

  async dentLsGate(fd) {
    const info = (await this._call("readGate", { handle: fd })).gate;
    const description = {
      privilege: info.privilege, invokerClearance: info.invokerClearance, declassify: info.declassify,
      redirect: info.redirect,
    };
    if (!info.redirect) {
      Object.assign(description, {
        runtime: info.runtime, memoryMb: info.memoryMb, timeoutMs: info.timeoutMs, fresh: info.fresh,
        concurrency: info.concurrency, image: new Blob(this, info.image, info.imageSize),
      });
    }
    return description;
  }

  async dentLsService(fd) {
    const spec = (await this._call("readService", { handle: fd })).service;
    return {
      privilege: spec.privilege, invokerClearance: spec.invokerClearance, taint: spec.taint, url: spec.url,
      verb: VERB_NAMES.get(spec.verb) ?? "GET", headers: record(Object.entries(spec.headers)),
    };
  }

  /** Invokes a gate or a service: `{status, data | blob, headers, id}`. */
  async dentInvoke(fd, payload = NO_BYTES, { sync = true, params, toBlob = false } = EMPTY) {
    const result = (await this._call("invoke", {
      handle: fd, sync, payload: toPayload(payload), toBlob, parameters: stringMap(params, "params"),
    })).invoked;
    const outcome = { status: result.status, headers: record(Object.entries(result.headers)), id: result.invocationId };
    if (toBlob) outcome.blob = new Blob(this, result.blob, result.blobSize);
    else outcome.data = result.data;
    return outcome;
  }

  // Blobs.

  /** A new blob to write (`write`, then `finalize`; or pipe into `stream()`). */
  async createBlob() {
    return new NewBlob(this, (await this._call("blobCreate", EMPTY)).blob.handle);
  }

  async blobRead(fd, offset = 0, length = 0) {
    return (await this._call("blobRead", { handle: fd, offset, length })).data;
  }

  async blobClose(fd) {
    await this._call("blobClose", { handle: fd });
  }

  // Path helpers (the original's path-based API). A path is a string such as
  // "home:<alice,alice>:photos:cat.jpg"; "~" is the caller's home facet and "%" the
  // facet of the current label.

  async _parentAndName(path) {
    const at = path.lastIndexOf(":");
    const name = path.slice(at + 1);
    if (!name) throw new InvalidArgumentError(`the path ${JSON.stringify(path)} does not end with a name`, "INVALID_ARGUMENT");
    // A one-name path is in the root, which has no path of its own.
    let directory = at < 0 ? await this.root() : await this.resolve(path.slice(0, at));
    if (directory instanceof FacetedDirectory) {
      // Names under a faceted directory go into the facet of the current label.
      const facet = await directory.open(await this.getCurrentLabel());
      await directory.close();
      directory = facet;
    }
    return [directory, name];
  }

  async _createAt(path, create, label) {
    const [directory, name] = await this._parentAndName(path);
    try {
      if (!label && create.facetedDirectory === undefined) {
        // The original endorsed what it created with the function's privilege.
        await this.endorse();
      }
      return await this._create(create, label, directory, name);
    } finally {
      await directory.close();
    }
  }

  async _withResolved(path, use) {
    const handle = await this.resolve(path);
    try {
      return await use(handle);
    } finally {
      await handle.close();
    }
  }

  /** A file's bytes. */
  fsRead(path) {
    return this._withResolved(path, (handle) => expectFile(handle, path).read());
  }

  /** Replaces a file's bytes. */
  fsWrite(path, data) {
    return this._withResolved(path, (handle) => expectFile(handle, path).write(data));
  }

  /** `{name: kind}` of a directory. */
  fsList(path = "") {
    return this._withResolved(path, (handle) => handle.ls());
  }

  fsFacetedList(path, clearance) {
    return this._withResolved(path, (handle) => handle.ls(clearance));
  }

  /** Creates a directory (default label: the current one, endorsed). */
  fsCreateDir(path, { label } = EMPTY) {
    return this._createAt(path, { directory: EMPTY }, label);
  }

  /** Creates a file (default label: the current one, endorsed). */
  fsCreateFile(path, { label, data = NO_BYTES } = EMPTY) {
    return this._createAt(path, { file: toBytes(data, "file data") }, label);
  }

  fsCreateFaceted(path) {
    return this._createAt(path, { facetedDirectory: EMPTY });
  }

  /** Removes a name from its directory. */
  async fsDelete(path) {
    const [directory, name] = await this._parentAndName(path);
    try {
      await directory.unlink(name);
    } finally {
      await directory.close();
    }
  }

  /** Links the object at `source` as `destination` too. */
  async fsHardLink(source, destination) {
    const [directory, name] = await this._parentAndName(destination);
    try {
      await this._withResolved(source, (target) => directory.link(target, name));
    } finally {
      await directory.close();
    }
  }

  /** The blob behind a blob entry, readable like a file or a stream. */
  fsOpenBlob(path) {
    return this._withResolved(path, (entry) => {
      if (!(entry instanceof BlobEntry)) throw wrongKind(entry, path, "blob");
      return entry.get();
    });
  }

  /** Creates a blob entry for `blob` (a `Blob`, or a `NewBlob`, finalized here). */
  async fsLinkBlob(path, blob, { label } = EMPTY) {
    if (blob instanceof NewBlob) blob = await blob.finalize();
    return this._createAt(path, { blob: blob.fd }, label);
  }

  /** Creates a direct gate running the image at `image` (a blob entry's path). */
  fsCreateGate(path, {
    privilege, image, clearance = "T", label, memory = 128, runtime = "node", timeoutMs = 30000, declassify,
  }) {
    return this._withResolved(image, (entry) => this._createAt(path, {
      gate: {
        function: { runtime, image: entry.fd, memoryMb: memory, timeoutMs },
        privilege, invokerClearance: clearance, declassify: declassify || "",
      },
    }, label));
  }

  /** Creates a redirect gate in front of the gate at `gate` (a path). */
  fsCreateRedirectGate(path, { privilege, gate, clearance = "T", label, declassify }) {
    return this._withResolved(gate, (target) => this._createAt(path, {
      gate: { redirect: target.fd, privilege, invokerClearance: clearance, declassify: declassify || "" },
    }, label));
  }

  fsCreateService(path, { privilege, taint, url, verb = "GET", headers, clearance = "T", label }) {
    return this._createAt(path, { service: serviceSpec({ privilege, clearance, taint, url, verb, headers }) }, label);
  }

  /** Invokes the gate at `path` (asynchronous by default, as in the original). */
  invoke(path, payload = NO_BYTES, { sync = false, params } = EMPTY) {
    return this._withResolved(path, (gate) => this.dentInvoke(gate.fd, payload, { sync, params }));
  }

  /** Calls the service at `path`. */
  invokeService(path, payload = NO_BYTES, { params, toBlob = false } = EMPTY) {
    return this._withResolved(path, (service) => this.dentInvoke(service.fd, payload, { sync: true, params, toBlob }));
  }
}

const GATE_UPDATE_FIELDS = new Set([
  "privilege", "invokerClearance", "declassify", "image", "runtime", "memoryMb", "timeoutMs", "redirect", "fresh",
  "concurrency",
]);

function serviceSpec({ privilege, clearance, taint, url, verb, headers }) {
  const number = wire.Verb[String(verb).toUpperCase()];
  if (number === undefined) throw new TypeError(`unknown HTTP verb ${verb}`);
  return { privilege, invokerClearance: clearance, taint, url, verb: number, headers: stringMap(headers, "headers") };
}

function wrongKind(handle, path, expected) {
  // A typed error (as the monitor gives for a wrong kind), not a TypeError.
  const kind = KIND_NAMES.get(handle.kind) ?? "object";
  return new WrongKindError(`${path} is a ${kind}, not a ${expected}`, "WRONG_KIND");
}

function expectFile(handle, path) {
  if (!(handle instanceof File)) throw wrongKind(handle, path, "file");
  return handle;
}
