// `Syscall`: the CloudCalls of one invocation, by handle and by path.
import { ChannelClosed, ProtocolError } from "./_channel.mjs";
import { EMPTY, NO_BYTES, record, stringMap, toBytes, toPayload } from "./_values.mjs";
import * as wire from "./_wire/cloudcalls.mjs";
import { InvalidArgumentError, WrongKindError, toError } from "./errors.mjs";
import { Blob, BlobEntry, CLASSES, Dent, Directory, FacetedDirectory, File, KIND_NAMES, NewBlob } from "./handles.mjs";

const VERB_NAMES = new Map(Object.entries(wire.Verb).map(([name, value]) => [value, name]));

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
    return this._withResolved(path, (handle) => {
      if (!(handle instanceof Directory || handle instanceof FacetedDirectory)) throw wrongKind(handle, path, "directory");
      return handle.ls();
    });
  }

  fsFacetedList(path, clearance) {
    return this._withResolved(path, (handle) => {
      if (!(handle instanceof FacetedDirectory)) throw wrongKind(handle, path, "faceted");
      return handle.ls(clearance);
    });
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
  const kind = KIND_NAMES.get(handle.kind) ?? "unknown kind of object";
  return new WrongKindError(`${path} is a ${kind}, not a ${expected}`, "WRONG_KIND");
}

function expectFile(handle, path) {
  if (!(handle instanceof File)) throw wrongKind(handle, path, "file");
  return handle;
}
