// The engine tests' toolkit in JavaScript (see ../toolkit/workload.py): runs the
// steps of its payload in order and reports what happened, with the label it ended
// at and which sandbox ran it.
//
// Payload: {"steps": [step, ...]}; each step is one of
//   {"read": path}                         read a file
//   {"write": path, "data": text}          replace a file's bytes
//   {"create": path, "data": text, "label": L}   create a file
//   {"call": path, "sync": bool, "payload": obj, "params": {...}}   invoke a gate
//   {"recurse": path, "depth": n}          call the gate at path with depth n-1, down to 0
//   {"declassify": secrecy}
//   {"print": text}
// An error in a step is reported in its place and the later steps still run.
import { randomBytes } from "node:crypto";

import { FaastenError } from "faasten";

const INSTANCE = randomBytes(8).toString("hex");
const seen = [];

async function step(syscall, step) {
  if ("read" in step) {
    const text = (await syscall.fsRead(step.read)).toString();
    seen.push(text);
    return text;
  }
  if ("write" in step) {
    await syscall.fsWrite(step.write, step.data);
    return "ok";
  }
  if ("create" in step) {
    await syscall.fsCreateFile(step.create, { label: step.label, data: step.data ?? "" });
    return "ok";
  }
  if ("call" in step) {
    const outcome = await syscall.invoke(step.call, step.payload ?? {}, { sync: step.sync ?? true, params: step.params });
    let data = outcome.data ?? Buffer.alloc(0);
    try {
      data = JSON.parse(data);
    } catch {
      data = data.toString();
    }
    return { status: outcome.status, data, id: outcome.id, label: await syscall.getCurrentLabel() };
  }
  if ("recurse" in step) {
    if (step.depth <= 0) return { depth: 0, sandbox: INSTANCE };
    const inner = await syscall.invoke(step.recurse, { steps: [{ recurse: step.recurse, depth: step.depth - 1 }] }, { sync: true });
    return { depth: step.depth, sandbox: INSTANCE, inner: JSON.parse(inner.data).results[0] };
  }
  if ("declassify" in step) {
    await syscall.declassify(step.declassify);
    return syscall.getCurrentLabel();
  }
  if ("print" in step) {
    console.log(step.print);
    return "ok";
  }
  throw new TypeError(`unknown step ${JSON.stringify(step)}`);
}

export async function handle(syscall, { payload, headers, invoker }) {
  const request = payload.length ? JSON.parse(payload) : {};
  const results = [];
  for (const each of request.steps ?? []) {
    try {
      results.push(await step(syscall, each));
    } catch (error) {
      if (!(error instanceof FaastenError)) throw error;
      results.push({ error: error.code, rule: error.rule, message: error.message });
    }
  }
  return {
    results, label: await syscall.getCurrentLabel(), sandbox: INSTANCE, seen, invoker,
    privilege: await syscall.getPrivilege(), headers, language: "javascript",
  };
}
