// Everyday library work a JavaScript function may do, none of it asking for more
// than the sandbox gives: files and directories in /tmp (synchronous, promises and
// streams), a worker thread, a child process, crypto and zlib on libuv's thread
// pool, timers, AF_UNIX sockets, process and os information. Each check answers
// "ok" or its error. Run by Tests/SandboxTests (EscapeTests) as the control for the
// seccomp allowlist, beside the Python version in ../everyday, and one of the
// workloads the allowlist was measured with.
import { execFileSync } from "node:child_process";
import { createHash, pbkdf2, randomBytes, randomUUID, webcrypto } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import { pipeline } from "node:stream/promises";
import { setImmediate as immediate, setTimeout as sleep } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import zlib from "node:zlib";
import { promisify } from "node:util";

const checks = {
  files: async () => {
    const directory = await fsp.mkdtemp("/tmp/everyday-");
    const path = `${directory}/a.txt`;
    await fsp.writeFile(path, "x".repeat(100_000));
    await fsp.copyFile(path, `${path}.copy`);
    fs.copyFileSync(path, `${path}.copy2`);
    await fsp.rename(`${path}.copy`, `${path}.moved`);
    await fsp.chmod(path, 0o600);
    await fsp.utimes(path, new Date(), new Date());
    await fsp.truncate(`${path}.moved`, 10);
    await fsp.mkdir(`${directory}/sub/deeper`, { recursive: true });
    await fsp.symlink(path, `${directory}/sub/link`);
    await fsp.link(path, `${directory}/sub/hard`);
    if ((await fsp.readlink(`${directory}/sub/link`)) !== path) throw new Error("readlink");
    await fsp.readdir(directory, { withFileTypes: true, recursive: true });
    await fsp.stat(path);
    await fsp.lstat(`${directory}/sub/link`);
    await fsp.access(path, fs.constants.R_OK);
    const handle = await fsp.open(path, "r+");
    await handle.write("y", 0);
    await handle.sync();
    await handle.close();
    fs.writeFileSync(`${directory}/sync.txt`, fs.readFileSync(path));
    await pipeline(fs.createReadStream(path), fs.createWriteStream(`${directory}/streamed.txt`));
    await fsp.rm(directory, { recursive: true });
  },
  worker: () => new Promise((resolve, reject) => {
    const worker = new Worker("require('node:worker_threads').parentPort.postMessage(6 * 7)", { eval: true });
    worker.once("message", (value) => (value === 42 ? resolve() : reject(new Error(`got ${value}`))));
    worker.once("error", reject);
  }),
  subprocess: () => {
    const output = execFileSync("/usr/bin/node", ["-e", "process.stdout.write(String(6 * 7))"]).toString();
    if (output !== "42") throw new Error(`got ${output}`);
  },
  crypto: async () => {
    createHash("sha256").update(randomBytes(1024)).digest("hex");
    randomUUID();
    await promisify(pbkdf2)("secret", "salt", 1000, 32, "sha256");
    await webcrypto.subtle.digest("SHA-256", new Uint8Array(16));
  },
  zlib: async () => {
    const data = randomBytes(4096);
    const packed = await promisify(zlib.gzip)(data);
    if (!zlib.gunzipSync(packed).equals(data)) throw new Error("zlib round trip");
  },
  timers: async () => {
    await sleep(10);
    await immediate();
    process.hrtime.bigint();
  },
  unix_sockets: async () => {
    const path = `/tmp/everyday-${process.pid}.sock`;
    const server = net.createServer((socket) => socket.pipe(socket));
    await new Promise((resolve) => server.listen(path, resolve));
    const echoed = await new Promise((resolve, reject) => {
      const client = net.connect(path, () => client.write("ping"));
      client.once("data", (data) => {
        client.destroy();
        resolve(data.toString());
      });
      client.once("error", reject);
    });
    await new Promise((resolve) => server.close(resolve));
    if (echoed !== "ping") throw new Error(`got ${echoed}`);
  },
  process: () => {
    process.memoryUsage();
    process.cpuUsage();
    process.resourceUsage();
    os.cpus(), os.totalmem(), os.freemem(), os.uptime(), os.loadavg(), os.hostname(), os.availableParallelism();
  },
};

export async function handle(syscall, { payload }) {
  const answers = {};
  for (const [name, check] of Object.entries(checks)) {
    try {
      await check();
      answers[name] = "ok";
    } catch (error) {
      answers[name] = `${error.name}: ${error.code ?? ""} ${error.message}`;
    }
  }
  return answers;
}
