// The guest loop: say hello, then serve invocations until the host closes the channel.
//
// Each invocation calls the function's `handle(syscall, { payload, blobs, headers,
// invoker })`, exported by /srv/workload.js or /srv/workload.mjs. What it returns
// (or resolves to) becomes the response: a `Response`, an object or array as JSON, a
// string as text, a Buffer or typed array as is, undefined or null as empty. An
// exception, a rejection, an error thrown later by a callback the invocation left
// behind, or a call of process.exit() becomes a 500 response with the error and its
// stack; the sandbox keeps serving.
//
// A malformed frame from the host, or a message out of order, ends the runtime
// with a message on stderr and exit status 2; the host closing the channel ends it
// quietly.
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";

import { Channel, ChannelClosed, ProtocolError } from "./_channel.mjs";
import { Blob, Response, Syscall, record } from "./index.mjs";
import { GuestMessage } from "./_wire/cloudcalls.mjs";

export const PROTOCOL_VERSION = 1;
const WORKLOADS = ["workload.js", "workload.mjs"];

/** `process.exit()` called by a function: its invocation fails, the sandbox stays. */
class ExitError extends Error {
  constructor(code) {
    super(`process.exit(${code ?? ""}) was called`);
    this.name = "ExitError";
  }
}

function errorResponse(error) {
  const isError = error instanceof Error;
  return Response.json({
    error: {
      type: isError ? error.name : typeof error,
      value: isError ? error.message : String(error),
      traceback: isError ? String(error.stack ?? "") : "",
    },
  }, 500);
}

function asResponse(result) {
  if (result instanceof Response) return result;
  if (result === undefined || result === null) return new Response();
  if (Buffer.isBuffer(result) || ArrayBuffer.isView(result) || result instanceof ArrayBuffer) return Response.raw(result);
  if (typeof result === "string") return Response.text(result);
  return Response.json(result);
}

/** The function's `handle`; loaded at the first invocation (a pre-started sandbox is
 * given its function under /srv only when it is assigned one). */
async function loadWorkload(directory) {
  const name = WORKLOADS.find((candidate) => existsSync(`${directory}/${candidate}`));
  if (name === undefined) throw new Error(`the function has no ${WORKLOADS.join(" or ")} in ${directory}`);
  let module;
  try {
    module = await import(pathToFileURL(`${directory}/${name}`).href);
  } catch (error) {
    if (error instanceof SyntaxError && name === "workload.js" && /import|export/.test(error.message)) {
      error.message += `: ${directory}/workload.js is loaded as CommonJS because ${directory}/package.json does not say`
        + ` "type": "module"; add that, or name the file workload.mjs`;
    }
    throw error;
  }
  const handle = module.handle ?? module.default?.handle;
  if (typeof handle !== "function") throw new TypeError(`${name} does not export a function named handle`);
  return handle;
}

/** Serves invocations on the channel descriptors until the host closes the channel. */
export async function main({
  input = Number(process.env.FAASTEN_CHANNEL_FD ?? 3),
  output = Number(process.env.FAASTEN_CHANNEL_OUT_FD ?? 4),
  directory = "/srv",
} = {}) {
  const exit = process.exit.bind(process);
  const channel = new Channel(input, output);
  // Errors thrown outside the handler's own promise chain fail the current invocation.
  let failCurrent = null;
  const stray = (error) => {
    if (failCurrent) failCurrent(error);
    else process.stderr.write(`faasten runtime: an error outside any invocation: ${error?.stack ?? error}\n`);
  };
  process.on("uncaughtException", stray);
  process.on("unhandledRejection", stray);
  process.exit = (code) => {
    throw new ExitError(code);
  };

  try {
    channel.sendFrame(GuestMessage.encodeFrame({ hello: { protocolVersion: PROTOCOL_VERSION, runtime: "node" } }));
    const welcome = channel.receive();
    if (welcome.kind !== "welcome") return stop(welcome);
    if (welcome.welcome.maxMessageBytes) channel.maxBytes = welcome.welcome.maxMessageBytes;
    let handle;
    for (;;) {
      const message = channel.receive();
      if (message.kind !== "invocation") return stop(message);
      if (handle === undefined) {
        try {
          handle = await loadWorkload(directory);
        } catch (error) {
          handle = error;  // reported with every invocation
        }
      }
      const syscall = new Syscall(channel);
      const crashed = new Promise((_, reject) => {
        failCurrent = reject;
      });
      let response;
      try {
        response = await serve(message.invocation, syscall, handle, crashed);
      } finally {
        failCurrent = null;
      }
      // A function that swallowed a broken channel's error cannot answer on it.
      channel.check();
      channel.sendFrame(responseFrame(response, channel.maxBytes));
    }
  } catch (error) {
    if (error instanceof ChannelClosed) return exit(0);
    if (error instanceof ProtocolError) {
      process.stderr.write(`faasten runtime: ${error.message}\n`);
      return exit(2);
    }
    throw error;
  }

  function stop(message) {
    if (message.kind === "goodbye") return exit(0);
    throw new ProtocolError(`the host sent ${message.kind ?? "an empty message"} out of order`);
  }
}

async function serve(invocation, syscall, handle, crashed) {
  try {
    if (typeof handle !== "function") throw handle;
    const blobs = record(Object.entries(invocation.blobs).map(
      ([name, info]) => [name, new Blob(syscall, info.handle, info.size)]));
    const request = {
      payload: invocation.payload, blobs, headers: record(Object.entries(invocation.headers)), invoker: invocation.invoker,
    };
    return asResponse(await Promise.race([handle(syscall, request), crashed]));
  } catch (error) {
    if (error instanceof ChannelClosed || error instanceof ProtocolError) throw error;
    return errorResponse(error);
  }
}

/** The framed response; a response the host would refuse (too large, or not
 * encodable) becomes a 500 that says why. */
function responseFrame(response, maxBytes) {
  let frame;
  try {
    const headers = Object.fromEntries(Object.entries(response.headers).map(([key, value]) => [key, String(value)]));
    frame = GuestMessage.encodeFrame({ call: { response: { body: response.body, status: response.status, headers } } });
  } catch (error) {
    return responseFrame(errorResponse(error), maxBytes);
  }
  if (frame.length - 4 > maxBytes) {
    const error = new RangeError(`the response is ${frame.length - 4} bytes; the limit is ${maxBytes}`);
    return responseFrame(errorResponse(error), maxBytes);
  }
  return frame;
}
