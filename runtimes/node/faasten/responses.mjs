// What a function returns: `Response` and its JSON, text and raw forms.
import { NO_BYTES, toBytes } from "./_values.mjs";

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
