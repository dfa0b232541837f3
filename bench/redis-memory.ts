import { randomBytes, randomUUID } from "node:crypto";
import { Redis as IORedis } from "ioredis";
import type { ApprovalRequest, Job } from "../src/core/types.js";
import { createStore } from "../src/store/create-store.js";
import { makeAudit, makeRequest } from "../test/support/fixtures.js";

/**
 * `npx tsx bench/redis-memory.ts [N]`: Redis memory per request. Runs N request lifecycles
 * (default 10,000) through the Redis store under a prefix of their own, as the app writes them
 * (created with its audit entry and job, issue opened, a webhook delivery claimed and kept for a
 * week, decided with its audit entry, callback and issue update, jobs done), then sums
 * `MEMORY USAGE … SAMPLES 0` over every key under the prefix, and deletes them. REDIS_URL
 * (default redis://127.0.0.1:6379) names the Redis. 1% of the requests stay pending.
 */

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const count = Number(process.argv[2] ?? 10_000);
const prefix = `hitl-bench-memory:${randomBytes(4).toString("hex")}:`;
const REPOS = 10;
const T0 = Date.UTC(2026, 10, 24, 9);

const admin = new IORedis(REDIS_URL);
const { store } = await createStore({ REDIS_URL, HITL_REDIS_PREFIX: prefix });

async function keysUnderPrefix(): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    keys.push(...found);
    cursor = next;
  } while (cursor !== "0");
  return keys;
}

async function memoryOf(keys: string[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < keys.length; i += 500) {
    const pipeline = admin.pipeline();
    for (const key of keys.slice(i, i + 500)) pipeline.memory("USAGE", key, "SAMPLES", 0);
    for (const [error, bytes] of (await pipeline.exec()) ?? []) if (!error) total += Number(bytes);
  }
  return total;
}

async function lifecycle(index: number): Promise<void> {
  const at = new Date(T0 + index * 1000).toISOString();
  const repo = `octo-org/payments-${index % REPOS}`;
  const number = Math.floor(index / REPOS) + 1;
  const request: ApprovalRequest = makeRequest({
    id: `req_${randomBytes(12).toString("base64url")}`,
    repo,
    taskDescription: `Refund order ${100_000 + index}`,
    decisionData: { amount: 50 + (index % 500), currency: "USD", order: `A-${index}`, customer: { id: `cus_${index}`, tier: "silver" } },
    createdAt: at,
    updatedAt: at,
    callbackUrl: "https://agent.example/hooks/hitl",
  });
  const job = (kind: Job["kind"], reason: Job["reason"]): Job => ({ id: `job_${randomBytes(12).toString("base64url")}`, kind, requestId: request.id, reason, runAt: at, attempts: 0, lastError: null });
  const open = job("open_surface", "created");
  const created = (await store.create(request, { audit: [makeAudit(request)], jobs: [open] })).request;
  await store.completeJob(open.id);
  const opened = { ...created, surfaceRef: { type: "issue" as const, number, url: `https://github.com/${repo}/issues/${number}` } };
  const stored = await store.update(opened, created.version, { audit: [makeAudit(opened, { event: "surface_opened", actor: { type: "system", reason: "surface opened" } })] });
  if (index % 100 === 0) return;
  const delivery = randomUUID();
  await store.claimDelivery(delivery, 60_000);
  const decided: ApprovalRequest = {
    ...stored!,
    status: "approved",
    escalation: { ...stored!.escalation, nextAt: null },
    decision: { action: "approve", status: "approved", decidedBy: { type: "human", login: "alice" }, justification: "looks right", decidedAt: at, via: "comment" },
  };
  const callback = job("callback", "decided");
  const sync = job("sync_surface", "decided");
  await store.update(decided, stored!.version, { audit: [makeAudit(decided, { event: "decided", action: "approve", actor: { type: "human", login: "alice" } })], jobs: [callback, sync] });
  await store.finishDelivery(delivery, true);
  await store.completeJob(callback.id);
  await store.completeJob(sync.id);
}

try {
  const version = /redis_version:(\S+)/.exec(await admin.info("server"))?.[1];
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < count) await lifecycle(next++);
  }));
  const keys = await keysUnderPrefix();
  const bytes = await memoryOf(keys);
  const byKind = new Map<string, { keys: number; bytes: number }>();
  for (const key of keys) {
    const kind = key.slice(prefix.length).split(":")[0]!;
    const entry = byKind.get(kind) ?? { keys: 0, bytes: 0 };
    entry.keys += 1;
    entry.bytes += await memoryOf([key]);
    byKind.set(kind, entry);
  }
  console.log(`Redis ${version} at ${new URL(REDIS_URL).host}: ${count} requests (${Math.ceil(count / 100)} pending), ${keys.length} keys, ${(bytes / 1024 / 1024).toFixed(1)} MiB by MEMORY USAGE, ${Math.round(bytes / count)} bytes per request`);
  for (const [kind, entry] of [...byKind].sort((a, b) => b[1].bytes - a[1].bytes)) {
    console.log(`  ${kind.padEnd(10)} ${String(entry.keys).padStart(7)} keys ${String(Math.round(entry.bytes / count)).padStart(6)} bytes per request`);
  }
} finally {
  const keys = await keysUnderPrefix();
  for (let i = 0; i < keys.length; i += 500) await admin.del(...keys.slice(i, i + 500));
  await store.close();
  admin.disconnect();
}
