import { pathToFileURL } from "node:url";
import { hitlConfigSchema, type Condition, type HitlConfig } from "../src/config/schema.js";
import { evaluatePolicy, type PolicyFacts } from "../src/core/policy.js";

/**
 * What rule evaluation costs, beside a baseline measured in the same run: a plain loop doing
 * the same number of property reads and comparisons, so the ratio says how much the
 * explanations, three-valued logic and tracing cost over the bare work, on this machine.
 */

export interface Row {
  name: string;
  opsPerSec: number;
  usPerOp: number;
  baselineUsPerOp: number;
  /** usPerOp / baselineUsPerOp. */
  ratio: number;
}

interface Scenario {
  name: string;
  config: HitlConfig;
  facts: PolicyFacts;
  /** How many property reads and comparisons the evaluation does, for the baseline loop. */
  comparisons: number;
}

const FACTS: PolicyFacts = {
  decisionData: { amount: 20, customer: { tier: "silver" } },
  requestType: "refund",
  riskScore: 0.2,
  confidence: 0.9,
  availableActions: [{ id: "approve" }, { id: "reject" }],
};

const NOW = new Date("2026-06-03T10:00:00Z");
const MEASURE_MS = 400;

function config(rules: { id: string; when: Condition; action: "approve" | "reject" }[]): HitlConfig {
  return hitlConfigSchema.parse({ rules });
}

function nested(depth: number): { condition: Condition; leaves: number } {
  let condition: Condition = { field: "amount", lt: 50 };
  let leaves = 1;
  for (let level = 0; level < depth; level++) {
    if (level % 3 === 0) condition = { all: [condition, { field: "customer.tier", equals: "silver" }] };
    else if (level % 3 === 1) condition = { any: [{ field: "amount", gt: 1000 }, condition] };
    else condition = { not: { not: condition } };
    if (level % 3 !== 2) leaves++;
  }
  return { condition, leaves };
}

function scenarios(): Scenario[] {
  const many = Array.from({ length: 999 }, (_, i) => ({ id: `miss-${i}`, when: { field: "amount", gt: 10_000 + i } as Condition, action: "approve" as const }));
  const deep = nested(50);
  return [
    { name: "1 rule", config: config([{ id: "small", when: { field: "amount", lt: 50 }, action: "approve" }]), facts: FACTS, comparisons: 1 },
    {
      name: "1,000 rules, last matches",
      config: config([...many, { id: "small", when: { field: "amount", lt: 50 }, action: "approve" }]),
      facts: FACTS,
      comparisons: 1_000,
    },
    { name: "all/any/not depth 50", config: config([{ id: "deep", when: deep.condition, action: "approve" }]), facts: FACTS, comparisons: deep.leaves },
    {
      name: "1 time_window rule",
      config: config([{ id: "office", when: { time_window: { start: "09:00", end: "17:00", timezone: "Europe/Berlin", weekdays: ["mon", "tue", "wed", "thu", "fri"] } }, action: "approve" }]),
      facts: FACTS,
      comparisons: 1,
    },
  ];
}

async function measure(run: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 200; i++) await run();
  let iterations = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MEASURE_MS) {
    for (let i = 0; i < 100; i++) await run();
    iterations += 100;
    elapsed = performance.now() - start;
  }
  return (elapsed * 1000) / iterations;
}

/** The bare work: read the value from decision_data and compare it, `comparisons` times. */
function baseline(data: Record<string, unknown>, comparisons: number): () => number {
  const thresholds = Array.from({ length: comparisons }, (_, i) => 10_000 + i);
  return () => {
    let hits = 0;
    for (const threshold of thresholds) {
      const value = data.amount;
      if (typeof value === "number" && value > threshold) hits++;
    }
    return hits;
  };
}

export async function runRulesBench(): Promise<Row[]> {
  const rows: Row[] = [];
  const takeUse = async () => true;
  let sink = 0;
  for (const scenario of scenarios()) {
    const evaluate = async () => {
      const evaluation = await evaluatePolicy({ config: scenario.config, configError: null, facts: scenario.facts, now: NOW, takeUse });
      if (evaluation.outcome.type !== "decide") throw new Error(`${scenario.name}: expected a decision`);
      sink += evaluation.rules.length;
    };
    const plain = baseline(scenario.facts.decisionData, scenario.comparisons);
    const usPerOp = await measure(evaluate);
    const baselineUsPerOp = await measure(() => {
      sink += plain();
    });
    rows.push({ name: scenario.name, opsPerSec: 1_000_000 / usPerOp, usPerOp, baselineUsPerOp, ratio: usPerOp / baselineUsPerOp });
  }
  if (sink < 0) console.log(sink);
  return rows;
}

export function formatRows(rows: Row[]): string {
  const header = ["scenario", "evals/s", "µs/eval", "baseline µs", "ratio"];
  const body = rows.map((row) => [
    row.name,
    Math.round(row.opsPerSec).toLocaleString("en-US"),
    row.usPerOp.toFixed(2),
    row.baselineUsPerOp.toFixed(3),
    `${row.ratio.toFixed(0)}x`,
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...body.map(line)].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`rule evaluation, node ${process.version}\n`);
  console.log(formatRows(await runRulesBench()));
}
