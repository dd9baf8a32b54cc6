// Tests of the guest loop (runtimes/node/faasten/_runtime.mjs) against a fake host:
// the handshake, invocations, calls, errors, and frames a host must not send.
//
// Run from the repository root (Node 18 or newer): node --test runtimes/node/tests/
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import { GuestMessage, HostMessage } from "../faasten/_wire/cloudcalls.mjs";

const SDK = join(dirname(fileURLToPath(import.meta.url)), "..", "faasten");
const directories = [];
const children = [];
after(() => {
  children.forEach((child) => child.kill("SIGKILL"));
  directories.forEach((directory) => rmSync(directory, { recursive: true, force: true }));
});

const WORKLOAD = `
import { Response } from "faasten";
let served = 0;
export async function handle(syscall, { payload, headers, invoker }) {
  served++;
  const request = JSON.parse(payload);
  if (request.label) return { label: await syscall.getCurrentLabel(), served };
  if (request.throw) throw new RangeError(request.throw);
  if (request.exit) process.exit(3);
  if (request.later) { setTimeout(() => { throw new TypeError("thrown later"); }, 1); return new Promise(() => {}); }
  if (request.text) return "plain text";
  return Response.json({ echo: request, headers, invoker, served }, 201, { "x-test": "yes" });
}
`;

/** A function directory with the SDK where `import "faasten"` finds it (the runtime's
 * own module, or with `copy` a copy of it, as a function vendoring the SDK has). */
function functionDirectory(source = WORKLOAD, { copy = false } = {}) {
  const directory = mkdtempSync(join(tmpdir(), "faasten-runtime-"));
  directories.push(directory);
  writeFileSync(join(directory, "workload.mjs"), source);
  mkdirSync(join(directory, "node_modules"));
  if (copy) cpSync(SDK, join(directory, "node_modules", "faasten"), { recursive: true });
  else symlinkSync(SDK, join(directory, "node_modules", "faasten"));
  return directory;
}

/** The guest loop in a child process; the test is its host. */
class FakeHost {
  constructor(directory = functionDirectory()) {
    const runtime = pathToFileURL(join(SDK, "_runtime.mjs")).href;
    this.child = spawn(process.execPath, [
      "--input-type=module", "-e", `import { main } from ${JSON.stringify(runtime)}; await main({ directory: ${JSON.stringify(directory)} });`,
    ], { stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"] });
    children.push(this.child);
    this.stderr = "";
    this.child.stderr.on("data", (chunk) => { this.stderr += chunk; });
    this.buffer = Buffer.alloc(0);
    this.waiting = [];
    this.child.stdio[4].on("data", (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.deliver();
    });
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve({ code, signal })));
  }

  deliver() {
    while (this.waiting.length && this.buffer.length >= 4 && this.buffer.length >= 4 + this.buffer.readUInt32BE(0)) {
      const length = this.buffer.readUInt32BE(0);
      const message = GuestMessage.decode(Buffer.from(this.buffer.subarray(4, 4 + length)));
      this.buffer = this.buffer.subarray(4 + length);
      this.waiting.shift()(message);
    }
  }

  next() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message from the guest; stderr: ${this.stderr}`)), 10000);
      this.waiting.push((message) => {
        clearTimeout(timer);
        resolve(message);
      });
      this.deliver();
    });
  }

  send(message) {
    this.child.stdio[3].write(HostMessage.encodeFrame(message));
  }

  sendRaw(bytes) {
    this.child.stdio[3].write(bytes);
  }

  async handshake() {
    const hello = await this.next();
    assert.equal(hello.kind, "hello");
    assert.deepStrictEqual([hello.hello.protocolVersion, hello.hello.runtime], [1, "node"]);
    this.send({ welcome: { protocolVersion: 1, maxMessageBytes: 1 << 20 } });
  }

  invoke(request, headers = {}) {
    this.send({ invocation: { id: "i", payload: Buffer.from(JSON.stringify(request)), headers, invoker: "alice" } });
  }

  /** The next response, answering calls with `answer(call)` (a Result's value). */
  async response(answer = () => ({ done: {} })) {
    for (;;) {
      const message = await this.next();
      assert.equal(message.kind, "call");
      if (message.call.call === "response") return message.call.response;
      this.send({ result: { id: message.call.id, ...answer(message.call) } });
    }
  }

  async close() {
    this.child.stdio[3].end();
    return this.exited;
  }
}

const body = (response) => JSON.parse(response.body);

test("serves invocations one after another, with calls in between", async () => {
  const host = new FakeHost();
  await host.handshake();
  host.invoke({ hello: "world" }, JSON.parse('{"__proto__": "kept", "a": "b"}'));
  const first = await host.response();
  assert.equal(first.status, 201);
  assert.equal(first.headers["x-test"], "yes");
  assert.equal(first.headers["content-type"], "application/json");
  assert.deepStrictEqual(body(first).echo, { hello: "world" });
  assert.equal(body(first).headers["__proto__"], "kept");
  assert.equal(body(first).invoker, "alice");
  host.invoke({ label: true });
  const second = await host.response((call) => {
    assert.equal(call.call, "getCurrentLabel");
    return { label: "alice,T" };
  });
  assert.deepStrictEqual(body(second), { label: "alice,T", served: 2 });
  host.invoke({ text: true });
  const third = await host.response();
  assert.equal(third.body.toString(), "plain text");
  assert.equal((await host.close()).code, 0);
});

test("a failing function gets a 500 with its error, and the sandbox keeps serving", async () => {
  const host = new FakeHost();
  await host.handshake();
  for (const [request, type, value] of [
    [{ throw: "bad input" }, "RangeError", "bad input"],
    [{ exit: true }, "ExitError", "process.exit(3) was called"],
    [{ later: true }, "TypeError", "thrown later"],
  ]) {
    host.invoke(request);
    const response = await host.response();
    assert.equal(response.status, 500);
    assert.deepStrictEqual([body(response).error.type, body(response).error.value], [type, value]);
  }
  host.invoke({ label: true });
  assert.equal(body(await host.response(() => ({ label: "T,T" }))).label, "T,T");
  await host.close();
});

test("a Response from a vendored copy of the SDK is still a Response", async () => {
  const host = new FakeHost(functionDirectory(WORKLOAD, { copy: true }));
  await host.handshake();
  host.invoke({ hello: "copy" });
  const response = await host.response();
  assert.equal(response.status, 201);
  assert.deepStrictEqual(body(response).echo, { hello: "copy" });
  await host.close();
});

test("a function without a handle reports why, every time", async () => {
  const host = new FakeHost(functionDirectory("export const nothing = 1;\n"));
  await host.handshake();
  for (let i = 0; i < 2; i++) {
    host.invoke({});
    const response = await host.response();
    assert.equal(response.status, 500);
    assert.match(body(response).error.value, /does not export a function named handle/);
  }
  await host.close();
});

for (const [name, frame, reason] of [
  ["a malformed frame", Buffer.from([0, 0, 0, 3, 0x0b, 0x0c, 0x0d]), /malformed frame/],
  ["a frame longer than the limit", Buffer.from([0x7f, 0xff, 0xff, 0xff]), /frame of 2147483647 bytes/],
  ["a result with another call's id", HostMessage.encodeFrame({ result: { id: 99, label: "T,T" } }), /answered call 99 instead of 1/],
  ["a second welcome during a call", HostMessage.encodeFrame({ welcome: { protocolVersion: 1 } }), /answered a call with welcome/],
]) {
  test(`${name} from the host ends the runtime with status 2 and a reason`, async () => {
    const host = new FakeHost();
    await host.handshake();
    host.invoke({ label: true });
    const call = await host.next();
    assert.equal(call.call.call, "getCurrentLabel");
    host.sendRaw(frame);
    const { code } = await host.exited;
    assert.equal(code, 2, host.stderr);
    assert.match(host.stderr, reason);
  });
}

test("a malformed frame instead of an invocation ends the runtime with status 2", async () => {
  const host = new FakeHost();
  await host.handshake();
  host.sendRaw(Buffer.from([0, 0, 0, 2, 0xff, 0xff]));
  assert.equal((await host.exited).code, 2);
  assert.match(host.stderr, /malformed frame/);
});

test("the host closing the channel ends the runtime quietly", async () => {
  const host = new FakeHost();
  await host.next();
  const { code } = await host.close();
  assert.equal(code, 0);
  assert.equal(host.stderr, "");
});
