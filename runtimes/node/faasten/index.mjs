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
//
// The SDK is split by layer (errors.mjs <- handles.mjs <- calls.mjs, and
// responses.mjs); this module is its whole API, and the only one the package exports.
export { Response } from "./responses.mjs";
export {
  AlreadyExistsError, FaastenError, InvalidArgumentError, LimitExceededError, NotFoundError, RefusedError,
  UnavailableError, UnsupportedError, WrongKindError,
} from "./errors.mjs";
export { Blob, BlobEntry, Dent, Directory, FacetedDirectory, File, Gate, NewBlob, Service } from "./handles.mjs";
export { Syscall } from "./calls.mjs";
export { record } from "./_values.mjs";
