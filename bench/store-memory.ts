import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseConfig } from "../src/config/parse-config.js";
import { buildRequest, type NewRequestInput } from "../src/core/build-request.js";
import { effectivePolicy } from "../src/core/effective-policy.js";
import { evaluatePolicy } from "../src/core/policy.js";
import type { ApprovalRequest, AuditEntry } from "../src/core/types.js";
import { createEmbeddedStore, type EmbeddedStore } from "../src/store/embedded-store.js";
import { AGENT } from "../test/support/app-harness.js";
import { makeAudit } from "../test/support/fixtures.js";
import { fmt, forceGc, forEachConcurrently, formatTable, now, openEmbedded, POLICY, REPO, size, summarize } from "./support.js";

/**
 * Heap the embedded store holds per 100k pending requests (each with its two audit entries,
 * `created` and `surface_opened`), measured after a forced GC in a child process started with
 * `--expose-gc`, beside the same objects held in a plain Map (the floor: the data itself).
 */

export interface MemoryRow {
  holder: "plain Map" | "embedded store";
  requests: number;
  heapBytes: number;
  /** Snapshot and journal on disk (store only), once it held `diskRequests`. */
  diskBytes: number | null;
  diskRequests: number | null;
  /** Reopening the directory: loading the snapshot and replaying the journal (store only). */
  reopenMs: number | null;
  /**
   * Store only: creates of further requests, 8 at a time, until the journal compacted once (it
   * rewrites the snapshot when the journal reaches 64 MiB): their p50, and the longest, which
   * waited for the compaction. Null when no compaction came within the bound.
   */
  writes: { count: number; p50Ms: number; maxMs: number } | null;
  gc: boolean;
}

type Holder = MemoryRow["holder"];

/** A pending request on its issue as the engine builds it (buildRequest, then evaluatePolicy), and its two audit entries. */
async function template(): Promise<{ request: ApprovalRequest; audit: AuditEntry[] }> {
  const parsed = parseConfig(POLICY, ".hitl.yml");
  if (!parsed.ok) throw new Error("the bench policy does not parse");
  const at = new Date(Date.UTC(2026, 10, 24));
  const input: NewRequestInput = {
    repo: REPO,
    taskDescription: "Refund order 120",
    approvalReason: "Refunds over $50 need a human",
    decisionData: { amount: 120, currency: "USD", order: "A-1234", customer: { id: "cus_42", tier: "silver" } },
    availableActions: [
      { id: "approve", label: "Refund", impact: "Customer gets $120 back" },
      { id: "reject", label: "Deny", impact: "Ticket goes back to support" },
    ],
    priority: "high",
    deadline: "2099-12-01T12:00:00Z",
    fallback: { type: "abort", reason: "nobody answered" },
    surface: { type: "issue" },
    approvers: ["alice", "@octo-org/finance"],
    requestType: "refund",
    callbackUrl: "https://agent.example/hooks/hitl",
  };
  const policy = effectivePolicy(parsed.config, input, at);
  if (!policy.ok) throw new Error("the bench request breaks the bench policy");
  const built = buildRequest(input, policy.policy, { id: "req_template", now: at, requestedBy: AGENT.name, installationId: 1 });
  const evaluation = await evaluatePolicy({
    config: parsed.config,
    configError: null,
    facts: { decisionData: built.decisionData, requestType: built.requestType, riskScore: built.riskScore, confidence: built.confidence, availableActions: built.availableActions },
    now: at,
    takeUse: async () => true,
  });
  if (evaluation.outcome.type !== "human") throw new Error("the template request should need a person");
  const request: ApprovalRequest = { ...built, evaluation, surfaceRef: { type: "issue", number: 1, url: `https://github.com/${REPO}/issues/1` } };
  return { request, audit: [makeAudit(request), makeAudit(request, { event: "surface_opened", actor: { type: "system", reason: "surface opened" } })] };
}

/** The template made the `index`-th request: its own id, text, data, times and issue; every string its own allocation, as when parsed from a body. */
function pendingRequest(base: { request: ApprovalRequest; audit: AuditEntry[] }, index: number): { request: ApprovalRequest; audit: AuditEntry[] } {
  const at = new Date(Date.UTC(2026, 10, 24) + index * 1000).toISOString();
  const id = `req_${randomBytes(12).toString("base64url")}`;
  const number = index + 1;
  const request: ApprovalRequest = {
    ...base.request,
    id,
    taskDescription: `Refund order ${100_000 + index}`,
    decisionData: { amount: 50 + (index % 500), currency: "USD", order: `A-${index}`, customer: { id: `cus_${index}`, tier: "silver" } },
    contextHash: createHash("sha256").update(String(index)).digest("hex"),
    createdAt: at,
    updatedAt: at,
    surfaceRef: { type: "issue", number, url: `https://github.com/${REPO}/issues/${number}` },
  };
  const audit = base.audit.map((entry, i) => ({ ...entry, id: `aud_${id}_${i}`, requestId: id, at, contextHash: request.contextHash }));
  return JSON.parse(JSON.stringify({ request, audit })) as { request: ApprovalRequest; audit: AuditEntry[] };
}

function* range(count: number): Generator<number> {
  for (let i = 0; i < count; i++) yield i;
}

function heapUsed(): number {
  forceGc();
  forceGc();
  return process.memoryUsage().heapUsed;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

/** Runs in the child: builds `count` requests in `holder` and reports the heap they take. */
async function measureHere(holder: Holder, count: number): Promise<MemoryRow> {
  const gc = typeof (globalThis as { gc?: unknown }).gc === "function";
  const base = await template();
  if (holder === "plain Map") {
    const before = heapUsed();
    const map = new Map<string, { request: ApprovalRequest; audit: AuditEntry[] }>();
    for (let i = 0; i < count; i++) {
      const item = pendingRequest(base, i);
      map.set(item.request.id, item);
    }
    const after = heapUsed();
    if (map.size !== count) throw new Error("lost requests");
    return { holder, requests: count, heapBytes: after - before, diskBytes: null, diskRequests: null, reopenMs: null, writes: null, gc };
  }
  const bench = await openEmbedded();
  try {
    const before = heapUsed();
    await forEachConcurrently(range(count), 256, async (i) => {
      const { request, audit } = pendingRequest(base, i);
      await bench.store.create(request, { audit });
    });
    const after = heapUsed();
    if (bench.store.stats().requests !== count) throw new Error("lost requests");
    const writes = await untilCompaction(bench.store, base, count);
    const held = bench.store.stats().requests;
    await bench.store.close();
    const diskBytes = await dirBytes(bench.dir);
    const start = now();
    const reopened = await createEmbeddedStore({ dir: bench.dir });
    const reopenMs = now() - start;
    if (reopened.stats().requests !== held) throw new Error("lost requests on reopening");
    await reopened.close();
    return { holder, requests: count, heapBytes: after - before, diskBytes, diskRequests: held, reopenMs, writes, gc };
  } finally {
    await bench.dispose();
  }
}

/** Creates requests 8 at a time until the journal compacts once (at most 60k), timing each. */
async function untilCompaction(store: EmbeddedStore, base: Awaited<ReturnType<typeof template>>, from: number): Promise<MemoryRow["writes"]> {
  const compactions = store.stats().compactions;
  const latencies: number[] = [];
  let next = from;
  while (store.stats().compactions === compactions && latencies.length < 60_000) {
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const { request, audit } = pendingRequest(base, next++);
        const start = now();
        await store.create(request, { audit });
        latencies.push(now() - start);
      }),
    );
  }
  if (store.stats().compactions === compactions) return null;
  const stats = summarize(latencies);
  return { count: latencies.length, p50Ms: stats.p50, maxMs: stats.max };
}

/** Starts this file in a child with `--expose-gc` and reads its answer. */
function measureInChild(holder: Holder, count: number): Promise<MemoryRow> {
  const file = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", file, "--child", holder, String(count)], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`the memory child exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "") as MemoryRow);
      } catch (error) {
        reject(new Error(`the memory child answered ${JSON.stringify(out.slice(-300))}`, { cause: error }));
      }
    });
  });
}

export async function runStoreMemoryBench(): Promise<MemoryRow[]> {
  const count = size("BENCH_MEMORY_REQUESTS", 100_000, 10_000);
  return [await measureInChild("plain Map", count), await measureInChild("embedded store", count)];
}

export function formatMemoryRows(rows: MemoryRow[]): string {
  const floor = rows.find((row) => row.holder === "plain Map");
  const per100k = (row: MemoryRow, bytes: number) => (bytes * 100_000) / row.requests;
  const table = formatTable(
    ["held in", "requests", "heap", "heap per 100k", "bytes/request", "÷ plain Map", "on disk per 100k", "reopen ms", "write p50 ms", "longest write ms", "writes"],
    rows.map((row) => [
      row.holder,
      fmt.int(row.requests),
      fmt.mb(row.heapBytes),
      fmt.mb(per100k(row, row.heapBytes)),
      fmt.int(row.heapBytes / row.requests),
      floor ? fmt.ratio(row.heapBytes / floor.heapBytes) : "–",
      row.diskBytes === null || !row.diskRequests ? "–" : fmt.mb((row.diskBytes * 100_000) / row.diskRequests),
      row.reopenMs === null ? "–" : fmt.ms(row.reopenMs),
      row.writes ? fmt.ms(row.writes.p50Ms) : "–",
      row.writes ? fmt.ms(row.writes.maxMs) : "–",
      row.writes ? fmt.int(row.writes.count) : "–",
    ]),
  );
  const notes: string[] = [];
  const store = rows.find((row) => row.diskRequests);
  if (store?.diskRequests) {
    notes.push(
      `Heap read after seeding ${fmt.int(store.requests)}; then creates 8 at a time until the journal compacted once (writes, their p50 and the longest), ` +
        `then the size on disk and a timed reopen, with ${fmt.int(store.diskRequests)} requests in the store.`,
    );
  }
  if (!rows.every((row) => row.gc)) notes.push("No --expose-gc in the child: heap read without a forced GC.");
  return notes.length ? `${table}\n\n${notes.join("\n")}` : table;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === "--child") {
  const holder = process.argv[3] as Holder;
  const row = await measureHere(holder, Number(process.argv[4]));
  process.stdout.write(`${JSON.stringify(row)}\n`);
}
