// A small protobuf (proto3) codec driven by schema tables, which
// scripts/protoc-gen-faasten-js generates from the committed .proto files. No npm
// package: the guest runtime must start with nothing fetched.
//
// Messages are plain objects whose properties are the fields' lowerCamelCase names:
//
//   const bytes = Call.encode({ id: 7, taint: { label: "alice,T" } });
//   const call = Call.decode(bytes);  // { id: 7, call: "taint", taint: { label: "alice,T" }, … }
//
// - Scalars decode to their default when absent (0, "", false, an empty Buffer);
//   64-bit integers decode to Numbers and a value beyond Number.MAX_SAFE_INTEGER is
//   a DecodeError (encoding takes Numbers or BigInts).
// - Message fields, proto3 `optional` fields and oneof members are `undefined` when
//   absent; a decoded oneof also has a property named after the oneof holding the
//   name of the member that is set.
// - Repeated fields are arrays; maps are objects without a prototype (a key such as
//   "__proto__" is an ordinary key), keyed by the key's text.
// - bytes decode to Buffers that share the decoded input's memory.
//
// Decoding is strict: truncated input, wrong wire types for known fields, invalid
// UTF-8, groups, varints longer than 10 bytes and nesting deeper than MAX_DEPTH are
// DecodeErrors. Unknown fields are skipped; a singular field that appears twice keeps
// the last value (messages are not merged).

export const T = Object.freeze({
  DOUBLE: 1, FLOAT: 2, INT64: 3, UINT64: 4, INT32: 5, FIXED64: 6, FIXED32: 7, BOOL: 8, STRING: 9,
  MESSAGE: 11, BYTES: 12, UINT32: 13, ENUM: 14, SFIXED32: 15, SFIXED64: 16, SINT32: 17, SINT64: 18,
  MAP: 100,
});

/** How deep messages may nest in input. */
export const MAX_DEPTH = 100;

const VARINT = 0, I64 = 1, LEN = 2, I32 = 5;
const TWO_32 = 4294967296;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const EMPTY = Buffer.alloc(0);

/** Input that is not a valid encoding of the expected message. */
export class DecodeError extends Error {
  constructor(message) {
    super(message);
    this.name = "DecodeError";
  }
}

function wireType(type) {
  switch (type) {
    case T.DOUBLE: case T.FIXED64: case T.SFIXED64: return I64;
    case T.FLOAT: case T.FIXED32: case T.SFIXED32: return I32;
    case T.STRING: case T.BYTES: case T.MESSAGE: case T.MAP: return LEN;
    default: return VARINT;
  }
}

function defaultValue(type) {
  switch (type) {
    case T.BOOL: return false;
    case T.STRING: return "";
    case T.BYTES: return EMPTY;
    default: return 0;
  }
}

/** A message type: its fields, and how to encode and decode it. */
export class MessageType {
  constructor(name) {
    this.name = name;
    this.fields = [];
    this.byNumber = new Map();
    this.oneofs = new Map();  // oneof name -> member fields
  }

  /** Sets the fields (once; the generated module calls it). */
  define(fields) {
    for (const field of fields) {
      const entry = { ...field, wire: wireType(field.type) };
      if (field.type === T.MAP) {
        entry.keyField = { no: 1, type: field.key, wire: wireType(field.key) };
        entry.valueField = { no: 2, type: field.value, message: field.message, wire: wireType(field.value) };
      }
      entry.presence = field.type === T.MESSAGE || field.optional === true || field.oneof !== undefined;
      this.fields.push(entry);
      this.byNumber.set(field.no, entry);
      if (field.oneof !== undefined) {
        if (!this.oneofs.has(field.oneof)) this.oneofs.set(field.oneof, []);
        this.oneofs.get(field.oneof).push(entry);
      }
    }
    // Encoded in field-number order, as protobuf implementations do.
    this.fields.sort((a, b) => a.no - b.no);
    Object.freeze(this.fields);
    return this;
  }

  /** A message with every field at its default. */
  create(values = {}) {
    const message = {};
    for (const field of this.fields) {
      if (field.type === T.MAP) message[field.name] = Object.create(null);
      else if (field.repeated) message[field.name] = [];
      else if (field.presence) message[field.name] = undefined;
      else message[field.name] = defaultValue(field.type);
    }
    for (const oneof of this.oneofs.keys()) message[oneof] = undefined;
    return Object.assign(message, values);
  }

  /** The message's bytes. */
  encode(message) {
    const sizes = [];
    const length = sizeOf(this, message, sizes, 0);
    const writer = new Writer(Buffer.allocUnsafe(length), sizes);
    writeMessage(this, message, writer);
    return writer.buffer;
  }

  /** A frame of the CloudCall channel: the 4-byte big-endian length, then the message. */
  encodeFrame(message) {
    const sizes = [];
    const length = sizeOf(this, message, sizes, 0);
    const writer = new Writer(Buffer.allocUnsafe(4 + length), sizes);
    writer.buffer.writeUInt32BE(length, 0);
    writer.pos = 4;
    writeMessage(this, message, writer);
    return writer.buffer;
  }

  /** The message in `bytes` (a Buffer or Uint8Array); a DecodeError if it is not one. */
  decode(bytes) {
    const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const reader = new Reader(buffer);
    return readMessage(this, reader, buffer.length, 0);
  }
}

// --- Encoding ---------------------------------------------------------------------

function fail(type, field, why) {
  return new TypeError(`${type.name}.${field.name}: ${why}`);
}

/** [low 32 bits, high 32 bits] of a 64-bit integer given as a Number or a BigInt. */
function split64(type, field, value, signed) {
  if (typeof value === "bigint") {
    const min = signed ? -(1n << 63n) : 0n;
    const max = signed ? (1n << 63n) - 1n : (1n << 64n) - 1n;
    if (value < min || value > max) throw fail(type, field, `${value} is out of range`);
    const bits = BigInt.asUintN(64, value);
    return [Number(bits & 0xffffffffn), Number(bits >> 32n)];
  }
  if (!Number.isSafeInteger(value)) throw fail(type, field, `${value} is not a safe integer (use a BigInt)`);
  if (!signed && value < 0) throw fail(type, field, `${value} is negative`);
  if (value >= 0) return [value % TWO_32, Math.floor(value / TWO_32)];
  const magnitude = -value;
  let low = (~(magnitude % TWO_32) + 1) >>> 0;
  let high = ~Math.floor(magnitude / TWO_32) >>> 0;
  if (low === 0) high = (high + 1) >>> 0;
  return [low, high];
}

/** The zigzag encoding of a signed 64-bit integer: (n << 1) ^ (n >> 63), as [low, high]. */
function zigzag64(type, field, value) {
  const [low, high] = split64(type, field, value, true);
  const sign = high & 0x80000000 ? 0xffffffff : 0;
  return [((low << 1) ^ sign) >>> 0, (((high << 1) | (low >>> 31)) ^ sign) >>> 0];
}

function checkInt32(type, field, value, min, max) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw fail(type, field, `${value} is not an integer in [${min}, ${max}]`);
  }
}

function varintSize(low, high) {
  if (high === 0) {
    if (low < 0x80) return 1;
    if (low < 0x4000) return 2;
    if (low < 0x200000) return 3;
    if (low < 0x10000000) return 4;
    return 5;
  }
  if (high < 0x8) return 5;
  if (high < 0x400) return 6;
  if (high < 0x20000) return 7;
  if (high < 0x1000000) return 8;
  if (high < 0x80000000) return 9;
  return 10;
}

function uintSize(value) {
  return value < 0x80 ? 1 : varintSize(value % TWO_32, Math.floor(value / TWO_32));
}

/** The size of a scalar value (no tag); checks its type and range. */
function scalarSize(type, field, scalarType, value) {
  switch (scalarType) {
    case T.STRING:
      if (typeof value !== "string") throw fail(type, field, "expected a string");
      return Buffer.byteLength(value, "utf8");
    case T.BYTES:
      if (!(value instanceof Uint8Array)) throw fail(type, field, "expected a Buffer or Uint8Array");
      return value.length;
    case T.BOOL:
      if (typeof value !== "boolean") throw fail(type, field, "expected a boolean");
      return 1;
    case T.DOUBLE: case T.FIXED64: case T.SFIXED64:
      if (scalarType === T.DOUBLE && typeof value !== "number") throw fail(type, field, "expected a number");
      if (scalarType !== T.DOUBLE) split64(type, field, value, scalarType === T.SFIXED64);
      return 8;
    case T.FLOAT:
      if (typeof value !== "number") throw fail(type, field, "expected a number");
      return 4;
    case T.FIXED32:
      checkInt32(type, field, value, 0, 0xffffffff);
      return 4;
    case T.SFIXED32:
      checkInt32(type, field, value, -0x80000000, 0x7fffffff);
      return 4;
    case T.UINT32:
      checkInt32(type, field, value, 0, 0xffffffff);
      return uintSize(value);
    case T.INT32: case T.ENUM:
      checkInt32(type, field, value, -0x80000000, 0x7fffffff);
      return value < 0 ? 10 : uintSize(value);
    case T.SINT32:
      checkInt32(type, field, value, -0x80000000, 0x7fffffff);
      return uintSize(value >= 0 ? value * 2 : -value * 2 - 1);
    case T.UINT64: case T.INT64: {
      const [low, high] = split64(type, field, value, scalarType === T.INT64);
      return varintSize(low, high);
    }
    case T.SINT64: {
      const [low, high] = zigzag64(type, field, value);
      return varintSize(low, high);
    }
    default:
      throw fail(type, field, `unknown type ${scalarType}`);
  }
}

function isDefault(scalarType, value) {
  switch (scalarType) {
    case T.STRING: return value === "";
    case T.BYTES: return value.length === 0;
    case T.BOOL: return value === false;
    case T.DOUBLE: case T.FLOAT: return Object.is(value, 0);  // -0 is not the default
    default: return value === 0 || value === 0n;
  }
}

function mapKey(type, field, keyType, key) {
  switch (keyType) {
    case T.STRING: return key;
    case T.BOOL:
      if (key !== "true" && key !== "false") throw fail(type, field, `map key ${key} is not true or false`);
      return key === "true";
    case T.INT64: case T.UINT64: case T.SINT64: case T.FIXED64: case T.SFIXED64: {
      if (!/^-?\d+$/.test(key)) throw fail(type, field, `map key ${key} is not an integer`);
      const value = BigInt(key);
      return Number.isSafeInteger(Number(value)) ? Number(value) : value;
    }
    default:
      if (!/^-?\d+$/.test(key)) throw fail(type, field, `map key ${key} is not an integer`);
      return Number(key);
  }
}

/** A nested message's size, recorded in `sizes` before those of the messages inside it
 * (the order in which writeMessage takes them). */
function nestedSize(type, message, sizes, depth) {
  const slot = sizes.length;
  sizes.push(0);
  sizes[slot] = sizeOf(type, message, sizes, depth);
  return sizes[slot];
}

/** The message's size; pushes the sizes of nested messages (in pre-order) on `sizes`. */
function sizeOf(type, message, sizes, depth) {
  if (message === null || typeof message !== "object") throw new TypeError(`${type.name}: expected an object`);
  if (depth > MAX_DEPTH) throw new TypeError(`${type.name}: nested deeper than ${MAX_DEPTH}`);
  let size = 0;
  for (const [oneof, members] of type.oneofs) {
    let set = 0;
    for (const member of members) if (message[member.name] !== undefined && message[member.name] !== null) set++;
    if (set > 1) throw new TypeError(`${type.name}: more than one member of the oneof ${oneof} is set`);
  }
  for (const field of type.fields) {
    const value = message[field.name];
    if (value === undefined || value === null) continue;
    const tagSize = uintSize(field.no * 8);
    if (field.type === T.MAP) {
      if (typeof value !== "object") throw fail(type, field, "expected an object");
      for (const key of Object.keys(value)) {
        const entryValue = value[key];
        const index = sizes.length;
        sizes.push(0);
        let entry = 1 + scalarSize(type, field, field.key, mapKey(type, field, field.key, key));
        if (field.key === T.STRING) entry += uintSize(entry - 1);
        if (field.value === T.MESSAGE) {
          const inner = nestedSize(field.message(), entryValue ?? {}, sizes, depth + 1);
          entry += 1 + uintSize(inner) + inner;
        } else {
          const inner = scalarSize(type, field, field.value, entryValue);
          entry += 1 + inner + (field.valueField.wire === LEN ? uintSize(inner) : 0);
        }
        sizes[index] = entry;
        size += tagSize + uintSize(entry) + entry;
      }
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw fail(type, field, "expected an array");
      if (value.length === 0) continue;
      if (field.packed) {
        let packed = 0;
        for (const item of value) packed += scalarSize(type, field, field.type, item);
        sizes.push(packed);
        size += tagSize + uintSize(packed) + packed;
      } else if (field.type === T.MESSAGE) {
        for (const item of value) {
          const inner = nestedSize(field.message(), item, sizes, depth + 1);
          size += tagSize + uintSize(inner) + inner;
        }
      } else {
        for (const item of value) {
          const inner = scalarSize(type, field, field.type, item);
          size += tagSize + inner + (field.wire === LEN ? uintSize(inner) : 0);
        }
      }
    } else if (field.type === T.MESSAGE) {
      const inner = nestedSize(field.message(), value, sizes, depth + 1);
      size += tagSize + uintSize(inner) + inner;
    } else {
      const inner = scalarSize(type, field, field.type, value);
      if (!field.presence && isDefault(field.type, value)) continue;
      size += tagSize + inner + (field.wire === LEN ? uintSize(inner) : 0);
    }
  }
  return size;
}

class Writer {
  constructor(buffer, sizes) {
    this.buffer = buffer;
    this.pos = 0;
    this.sizes = sizes;
    this.next = 0;
  }

  byte(value) {
    this.buffer[this.pos++] = value;
  }

  /** A non-negative integer up to 2^53 as a varint. */
  uint(value) {
    while (value >= 0x80) {
      this.buffer[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buffer[this.pos++] = value;
  }

  varint64(low, high) {
    while (high > 0 || low >= 0x80) {
      this.buffer[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    this.buffer[this.pos++] = low;
  }

  takeSize() {
    return this.sizes[this.next++];
  }
}

function writeScalar(type, field, scalarType, value, writer) {
  const buffer = writer.buffer;
  switch (scalarType) {
    case T.STRING: {
      const length = Buffer.byteLength(value, "utf8");
      writer.uint(length);
      writer.pos += buffer.write(value, writer.pos, length, "utf8");
      return;
    }
    case T.BYTES:
      writer.uint(value.length);
      buffer.set(value, writer.pos);
      writer.pos += value.length;
      return;
    case T.BOOL: writer.byte(value ? 1 : 0); return;
    case T.DOUBLE: buffer.writeDoubleLE(value, writer.pos); writer.pos += 8; return;
    case T.FLOAT: buffer.writeFloatLE(value, writer.pos); writer.pos += 4; return;
    case T.FIXED32: buffer.writeUInt32LE(value, writer.pos); writer.pos += 4; return;
    case T.SFIXED32: buffer.writeInt32LE(value, writer.pos); writer.pos += 4; return;
    case T.FIXED64: case T.SFIXED64: {
      const [low, high] = split64(type, field, value, scalarType === T.SFIXED64);
      buffer.writeUInt32LE(low, writer.pos);
      buffer.writeUInt32LE(high, writer.pos + 4);
      writer.pos += 8;
      return;
    }
    case T.UINT32: writer.uint(value); return;
    case T.INT32: case T.ENUM:
      if (value >= 0) writer.uint(value);
      else writer.varint64(value >>> 0, 0xffffffff);
      return;
    case T.SINT32: writer.uint(value >= 0 ? value * 2 : -value * 2 - 1); return;
    case T.UINT64: case T.INT64: {
      const [low, high] = split64(type, field, value, scalarType === T.INT64);
      writer.varint64(low, high);
      return;
    }
    case T.SINT64: {
      const [low, high] = zigzag64(type, field, value);
      writer.varint64(low, high);
      return;
    }
  }
}

function writeMessage(type, message, writer) {
  for (const field of type.fields) {
    const value = message[field.name];
    if (value === undefined || value === null) continue;
    const tag = field.no * 8 + field.wire;
    if (field.type === T.MAP) {
      for (const key of Object.keys(value)) {
        writer.uint(field.no * 8 + LEN);
        writer.uint(writer.takeSize());
        writer.byte(8 + field.keyField.wire);
        writeScalar(type, field, field.key, mapKey(type, field, field.key, key), writer);
        writer.byte(16 + field.valueField.wire);
        if (field.value === T.MESSAGE) {
          writer.uint(writer.takeSize());
          writeMessage(field.message(), value[key] ?? {}, writer);
        } else {
          writeScalar(type, field, field.value, value[key], writer);
        }
      }
    } else if (field.repeated) {
      if (value.length === 0) continue;
      if (field.packed) {
        writer.uint(field.no * 8 + LEN);
        writer.uint(writer.takeSize());
        for (const item of value) writeScalar(type, field, field.type, item, writer);
      } else {
        for (const item of value) {
          writer.uint(tag);
          if (field.type === T.MESSAGE) {
            writer.uint(writer.takeSize());
            writeMessage(field.message(), item, writer);
          } else {
            writeScalar(type, field, field.type, item, writer);
          }
        }
      }
    } else if (field.type === T.MESSAGE) {
      writer.uint(tag);
      writer.uint(writer.takeSize());
      writeMessage(field.message(), value, writer);
    } else {
      if (!field.presence && isDefault(field.type, value)) continue;
      writer.uint(tag);
      writeScalar(type, field, field.type, value, writer);
    }
  }
}

// --- Decoding ---------------------------------------------------------------------

class Reader {
  constructor(buffer) {
    this.buffer = buffer;
    this.pos = 0;
  }

  /** A varint as [low 32 bits, high 32 bits]. */
  varint64(end) {
    const buffer = this.buffer;
    let low = 0, high = 0, shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new DecodeError("truncated varint");
      const byte = buffer[this.pos++];
      if (shift < 28) {
        low |= (byte & 0x7f) << shift;
      } else if (shift === 28) {
        low |= (byte & 0x0f) << 28;
        high |= (byte & 0x7f) >> 4;
      } else {
        high |= (byte & 0x7f) << (shift - 32);
      }
      if (byte < 0x80) return [low >>> 0, high >>> 0];
      shift += 7;
    }
    throw new DecodeError("varint longer than 10 bytes");
  }

  /** A varint that must fit a safe Number (tags and lengths). */
  uint(end) {
    const buffer = this.buffer;
    if (this.pos < end && buffer[this.pos] < 0x80) return buffer[this.pos++];
    const [low, high] = this.varint64(end);
    if (high > 0x1fffff) throw new DecodeError("varint too large");
    return high * TWO_32 + low;
  }

  fixed(size, end) {
    if (this.pos + size > end) throw new DecodeError("truncated fixed-size value");
    const at = this.pos;
    this.pos += size;
    return at;
  }

  /** [start, end) of a length-delimited value. */
  delimited(end) {
    const length = this.uint(end);
    if (length > end - this.pos) throw new DecodeError("length beyond the end of the input");
    const start = this.pos;
    this.pos += length;
    return start;
  }

  skip(wire, end) {
    switch (wire) {
      case VARINT: this.varint64(end); return;
      case I64: this.fixed(8, end); return;
      case I32: this.fixed(4, end); return;
      case LEN: this.delimited(end); return;
      default: throw new DecodeError(`unsupported wire type ${wire}`);
    }
  }
}

function unsafe(what) {
  return new DecodeError(`${what} is beyond Number.MAX_SAFE_INTEGER`);
}

function fromUint64(low, high) {
  if (high > 0x1fffff) throw unsafe("a 64-bit value");
  return high * TWO_32 + low;
}

function fromInt64(low, high) {
  if (high & 0x80000000) {
    // Negative: -(two's complement).
    const negLow = (~low + 1) >>> 0;
    const negHigh = (~high + (negLow === 0 ? 1 : 0)) >>> 0;
    if (negHigh > 0x1fffff) throw unsafe("a 64-bit value");
    return -(negHigh * TWO_32 + negLow);
  }
  return fromUint64(low, high);
}

function readScalar(reader, scalarType, end) {
  const buffer = reader.buffer;
  switch (scalarType) {
    case T.STRING: {
      const start = reader.delimited(end);
      try {
        return utf8.decode(buffer.subarray(start, reader.pos));
      } catch {
        throw new DecodeError("a string is not valid UTF-8");
      }
    }
    case T.BYTES: {
      const start = reader.delimited(end);
      return buffer.subarray(start, reader.pos);
    }
    case T.DOUBLE: return buffer.readDoubleLE(reader.fixed(8, end));
    case T.FLOAT: return buffer.readFloatLE(reader.fixed(4, end));
    case T.FIXED32: return buffer.readUInt32LE(reader.fixed(4, end));
    case T.SFIXED32: return buffer.readInt32LE(reader.fixed(4, end));
    case T.FIXED64: {
      const at = reader.fixed(8, end);
      return fromUint64(buffer.readUInt32LE(at), buffer.readUInt32LE(at + 4));
    }
    case T.SFIXED64: {
      const at = reader.fixed(8, end);
      return fromInt64(buffer.readUInt32LE(at), buffer.readUInt32LE(at + 4));
    }
  }
  if (reader.pos < end && buffer[reader.pos] < 0x80) {
    // One-byte varint: 0..127.
    const value = buffer[reader.pos++];
    if (scalarType === T.BOOL) return value !== 0;
    if (scalarType === T.SINT32 || scalarType === T.SINT64) return (value >>> 1) ^ -(value & 1);
    return value;
  }
  const [low, high] = reader.varint64(end);
  switch (scalarType) {
    case T.BOOL: return (low | high) !== 0;
    case T.UINT32: return low;
    case T.INT32: case T.ENUM: return low | 0;
    case T.SINT32: return (low >>> 1) ^ -(low & 1);
    case T.UINT64: return fromUint64(low, high);
    case T.INT64: return fromInt64(low, high);
    case T.SINT64: {
      // Zigzag: (n >>> 1) ^ -(n & 1) over 64 bits.
      const negative = low & 1;
      let shiftedLow = ((low >>> 1) | (high << 31)) >>> 0;
      let shiftedHigh = high >>> 1;
      if (negative) {
        shiftedLow = ~shiftedLow >>> 0;
        shiftedHigh = ~shiftedHigh >>> 0;
        return fromInt64(shiftedLow, shiftedHigh);
      }
      return fromUint64(shiftedLow, shiftedHigh);
    }
  }
  throw new DecodeError(`unknown type ${scalarType}`);
}

function readMapEntry(type, field, reader, end, target, depth) {
  let key = defaultValue(field.key);
  let value;
  while (reader.pos < end) {
    const tag = reader.uint(end);
    const number = Math.floor(tag / 8), wire = tag & 7;
    if (number === 1 && wire === field.keyField.wire) {
      key = readScalar(reader, field.key, end);
    } else if (number === 2 && wire === field.valueField.wire) {
      if (field.value === T.MESSAGE) {
        const start = reader.delimited(end);
        const valueEnd = reader.pos;
        reader.pos = start;
        value = readMessage(field.message(), reader, valueEnd, depth + 1);
      } else {
        value = readScalar(reader, field.value, end);
      }
    } else if (number === 1 || number === 2) {
      throw new DecodeError(`${type.name}.${field.name}: wrong wire type ${wire} in a map entry`);
    } else {
      reader.skip(wire, end);
    }
  }
  if (value === undefined) value = field.value === T.MESSAGE ? field.message().create() : defaultValue(field.value);
  target[String(key)] = value;
}

function readMessage(type, reader, end, depth) {
  if (depth > MAX_DEPTH) throw new DecodeError(`messages nested deeper than ${MAX_DEPTH}`);
  const message = type.create();
  while (reader.pos < end) {
    const tag = reader.uint(end);
    const number = Math.floor(tag / 8), wire = tag & 7;
    if (number === 0) throw new DecodeError("field number 0");
    const field = type.byNumber.get(number);
    if (field === undefined) {
      reader.skip(wire, end);
      continue;
    }
    if (field.type === T.MAP) {
      if (wire !== LEN) throw new DecodeError(`${type.name}.${field.name}: wrong wire type ${wire}`);
      const start = reader.delimited(end);
      const entryEnd = reader.pos;
      reader.pos = start;
      readMapEntry(type, field, reader, entryEnd, message[field.name], depth);
      reader.pos = entryEnd;
      continue;
    }
    if (field.repeated && field.wire !== LEN && wire === LEN) {
      // Packed scalars.
      const start = reader.delimited(end);
      const packedEnd = reader.pos;
      reader.pos = start;
      const list = message[field.name];
      while (reader.pos < packedEnd) list.push(readScalar(reader, field.type, packedEnd));
      continue;
    }
    if (wire !== field.wire) throw new DecodeError(`${type.name}.${field.name}: wrong wire type ${wire}`);
    let value;
    if (field.type === T.MESSAGE) {
      const start = reader.delimited(end);
      const valueEnd = reader.pos;
      reader.pos = start;
      value = readMessage(field.message(), reader, valueEnd, depth + 1);
      reader.pos = valueEnd;
    } else {
      value = readScalar(reader, field.type, end);
    }
    if (field.repeated) {
      message[field.name].push(value);
    } else {
      if (field.oneof !== undefined) {
        const previous = message[field.oneof];
        if (previous !== undefined && previous !== field.name) message[previous] = undefined;
        message[field.oneof] = field.name;
      }
      message[field.name] = value;
    }
  }
  if (reader.pos !== end) throw new DecodeError("a value runs past the end of its message");
  return message;
}
