import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "@upstash/redis";
import type { Requester, UpstashRequest, UpstashResponse } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { finish } from "../src/core/decide.js";
import type { ApprovalRequest } from "../src/core/types.js";
import type { Logger } from "../src/engine/ports.js";
import { createEmbeddedStore, type EmbeddedStore } from "../src/store/embedded-store.js";
import { createRedisStore } from "../src/store/redis-store.js";
import * as redisScripts from "../src/store/redis-scripts.js";
import { createRespRequester } from "../src/store/resp-requester.js";
import type { Store } from "../src/store/store.js";
import { AGENT } from "../test/support/app-harness.js";
import { makeRequest } from "../test/support/fixtures.js";

/** Small shared helpers for the benchmarks: sizes, timing, percentiles, tables, stores. */

// ---------------------------------------------------------------------------------------------
// Sizes

/** `BENCH_QUICK=1`: small sizes for a smoke run of every section. */
export const QUICK = process.env.BENCH_QUICK === "1" || process.env.BENCH_QUICK === "true";

/** An integer from the environment (`name`), else `full`, or `quick` under BENCH_QUICK. */
export function size(name: string, full: number, quick: number): number {
  const raw = process.env[name];
  if (raw !== undefined && raw.trim() !== "") {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, not ${JSON.stringify(raw)}`);
    return value;
  }
  return QUICK ? quick : full;
}

// ---------------------------------------------------------------------------------------------
// Timing and statistics

export function now(): number {
  return performance.now();
}

/** The value at percentile `p` (0–100) of `samples`, nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const total = samples.reduce((sum, value) => sum + value, 0);
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    mean: samples.length ? total / samples.length : Number.NaN,
    max: samples.length ? Math.max(...samples) : Number.NaN,
  };
}

/**
 * Calls `task(i)` for i in [0, total) with at most `concurrency` in flight; returns each call's
 * duration in ms (in completion order) and the wall time of the whole run.
 */
export async function runConcurrently(total: number, concurrency: number, task: (index: number) => Promise<void>): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const start = now();
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= total) return;
      const began = now();
      await task(index);
      latencies.push(now() - began);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return { latencies, wallMs: now() - start };
}

/** Runs `task` over `items` with at most `concurrency` at once (for seeding). */
export async function forEachConcurrently<T>(items: Iterable<T>, concurrency: number, task: (item: T) => Promise<unknown>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  const worker = async () => {
    for (let step = iterator.next(); !step.done; step = iterator.next()) await task(step.value);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export function forceGc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

// ---------------------------------------------------------------------------------------------
// Formatting

export const fmt = {
  ms: (value: number) => (Number.isNaN(value) ? "–" : value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)),
  int: (value: number) => (Number.isNaN(value) ? "–" : Math.round(value).toLocaleString("en-US")),
  ratio: (value: number) => (Number.isNaN(value) ? "–" : `${value >= 10 ? value.toFixed(0) : value >= 1 ? value.toFixed(1) : value.toFixed(2)}x`),
  mb: (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`,
};

/** A plain-text table: the first column left-aligned, the others right-aligned. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((cells) => (cells[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Stores

export const silentLog: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export const REDIS_URL = process.env.REDIS_URL?.trim() || "redis://127.0.0.1:6379";

/** Whether Redis answers at REDIS_URL; the Redis rows are skipped (and say so) when it does not. */
export async function redisAvailable(): Promise<boolean> {
  const client = new IORedis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Redis commands as the store sent them: one per call, pipelines and transactions counted per command. */
export interface CommandCounter {
  total: number;
  /** By command name; a Lua script as `EVAL <export name in redis-scripts.ts>`. */
  byName: Map<string, number>;
  reset(): void;
}

const SCRIPT_NAMES = new Map<string, string>();
for (const [name, text] of Object.entries(redisScripts) as Array<[string, unknown]>) {
  if (typeof text === "string") SCRIPT_NAMES.set(text, name);
}

function commandName(command: unknown): string {
  if (!Array.isArray(command) || command.length === 0) return "?";
  const name = String(command[0]).toUpperCase();
  if (name === "EVAL" || name === "EVALSHA") return `${name} ${SCRIPT_NAMES.get(String(command[1])) ?? "?"}`;
  return name;
}

export function createCommandCounter(): CommandCounter {
  const counter: CommandCounter = {
    total: 0,
    byName: new Map(),
    reset() {
      counter.total = 0;
      counter.byName.clear();
    },
  };
  return counter;
}

/** The `Requester` the Redis store talks through, counting each command it carries. */
function countingRequester(inner: Requester, counter: CommandCounter): Requester {
  const tally = (command: unknown) => {
    const name = commandName(command);
    counter.total += 1;
    counter.byName.set(name, (counter.byName.get(name) ?? 0) + 1);
  };
  return {
    request<TResult>(req: UpstashRequest): Promise<UpstashResponse<TResult>> {
      const path = req.path ?? [];
      if (path.length === 0) tally(req.body);
      else if (Array.isArray(req.body)) for (const command of req.body) tally(command);
      return inner.request<TResult>(req);
    },
  };
}

export interface BenchStore {
  kind: "embedded" | "redis";
  store: Store;
  /** Redis only: commands sent since the last reset. */
  counter: CommandCounter | null;
  /** Closes the store and deletes what it wrote (the temporary directory, or the keys under its prefix). */
  dispose(): Promise<void>;
}

/** An embedded store in a fresh temporary directory, fsynced as in production. */
export async function openEmbedded(options: { fsync?: boolean } = {}): Promise<BenchStore & { store: EmbeddedStore; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "hitl-bench-"));
  const store = await createEmbeddedStore({ dir, fsync: options.fsync ?? true });
  return {
    kind: "embedded",
    store,
    dir,
    counter: null,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A Redis store wired as `createStore` wires it for REDIS_URL (RESP requester, `new
 * Redis(requester)`), under a prefix of its own, with a command counter on the requester.
 */
export async function openRedis(prefix = `hitl-bench:${randomBytes(6).toString("hex")}:`): Promise<BenchStore & { prefix: string }> {
  const requester = createRespRequester(REDIS_URL);
  const counter = createCommandCounter();
  const redis = new Redis(countingRequester(requester, counter));
  const store = createRedisStore({ redis, prefix, label: "Redis (bench)", onClose: () => requester.close() });
  // Connect before the first burst: calls made while the first connection is being set up each
  // wait on it with listeners of their own.
  await store.ping();
  counter.reset();
  return {
    kind: "redis",
    store,
    prefix,
    counter,
    async dispose() {
      await store.close();
      await deleteKeys(prefix);
    },
  };
}

/** Deletes every key under `prefix`, by SCAN and UNLINK in batches (never KEYS or FLUSHDB: the server is shared). */
export async function deleteKeys(prefix: string): Promise<number> {
  const admin = new IORedis(REDIS_URL, { lazyConnect: true });
  let deleted = 0;
  try {
    await admin.connect();
    let cursor = "0";
    do {
      const [nextCursor, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 2000);
      cursor = nextCursor;
      if (keys.length > 0) deleted += await admin.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    admin.disconnect();
  }
  return deleted;
}

// ---------------------------------------------------------------------------------------------
// The scenario every section shares: one repository with a delegation rule for small refunds

export const REPO = "octo-org/payments";

/** Refunds under 50 are approved by rule; anything larger goes to a person. */
export const POLICY = `approvers: [alice, "@octo-org/finance"]
rules:
  - id: small-refunds
    when:
      all:
        - {field: amount, lt: 50}
        - {task_type: [refund]}
    action: approve
`;

/** Decided by the `small-refunds` rule (amount 20) or posted as an issue (amount 120). */
export function refundBody(amount: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    repo: REPO,
    task_description: `Refund order ${amount}`,
    approval_reason: "Refunds over $50 need a human",
    decision_data: { amount, currency: "USD", order: "A-1234", customer: { id: "cus_42", tier: "silver" } },
    available_actions: [
      { id: "approve", label: "Refund", impact: `Customer gets $${amount} back` },
      { id: "reject", label: "Deny", impact: "Ticket goes back to support" },
    ],
    priority: "high",
    deadline: "2099-12-01T12:00:00Z",
    fallback_action: { type: "abort", reason: "nobody answered" },
    approvers: ["alice", "@octo-org/finance"],
    request_type: "refund",
    ...overrides,
  };
}

/**
 * `count` requests of the repository's history, already decided on their issues, created one
 * minute apart before `before`: what a repository that has used hitl for a while holds.
 */
export async function seedHistory(store: Store, count: number, options: { before?: Date; idPrefix?: string; concurrency?: number } = {}): Promise<void> {
  const before = (options.before ?? new Date()).getTime();
  const idPrefix = options.idPrefix ?? `req_hist${randomBytes(3).toString("hex")}_`;
  const indexes = Array.from({ length: count }, (_, i) => i);
  await forEachConcurrently(indexes, options.concurrency ?? 64, (i) => store.create(decidedRequest(`${idPrefix}${i}`, new Date(before - (count - i) * 60_000), i + 1)));
}

function decidedRequest(id: string, createdAt: Date, issueNumber: number): ApprovalRequest {
  const at = createdAt.toISOString();
  const pending = makeRequest({
    id,
    createdAt: at,
    updatedAt: at,
    deadline: new Date(createdAt.getTime() + 3 * 86_400_000).toISOString(),
    surfaceRef: { type: "issue", number: issueNumber, url: `https://github.com/${REPO}/issues/${issueNumber}` },
  });
  return finish(pending, { action: "approve", status: "approved", decidedBy: { type: "human", login: "alice" }, justification: "ok", via: "comment" }, new Date(createdAt.getTime() + 600_000));
}

// ---------------------------------------------------------------------------------------------
// The agent's end of callbacks

export interface CallbackReceiver {
  url: string;
  /** Resolves with the arrival time (performance.now(), body fully read) of the callback for `requestId`. */
  arrival(requestId: string): Promise<number>;
  close(): Promise<void>;
}

/** An agent's callback endpoint on 127.0.0.1 that notes when each request's callback arrived. */
export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const arrived = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const at = now();
      res.writeHead(204).end();
      let id: string | undefined;
      try {
        id = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { request?: { id?: string } }).request?.id;
      } catch {
        id = undefined;
      }
      if (!id || arrived.has(id)) return;
      arrived.set(id, at);
      waiting.get(id)?.(at);
      waiting.delete(id);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/hitl`,
    arrival(requestId) {
      const at = arrived.get(requestId);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no callback for ${requestId} within 10 s`)), 10_000);
        waiting.set(requestId, (time) => {
          clearTimeout(timer);
          resolve(time);
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** POSTs to the agent API as an agent does; throws unless the status is `expected`. */
export async function postJson(url: string, body: unknown, expected = 201): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${AGENT.token}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== expected) throw new Error(`POST ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}
