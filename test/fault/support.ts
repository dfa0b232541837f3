import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { createRedisStore } from "../../src/store/redis-store.js";
import { createRespRequester } from "../../src/store/resp-requester.js";
import type { Store } from "../../src/store/store.js";
import { testPrivateKey, WEBHOOK_SECRET } from "../support/app-harness.js";

/** The shared Redis the race tests use; every test works under its own prefix. */
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const uniquePrefix = (what: string) => `hitl-fault:${what}:${randomBytes(6).toString("hex")}:`;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ""}`);
    await sleep(everyMs);
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A Redis store as production builds it for REDIS_URL: its own connection, its own client. */
export function openRedisStore(url: string, prefix: string): Store {
  const requester = createRespRequester(url);
  return createRedisStore({ redis: new Redis(requester), prefix, label: "Redis (fault test)", onClose: () => requester.close() });
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const admin = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  try {
    await admin.connect();
    let cursor = "0";
    for (let i = 0; i < 10_000; i++) {
      const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      if (keys.length > 0) await admin.del(...keys);
      cursor = next;
      if (cursor === "0") break;
    }
  } finally {
    admin.disconnect();
  }
}

/** Counts the keys under `prefix`. */
export async function countKeys(url: string, prefix: string): Promise<number> {
  const admin = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  try {
    await admin.connect();
    return (await admin.keys(`${prefix}*`)).length;
  } finally {
    admin.disconnect();
  }
}

/** An agent's callback endpoint that records what it receives (parsed). */
export interface CallbackReceiver {
  url: string;
  /** Callbacks by `request.id`, with their event. */
  received: Array<{ path: string; event: string; requestId: string; body: string }>;
  close(): Promise<void>;
}

export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const received: CallbackReceiver["received"] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let event = "";
      let requestId = "";
      try {
        const parsed = JSON.parse(body) as { event?: string; request?: { id?: string } };
        event = parsed.event ?? "";
        requestId = parsed.request?.id ?? "";
      } catch {
        // recorded as is
      }
      received.push({ path: req.url ?? "", event, requestId, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A private redis-server on `port`, so stopping it disturbs nobody else. */
export interface RedisServer {
  port: number;
  url: string;
  process: ChildProcess;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
}

export async function startRedisServer(port: number, extraArgs: string[] = ["--save", "", "--appendonly", "no"]): Promise<RedisServer> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--daemonize", "no", ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server on ${port} did not start within 15 s:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on ${port} exited (${code ?? signal}):\n${output}`));
    });
  });
  // Keep draining its output so it never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: child,
    kill: () => stopChild(child, "SIGKILL"),
  };
}

/** Sends `signal` to a child this test started and waits (at most 15 s) until it has exited. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGKILL");
    await Promise.race([exited, sleep(5_000)]);
  }
}

/** Calls the agent API with a bound on how long the answer may take. */
export async function callApi(
  base: string,
  method: string,
  path: string,
  options: { token: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number },
): Promise<{ status: number; json: any; text: string }> {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${options.token}`,
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: response.status, json, text };
}

/** The audit trail of `repo` as the API shows it. */
export async function auditOf(base: string, token: string, repo: string): Promise<Array<{ request_id: string; event: string; [key: string]: unknown }>> {
  const response = await callApi(base, "GET", `/audit?repo=${encodeURIComponent(repo)}`, { token });
  if (response.status !== 200) throw new Error(`audit answered ${response.status}: ${response.text}`);
  return response.text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/** A hitl server process (`node --import tsx src/main.ts`), as `npm start` runs it but without the build. */
export interface ServerProcess {
  base: string;
  output(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      APP_ID: "1",
      PRIVATE_KEY: testPrivateKey(),
      WEBHOOK_SECRET,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      GHE_PROTOCOL: "http",
      UPSTASH_REDIS_REST_URL: "",
      UPSTASH_REDIS_REST_TOKEN: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so a signal reaches everything it started.
    detached: true,
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  const stop = async () => {
    if (exited()) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    signalGroup("SIGTERM");
    await Promise.race([gone, sleep(15_000)]);
    if (!exited()) {
      signalGroup("SIGKILL");
      await Promise.race([gone, sleep(5_000)]);
    }
  };
  try {
    await waitFor(
      `the server on ${port} to answer /healthz`,
      async () => {
        if (exited()) throw new Error(`server exited (${child.exitCode ?? child.signalCode}):\n${output}`);
        const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
        return response?.status === 200 ? true : undefined;
      },
      90_000,
      200,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { base, output: () => output, exited, stop };
}

/**
 * A pass-through HTTP proxy in front of the GitHub stand-in that can hold back one kind of
 * call until the test lets it through: the way to stop a handler at an exact point.
 */
export interface GatedProxy {
  /** Base URL for Octokit (with the stand-in's `/api/v3`). */
  url: string;
  /** The next call matching `method` and `path` waits; resolves once it is waiting. */
  hold(method: string, path: string): { held: Promise<void>; release(): void };
  close(): Promise<void>;
}

export async function startGatedProxy(targetUrl: string): Promise<GatedProxy> {
  const target = new URL(targetUrl);
  let gate: { method: string; path: string; reached: () => void; opened: Promise<void> } | null = null;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void (async () => {
        const path = new URL(req.url ?? "/", "http://proxy").pathname;
        const current = gate;
        if (current && req.method === current.method && path.endsWith(current.path)) {
          gate = null;
          current.reached();
          await current.opened;
        }
        const headers: IncomingHttpHeaders = { ...req.headers, host: target.host };
        const upstream = httpRequest(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on("error", (error) => {
          res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ message: `proxy: ${error.message}` }));
        });
        upstream.end(Buffer.concat(chunks));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    hold(method, path) {
      let reached!: () => void;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (reached = resolve));
      const opened = new Promise<void>((resolve) => (release = resolve));
      gate = { method: method.toUpperCase(), path, reached, opened };
      return { held, release };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Races `promise` against a deadline, failing with `what`. */
export async function within<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not happen within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
