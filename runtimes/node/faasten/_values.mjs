// Conversions between what functions pass and what the protocol carries; shared by
// the SDK's modules, not part of its API (index.mjs re-exports only `record`).

export const EMPTY = Object.freeze({});
export const NO_BYTES = Buffer.alloc(0);

/** Bytes from a Buffer, a typed array, an ArrayBuffer or a string (UTF-8). */
export function toBytes(value, what) {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (value === undefined || value === null) return NO_BYTES;
  throw new TypeError(`${what} must be a Buffer, a Uint8Array or a string, not ${typeof value}`);
}

/** A payload: bytes as for toBytes, or any other value as its JSON. */
export function toPayload(value) {
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

export function stringMap(object, what) {
  const result = Object.create(null);
  for (const [key, value] of Object.entries(object ?? EMPTY)) {
    if (typeof value !== "string") throw new TypeError(`${what} values must be strings (${key})`);
    result[key] = value;
  }
  return result;
}
