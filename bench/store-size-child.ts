import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseConfig } from "../src/config/parse-config.js";
import { buildRequest, type NewRequestInput } from "../src/core/build-request.js";
import { effectivePolicy } from "../src/core/effective-policy.js";
import { evaluatePolicy } from "../src/core/policy.js";
import type { ApprovalRequest, AuditEntry, Job } from "../src/core/types.js";
import { createEmbeddedStore, type EmbeddedStore } from "../src/store/embedded-store.js";
import { DATABASE_FILE, openDatabase } from "../src/store/sqlite-schema.js";
import { prepareQueries } from "../src/store/sqlite-queries.js";
import { makeAudit } from "../test/support/fixtures.js";
import type { StoreSizeRow } from "./store-size.js";

/**
 * The child processes of the store-size bench (store-size.ts). It loads the store and the core
 * only, not the app, so its resident memory is the store's and Node's.
 *   --build DIR N: writes N requests into a new store in DIR; prints how many are pending.
 *   --measure DIR N PENDING LIFECYCLES FSYNC: opens it and runs the workload; prints a row.
 */

const REPO = "octo-org/payments";
const POLICY = "approvers: [alice, \"@octo-org/finance\"]\nrules:\n  - id: small-refunds\n    when: {field: amount, lt: 50}\n    action: approve\n";
const now = (): number => performance.now();
const forceGc = (): void => (globalThis as { gc?: () => void }).gc?.();

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const REPOS = 10;
const AGENTS = 5;
const BASE = Date.UTC(2026, 0, 1);

async function template(): Promise<ApprovalRequest> {
  const parsed = parseConfig(POLICY, ".hitl.yml");
  if (!parsed.ok) throw new Error("the bench policy does not parse");
  const at = new Date(BASE);
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
  if (!policy.ok) throw new Error(`the bench request breaks its policy: ${JSON.stringify(policy.violations)}`);
  const built = buildRequest(input, policy.policy, { id: "req_template", now: at, requestedBy: "refund-agent", installationId: 1 });
  const evaluation = await evaluatePolicy({
    config: parsed.config,
    configError: null,
    facts: { decisionData: built.decisionData, requestType: built.requestType, riskScore: built.riskScore, confidence: built.confidence, availableActions: built.availableActions },
    now: at,
    takeUse: async () => true,
  });
  return { ...built, evaluation };
}

/** The `index`-th request of the history: decided unless `pending`, spread over repositories and agents, a second apart. */
function historic(base: ApprovalRequest, index: number, pending: boolean, nextAt: string | null): { request: ApprovalRequest; audit: AuditEntry[] } {
  const at = new Date(BASE + index * 1000).toISOString();
  const repo = `${REPO}-${index % REPOS}`;
  const number = Math.floor(index / REPOS) + 1;
  const request: ApprovalRequest = {
    ...base,
    id: `req_${randomBytes(12).toString("base64url")}`,
    repo,
    requestedBy: `agent-${index % AGENTS}`,
    taskDescription: `Refund order ${100_000 + index}`,
    decisionData: { amount: 50 + (index % 500), currency: "USD", order: `A-${index}`, customer: { id: `cus_${index}`, tier: "silver" } },
    contextHash: createHash("sha256").update(String(index)).digest("hex"),
    createdAt: at,
    updatedAt: at,
    surfaceRef: { type: "issue", number, url: `https://github.com/${repo}/issues/${number}` },
    version: pending ? 2 : 3,
    status: pending ? "pending" : "approved",
    escalation: { ...base.escalation, nextAt: pending ? nextAt : null },
    decision: pending
      ? null
      : { action: "approve", status: "approved", decidedBy: { type: "human", login: "alice" }, justification: "looks right", decidedAt: at, via: "comment" },
  };
  const second = pending
    ? makeAudit(request, { event: "surface_opened", actor: { type: "system", reason: "surface opened" } })
    : makeAudit(request, { event: "decided", action: "approve", actor: { type: "human", login: "alice" } });
  return { request, audit: [makeAudit(request), second].map((entry, i) => ({ ...entry, id: `aud_${request.id}_${i}`, at })) };
}

/** Writes `count` requests straight into the database, 10,000 to a transaction; 1% pending, 10 of them due now. */
async function build(dir: string, count: number): Promise<number> {
  await (await createEmbeddedStore({ dir, log: () => undefined })).close();
  const db = openDatabase(join(dir, DATABASE_FILE), { fsync: false });
  const queries = prepareQueries(db);
  const base = await template();
  const future = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const past = new Date(Date.now() - 60_000).toISOString();
  let pending = 0;
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const isPending = i % 100 === 0;
      if (isPending) pending += 1;
      const { request, audit } = historic(base, i, isPending, pending <= 10 ? past : future);
      queries.putRequest(request);
      queries.addAudit(audit);
    }
  });
  for (let from = 0; from < count; from += 10_000) batch(from, Math.min(count, from + 10_000));
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return pending;
}

function heapUsed(): number {
  forceGc();
  forceGc();
  return process.memoryUsage().heapUsed;
}

async function timeReads(_store: EmbeddedStore, rounds: number, read: (i: number) => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = now();
    await read(i);
    samples.push(now() - start);
  }
  return percentile(samples.sort((a, b) => a - b), 50);
}

/** In the child: opens the built store, runs the workload, reports. */
async function measureHere(dir: string, requests: number, pending: number, lifecycles: number, fsync: boolean): Promise<Omit<StoreSizeRow, "diskBytes" | "buildS">> {
  const rssBeforeOpen = process.memoryUsage().rss;
  const start = now();
  const store = await createEmbeddedStore({ dir, fsync, log: () => undefined });
  const [someone] = await store.list({ limit: 1 });
  const reopenMs = now() - start;
  if (!someone) throw new Error("the built store is empty");

  const base = await template();
  const latencies: number[] = [];
  const timed = async <T>(write: () => Promise<T>): Promise<T> => {
    const began = now();
    const result = await write();
    latencies.push(now() - began);
    return result;
  };
  let next = requests;
  const loop = async (): Promise<void> => {
    while (next < requests + lifecycles) {
      const { request, audit } = historic(base, next++, true, new Date(Date.now() + 86_400_000).toISOString());
      const job: Job = { id: `job_${request.id}`, kind: "callback", requestId: request.id, reason: "decided", runAt: new Date().toISOString(), attempts: 0, lastError: null };
      const created = await timed(() => store.create({ ...request, version: 1 }, { audit: audit.slice(0, 1) }));
      const decided: ApprovalRequest = { ...created.request, status: "approved", escalation: { ...created.request.escalation, nextAt: null } };
      await timed(() => store.update(decided, 1, { audit: audit.slice(1), jobs: [job] }));
      await timed(() => store.completeJob(job.id));
    }
  };
  await Promise.all(Array.from({ length: 8 }, loop));
  latencies.sort((a, b) => a - b);

  const repo = someone.repo;
  const reads = {
    due: await timeReads(store, 200, () => store.due(new Date(), 100)),
    pending: await timeReads(store, 200, () => store.list({ status: "pending", limit: 10 })),
    repo: await timeReads(store, 200, () => store.list({ repo, requestType: "refund", limit: 10 })),
    audit: await timeReads(store, 200, () => store.audit(repo, 100)),
    get: await timeReads(store, 200, () => store.get(someone.id)),
  };
  const heap = heapUsed();
  const rss = process.memoryUsage().rss;
  await store.close();
  return {
    requests,
    pending,
    reopenMs,
    rssBeforeOpen,
    rss,
    heap,
    writes: {
      count: latencies.length,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      p999: percentile(latencies, 99.9),
      max: latencies.at(-1) ?? Number.NaN,
    },
    reads,
    fsync,
  };
}


if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [mode, dir, ...rest] = process.argv.slice(2);
  if (mode === "--build") {
    process.stdout.write(`${JSON.stringify({ pending: await build(dir!, Number(rest[0])) })}\n`);
  } else {
    const [requests, pending, lifecycles, fsync] = rest;
    const row = await measureHere(dir!, Number(requests), Number(pending), Number(lifecycles), fsync === "true");
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
}
