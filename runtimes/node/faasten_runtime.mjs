// Faasten's JavaScript guest runtime: the process a sandbox runs.
//
// It speaks the CloudCall protocol on the channel descriptors (FAASTEN_CHANNEL_FD,
// FAASTEN_CHANNEL_OUT_FD), loads the function from /srv (workload.js or
// workload.mjs, with vendored packages in /srv/node_modules), and serves one
// invocation after another. The SDK is bound at /node_modules/faasten, so the
// runtime and the function import the same module ("faasten"). Started as
// `node [flags] /opt/faasten/node/faasten_runtime.mjs`; see
// Sources/Sandbox/Runtime/GuestRuntime.swift for the flags and the binds.
import { main } from "faasten/runtime";

await main();
