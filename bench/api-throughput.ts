import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ApprovalRequest } from "../src/core/types.js";
import type { Store } from "../src/store/store.js";
import { startApp } from "../test/support/app-harness.js";
import { makeAudit, makeJob, makeRequest } from "../test/support/fixtures.js";
import { startGitHubStandIn } from "../test/support/github-stand-in.js";
import { fmt, formatTable, openEmbedded, openRedis, POLICY, postJson, refundBody, REPO, runConcurrently, seedHistory, size, summarize, type BenchStore } from "./support.js";

/**
 * Agent API throughput: `POST /api/v1/requests` through the whole app (Probot's middleware, auth,
 * zod, the engine, the store, and for the issue path the GitHub stand-in), beside a bare Node
 * `http` server that does the same JSON parse and the same store write in the same run.
 */

export interface Measured {
  requests: number;
  perSec: number;
  p50: number;
  p99: number;
}

export interface ApiRow {
  store: "embedded" | "redis";
  path: "rule" | "issue";
  /** Requests already in the repository when the measurement began. */
  inRepo: number;
  hitl: Measured;
  baseline: Measured;
}

const CONCURRENCY = 8;

/** A server that does only what any handler of this request must: parse the JSON, write it to the store. */
async function startBaseline(store: Store): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      const request = equivalentRequest(body);
      // The same atomic write hitl makes: the request, its `created` entry and its safety-net job.
      const { request: stored } = await store.create(request, { audit: [makeAudit(request)], jobs: [makeJob(request, { runAt: new Date(Date.now() + 120_000).toISOString() })] });
      const text = JSON.stringify(stored);
      res.writeHead(201, { "content-type": "application/json; charset=utf-8" }).end(text);
    })().catch((error: unknown) => {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/requests`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The stored shape of the body, without validation or policy: what a bare handler would write. */
function equivalentRequest(body: Record<string, unknown>): ApprovalRequest {
  const at = new Date().toISOString();
  const deadline = new Date(String(body.deadline)).toISOString();
  return makeRequest({
    id: `req_${randomBytes(12).toString("base64url")}`,
    repo: String(body.repo),
    taskDescription: String(body.task_description),
    approvalReason: String(body.approval_reason),
    decisionData: body.decision_data as Record<string, unknown>,
    availableActions: body.available_actions as ApprovalRequest["availableActions"],
    priority: body.priority as ApprovalRequest["priority"],
    deadline,
    approvers: body.approvers as string[],
    requestType: String(body.request_type),
    createdAt: at,
    updatedAt: at,
    escalation: { ladder: [], warningBeforeMs: null, level: 0, warned: false, nextAt: deadline },
  });
}

async function measure(url: string, body: string, total: number): Promise<{ latencies: number[]; wallMs: number }> {
  return runConcurrently(total, CONCURRENCY, async () => void (await postJson(url, body)));
}

function measured(latencies: number[], wallMs: number): Measured {
  const stats = summarize(latencies);
  return { requests: latencies.length, perSec: (latencies.length * 1000) / wallMs, p50: stats.p50, p99: stats.p99 };
}

async function benchStore(open: () => Promise<BenchStore>): Promise<ApiRow[]> {
  const total = size("BENCH_API_REQUESTS", 400, 60);
  const warmup = size("BENCH_API_WARMUP", 50, 10);
  const rounds = Math.max(1, size("BENCH_API_ROUNDS", 2, 1));
  const history = size("BENCH_API_HISTORY", 10_000, 2_000);
  const github = await startGitHubStandIn({
    repos: { [REPO]: { files: { main: { ".hitl.yml": POLICY } }, collaborators: { alice: "write", carol: "write" } } },
    teams: { "octo-org/finance": ["carol"] },
  });
  const hitlStore = await open();
  const bareStore = await open();
  const app = await startApp({ githubUrl: github.url, store: hitlStore.store });
  const baseline = await startBaseline(bareStore.store);
  const hitlUrl = `${app.url}/api/v1/requests`;
  const rows: ApiRow[] = [];
  let inRepo = 0;
  try {
    const plan: Array<{ path: ApiRow["path"]; preload: number }> = [
      { path: "rule", preload: 0 },
      { path: "issue", preload: 0 },
      // The same again once the repository has a history: what grows with it shows here.
      ...(history > 0 ? [{ path: "issue" as const, preload: history }] : []),
    ];
    for (const { path, preload } of plan) {
      if (preload > 0) {
        await seedHistory(hitlStore.store, preload);
        await seedHistory(bareStore.store, preload);
        inRepo += preload;
      }
      const body = JSON.stringify(refundBody(path === "rule" ? 20 : 120));
      await measure(baseline.url, body, warmup);
      await measure(hitlUrl, body, warmup);
      inRepo += warmup;
      const startedWith = inRepo;
      const samples = { hitl: { latencies: [] as number[], wallMs: 0 }, baseline: { latencies: [] as number[], wallMs: 0 } };
      for (let round = 0; round < rounds; round++) {
        // Alternate the order, so a slow patch of a shared machine does not land on one side only.
        const order = round % 2 === 0 ? (["baseline", "hitl"] as const) : (["hitl", "baseline"] as const);
        for (const side of order) {
          const run = await measure(side === "hitl" ? hitlUrl : baseline.url, body, total);
          samples[side].latencies.push(...run.latencies);
          samples[side].wallMs += run.wallMs;
        }
        inRepo += total;
        github.clearCalls();
      }
      rows.push({
        store: hitlStore.kind,
        path,
        inRepo: startedWith,
        hitl: measured(samples.hitl.latencies, samples.hitl.wallMs),
        baseline: measured(samples.baseline.latencies, samples.baseline.wallMs),
      });
    }
  } finally {
    await baseline.close();
    await app.close();
    await github.close();
    await hitlStore.dispose();
    await bareStore.dispose();
  }
  return rows;
}

export async function runApiThroughputBench(options: { redis: boolean }): Promise<ApiRow[]> {
  const rows = await benchStore(() => openEmbedded());
  if (options.redis) rows.push(...(await benchStore(() => openRedis())));
  return rows;
}

export function formatApiRows(rows: ApiRow[]): string {
  return formatTable(
    ["store", "path", "in repo", "requests", "hitl req/s", "hitl p50 ms", "hitl p99 ms", "bare req/s", "bare p50 ms", "bare p99 ms", "req/s hitl÷bare", "p50 hitl÷bare"],
    rows.map((row) => [
      row.store,
      row.path === "rule" ? "decided by rule" : "opens an issue",
      fmt.int(row.inRepo),
      fmt.int(row.hitl.requests),
      fmt.int(row.hitl.perSec),
      fmt.ms(row.hitl.p50),
      fmt.ms(row.hitl.p99),
      fmt.int(row.baseline.perSec),
      fmt.ms(row.baseline.p50),
      fmt.ms(row.baseline.p99),
      fmt.ratio(row.hitl.perSec / row.baseline.perSec),
      fmt.ratio(row.hitl.p50 / row.baseline.p50),
    ]),
  );
}
