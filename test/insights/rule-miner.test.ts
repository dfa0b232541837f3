import { describe, expect, it } from "vitest";
import { load } from "js-yaml";
import { parseConfig } from "../../src/config/parse-config.js";
import type { ApprovalRequest, Decider } from "../../src/core/types.js";
import { mineRules } from "../../src/insights/rule-miner.js";
import { suggestRules } from "../../src/insights/suggestions.js";
import { makeRequest } from "../support/fixtures.js";

const NOW = new Date("2026-12-01T12:00:00Z");

/** A deterministic generator (mulberry32), so every history is the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let sequence = 0;
function decided(data: Record<string, unknown>, action: string, options: { by?: Decider; type?: string; priority?: ApprovalRequest["priority"]; risk?: number | null; edited?: boolean } = {}): ApprovalRequest {
  sequence += 1;
  const at = new Date(Date.UTC(2026, 9, 1) + sequence * 3_600_000).toISOString();
  const id = `req_h${String(sequence).padStart(5, "0")}`;
  return makeRequest({
    id,
    decisionData: data,
    requestType: options.type ?? "refund",
    priority: options.priority ?? "normal",
    riskScore: options.risk === undefined ? 0.2 : options.risk,
    createdAt: at,
    updatedAt: at,
    status: action === "reject" ? "rejected" : "approved",
    decision: {
      action,
      status: action === "reject" ? "rejected" : "approved",
      decidedBy: options.by ?? { type: "human", login: "alice" },
      justification: null,
      decidedAt: at,
      via: "comment",
      ...(options.edited ? { editedFields: { amount: 1 } } : {}),
    },
  });
}

/** People approve refunds up to 95 and reject those above: 25 approvals from 5 to 95, 10 rejections from 100 to 300. */
function thresholdHistory(): ApprovalRequest[] {
  const asked: [number, string][] = [];
  for (let i = 0; i < 25; i++) asked.push([5 + Math.round((90 * i) / 24), "approve"]);
  for (let i = 0; i < 10; i++) asked.push([100 + i * 20, "reject"]);
  return shuffled(asked, 3).map(([amount, action], i) => decided({ amount, currency: "USD", order_id: 1000 + i }, action));
}

/** The same items in an order fixed by the seed, as requests arrive over time. */
function shuffled<T>(items: T[], seed: number): T[] {
  const rand = random(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

describe("mineRules", () => {
  it("finds the approved range below the nearest rejection, with its evidence", () => {
    const history = thresholdHistory();
    const mined = mineRules(history);
    expect(mined.map((rule) => [rule.field, rule.condition, rule.support])).toEqual([["amount", { gte: 5, lte: 95 }, 25]]);
    const [rule] = mined;
    expect(rule!.counterExamples.map((example) => [example.value, example.action])).toEqual([
      [100, "reject"],
      [120, "reject"],
      [140, "reject"],
    ]);
    expect(rule!.requestIds).toHaveLength(20);
    expect(rule!.requestIds[0]).toBe(history.filter((request) => request.decision!.action === "approve").at(-1)!.id);
    expect(rule!.riskMax).toBe(0.2);
    expect(rule!.considered).toBe(35);
    expect(rule!.decidedOtherwise).toBe(10);
    expect(rule!.chance).toBeLessThan(0.01);
  });

  it("finds a low-cardinality string every one of whose requests people approved", () => {
    const rand = random(7);
    const history: ApprovalRequest[] = [];
    for (let i = 0; i < 15; i++) history.push(decided({ tier: "gold", amount: Math.round(rand() * 1000) }, "approve"));
    for (let i = 0; i < 20; i++) history.push(decided({ tier: i % 2 ? "silver" : "bronze", amount: Math.round(rand() * 1000) }, i % 3 === 0 ? "approve" : "reject"));
    const mined = mineRules(history);
    expect(mined.map((rule) => [rule.field, rule.condition, rule.support])).toEqual([["tier", { equals: "gold" }, 15]]);
  });

  it("counts only people's decisions: rules, fallbacks, predictions and agents never make history", () => {
    const history = thresholdHistory().map((request, index) =>
      index % 2 === 0 && request.decision!.action === "approve" ? { ...request, decision: { ...request.decision!, decidedBy: { type: "rule", id: "small" } as Decider } } : request,
    );
    const humans = history.filter((request) => request.decision!.decidedBy.type === "human" && request.decision!.action === "approve");
    const mined = mineRules(history);
    expect(mined[0]!.support).toBe(humans.length);
    const others: Decider[] = [{ type: "fallback", fallback: "use_default" }, { type: "agent", name: "refund-agent" }, { type: "system", reason: "auto_approve" }];
    const machineOnly = shuffled(Array.from({ length: 30 }, (_, i) => i), 4).map((i) => decided({ amount: i }, i < 20 ? "approve" : "reject", { by: others[i % 3]! }));
    expect(mineRules(machineOnly.map((request) => ({ ...request, decision: { ...request.decision!, decidedBy: { type: "human", login: "alice" } as Decider } }))).length).toBe(1);
    expect(mineRules(machineOnly)).toEqual([]);
  });

  it("suggests nothing from too little data", () => {
    const asked = [...Array.from({ length: 9 }, (_, i) => [10 + i, "approve"] as const), ...Array.from({ length: 9 }, (_, i) => [200 + i, "reject"] as const)];
    const history = shuffled([...asked], 5).map(([amount, action]) => decided({ amount }, action));
    expect(mineRules(history)).toEqual([]);
    expect(mineRules(history, { minSupport: 9 }).map((rule) => rule.support)).toEqual([9]);
  });

  it("suggests no approve rule where a history flips: recent rejections of what people used to approve", () => {
    const history: ApprovalRequest[] = [];
    for (const amount of shuffled(Array.from({ length: 24 }, (_, i) => 10 + i * 4), 9)) history.push(decided({ amount }, "approve"));
    for (const amount of [18, 38, 58, 78, 98]) history.push(decided({ amount: amount + 1 }, "reject"));
    expect(mineRules(history)).toEqual([]);
  });

  it("suggests no rule next to a bar that is falling: values people approved, then rejected", () => {
    const history: ApprovalRequest[] = [];
    for (const amount of shuffled(Array.from({ length: 30 }, (_, i) => 10 + i * 3), 11)) history.push(decided({ amount }, "approve"));
    for (const amount of shuffled(Array.from({ length: 6 }, (_, i) => 150 + i * 10), 12)) history.push(decided({ amount }, "reject"));
    // A clear line at 97: a rule up to 97.
    expect(mineRules(history).map((rule) => rule.condition)).toEqual([{ gte: 10, lte: 97 }]);
    // Then people start rejecting what they used to approve near the top: no rule, not even below them.
    for (const amount of [91, 94, 97]) history.push(decided({ amount }, "reject"));
    expect(mineRules(history)).toEqual([]);
  });

  it("does not take a field that only correlates by chance", () => {
    // People decide on amount; colour and score are noise. A few rejections above the threshold
    // leave long runs of approvals in the noise fields' order too.
    const rand = random(42);
    const history: ApprovalRequest[] = [];
    for (let i = 0; i < 60; i++) {
      const amount = Math.round(rand() * 130);
      history.push(decided({ amount, colour: ["red", "green", "blue"][Math.floor(rand() * 3)]!, score: Math.round(rand() * 10_000) / 100 }, amount <= 110 ? "approve" : "reject"));
    }
    const mined = mineRules(history);
    expect(mined.map((rule) => rule.field)).toEqual(["amount"]);
    expect(mined[0]!.condition.lte).toBeLessThanOrEqual(110);
  });

  it("never takes an id, a number that is new on every request, or a sensitive field", () => {
    const history: ApprovalRequest[] = [];
    for (let i = 0; i < 20; i++) history.push(decided({ ticket: 500 + i, customer: { id: `c${i}` }, secret: 5 }, "approve"));
    for (let i = 0; i < 10; i++) history.push(decided({ ticket: 600 + i, customer: { id: `d${i}` }, secret: 9 }, "reject"));
    const sealed = history.map((request) => ({ ...request, sensitive: { paths: ["secret"], sealed: "x" } }));
    expect(mineRules(sealed)).toEqual([]);
  });

  it("a rule reaches no kind of request people never saw: text fields constant across its support join its condition", () => {
    const history = thresholdHistory().map((request) => ({ ...request, decisionData: { ...request.decisionData, channel: "web", express: false } }));
    // One approval in EUR: currency is no longer the same throughout, so it is not asked for.
    const mixed = [...history, decided({ amount: 50, currency: "EUR", order_id: 2000, channel: "web", express: false }, "approve")];
    expect(mineRules(history)[0]!.constants).toEqual([
      { field: "channel", equals: "web" },
      { field: "currency", equals: "USD" },
      { field: "express", equals: false },
    ]);
    expect(mineRules(mixed)[0]!.constants).toEqual([
      { field: "channel", equals: "web" },
      { field: "express", equals: false },
    ]);
    // A field .hitl.yml hides shows a placeholder: it is never part of a rule posted on GitHub.
    const hidden = history.map((request) => ({ ...request, hidden: { paths: ["channel"], values: { channel: "web" } }, decisionData: { ...request.decisionData, channel: "[hidden: not shown on GitHub]" } }));
    expect(mineRules(hidden)[0]!.constants.map((constant) => constant.field)).toEqual(["currency", "express"]);
  });

  it("bounds come only from values people approved: an agent's values nobody approved widen nothing", () => {
    const history = thresholdHistory();
    // The agent opened requests at 96..99 that people rejected, and one at 1,000,000 an agent decided.
    history.push(decided({ amount: 96 }, "reject"));
    history.push(decided({ amount: 1_000_000 }, "approve", { by: { type: "agent", name: "refund-agent" } }));
    history.push(decided({ amount: -50 }, "approve", { edited: true }));
    const [rule] = mineRules(history);
    expect(rule!.condition).toEqual({ gte: 5, lte: 95 });
    expect(rule!.counterExamples.map((example) => [example.value, example.action])).toEqual([
      [-50, "approve (edited)"],
      [96, "reject"],
      [100, "reject"],
      [120, "reject"],
    ]);
  });

  it("critical requests never support a rule; a rejected critical one counts against it", () => {
    const history = thresholdHistory().map((request) => (request.decision!.action === "approve" ? { ...request, priority: "critical" as const } : request));
    expect(mineRules(history)).toEqual([]);
    // Decided before the others: a rejection that later approvals above it do not contradict.
    const critical = decided({ amount: 92 }, "reject", { priority: "critical" });
    const withCriticalRejection = [critical, ...thresholdHistory()];
    expect(mineRules(withCriticalRejection).map((rule) => [rule.condition, rule.support])).toEqual([[{ gte: 5, lte: 91 }, 24]]);
  });

  it("a history people approved throughout proves no field matters", () => {
    expect(mineRules(shuffled(Array.from({ length: 40 }, (_, i) => i * 3), 6).map((amount) => decided({ amount }, "approve")))).toEqual([]);
  });
});

describe("suggestRules", () => {
  it("writes a ready rule that round-trips through the config parser, with a stable id", () => {
    const history = thresholdHistory();
    const [suggestion] = suggestRules("octo-org/payments", history, null, NOW);
    expect(suggestion!.id).toMatch(/^sug_[0-9a-f]{16}$/);
    expect(suggestion!.yaml).toBe(
      [
        `- id: suggested-refund-amount-${suggestion!.id.slice(4, 10)}`,
        `  description: 'Approves refund requests where amount is from 5 to 95 and currency is USD. People approved all 25 such requests and decided none otherwise; nearest decided otherwise: ${history.find((request) => request.decisionData.amount === 100)!.id} (amount 100, reject). Suggested by hitl from past decisions.'`,
        "  created_by: hitl-suggestions",
        "  when:",
        "    all:",
        "      - task_type:",
        "          - refund",
        "      - field: amount",
        "        gte: 5",
        "        lte: 95",
        // Every supporting refund was in USD: the rule does not reach a currency people never saw.
        "      - field: currency",
        "        equals: USD",
        "      - risk_score:",
        "          max: 0.2",
        "  action: approve",
        "  valid_until: '2027-03-01'",
        "  max_uses: 25",
        "",
      ].join("\n"),
    );
    const parsed = parseConfig(`rules:\n${suggestion!.yaml}`, ".hitl.yml");
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.config.rules).toEqual([suggestion!.rule]);
    expect(load(suggestion!.yaml)).toEqual([suggestion!.rule]);
    // Another day, the same history: the same id.
    expect(suggestRules("octo-org/payments", history, null, new Date("2027-01-01T00:00:00Z"))[0]!.id).toBe(suggestion!.id);
    expect(suggestRules("octo-org/other", history.map((request) => ({ ...request, repo: "octo-org/other" })), null, NOW)[0]!.id).not.toBe(suggestion!.id);
  });

  it("leaves out a rule the file already has", () => {
    const history = thresholdHistory();
    const [suggestion] = suggestRules("octo-org/payments", history, null, NOW);
    const parsed = parseConfig(`rules:\n${suggestion!.yaml}`, ".hitl.yml");
    if (!parsed.ok) throw new Error("invalid");
    expect(suggestRules("octo-org/payments", history, parsed.config, NOW)).toEqual([]);
    expect(suggestRules("octo-org/elsewhere", history, null, NOW)).toEqual([]);
  });
});
