import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { testPrivateKey, WEBHOOK_SECRET } from "../../support/app-harness.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `probe` every `everyMs` until it gives a value, or throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export interface ServerProcess {
  base: string;
  pid: number;
  /** Everything the process wrote, stdout and stderr together. */
  output(): string;
  exited(): boolean;
  /** SIGKILL to the whole process group; resolves once the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The real server, `node --import tsx src/main.ts` (what `npm start` runs, without the build),
 * in its own process group, talking to GitHub at `githubHost` (over http).
 */
export async function startServerProcess(options: { githubHost: string; env: Record<string, string>; port?: number; startTimeoutMs?: number }): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const base = `http://127.0.0.1:${port}`;
  let output = "";
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NODE_ENV: "production",
      APP_ID: "1",
      PRIVATE_KEY: testPrivateKey(),
      WEBHOOK_SECRET,
      PORT: String(port),
      HOST: "127.0.0.1",
      GHE_HOST: options.githubHost,
      GHE_PROTOCOL: "http",
      LOG_LEVEL: "warn",
      REDIS_URL: "",
      UPSTASH_REDIS_REST_URL: "",
      UPSTASH_REDIS_REST_TOKEN: "",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  const handle: ServerProcess = {
    base,
    pid: child.pid!,
    output: () => output,
    exited,
    async kill9() {
      signal("SIGKILL");
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    },
    async stop(graceMs = 15_000) {
      if (exited()) return;
      signal("SIGTERM");
      const stopped = await Promise.race([gone.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs))]);
      if (!stopped) await handle.kill9();
    },
  };
  try {
    await waitFor(
      "the server to answer /healthz",
      async () => {
        if (exited()) throw new Error(`server exited (${child.exitCode ?? child.signalCode}):\n${output}`);
        const response = await fetch(`${base}/healthz`).catch(() => null);
        return response?.status === 200 ? true : undefined;
      },
      options.startTimeoutMs ?? 60_000,
      150,
    );
  } catch (error) {
    await handle.kill9();
    throw error;
  }
  return handle;
}
