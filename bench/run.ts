import { cpus, totalmem } from "node:os";
import { formatApiRows, runApiThroughputBench } from "./api-throughput.js";
import { formatCallCounts, formatCallDetails, runCallCountsBench } from "./call-counts.js";
import { formatLatencyRows, runDecisionLatencyBench } from "./decision-latency.js";
import { formatReplicaRows, runReplicasBench, writeRatio, writesPerSecond } from "./replicas.js";
import { formatOverheadRows, runMetricsOverheadBench } from "./metrics-overhead.js";
import { formatRows, runRulesBench } from "./rules.js";
import { formatPredictRows, runPredictBench } from "./predict.js";
import { formatStoreSizeRows, runStoreSizeBench } from "./store-size.js";
import { formatSweepRows, runSweepCostBench } from "./sweep-cost.js";
import { fmt, QUICK, REDIS_URL, redisAvailable } from "./support.js";
import { formatVoteRows, runVotesBench, voteRatio } from "./votes.js";

/**
 * `npm run bench`: every section, a table each, then a summary. Figures, not pass/fail: the
 * machine is shared, so each figure stands beside a baseline measured in the same run.
 *
 * BENCH_QUICK=1 runs small sizes; BENCH_ONLY=api,calls,latency,votes,sweep,store,rules,predict,replicas,metrics picks sections.
 * Sizes: BENCH_API_REQUESTS, BENCH_API_WARMUP, BENCH_API_ROUNDS, BENCH_API_HISTORY,
 * BENCH_DECISIONS, BENCH_DECISIONS_WARMUP, BENCH_VOTES, BENCH_SWEEP_1/_2/_3, BENCH_SWEEP_REDIS_MAX,
 * BENCH_SWEEP_DUE, BENCH_SWEEPS, BENCH_STORE_SIZE (largest store size; 1000000 for 1M),
 * BENCH_STORE_WRITES, BENCH_REPLICAS_WINDOW_S, BENCH_REPLICAS_REQUESTS (per replica),
 * BENCH_METRICS_REQUESTS, BENCH_METRICS_ROUNDS, BENCH_PREDICT_HISTORY (the largest history; 100000). REDIS_URL (default redis://127.0.0.1:6379)
 * names the Redis; its rows are skipped when it does not answer. Everything listens on 127.0.0.1.
 */

interface Section {
  key: string;
  title: string;
  run: (context: { redis: boolean }) => Promise<{ table: string; summary: string[] }>;
}

const sections: Section[] = [
  {
    key: "api",
    title: "Agent API: POST /api/v1/requests, concurrency 8, beside a bare http server doing the same JSON parse and store write (Octokit retry and throttle off, as in the test harness)",
    async run({ redis }) {
      const rows = await runApiThroughputBench({ redis });
      return {
        table: formatApiRows(rows),
        summary: rows.map((row) => `api ${row.store} ${row.path} (${fmt.int(row.inRepo)} in repo): ${fmt.int(row.hitl.perSec)} req/s, p50 ${fmt.ms(row.hitl.p50)} ms (${fmt.ratio(row.hitl.p50 / row.baseline.p50)} the bare server's p50)`),
      };
    },
  },
  {
    key: "calls",
    title: "GitHub API calls and Redis commands per request lifecycle (Redis store; cold = first request on a fresh app)",
    async run({ redis }) {
      if (!redis) return { table: "skipped: Redis does not answer", summary: [] };
      const rows = await runCallCountsBench();
      const whole = (path: string) => rows.filter((row) => row.path === path);
      const sum = (path: string, pick: (row: (typeof rows)[number]) => number) => whole(path).reduce((acc, row) => acc + pick(row), 0);
      const redisTotal = (tally: Map<string, number>) => [...tally.values()].reduce((acc, n) => acc + n, 0);
      return {
        table: `${formatCallCounts(rows)}

${formatCallDetails(rows)}`,
        summary: (["issue", "pull_request", "rule"] as const).map(
          (path) => `calls ${path}: ${sum(path, (r) => r.warm.github.length)} GitHub calls and ${sum(path, (r) => redisTotal(r.warm.redis))} Redis commands per warm lifecycle (${sum(path, (r) => r.cold.github.length)} GitHub calls cold)`,
        ),
      };
    },
  },
  {
    key: "latency",
    title: "Decision latency: /approve webhook POST start → the agent's callback received, one decision at a time",
    async run({ redis }) {
      const rows = await runDecisionLatencyBench({ redis });
      const relay = rows.find((row) => row.store === "bare relay")!;
      return {
        table: formatLatencyRows(rows),
        summary: rows
          .filter((row) => row !== relay)
          .map((row) => `latency ${row.store}: callback p50 ${fmt.ms(row.callback.p50)} ms, p99 ${fmt.ms(row.callback.p99)} ms (${fmt.ratio(row.callback.p50 / relay.callback.p50)} a bare relay's p50)`),
      };
    },
  },
  {
    key: "votes",
    title: "The vote hot path: /approve webhook POST start → its response, on requests with required_approvals: 3, beside the single-decision path in the same run",
    async run({ redis }) {
      const rows = await runVotesBench({ redis });
      return {
        table: formatVoteRows(rows),
        summary: rows
          .filter((row) => row.path !== "single decision")
          .map((row) => `votes ${row.store} ${row.path}: p50 ${fmt.ms(row.answered.p50)} ms (${fmt.ratio(voteRatio(rows, row))} the single decision's p50)`),
      };
    },
  },
  {
    key: "sweep",
    title: "The escalation sweep: time per sweep at growing pending counts with the same few due",
    async run({ redis }) {
      const { rows, redisCap } = await runSweepCostBench({ redis });
      const note = redisCap === null ? "" : `\n\nRedis capped at ${fmt.int(redisCap)} pending (BENCH_SWEEP_REDIS_MAX): seeding more takes too long for this run.`;
      return {
        table: formatSweepRows(rows) + note,
        summary: rows.map((row) => `sweep ${row.store} ${fmt.int(row.pending)} pending, ${row.due} due: p50 ${fmt.ms(row.withDue.p50)} ms (empty ${fmt.ms(row.empty.p50)} ms)`),
      };
    },
  },
  {
    key: "store",
    title: "Embedded store as its history grows: opening, resident memory, write and read latencies (SQLite, in a child process)",
    async run() {
      const rows = await runStoreSizeBench();
      const full = rows.filter((row) => row.fsync);
      const first = full[0]!;
      const last = full.at(-1)!;
      return {
        table: formatStoreSizeRows(rows),
        summary: [
          `store ${fmt.int(last.requests)} requests: RSS ${fmt.mb(last.rss)}, reopen ${fmt.ms(last.reopenMs)} ms, write p99.9 ${fmt.ms(last.writes.p999)} ms (max ${fmt.ms(last.writes.max)} ms)`,
          `store due / pending list p50 at ${fmt.int(first.requests)} → ${fmt.int(last.requests)} requests: ${fmt.ms(first.reads.due)} → ${fmt.ms(last.reads.due)} ms / ${fmt.ms(first.reads.pending)} → ${fmt.ms(last.reads.pending)} ms`,
        ],
      };
    },
  },
  {
    key: "replicas",
    title: "Replicas (processes) on one Redis against GitHub's secondary rate limit: one installation's writes, spaced per process (before) and through the store's shared budget",
    async run({ redis }) {
      if (!redis) return { table: "skipped: Redis does not answer", summary: [] };
      const rows = await runReplicasBench();
      return {
        table: formatReplicaRows(rows),
        summary: rows
          .filter((row) => row.replicas > 1)
          .map((row) => `replicas ${row.spacing} ×${row.replicas}: ${writesPerSecond(row).toFixed(2)} writes/s per installation (${fmt.ratio(writeRatio(rows, row))} one replica's), ${row.limited} secondary-limit 403s, ${row.tokenRequests} installation-token request${row.tokenRequests === 1 ? "" : "s"}`),
      };
    },
  },
  {
    key: "metrics",
    title: "Instrumentation overhead on POST /api/v1/requests: an app with metrics beside one without, same process, alternating rounds (embedded store)",
    async run() {
      const rows = await runMetricsOverheadBench();
      return {
        table: formatOverheadRows(rows),
        summary: rows.map((row) => `metrics ${row.path}: p50 ${fmt.ms(row.on.p50)} ms with, ${fmt.ms(row.off.p50)} ms without (${fmt.ratio(row.on.p50 / row.off.p50)}); a scrape ${fmt.ms(row.scrapeMs)} ms`),
      };
    },
  },
  {
    key: "rules",
    title: "Rule evaluation (evaluatePolicy), beside a plain loop doing the same comparisons",
    async run() {
      const rows = await runRulesBench();
      return { table: formatRows(rows), summary: rows.map((row) => `rules ${row.name}: ${row.usPerOp.toFixed(2)} µs/eval`) };
    },
  },
  {
    key: "predict",
    title: "Predicted approvals: one prediction (20 nearest, bounds, a replay of the latest 20) over a history, beside a bare pass over it and the same queries done naively (a full sort each)",
    async run() {
      const rows = runPredictBench();
      return {
        table: formatPredictRows(rows),
        summary: rows.map((row) => `predict ${row.history.toLocaleString("en-US")} past decisions: ${row.predictMs.toFixed(2)} ms (${(row.predictMs / row.passMs).toFixed(0)}x a bare pass; done naively, ${(row.naiveMs / row.predictMs).toFixed(1)}x as long)`),
      };
    },
  },
];

const only = (process.env.BENCH_ONLY ?? "")
  .split(",")
  .map((key) => key.trim())
  .filter(Boolean);
const chosen = only.length ? sections.filter((section) => only.includes(section.key)) : sections;
const redis = await redisAvailable();
const started = performance.now();

console.log(`hitl benchmarks${QUICK ? " (BENCH_QUICK)" : ""}`);
console.log(`node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? "unknown cpu"}), ${fmt.mb(totalmem())} memory`);
console.log(redis ? `Redis at ${REDIS_URL}` : `Redis at ${REDIS_URL} does not answer: Redis rows are skipped`);

const summary: string[] = [];
for (const section of chosen) {
  const began = performance.now();
  console.log(`\n## ${section.title}\n`);
  const { table, summary: lines } = await section.run({ redis });
  console.log(table);
  console.log(`\n(${((performance.now() - began) / 1000).toFixed(1)} s)`);
  summary.push(...lines);
}

console.log(`\n## Summary (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
for (const line of summary) console.log(`- ${line}`);
