import { startApp } from "../test/support/app-harness.js";
import { startGitHubStandIn } from "../test/support/github-stand-in.js";
import { fmt, formatTable, now, openEmbedded, POLICY, postJson, refundBody, REPO, runConcurrently, size, summarize } from "./support.js";

/**
 * What the instrumentation costs on the request-open hot path (`POST /api/v1/requests`): two
 * apps in one process, on stores of their own, one with metrics (store timing, state-change
 * counters, the GitHub hook, process metrics) and one without, measured in alternating rounds.
 * Both write the state-change log lines (to a silent logger), which are not optional.
 */

export interface OverheadRow {
  path: "rule" | "issue";
  requests: number;
  on: { perSec: number; p50: number; p99: number };
  off: { perSec: number; p50: number; p99: number };
  /** One `GET /metrics` after the run, milliseconds (median of a few). */
  scrapeMs: number;
}

const CONCURRENCY = 8;

export async function runMetricsOverheadBench(): Promise<OverheadRow[]> {
  const total = size("BENCH_METRICS_REQUESTS", 300, 40);
  const rounds = Math.max(2, size("BENCH_METRICS_ROUNDS", 4, 2));
  const github = await startGitHubStandIn({ repos: { [REPO]: { files: { main: { ".hitl.yml": POLICY } }, collaborators: { alice: "write", carol: "write" } } }, teams: { "octo-org/finance": ["carol"] } });
  const stores = { on: await openEmbedded(), off: await openEmbedded() };
  const apps = {
    on: await startApp({ githubUrl: github.url, store: stores.on.store, processMetrics: true }),
    off: await startApp({ githubUrl: github.url, store: stores.off.store, metrics: false }),
  };
  const rows: OverheadRow[] = [];
  try {
    for (const path of ["rule", "issue"] as const) {
      const body = JSON.stringify(refundBody(path === "rule" ? 20 : 120));
      const samples = { on: { latencies: [] as number[], wallMs: 0 }, off: { latencies: [] as number[], wallMs: 0 } };
      for (const side of ["on", "off"] as const) await runConcurrently(Math.ceil(total / 4), CONCURRENCY, async () => void (await postJson(`${apps[side].url}/api/v1/requests`, body)));
      for (let round = 0; round < rounds; round++) {
        // Alternate the order, so a slow patch of a shared machine does not land on one side only.
        for (const side of round % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const)) {
          const run = await runConcurrently(Math.ceil(total / rounds), CONCURRENCY, async () => void (await postJson(`${apps[side].url}/api/v1/requests`, body)));
          samples[side].latencies.push(...run.latencies);
          samples[side].wallMs += run.wallMs;
        }
        github.clearCalls();
      }
      const scrapes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const began = now();
        const response = await fetch(`${apps.on.url}/metrics`);
        await response.text();
        scrapes.push(now() - began);
      }
      const measured = (side: "on" | "off") => {
        const stats = summarize(samples[side].latencies);
        return { perSec: (samples[side].latencies.length * 1000) / samples[side].wallMs, p50: stats.p50, p99: stats.p99 };
      };
      rows.push({ path, requests: samples.on.latencies.length, on: measured("on"), off: measured("off"), scrapeMs: summarize(scrapes).p50 });
    }
  } finally {
    await apps.on.close();
    await apps.off.close();
    await github.close();
    await stores.on.dispose();
    await stores.off.dispose();
  }
  return rows;
}

export function formatOverheadRows(rows: OverheadRow[]): string {
  return formatTable(
    ["path", "requests each", "with req/s", "with p50 ms", "with p99 ms", "without req/s", "without p50 ms", "without p99 ms", "p50 with÷without", "req/s with÷without", "scrape ms"],
    rows.map((row) => [
      row.path === "rule" ? "decided by rule" : "opens an issue",
      fmt.int(row.requests),
      fmt.int(row.on.perSec),
      fmt.ms(row.on.p50),
      fmt.ms(row.on.p99),
      fmt.int(row.off.perSec),
      fmt.ms(row.off.p50),
      fmt.ms(row.off.p99),
      fmt.ratio(row.on.p50 / row.off.p50),
      fmt.ratio(row.on.perSec / row.off.perSec),
      fmt.ms(row.scrapeMs),
    ]),
  );
}
