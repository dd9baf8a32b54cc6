// Tests of the JavaScript protobuf codec (runtimes/node/faasten/_wire), checked
// against protoc's own encoder and decoder.
//
// Run from the repository root (Node 18 or newer):
//   node --test runtimes/node/tests/
//
// Needs protoc, and google.protobuf for the generator (test time only; the codec
// uses neither): apt-get install -y protobuf-compiler python3-protobuf
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import * as wire from "../faasten/_wire/cloudcalls.mjs";
import { DecodeError, MAX_DEPTH, T } from "../faasten/_wire/protobuf.mjs";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const PROTO = join(REPO, "proto");
const PLUGIN = join(REPO, "scripts", "protoc-gen-faasten-js");
const WIRE = join(REPO, "runtimes", "node", "faasten", "_wire");
const INSTALL = "install with: apt-get install -y protobuf-compiler python3-protobuf";

function protoc(args, input) {
  const result = spawnSync("protoc", args, { input, maxBuffer: 64 << 20 });
  if (result.error) throw new Error(`protoc cannot run (${result.error.code}); ${INSTALL}`);
  if (result.status !== 0) throw new Error(`protoc ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** protoc's decoding of `bytes` as `type`, re-encoded by protoc. */
function throughProtoc(protoDir, file, type, bytes) {
  const text = protoc([`--decode=${type}`, `-I${protoDir}`, join(protoDir, file)], bytes);
  return protoc([`--encode=${type}`, `-I${protoDir}`, join(protoDir, file)], text);
}

// --- Random messages from the schema tables ---------------------------------------

function random(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

function randomScalar(rng, type) {
  const pick = (values) => values[Math.floor(rng() * values.length)];
  switch (type) {
    case T.STRING: return pick(["", "a", "alice&bob,T", "ünïcødé ✓", "x".repeat(200), "__proto__", "𝄞"]);
    case T.BYTES: return Buffer.from(Array.from({ length: pick([0, 1, 5, 300]) }, () => Math.floor(rng() * 256)));
    case T.BOOL: return rng() < 0.5;
    case T.DOUBLE: return pick([0, -0, 1.5, -2.25, 1e300, Number.MIN_VALUE, Infinity, -Infinity]);
    case T.FLOAT: return pick([0, 1.5, -2.25, 3.0517578125e-05]);
    case T.UINT32: case T.FIXED32: return pick([0, 1, 127, 128, 300, 0xffffffff, Math.floor(rng() * 0xffffffff)]);
    case T.INT32: case T.SFIXED32: case T.SINT32: case T.ENUM:
      return pick([0, 1, -1, 127, -128, 0x7fffffff, -0x80000000]);
    case T.UINT64: case T.FIXED64: return pick([0, 1, 128, 2 ** 32, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]);
    case T.INT64: case T.SFIXED64: case T.SINT64:
      return pick([0, 1, -1, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]);
  }
  throw new Error(`type ${type}`);
}

function randomMessage(rng, type, depth = 0) {
  const message = {};
  const oneofsSet = new Set();
  for (const field of type.fields) {
    if (rng() < 0.4) continue;
    if (field.oneof !== undefined) {
      if (oneofsSet.has(field.oneof)) continue;
      oneofsSet.add(field.oneof);
    }
    const value = (valueType, message) => (valueType === T.MESSAGE
      ? (depth > 3 ? message().create() : randomMessage(rng, message(), depth + 1))
      : valueType === T.ENUM ? Math.floor(rng() * 3) : randomScalar(rng, valueType));
    if (field.type === T.MAP) {
      const map = {};
      for (let i = Math.floor(rng() * 3); i > 0; i--) {
        map[String(field.key === T.STRING ? randomScalar(rng, T.STRING) : field.key === T.BOOL ? rng() < 0.5 : randomScalar(rng, field.key))] = value(field.value, field.message);
      }
      message[field.name] = map;
    } else if (field.repeated) {
      message[field.name] = Array.from({ length: Math.floor(rng() * 3) }, () => value(field.type, field.message));
    } else {
      message[field.name] = value(field.type, field.message);
    }
  }
  return message;
}

/** What decoding gives for `message`: defaults filled in, oneofs named. */
function normalized(type, message) {
  return type.decode(type.encode(message));
}

// --- The committed CloudCall codec ------------------------------------------------

describe("the CloudCall codec", () => {
  test("random messages survive protoc, both ways", () => {
    const rng = random(20261121);
    for (const type of [wire.GuestMessage, wire.HostMessage, wire.Call, wire.Result, wire.Invocation]) {
      for (let i = 0; i < 12; i++) {
        const message = randomMessage(rng, type);
        const bytes = type.encode(message);
        const back = throughProtoc(PROTO, "cloudcalls.proto", type.name, bytes);
        assert.deepStrictEqual(type.decode(back), type.decode(bytes), `${type.name} #${i}`);
        assert.deepStrictEqual(type.decode(bytes), normalized(type, message));
      }
    }
  });

  test("a call encodes as protoc encodes it", () => {
    const text = 'call { id: 7 create { label: "alice,alice" file: "x" link { directory: 3 name: "notes" } } }';
    const expected = protoc(["--encode=faasten.cloudcalls.GuestMessage", `-I${PROTO}`, join(PROTO, "cloudcalls.proto")], text);
    const bytes = wire.GuestMessage.encode({
      call: { id: 7, create: { label: "alice,alice", file: Buffer.from("x"), link: { directory: 3, name: "notes" } } },
    });
    assert.deepStrictEqual(bytes, expected);
  });

  test("decoded messages name the oneof member that is set, and fill defaults", () => {
    const message = wire.HostMessage.decode(wire.HostMessage.encode({ result: { id: 1, label: "" } }));
    assert.equal(message.kind, "result");
    assert.equal(message.welcome, undefined);
    assert.equal(message.result.value, "label");
    assert.equal(message.result.label, "");  // a oneof member is present even at its default
    assert.equal(message.result.error, undefined);
    const invocation = wire.Invocation.decode(Buffer.alloc(0));
    assert.deepStrictEqual([invocation.id, invocation.payload.length, Object.keys(invocation.blobs)], ["", 0, []]);
  });

  test("map keys such as __proto__ stay ordinary keys", () => {
    const text = 'payload: "x" headers { key: "__proto__" value: "polluted" } headers { key: "a" value: "b" }';
    const bytes = protoc(["--encode=faasten.cloudcalls.Invocation", `-I${PROTO}`, join(PROTO, "cloudcalls.proto")], text);
    const invocation = wire.Invocation.decode(bytes);
    assert.equal(invocation.headers["__proto__"], "polluted");
    assert.equal(Object.getPrototypeOf(invocation.headers), null);
    assert.equal({}.polluted, undefined);
  });

  test("the frame is a 4-byte big-endian length and the message", () => {
    const frame = wire.GuestMessage.encodeFrame({ hello: { protocolVersion: 1, runtime: "node" } });
    assert.equal(frame.readUInt32BE(0), frame.length - 4);
    assert.deepStrictEqual(frame.subarray(4), wire.GuestMessage.encode({ hello: { protocolVersion: 1, runtime: "node" } }));
  });

  test("encoding refuses values of the wrong type or range", () => {
    assert.throws(() => wire.Call.encode({ id: -1 }), TypeError);
    assert.throws(() => wire.Call.encode({ id: 2 ** 64 }), TypeError);
    assert.throws(() => wire.Call.encode({ id: "7" }), TypeError);
    assert.throws(() => wire.FunctionSpec.encode({ memoryMb: 2 ** 32 }), TypeError);
    assert.throws(() => wire.Taint.encode({ label: 5 }), TypeError);
    assert.throws(() => wire.BlobWrite.encode({ data: "not bytes" }), TypeError);
    assert.throws(() => wire.Call.encode({ root: {}, close: { handle: 1 } }), /more than one member of the oneof call/);
    assert.deepStrictEqual(wire.Call.decode(wire.Call.encode({ id: 2n ** 53n - 1n })).id, Number.MAX_SAFE_INTEGER);
  });
});

// --- Malformed input --------------------------------------------------------------

describe("decoding malformed input", () => {
  const bad = {
    "a truncated varint": [0x08, 0x80],
    "a length beyond the end": [0x1a, 0x05, 0x61],
    "a wrong wire type for a known field": [0x0d, 0, 0, 0, 0],  // Result.id as fixed32
    "a group": [0x0b, 0x0c],
    "an 11-byte varint": [0x08, ...Array(10).fill(0xff), 0x01],
    "field number 0": [0x00, 0x01],
    "invalid UTF-8 in a string": [0x1a, 0x02, 0xc3, 0x28],  // Result.label
    "a 64-bit value beyond 2^53": [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
    "a truncated fixed value": [0x09, 0x01, 0x02],
  };
  for (const [name, bytes] of Object.entries(bad)) {
    test(`refuses ${name}`, () => {
      assert.throws(() => wire.Result.decode(Buffer.from(bytes)), DecodeError);
    });
  }

  test("refuses nesting deeper than MAX_DEPTH", async () => {
    const { deep } = await alltypes();
    let message = {};
    for (let i = 0; i < MAX_DEPTH + 5; i++) message = { again: message };
    // Encoding refuses it too, so build the bytes by hand: field 3 (again), nested.
    let bytes = Buffer.alloc(0);
    for (let i = 0; i < MAX_DEPTH + 5; i++) bytes = Buffer.concat([Buffer.from([0x1a, ...varint(bytes.length)]), bytes]);
    // (The generated module has its own copy of protobuf.mjs, so its own DecodeError class.)
    assert.throws(() => deep.decode(bytes), { name: "DecodeError" });
    assert.throws(() => deep.encode(message), TypeError);
  });

  test("random and mutated bytes give messages or DecodeErrors, nothing else", () => {
    const rng = random(7);
    const valid = wire.HostMessage.encode(randomMessage(rng, wire.HostMessage));
    for (let i = 0; i < 3000; i++) {
      const bytes = i % 2
        ? Buffer.from(Array.from({ length: Math.floor(rng() * 40) }, () => Math.floor(rng() * 256)))
        : Buffer.from(valid).map((byte) => (rng() < 0.05 ? Math.floor(rng() * 256) : byte)).subarray(0, Math.floor(rng() * (valid.length + 1)));
      try {
        wire.HostMessage.decode(bytes);
      } catch (error) {
        assert.ok(error instanceof DecodeError, `${error.name}: ${error.message} for ${bytes.toString("hex")}`);
      }
    }
  });
});

function varint(value) {
  const out = [];
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return out;
}

// --- Every scalar type, through a generated module -----------------------------------

const ALLTYPES = `
syntax = "proto3";
package wiretest;
enum Color { RED = 0; GREEN = 1; NEGATIVE = -5; }
message Scalars {
  double f_double = 1; float f_float = 2; int32 f_int32 = 3; int64 f_int64 = 4; uint32 f_uint32 = 5;
  uint64 f_uint64 = 6; sint32 f_sint32 = 7; sint64 f_sint64 = 8; fixed32 f_fixed32 = 9; fixed64 f_fixed64 = 10;
  sfixed32 f_sfixed32 = 11; sfixed64 f_sfixed64 = 12; bool f_bool = 13; string f_string = 14; bytes f_bytes = 15;
  Color f_enum = 16; Deep f_deep = 17; uint64 f_far = 536870911;
  optional int32 o_int32 = 20; optional string o_string = 21;
  repeated int32 r_int32 = 30; repeated sint64 r_sint64 = 31; repeated double r_double = 32;
  repeated int32 r_unpacked = 33 [packed = false]; repeated string r_string = 34; repeated Deep r_deep = 35;
  map<int64, string> m_int64 = 40; map<bool, Deep> m_bool = 41; map<uint32, Color> m_enum = 42;
  oneof choice { string c_string = 50; Deep c_deep = 51; uint64 c_uint64 = 52; }
}
message Deep { string note = 1; int32 n = 2; Deep again = 3; }
`;

let generated;
async function alltypes() {
  if (generated) return generated;
  const directory = mkdtempSync(join(tmpdir(), "faasten-wire-"));
  writeFileSync(join(directory, "alltypes.proto"), ALLTYPES);
  protoc([`--plugin=protoc-gen-faastenjs=${PLUGIN}`, `--faastenjs_out=${directory}`, `-I${directory}`, join(directory, "alltypes.proto")]);
  copyFileSync(join(WIRE, "protobuf.mjs"), join(directory, "protobuf.mjs"));
  const module = await import(pathToFileURL(join(directory, "alltypes.mjs")).href);
  generated = { directory, scalars: module.Scalars, deep: module.Deep, module };
  return generated;
}

describe("every scalar type, map and oneof (a generated module)", () => {
  before(alltypes);
  after(() => rmSync(generated.directory, { recursive: true, force: true }));

  test("random messages survive protoc, both ways", () => {
    const rng = random(42);
    for (let i = 0; i < 40; i++) {
      const message = randomMessage(rng, generated.scalars);
      const bytes = generated.scalars.encode(message);
      const back = throughProtoc(generated.directory, "alltypes.proto", "wiretest.Scalars", bytes);
      assert.deepStrictEqual(generated.scalars.decode(back), generated.scalars.decode(bytes), `#${i}`);
    }
  });

  test("edge values encode as protoc encodes them", () => {
    const text = "f_int32: -1 f_int64: -9007199254740991 f_sint32: -2147483648 f_sint64: -5 f_uint64: 9007199254740991 "
      + "f_double: -0 f_enum: NEGATIVE f_far: 1 r_int32: [1, -1] o_int32: 0 c_uint64: 0";
    const expected = protoc(["--encode=wiretest.Scalars", `-I${generated.directory}`, join(generated.directory, "alltypes.proto")], text);
    const bytes = generated.scalars.encode({
      fInt32: -1, fInt64: -Number.MAX_SAFE_INTEGER, fSint32: -0x80000000, fSint64: -5, fUint64: Number.MAX_SAFE_INTEGER,
      fDouble: -0, fEnum: -5, fFar: 1, rInt32: [1, -1], oInt32: 0, cUint64: 0,
    });
    assert.deepStrictEqual(bytes, expected);
    const decoded = generated.scalars.decode(expected);
    assert.ok(Object.is(decoded.fDouble, -0));
    assert.equal(decoded.oInt32, 0);
    assert.equal(decoded.choice, "cUint64");
    assert.equal(decoded.oString, undefined);
  });

  test("packed and unpacked repeated fields are both accepted", () => {
    const packed = generated.scalars.decode(Buffer.from([0xf2, 0x01, 0x02, 0x01, 0x02]));  // r_int32 packed [1, 2]
    const unpacked = generated.scalars.decode(Buffer.from([0xf0, 0x01, 0x01, 0xf0, 0x01, 0x02]));  // r_int32 unpacked
    assert.deepStrictEqual(packed.rInt32, [1, 2]);
    assert.deepStrictEqual(unpacked.rInt32, [1, 2]);
  });

  test("unknown fields are skipped", () => {
    const bytes = Buffer.from([0x98, 0x06, 0x05, 0xa2, 0x06, 0x01, 0x61, 0x68, 0x01]);  // fields 99, 100, then f_bool
    assert.equal(generated.scalars.decode(bytes).fBool, true);
  });
});

test("the committed cloudcalls.mjs is what the generator makes now", () => {
  const directory = mkdtempSync(join(tmpdir(), "faasten-wire-"));
  try {
    protoc([`--plugin=protoc-gen-faastenjs=${PLUGIN}`, `--faastenjs_out=${directory}`, `-I${PROTO}`, join(PROTO, "cloudcalls.proto")]);
    assert.equal(readFileSync(join(directory, "cloudcalls.mjs"), "utf8"), readFileSync(join(WIRE, "cloudcalls.mjs"), "utf8"),
      "regenerate with scripts/generate-protos.sh");
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
