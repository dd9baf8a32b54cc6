// Tries to get out of the sandbox from JavaScript. The payload names one attempt;
// the answer says whether it was blocked, with what the attempt saw. Run by
// Tests/SandboxTests (EscapeTests), beside the Python version in ../escape.
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";

function connect(options) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ ...options, timeout: 2000 });
    socket.on("connect", () => {
      socket.destroy();
      resolve(`connected to ${options.host}:${options.port}`);
    });
    socket.on("timeout", () => {
      socket.destroy();
      reject(new Error("timed out"));
    });
    socket.on("error", reject);
  });
}

const attempts = {
  tcp: (port) => connect({ host: "127.0.0.1", port }),
  tcp_public: () => connect({ host: "1.1.1.1", port: 80 }),
  udp: () => new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    socket.on("error", reject);
    socket.send(Buffer.from("x"), 53, "1.1.1.1", (error) => {
      socket.close();
      if (error) reject(error);
      else resolve("sent a UDP datagram");
    });
  }),
  inet6: () => connect({ host: "2606:4700:4700::1111", port: 80 }),
  read_shadow: () => `read /etc/shadow: ${readFileSync("/etc/shadow").length} bytes`,
  read_path: (path) => `read ${path}: ${readFileSync(path).length} bytes`,
  list_root: () => {
    const entries = readdirSync("/").sort();
    const allowed = new Set(["dev", "lib", "lib64", "node_modules", "opt", "package.json", "proc", "srv", "tmp", "usr"]);
    const extra = entries.filter((entry) => !allowed.has(entry));
    if (extra.length) return `the root shows host entries: ${extra}`;
    throw new Error(`only the sandbox's own entries: ${entries}`);
  },
  write_outside_tmp: () => {
    for (const path of ["/srv/x", "/usr/x", "/opt/faasten/x", "/node_modules/faasten/x", "/package.json", "/x"]) {
      try {
        writeFileSync(path, "x");
        return `wrote ${path}`;
      } catch {
        // refused, as it should be
      }
    }
    throw new Error("every write outside /tmp failed");
  },
  write_tmp: () => {
    writeFileSync("/tmp/ok", "fine");
    throw new Error("allowed, as it should be (a control)");
  },
  processes: () => {
    const pids = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry));
    if (pids.length > 3) return `sees ${pids.length} processes: ${pids.slice(0, 10)}`;
    throw new Error(`sees only its own processes: ${pids}`);
  },
  uid: () => {
    if (process.geteuid() === 0) return "runs as root inside";
    throw new Error(`runs as uid ${process.geteuid()}`);
  },
  // Native code through an addon: refused by --no-addons before the file is even read.
  native_addon: () => {
    const arch = process.arch === "arm64" ? "aarch64" : "x86_64";
    try {
      process.dlopen({ exports: {} }, `/lib/${arch}-linux-gnu/libc.so.6`);
    } catch (error) {
      if (error.code === "ERR_DLOPEN_DISABLED") throw error;
      return `dlopen was tried (${error.code}: ${error.message})`;
    }
    return "loaded a native library";
  },
  fork_bomb: async () => {
    const children = [];
    try {
      for (let i = 0; i < 10000; i++) {
        const child = spawn("/usr/bin/node", ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
        await new Promise((resolve, reject) => {
          child.once("spawn", resolve);
          child.once("error", reject);
        });
        children.push(child);
      }
    } catch (error) {
      for (const child of children) child.kill("SIGKILL");
      throw new Error(`stopped after ${children.length} processes: ${error.code ?? error.message}`);
    }
    return `started ${children.length} processes`;
  },
  memory: (megabytes) => {
    const hoard = [];
    for (let i = 0; i < megabytes; i++) hoard.push(Buffer.alloc(1 << 20, 1));
    return `allocated ${megabytes} MiB`;
  },
  // JavaScript objects past V8's heap limit (sized from the sandbox's memory limit).
  heap: () => {
    const hoard = [];
    for (;;) hoard.push(new Array(100000).fill(hoard.length));
  },
  loop: () => {
    for (;;) {
      // spin
    }
  },
  exit: () => process.reallyExit(3),
};

export async function handle(syscall, { payload }) {
  const request = JSON.parse(payload);
  try {
    const detail = await attempts[request.attempt](request.argument);
    return { attempt: request.attempt, blocked: false, detail };
  } catch (error) {
    return { attempt: request.attempt, blocked: true, detail: `${error.name}: ${error.code ?? ""} ${error.message}` };
  }
}
