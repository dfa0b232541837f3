import type { ApprovalRequest } from "../src/core/types.js";
import { createEngine, type EngineDeps } from "../src/engine/engine.js";
import type { GitHubGateway } from "../src/engine/ports.js";
import { createSweep } from "../src/engine/sweep.js";
import { makeRequest } from "../test/support/fixtures.js";
import { fmt, forEachConcurrently, formatTable, now, openEmbedded, openRedis, REPO, silentLog, size, summarize, type BenchStore } from "./support.js";

/**
 * The escalation sweep at 1k, 10k and 100k pending requests with the same few due: it reads
 * the due index, so its time should follow what is due, not what is pending. Each timed sweep
 * finds `due` requests whose first escalation level is due (seeded just before, untimed) and
 * escalates them, one compare-and-set each; a sweep with nothing due is timed beside it.
 */

export interface SweepRow {
  store: "embedded" | "redis";
  pending: number;
  /** Time to seed the requests added for this size, per 1,000. */
  seedMsPer1k: number;
  due: number;
  sweeps: number;
  /** A sweep that escalates `due` requests. */
  withDue: { p50: number; p99: number };
  /** A sweep with nothing due: the lock, the due-index read, the unlock. */
  empty: { p50: number; p99: number };
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Never throws at the sweep: escalation needs no GitHub call (its jobs are queued, not run). */
const offline: GitHubGateway = {
  installationId: () => Promise.reject(new Error("not used by the sweep")),
  loadConfig: () => Promise.reject(new Error("not used by the sweep")),
  pullRequest: () => Promise.reject(new Error("not used by the sweep")),
  openSurface: () => Promise.reject(new Error("not used by the sweep")),
  syncSurface: () => Promise.reject(new Error("not used by the sweep")),
  openBatchIssue: () => Promise.reject(new Error("not used by the sweep")),
  updateBatchIssue: () => Promise.reject(new Error("not used by the sweep")),
  mayDecide: () => Promise.reject(new Error("not used by the sweep")),
  reply: () => Promise.reject(new Error("not used by the sweep")),
  react: () => Promise.reject(new Error("not used by the sweep")),
  reopen: () => Promise.reject(new Error("not used by the sweep")),
  listComments: () => Promise.reject(new Error("not used by the sweep")),
  listReviews: () => Promise.reject(new Error("not used by the sweep")),
  reviewDeployment: () => Promise.reject(new Error("not used by the sweep")),
  apiBaseUrl: () => Promise.reject(new Error("not used by the sweep")),
  proposeConfigChange: () => Promise.reject(new Error("not used by the sweep")),
  permission: () => Promise.reject(new Error("not used by the sweep")),
  configPullRequest: () => Promise.reject(new Error("not used by the sweep")),
};

/** Pending on its issue, nothing due for 30 days and more. */
function waiting(index: number, at: number): ApprovalRequest {
  const createdAt = new Date(at - (index % 86_400) * 1000).toISOString();
  const deadline = new Date(at + 30 * DAY_MS + index * 1000).toISOString();
  return makeRequest({
    id: `req_wait${index}`,
    createdAt,
    updatedAt: createdAt,
    deadline,
    priority: (["low", "normal", "high", "critical"] as const)[index % 4]!,
    surfaceRef: { type: "issue", number: index + 1, url: `https://github.com/${REPO}/issues/${index + 1}` },
    escalation: { ladder: [], warningBeforeMs: null, level: 0, warned: false, nextAt: deadline },
  });
}

/** Opened two hours ago; its first level (after one hour) is due now. */
function dueNow(id: string, at: number): ApprovalRequest {
  const created = at - 2 * HOUR_MS;
  return makeRequest({
    id,
    createdAt: new Date(created).toISOString(),
    updatedAt: new Date(created).toISOString(),
    deadline: new Date(at + 30 * DAY_MS).toISOString(),
    escalation: {
      ladder: [{ afterMs: HOUR_MS, approvers: ["bob"], message: null, notify: [] }],
      warningBeforeMs: null,
      level: 0,
      warned: false,
      nextAt: new Date(created + HOUR_MS).toISOString(),
    },
  });
}

async function benchStore(bench: BenchStore, sizes: number[], options: { due: number; sweeps: number }): Promise<SweepRow[]> {
  const { store } = bench;
  const deps: EngineDeps = { store, github: offline, clock: () => new Date(), newId: (prefix) => `${prefix}_${Math.random().toString(36).slice(2)}`, log: silentLog };
  const sweep = createSweep(deps, createEngine(deps), "bench-sweeper");
  const rows: SweepRow[] = [];
  const seededAt = Date.now();
  let seeded = 0;
  let dueSerial = 0;
  // Untimed: the first sweeps pay for compiling the code path, which is not what is compared.
  for (let round = 0; round < 5; round++) {
    const at = Date.now();
    await Promise.all(Array.from({ length: options.due }, () => store.create(dueNow(`req_due${dueSerial++}`, at))));
    await sweep();
    await sweep();
  }
  for (const pending of sizes) {
    const began = now();
    const indexes = Array.from({ length: pending - seeded }, (_, i) => seeded + i);
    await forEachConcurrently(indexes, bench.kind === "redis" ? 128 : 256, (index) => store.create(waiting(index, seededAt)));
    const seedMsPer1k = indexes.length > 0 ? ((now() - began) * 1000) / indexes.length : Number.NaN;
    seeded = pending;

    const withDue: number[] = [];
    const empty: number[] = [];
    for (let round = 0; round < options.sweeps; round++) {
      const at = Date.now();
      await Promise.all(Array.from({ length: options.due }, () => store.create(dueNow(`req_due${dueSerial++}`, at))));
      let start = now();
      const result = await sweep();
      withDue.push(now() - start);
      if (!result.ran || result.escalated !== options.due) throw new Error(`the sweep escalated ${result.escalated} of ${options.due} due requests`);
      start = now();
      const idle = await sweep();
      empty.push(now() - start);
      if (idle.escalated !== 0) throw new Error("a sweep with nothing due escalated something");
    }
    const a = summarize(withDue);
    const b = summarize(empty);
    rows.push({ store: bench.kind, pending, seedMsPer1k, due: options.due, sweeps: options.sweeps, withDue: { p50: a.p50, p99: a.p99 }, empty: { p50: b.p50, p99: b.p99 } });
  }
  return rows;
}

export async function runSweepCostBench(options: { redis: boolean }): Promise<{ rows: SweepRow[]; redisCap: number | null }> {
  const sizes = [size("BENCH_SWEEP_1", 1_000, 1_000), size("BENCH_SWEEP_2", 10_000, 5_000), size("BENCH_SWEEP_3", 100_000, 10_000)];
  const redisMax = size("BENCH_SWEEP_REDIS_MAX", 100_000, 10_000);
  const due = size("BENCH_SWEEP_DUE", 10, 10);
  const sweeps = Math.max(1, size("BENCH_SWEEPS", 30, 5));
  const rows: SweepRow[] = [];
  const embedded = await openEmbedded();
  try {
    rows.push(...(await benchStore(embedded, sizes, { due, sweeps })));
  } finally {
    await embedded.dispose();
  }
  let redisCap: number | null = null;
  if (options.redis) {
    const redisSizes = sizes.filter((n) => n <= redisMax);
    if (redisSizes.length < sizes.length) redisCap = redisMax;
    const redis = await openRedis();
    try {
      rows.push(...(await benchStore(redis, redisSizes, { due, sweeps })));
    } finally {
      await redis.dispose();
    }
  }
  return { rows, redisCap };
}

export function formatSweepRows(rows: SweepRow[]): string {
  return formatTable(
    ["store", "pending", "due", "sweeps", "sweep p50 ms", "p99 ms", "per due ms", "empty sweep p50 ms", "p50 ÷ first size", "seeding ms/1k"],
    rows.map((row) => {
      const first = rows.find((other) => other.store === row.store)!;
      return [
        row.store,
        fmt.int(row.pending),
        String(row.due),
        String(row.sweeps),
        fmt.ms(row.withDue.p50),
        fmt.ms(row.withDue.p99),
        fmt.ms(row.withDue.p50 / row.due),
        fmt.ms(row.empty.p50),
        fmt.ratio(row.withDue.p50 / first.withDue.p50),
        fmt.ms(row.seedMsPer1k),
      ];
    }),
  );
}
