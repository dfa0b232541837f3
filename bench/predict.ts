import { pathToFileURL } from "node:url";
import { predict, type PastDecision, type PredictSettings } from "../src/insights/predict.js";
import { size } from "./support.js";

/**
 * What a prediction costs over histories up to 100,000 past decisions (opening a request reads
 * at most the newest 500), beside two baselines measured in the same run: the bare pass (read
 * each past decision once and count the approvals among those equal on the text field: the least
 * any model does), and the same work done naively: each of the 21 queries (the request and the
 * replay of the latest 20) sorts every similar decision by distance and takes the first k.
 */

export interface PredictRow {
  history: number;
  /** One prediction: the neighbours, the bounds and the replay of the latest 20 decisions. */
  predictMs: number;
  /** The bare pass over the history. */
  passMs: number;
  /** The same 21 k-nearest queries, each sorting everything similar. */
  naiveMs: number;
}

const SETTINGS: PredictSettings = { fields: ["amount", "currency"], minHistory: 10, minAgreement: 0.9, neighbours: 20, replay: 20 };

/** A seeded history, newest first: refunds people approved up to 100. */
function history(count: number): PastDecision[] {
  let state = 42;
  const next = () => ((state = (state * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  const start = Date.parse("2020-01-01T00:00:00.000Z");
  return Array.from({ length: count }, (_, n) => {
    const amount = Math.floor(next() * 200);
    return { id: `req_${String(n).padStart(7, "0")}`, decidedAt: new Date(start + n * 60_000).toISOString(), approved: amount <= 100, values: [amount, next() < 0.5 ? "EUR" : "USD"] };
  }).reverse();
}

function bare(past: readonly PastDecision[]): number {
  let approved = 0;
  let similar = 0;
  for (const entry of past) {
    if (entry.values[1] !== "EUR") continue;
    similar++;
    if (entry.approved) approved++;
  }
  return similar === 0 ? 0 : approved / similar;
}

function naiveQuery(past: readonly PastDecision[], amount: number, from: number): number {
  const similar = past.slice(from).filter((entry) => entry.values[1] === "EUR" && typeof entry.values[0] === "number");
  const sorted = similar.map((entry) => ({ entry, distance: Math.abs((entry.values[0] as number) - amount) })).sort((a, b) => a.distance - b.distance || (a.entry.decidedAt < b.entry.decidedAt ? 1 : -1));
  return sorted.slice(0, SETTINGS.neighbours).filter((neighbour) => neighbour.entry.approved).length;
}

function naive(past: readonly PastDecision[], amount: number): number {
  let approved = naiveQuery(past, amount, 0);
  for (let n = 0; n < SETTINGS.replay && n < past.length; n++) approved += naiveQuery(past, past[n]!.values[0] as number, n + 1);
  return approved;
}

/** Milliseconds per call, the median of `rounds` timed batches. */
function time(run: () => unknown, rounds: number, batch: number): number {
  for (let i = 0; i < batch; i++) run();
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) run();
    samples.push((performance.now() - start) / batch);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

export function runPredictBench(): PredictRow[] {
  const largest = size("BENCH_PREDICT_HISTORY", 100_000, 10_000);
  const sizes = [500, 10_000, largest].filter((count, index, all) => count <= largest && all.indexOf(count) === index);
  let sink = 0;
  return sizes.map((count) => {
    const past = history(count);
    const batch = Math.max(1, Math.round(50_000 / count));
    let probe = 0;
    const amount = () => (probe = (probe + 37) % 200);
    const predictMs = time(() => (sink += predict(SETTINGS, "refund", [amount(), "EUR"], past).approved), 7, batch);
    const passMs = time(() => (sink += bare(past)), 7, batch);
    const naiveMs = time(() => (sink += naive(past, amount())), 3, Math.max(1, Math.round(batch / 10)));
    if (sink < 0) console.log(sink);
    return { history: count, predictMs, passMs, naiveMs };
  });
}

export function formatPredictRows(rows: PredictRow[]): string {
  const header = ["past decisions", "predict ms", "bare pass ms", "predict / pass", "naive ms", "naive / predict"];
  const body = rows.map((row) => [
    row.history.toLocaleString("en-US"),
    row.predictMs.toFixed(3),
    row.passMs.toFixed(3),
    `${(row.predictMs / row.passMs).toFixed(1)}x`,
    row.naiveMs.toFixed(3),
    `${(row.naiveMs / row.predictMs).toFixed(2)}x`,
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i]!)).join("  ");
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...body.map(line)].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`predicted approvals, node ${process.version}\n`);
  console.log(formatPredictRows(runPredictBench()));
}
