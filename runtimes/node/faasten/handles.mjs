// Handles: capabilities for one file-system object or blob, each used through a `Syscall`.
import { Readable, Writable } from "node:stream";

import { EMPTY, NO_BYTES, toBytes } from "./_values.mjs";
import * as wire from "./_wire/cloudcalls.mjs";

export const KIND_NAMES = new Map([
  [wire.Kind.DIRECTORY, "directory"], [wire.Kind.FILE, "file"], [wire.Kind.FACETED_DIRECTORY, "faceted"],
  [wire.Kind.GATE, "gate"], [wire.Kind.SERVICE, "service"], [wire.Kind.BLOB, "blob"],
]);

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

export const CLASSES = new Map([
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
