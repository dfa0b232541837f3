import { readFileSync } from "node:fs";
import fc from "fast-check";
import { dump, load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { formatConfigErrors, parseConfig } from "../../src/config/parse-config.js";
import type { HitlConfig } from "../../src/config/schema.js";
import { evaluateCondition } from "../../src/core/conditions.js";
import { evaluatePolicy, hasPassed, type PolicyFacts } from "../../src/core/policy.js";
import { applyEdits, textEdit, YAML_NOISE } from "../support/text-edits.js";

/**
 * Whatever happens to a `.hitl.yml`, it must never let more through than its author wrote:
 * a file that does not parse decides nothing, and one that does decides only as it says.
 */

const VALID = readFileSync(new URL("../fixtures/config/valid-full.yml", import.meta.url), "utf8");
const VALID_VALUE = load(VALID) as Record<string, unknown>;
const NOW = new Date("2026-06-03T10:00:00Z");
const RUNS = 300;

const textMutation = textEdit([...YAML_NOISE, "0.9"]);

type Path = (string | number)[];

function paths(value: unknown, prefix: Path = []): Path[] {
  const found: Path[] = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(value)) value.forEach((item, index) => found.push(...paths(item, [...prefix, index])));
  else if (typeof value === "object" && value !== null) for (const [key, item] of Object.entries(value)) found.push(...paths(item, [...prefix, key]));
  return found;
}

function parentOf(root: unknown, path: Path): Record<string | number, unknown> {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  return node;
}

type ValueMutation = { kind: "rename"; pick: number; to: string } | { kind: "replace"; pick: number; value: unknown } | { kind: "swap"; a: number; b: number };

const valueMutation: fc.Arbitrary<ValueMutation> = fc.oneof(
  fc.record({ kind: fc.constant("rename" as const), pick: fc.nat(), to: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("aprovers", "rule", "max_use", "lessthan", "choose", "<<", "__proto__")) }),
  fc.record({ kind: fc.constant("replace" as const), pick: fc.nat(), value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.double({ min: -1, max: 2, noNaN: true }), fc.constantFrom("approve", "reject", "1h", 0.5, true, null)) }),
  fc.record({ kind: fc.constant("swap" as const), a: fc.nat(), b: fc.nat() }),
);

function mutateValue(original: unknown, mutations: ValueMutation[]): unknown {
  const root = structuredClone(original);
  for (const mutation of mutations) {
    const all = paths(root);
    if (all.length === 0) break;
    if (mutation.kind === "swap") {
      const a = all[mutation.a % all.length]!;
      const b = all[mutation.b % all.length]!;
      const isPrefix = (x: Path, y: Path) => x.length <= y.length && x.every((key, i) => key === y[i]);
      if (isPrefix(a, b) || isPrefix(b, a)) continue;
      const [pa, pb] = [parentOf(root, a), parentOf(root, b)];
      const [ka, kb] = [a.at(-1)!, b.at(-1)!];
      [pa[ka], pb[kb]] = [pb[kb], pa[ka]];
      continue;
    }
    const path = all[mutation.pick % all.length]!;
    const parent = parentOf(root, path);
    const key = path.at(-1)!;
    if (mutation.kind === "replace") parent[key] = mutation.value;
    else if (!Array.isArray(parent) && mutation.to !== key) {
      Object.defineProperty(parent, mutation.to, { value: parent[key], enumerable: true, writable: true, configurable: true });
      delete parent[key];
    }
  }
  return root;
}

const factsArbitrary: fc.Arbitrary<PolicyFacts> = fc.record({
  decisionData: fc.record(
    {
      amount: fc.oneof(fc.double({ min: -100, max: 10_000, noNaN: true }), fc.constantFrom("49", null, true)),
      customer: fc.record({ tier: fc.constantFrom("gold", "silver", 5) }, { requiredKeys: [] }),
      tags: fc.oneof(fc.array(fc.constantFrom("vip", "new")), fc.string()),
      lines_changed: fc.integer({ min: -5, max: 50 }),
    },
    { requiredKeys: [] },
  ),
  requestType: fc.option(fc.constantFrom("refund", "deploy", "payout"), { nil: null }),
  riskScore: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
  confidence: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
  availableActions: fc.subarray([{ id: "approve" }, { id: "reject" }, { id: "priority-refund" }]),
});

const nowArbitrary = fc.date({ min: new Date("2026-01-01T00:00:00Z"), max: new Date("2028-01-01T00:00:00Z"), noInvalidDate: true });

/** A parsed file may decide only as it says: by a rule whose conditions hold, or by thresholds both met. */
async function checkNoMorePermissive(config: HitlConfig, facts: PolicyFacts, now: Date): Promise<void> {
  const takeUse = async () => true;
  const evaluation = await evaluatePolicy({ config, configError: null, facts, now, takeUse });
  const gate = config.auto_approve?.require_human_above_risk;
  if (gate !== undefined && facts.riskScore !== null && facts.riskScore > gate) {
    expect(evaluation.outcome.type).toBe("human");
    return;
  }
  if (evaluation.outcome.type !== "decide") return;
  const { decider, via } = evaluation.outcome;
  if (via === "auto_approve") {
    const auto = config.auto_approve;
    expect(auto?.confidence_above).toBeDefined();
    expect(facts.confidence).not.toBeNull();
    expect(facts.riskScore).not.toBeNull();
    expect(facts.confidence!).toBeGreaterThan(auto!.confidence_above!);
    expect(facts.riskScore!).toBeLessThan(auto!.risk_below!);
    return;
  }
  expect(decider.type).toBe("rule");
  const rule = config.rules.find((candidate) => decider.type === "rule" && candidate.id === decider.id);
  expect(rule).toBeDefined();
  expect(evaluateCondition(rule!.when, facts, now).matched).toBe(true);
  if (rule!.valid_until !== undefined) expect(hasPassed(rule!.valid_until, now)).toBe(false);
}

/** A file that did not parse decides nothing, whatever else the engine passes along. */
async function checkBrokenFileNeverDecides(errors: Parameters<typeof formatConfigErrors>[0], facts: PolicyFacts, now: Date): Promise<void> {
  expect(errors.length).toBeGreaterThan(0);
  for (const error of errors) {
    expect(error.line).toBeGreaterThanOrEqual(1);
    expect(error.column).toBeGreaterThanOrEqual(1);
  }
  const report = formatConfigErrors(errors);
  const permissive = parseConfig("auto_approve: {confidence_above: 0, risk_below: 1}\nrules:\n  - {id: all, when: {any: [{task_type: [refund, deploy, payout]}, {not: {task_type: [refund, deploy, payout]}}]}, action: approve}\n", ".hitl.yml");
  if (!permissive.ok) throw new Error("the permissive config must parse");
  let uses = 0;
  for (const config of [null, permissive.config]) {
    const evaluation = await evaluatePolicy({
      config,
      configError: report,
      facts,
      now,
      takeUse: async () => {
        uses++;
        return true;
      },
    });
    expect(evaluation.outcome.type).toBe("human");
    expect(evaluation.rules).toEqual([]);
    expect(evaluation.configError).toBe(report);
  }
  expect(uses).toBe(0);
}

async function check(text: string, facts: PolicyFacts, now: Date): Promise<void> {
  let result!: ReturnType<typeof parseConfig>;
  expect(() => {
    result = parseConfig(text, ".hitl.yml");
  }).not.toThrow();
  if (result.ok) await checkNoMorePermissive(result.config, facts, now);
  else await checkBrokenFileNeverDecides(result.errors, facts, now);
}

describe("a damaged .hitl.yml fails safe", () => {
  it("random text", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: 400 }), factsArbitrary, nowArbitrary, (text, facts, now) => check(text, facts, now)),
      { numRuns: RUNS },
    );
  });

  it("random edits of a valid file", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(textMutation, { minLength: 1, maxLength: 6 }), factsArbitrary, nowArbitrary, (mutations, facts, now) =>
        check(applyEdits(VALID, mutations), facts, now),
      ),
      { numRuns: RUNS },
    );
  });

  it("random key renames and value swaps in a valid file", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(valueMutation, { minLength: 1, maxLength: 4 }), factsArbitrary, nowArbitrary, (mutations, facts, now) =>
        check(dump(mutateValue(VALID_VALUE, mutations), { skipInvalid: true }), facts, now),
      ),
      { numRuns: RUNS },
    );
  });

  it("valid files with random thresholds never pass a risk above require_human_above_risk", async () => {
    const unit = fc.double({ min: 0, max: 1, noNaN: true });
    await fc.assert(
      fc.asyncProperty(unit, unit, unit, factsArbitrary, nowArbitrary, async (confidenceAbove, riskBelow, gate, facts, now) => {
        const value = { ...VALID_VALUE, auto_approve: { confidence_above: confidenceAbove, risk_below: riskBelow, require_human_above_risk: gate } };
        const result = parseConfig(dump(value), ".hitl.yml");
        expect(result.ok).toBe(true);
        if (result.ok) await checkNoMorePermissive(result.config, facts, now);
      }),
      { numRuns: RUNS },
    );
  });
});
