import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { testPrivateKey, WEBHOOK_SECRET } from "./app-harness.js";
import { freePort } from "./ports.js";
import { sleep, waitFor } from "./wait.js";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** What `npm start` runs, without the build. */
const TSX_MAIN = [process.execPath, "--import", "tsx", "src/main.ts"] as const;

/**
 * The environment of a hitl server on `port` that talks to GitHub at `githubHost` over http,
 * with no store configured (neither Redis nor Upstash); `env` adds to it and overrides it.
 */
export function serverEnv(options: { port: number; githubHost: string; env?: Record<string, string> }): Record<string, string> {
  return {
    NODE_ENV: "production",
    APP_ID: "1",
    PRIVATE_KEY: testPrivateKey(),
    WEBHOOK_SECRET,
    PORT: String(options.port),
    HOST: "127.0.0.1",
    GHE_HOST: options.githubHost,
    GHE_PROTOCOL: "http",
    LOG_LEVEL: "warn",
    REDIS_URL: "",
    UPSTASH_REDIS_REST_URL: "",
    UPSTASH_REDIS_REST_TOKEN: "",
    // Callback receivers and channels in the tests listen on 127.0.0.1 over http.
    HITL_ALLOWED_PRIVATE_TARGETS: "127.0.0.1",
    ...options.env,
  };
}

export interface ServerProcessOptions {
  /** `host:port` of the GitHub API (the stand-in, or a proxy in front of it). */
  githubHost: string;
  /** Added to (and overriding) `serverEnv`. */
  env?: Record<string, string>;
  /** A free port by default. */
  port?: number;
  /** How long it may take to answer /healthz; 90 s by default. */
  startTimeoutMs?: number;
  /** `node --import tsx src/main.ts` by default. */
  command?: readonly [string, ...string[]];
  /** Pass this process's whole environment on (under `serverEnv`), not only PATH and HOME. */
  inheritEnv?: boolean;
}

export interface ServerProcess {
  base: string;
  pid: number;
  /** Everything the process wrote, stdout and stderr together. */
  output(): string;
  /** True once it exited (npm may end by a signal while the app it started exits 0). */
  exited(): boolean;
  /** The exit code once it exited by itself; null while running or when a signal ended it. */
  exitCode(): number | null;
  /** SIGKILL to the whole process group; resolves once the process is gone (or after 10 s). */
  kill9(): Promise<void>;
  /** SIGTERM to the whole process group, then `kill9` if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The real server in a process group of its own (so a signal reaches everything it started),
 * from the repository's root; resolves once it answers /healthz.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const base = `http://127.0.0.1:${port}`;
  const [file, ...args] = options.command ?? TSX_MAIN;
  const inherited = options.inheritEnv ? process.env : { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
  let output = "";
  const child = spawn(file, args, {
    cwd: REPO_ROOT,
    env: { ...inherited, ...serverEnv({ port, githubHost: options.githubHost, env: options.env }) },
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
    exitCode: () => child.exitCode,
    async kill9() {
      signal("SIGKILL");
      await Promise.race([gone, sleep(10_000)]);
    },
    async stop(graceMs = 15_000) {
      if (exited()) return;
      signal("SIGTERM");
      const stopped = await Promise.race([gone.then(() => true), sleep(graceMs).then(() => false)]);
      if (!stopped) await handle.kill9();
    },
  };
  try {
    await waitFor(
      `the server on ${port} to answer /healthz`,
      async () => {
        if (exited()) throw new Error(`server exited (${child.exitCode ?? child.signalCode}):\n${output}`);
        const response = await fetch(`${base}/healthz`).catch(() => null);
        return response?.status === 200 ? true : undefined;
      },
      options.startTimeoutMs ?? 90_000,
      150,
    );
  } catch (error) {
    await handle.kill9();
    throw error;
  }
  return handle;
}
