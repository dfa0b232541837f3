import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse-config.js";
import type { HitlConfig } from "../../src/config/schema.js";
import { closestRule, evaluatePolicy, hasPassed, type PolicyFacts } from "../../src/core/policy.js";
import type { Evaluation, RuleTrace } from "../../src/core/types.js";

const NOW = new Date("2026-06-03T10:00:00Z");

function policy(yaml: string): HitlConfig {
  const result = parseConfig(yaml, ".hitl.yml");
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

function facts(overrides: Partial<PolicyFacts> = {}): PolicyFacts {
  return {
    decisionData: { amount: 20, customer: { tier: "silver" } },
    requestType: "refund",
    riskScore: 0.2,
    confidence: 0.5,
    availableActions: [{ id: "approve" }, { id: "reject" }],
    ...overrides,
  };
}

/** A store stand-in: counts uses per rule and records every call. */
function fakeUses(limits: Record<string, number> = {}) {
  const used = new Map<string, number>();
  const calls: [string, number][] = [];
  return {
    calls,
    takeUse: async (ruleId: string, max: number) => {
      calls.push([ruleId, max]);
      const count = (used.get(ruleId) ?? limits[ruleId] ?? 0) + 1;
      if (count > max) return false;
      used.set(ruleId, count);
      return true;
    },
  };
}

async function run(config: HitlConfig | null, overrides: Partial<PolicyFacts> = {}, options: { now?: Date; uses?: ReturnType<typeof fakeUses>; configError?: string } = {}) {
  const uses = options.uses ?? fakeUses();
  const evaluation = await evaluatePolicy({
    config,
    configError: options.configError ?? null,
    facts: facts(overrides),
    now: options.now ?? NOW,
    takeUse: uses.takeUse,
  });
  return { evaluation, calls: uses.calls };
}

const trace = (ruleId: string, matched: boolean, reasons: string[], satisfied: number, total: number): RuleTrace => ({ ruleId, matched, reasons, satisfied, total });

const REFUND_RULES = `
rules:
  - id: small-refunds
    when:
      all:
        - {field: amount, lt: 50}
        - {task_type: [refund]}
        - {risk_score: {max: 0.3}}
    action: approve
  - id: huge-refunds
    when: {field: amount, gt: 5000}
    action: reject
  - id: gold-customers
    when: {field: customer.tier, equals: gold}
    action: {choose: priority-refund}
`;

describe("evaluatePolicy without a usable file", () => {
  it("a broken file decides nothing and carries its error", async () => {
    const uses = fakeUses();
    const { evaluation, calls } = await run(policy(REFUND_RULES), {}, { configError: ".hitl.yml:1:1 aprovers: unknown key", uses });
    expect(evaluation).toEqual<Evaluation>({
      outcome: { type: "human", reason: "The .hitl.yml has errors, so no rule from it applies and a person decides." },
      rules: [],
      closestRuleId: null,
      configError: ".hitl.yml:1:1 aprovers: unknown key",
    });
    expect(calls).toEqual([]);
  });

  it("no file means a person decides", async () => {
    const { evaluation } = await run(null);
    expect(evaluation).toEqual<Evaluation>({
      outcome: { type: "human", reason: "There is no .hitl.yml, so a person decides." },
      rules: [],
      closestRuleId: null,
      configError: null,
    });
  });
});

describe("evaluatePolicy with rules", () => {
  it("the first matching rule approves, and rules after it are not tried", async () => {
    const { evaluation } = await run(policy(REFUND_RULES));
    expect(evaluation).toEqual<Evaluation>({
      outcome: {
        type: "decide",
        action: "approve",
        status: "approved",
        decider: { type: "rule", id: "small-refunds" },
        via: "rule",
        reason: "Rule small-refunds matched: amount is 20, below 50; request_type is refund, one of refund; risk_score is 0.2, at most 0.3.",
      },
      rules: [trace("small-refunds", true, ["amount is 20, below 50", "request_type is refund, one of refund", "risk_score is 0.2, at most 0.3"], 3, 3)],
      closestRuleId: null,
      configError: null,
    });
  });

  it("a reject rule rejects", async () => {
    const { evaluation } = await run(policy(REFUND_RULES), { decisionData: { amount: 9000 } });
    expect(evaluation.outcome).toEqual({
      type: "decide",
      action: "reject",
      status: "rejected",
      decider: { type: "rule", id: "huge-refunds" },
      via: "rule",
      reason: "Rule huge-refunds matched: amount is 9000, above 5000.",
    });
    expect(evaluation.rules.map((rule) => rule.ruleId)).toEqual(["small-refunds", "huge-refunds"]);
  });

  it("choose takes an offered action and counts as approved", async () => {
    const { evaluation } = await run(policy(REFUND_RULES), {
      decisionData: { amount: 120, customer: { tier: "gold" } },
      availableActions: [{ id: "priority-refund" }, { id: "reject" }],
    });
    expect(evaluation.outcome).toEqual({
      type: "decide",
      action: "priority-refund",
      status: "approved",
      decider: { type: "rule", id: "gold-customers" },
      via: "rule",
      reason: "Rule gold-customers matched: customer.tier is gold.",
    });
  });

  it("choose of an action of kind reject rejects", async () => {
    const { evaluation } = await run(policy(REFUND_RULES), {
      decisionData: { amount: 120, customer: { tier: "gold" } },
      availableActions: [{ id: "priority-refund", kind: "reject" }, { id: "approve" }],
    });
    expect(evaluation.outcome).toMatchObject({ type: "decide", action: "priority-refund", status: "rejected", decider: { type: "rule", id: "gold-customers" } });
  });

  it("choose of an action the request does not offer does not match", async () => {
    const { evaluation } = await run(policy(REFUND_RULES), { decisionData: { amount: 120, customer: { tier: "gold" } } });
    expect(evaluation).toEqual<Evaluation>({
      outcome: { type: "human", reason: "No rule matched, so a person decides." },
      rules: [
        trace("small-refunds", false, ["amount is 120, not below 50", "request_type is refund, one of refund", "risk_score is 0.2, at most 0.3"], 2, 3),
        trace("huge-refunds", false, ["amount is 120, not above 5000"], 0, 1),
        trace("gold-customers", false, ["customer.tier is gold", "action priority-refund is not offered by this request"], 1, 1),
      ],
      closestRuleId: "small-refunds",
      configError: null,
    });
  });

  it("when two rules match, the one written first decides", async () => {
    const config = policy(`
rules:
  - {id: reject-refunds, when: {task_type: [refund]}, action: reject}
  - {id: approve-small, when: {field: amount, lt: 50}, action: approve}
`);
    const { evaluation } = await run(config);
    expect(evaluation.outcome).toMatchObject({ action: "reject", decider: { type: "rule", id: "reject-refunds" } });
    expect(evaluation.rules).toHaveLength(1);
  });

  it("a missing field never matches, even negated", async () => {
    const config = policy(`
rules:
  - {id: not-large, when: {not: {field: total, gt: 1000}}, action: approve}
`);
    const { evaluation } = await run(config);
    expect(evaluation.outcome).toEqual({ type: "human", reason: "No rule matched, so a person decides." });
    expect(evaluation.rules).toEqual([trace("not-large", false, ["not: total is missing"], 0, 1)]);
  });
});

describe("valid_until", () => {
  const config = (until: string) => policy(`
rules:
  - {id: temporary, when: {task_type: [refund]}, action: approve, valid_until: "${until}"}
`);
  it.each([
    ["a date runs through its last second", "2026-12-31", "2026-12-31T23:59:59.999Z", true],
    ["a date has passed the next midnight (UTC)", "2026-12-31", "2027-01-01T00:00:00Z", false],
    ["a date-time applies at that moment", "2026-06-30T18:00:00+02:00", "2026-06-30T16:00:00Z", true],
    ["a date-time has passed a millisecond later", "2026-06-30T18:00:00+02:00", "2026-06-30T16:00:00.001Z", false],
  ])("%s", async (_name, until, now, applies) => {
    const { evaluation } = await run(config(until), {}, { now: new Date(now) });
    expect(evaluation.outcome.type).toBe(applies ? "decide" : "human");
    if (!applies) {
      expect(evaluation.rules).toEqual([trace("temporary", false, [`valid_until ${until} has passed`, "request_type is refund, one of refund"], 1, 1)]);
    }
  });

  it.each([
    ["2026-01-01", "2026-01-01T12:00:00Z", false],
    ["2026-01-01", "2026-01-02T00:00:00Z", true],
    ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", false],
    ["not a date", "2026-01-01T00:00:00Z", true],
  ])("hasPassed(%s) at %s is %s", (until, now, passed) => {
    expect(hasPassed(until, new Date(now))).toBe(passed);
  });
});

describe("max_uses", () => {
  const config = policy(`
rules:
  - {id: no-limit-miss, when: {field: amount, gt: 100}, action: approve, max_uses: 5}
  - {id: limited, when: {task_type: [refund]}, action: approve, max_uses: 2}
  - {id: fallback-rule, when: {field: amount, lt: 50}, action: reject, max_uses: 10}
`);

  it("takes a use only from the first matching rule", async () => {
    const uses = fakeUses();
    const { evaluation, calls } = await run(config, {}, { uses });
    expect(evaluation.outcome).toMatchObject({ decider: { type: "rule", id: "limited" } });
    expect(calls).toEqual([["limited", 2]]);
  });

  it("a used-up rule is recorded as such and the next matching rule decides", async () => {
    const uses = fakeUses({ limited: 2 });
    const { evaluation, calls } = await run(config, {}, { uses });
    expect(calls).toEqual([
      ["limited", 2],
      ["fallback-rule", 10],
    ]);
    expect(evaluation.outcome).toMatchObject({ action: "reject", decider: { type: "rule", id: "fallback-rule" } });
    expect(evaluation.rules[1]).toEqual(trace("limited", false, ["request_type is refund, one of refund", "max_uses 2 used up"], 1, 1));
  });

  it("counts across evaluations until the rule is used up", async () => {
    const uses = fakeUses();
    const deciders: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { evaluation } = await run(config, {}, { uses });
      deciders.push(evaluation.outcome.type === "decide" && evaluation.outcome.decider.type === "rule" ? evaluation.outcome.decider.id : "human");
    }
    expect(deciders).toEqual(["limited", "limited", "fallback-rule"]);
  });

  it("a store failure skips the rule instead of deciding", async () => {
    const config = policy("rules:\n  - {id: limited, when: {task_type: [refund]}, action: approve, max_uses: 2}\n");
    const evaluation = await evaluatePolicy({
      config,
      configError: null,
      facts: facts(),
      now: NOW,
      takeUse: async () => {
        throw new Error("store down");
      },
    });
    expect(evaluation.outcome).toEqual({ type: "human", reason: "No rule matched, so a person decides." });
    expect(evaluation.rules).toEqual([trace("limited", false, ["request_type is refund, one of refund", "max_uses could not be counted: store down"], 1, 1)]);
  });

  it("no use is taken from an expired rule or one whose action is not offered", async () => {
    const config = policy(`
rules:
  - {id: expired, when: {task_type: [refund]}, action: approve, max_uses: 5, valid_until: 2026-01-01}
  - {id: not-offered, when: {task_type: [refund]}, action: {choose: escalate}, max_uses: 5}
`);
    const { calls } = await run(config);
    expect(calls).toEqual([]);
  });
});

describe("auto_approve", () => {
  const thresholds = "auto_approve: {confidence_above: 0.95, risk_below: 0.1, require_human_above_risk: 0.7}\n";
  const withRule = `${thresholds}rules:\n  - {id: small, when: {field: amount, lt: 50}, action: approve}\n`;

  it("require_human_above_risk beats a matching rule", async () => {
    const uses = fakeUses();
    const { evaluation, calls } = await run(policy(withRule), { riskScore: 0.71 }, { uses });
    expect(evaluation).toEqual<Evaluation>({
      outcome: { type: "human", reason: "risk_score 0.71 is above require_human_above_risk 0.7, so a person decides." },
      rules: [],
      closestRuleId: null,
      configError: null,
    });
    expect(calls).toEqual([]);
  });

  it("a risk equal to require_human_above_risk is not above it", async () => {
    const { evaluation } = await run(policy(withRule), { riskScore: 0.7 });
    expect(evaluation.outcome).toMatchObject({ type: "decide", decider: { type: "rule", id: "small" } });
  });

  it("approves on confidence and risk when no rule decides", async () => {
    const { evaluation } = await run(policy(withRule), { decisionData: { amount: 500 }, confidence: 0.96, riskScore: 0.05 });
    expect(evaluation).toEqual<Evaluation>({
      outcome: {
        type: "decide",
        action: "approve",
        status: "approved",
        decider: { type: "system", reason: "auto_approve" },
        via: "auto_approve",
        reason: "confidence 0.96 is above 0.95 and risk_score 0.05 is below 0.1.",
      },
      rules: [trace("small", false, ["amount is 500, not below 50"], 0, 1)],
      closestRuleId: null,
      configError: null,
    });
  });

  it("a rule is tried before the thresholds", async () => {
    const config = policy(`${thresholds}rules:\n  - {id: no-refunds, when: {task_type: [refund]}, action: reject}\n`);
    const { evaluation } = await run(config, { confidence: 0.99, riskScore: 0.01 });
    expect(evaluation.outcome).toMatchObject({ status: "rejected", decider: { type: "rule", id: "no-refunds" } });
  });

  it.each([
    ["confidence equal to the threshold", { confidence: 0.95, riskScore: 0.05 }, "confidence 0.95 is not above 0.95"],
    ["risk equal to the threshold", { confidence: 0.99, riskScore: 0.1 }, "risk_score 0.1 is not below 0.1"],
    ["both short", { confidence: 0.5, riskScore: 0.2 }, "confidence 0.5 is not above 0.95; risk_score 0.2 is not below 0.1"],
    ["no confidence", { confidence: null, riskScore: 0.05 }, "confidence is missing"],
    ["no risk_score", { confidence: 0.99, riskScore: null }, "risk_score is missing"],
  ])("%s goes to a person", async (_name, overrides, why) => {
    const { evaluation } = await run(policy(thresholds), overrides);
    expect(evaluation.outcome).toEqual({ type: "human", reason: `No rule matched and auto_approve does not apply (${why}), so a person decides.` });
  });

  it("require_human_above_risk alone never approves", async () => {
    const { evaluation } = await run(policy("auto_approve: {require_human_above_risk: 0.7}\n"), { confidence: 1, riskScore: 0 });
    expect(evaluation.outcome).toEqual({ type: "human", reason: "No rule matched, so a person decides." });
  });
});

describe("closest rule", () => {
  it("is the non-matching rule that satisfied the most conditions, the first on a tie", async () => {
    const config = policy(`
rules:
  - {id: one, when: {all: [{task_type: [refund]}, {field: amount, gt: 100}]}, action: approve}
  - {id: two, when: {all: [{task_type: [refund]}, {field: amount, lt: 50}, {field: customer.tier, equals: gold}]}, action: approve}
  - {id: also-two, when: {all: [{task_type: [refund]}, {risk_score: {max: 0.3}}, {field: amount, gt: 1000}]}, action: approve}
`);
    const { evaluation } = await run(config);
    expect(evaluation.rules.map((rule) => [rule.ruleId, rule.satisfied, rule.total])).toEqual([
      ["one", 1, 2],
      ["two", 2, 3],
      ["also-two", 2, 3],
    ]);
    expect(evaluation.closestRuleId).toBe("two");
  });

  it.each([
    ["none satisfied anything", [trace("a", false, [], 0, 1), trace("b", false, [], 0, 2)], null],
    ["a matched rule is never closest", [trace("a", true, [], 1, 1), trace("b", false, [], 0, 2)], null],
    ["ties go to the first", [trace("a", false, [], 1, 3), trace("b", false, [], 1, 2)], "a"],
    ["no rules", [], null],
  ])("%s", (_name, traces, expected) => {
    expect(closestRule(traces)).toBe(expected);
  });
});

describe("rules in mode: shadow", () => {
  const SHADOW = `
rules:
  - id: shadow-small
    mode: shadow
    when: { field: amount, lte: 50 }
    action: approve
    max_uses: 1
  - id: shadow-expired
    mode: shadow
    valid_until: 2026-01-01
    when: { field: amount, lte: 50 }
    action: approve
  - id: shadow-choose
    mode: shadow
    when: { field: amount, lte: 50 }
    action: { choose: partial }
  - id: enforced-tiny
    mode: enforce
    when: { field: amount, lte: 5 }
    action: reject
`;

  it("never decides, takes no use, and records what it would have done", async () => {
    const uses = fakeUses();
    const { evaluation } = await run(policy(SHADOW), {}, { uses });
    expect(evaluation.outcome).toEqual({ type: "human", reason: "No rule matched, so a person decides." });
    expect(evaluation.shadow).toEqual([{ ruleId: "shadow-small", action: "approve" }]);
    expect(evaluation.rules.map((rule) => rule.ruleId)).toEqual(["enforced-tiny"]);
    expect(uses.calls).toEqual([]);
  });

  it("is recorded beside an enforced rule that decides, and absent when nothing matched", async () => {
    const decided = await run(policy(SHADOW), { decisionData: { amount: 3 }, availableActions: [{ id: "approve" }, { id: "reject" }, { id: "partial" }] });
    expect(decided.evaluation.outcome).toMatchObject({ type: "decide", action: "reject", decider: { type: "rule", id: "enforced-tiny" } });
    expect(decided.evaluation.shadow).toEqual([
      { ruleId: "shadow-small", action: "approve" },
      { ruleId: "shadow-choose", action: "partial" },
    ]);
    const none = await run(policy(SHADOW), { decisionData: { amount: 500 } });
    expect(none.evaluation).not.toHaveProperty("shadow");
  });

  it("a fallback delegating to a shadow rule finds no rule to decide", async () => {
    const config = policy(SHADOW);
    const { evaluation } = await run({ ...config, rules: config.rules.filter((rule) => rule.id === "shadow-small") });
    expect(evaluation.outcome.type).toBe("human");
  });
});

