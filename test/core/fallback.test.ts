import { describe, expect, it } from "vitest";
import { DELEGATION_FALLBACK, delegatedRuleAbort, resolveFallback } from "../../src/core/fallback.js";
import { allowedApprovers, applyStep, currentApprovers, initialEscalation, nextStep } from "../../src/core/schedule.js";
import type { ApprovalRequest, EscalationStep, Fallback } from "../../src/core/types.js";
import { makeRequest } from "../support/fixtures.js";

const HOUR = 3_600_000;
const CREATED = "2026-11-24T10:00:00.000Z";
const DEADLINE = "2026-11-27T10:00:00.000Z"; // 72h after CREATED
const AT_DEADLINE = new Date(DEADLINE);
const LADDER: EscalationStep[] = [
  { afterMs: 4 * HOUR, approvers: ["bob"], message: null, notify: [] },
  { afterMs: 24 * HOUR, approvers: ["@octo-org/leads"], message: null, notify: [] },
];

function expiring(fallback: Fallback, overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return makeRequest({
    surfaceRef: { type: "issue", number: 7, url: "https://github.com/octo-org/payments/issues/7" },
    createdAt: CREATED,
    deadline: DEADLINE,
    fallback,
    availableActions: [
      { id: "approve", label: "Refund" },
      { id: "reject", label: "Deny" },
      { id: "refund-half", label: "Refund half" },
    ],
    ...overrides,
  });
}

describe("resolveFallback: fallbacks that end the request", () => {
  const byFallback = (type: Fallback["type"]) => ({ type: "fallback", fallback: type }) as const;
  const defaultReason = (type: string) => `No decision before the deadline 2026-11-27T10:00:00.000Z; fallback ${type} applied`;

  it.each<[string, Fallback, string, string]>([
    ["abort with its reason and cleanup", { type: "abort", reason: "nobody answered", cleanup: "delete the draft refund" }, "abort", "nobody answered"],
    ["abort with a blank reason", { type: "abort", reason: "  " }, "abort", defaultReason("abort")],
    ["use_default approve", { type: "use_default", action: "approve" }, "approve", defaultReason("use_default")],
    ["use_default reject with a reason", { type: "use_default", action: "reject", reason: "deny when unsure" }, "reject", "deny when unsure"],
    ["use_default an offered action, with a value", { type: "use_default", action: "refund-half", value: { amount: 60 } }, "refund-half", defaultReason("use_default")],
    ["degrade, the mode kept", { type: "degrade", mode: "read-only", reason: "keep serving reads" }, "degrade", "keep serving reads"],
    ["retry_with_modification, the modifications kept", { type: "retry_with_modification", modifications: { amount: 50 } }, "retry_with_modification", defaultReason("retry_with_modification")],
  ])("%s", (_, fallback, action, justification) => {
    expect(resolveFallback(expiring(fallback), AT_DEADLINE)).toEqual({
      type: "decide",
      decision: {
        action,
        status: "expired",
        decidedBy: byFallback(fallback.type),
        justification,
        decidedAt: DEADLINE,
        via: "fallback",
        fallback,
      },
    });
  });

  it("aborts when the default action is not one the request offers", () => {
    const fallback: Fallback = { type: "use_default", action: "refund-all" };
    expect(resolveFallback(expiring(fallback), new Date("2026-11-27T10:00:42.000Z"))).toEqual({
      type: "decide",
      decision: {
        action: "abort",
        status: "expired",
        decidedBy: byFallback("use_default"),
        justification: "No decision before the deadline 2026-11-27T10:00:00.000Z; the default action refund-all is not one the request offers, so it was aborted",
        decidedAt: "2026-11-27T10:00:42.000Z",
        via: "fallback",
        fallback,
      },
    });
  });
});

describe("resolveFallback: a request that never reached GitHub", () => {
  const neverPosted = { surfaceRef: null };
  const abort = (fallback: Fallback) => ({
    type: "decide",
    decision: {
      action: "abort",
      status: "expired",
      decidedBy: { type: "fallback", fallback: fallback.type },
      justification:
        "No decision before the deadline 2026-11-27T10:00:00.000Z, and the request never reached GitHub, so nobody was asked: its fallback, which would approve, does not apply, and it was aborted",
      decidedAt: DEADLINE,
      via: "fallback",
      fallback,
    },
  });

  it.each<[string, Fallback]>([
    ["use_default approve", { type: "use_default", action: "approve" }],
    ["use_default an offered action that approves", { type: "use_default", action: "refund-half" }],
    ["delegate to a rule", { type: "delegate", rule: "small-refunds" }],
  ])("aborts instead of applying %s: nobody was asked", (_, fallback) => {
    expect(resolveFallback(expiring(fallback, neverPosted), AT_DEADLINE)).toEqual(abort(fallback));
  });

  it("still applies a fallback that does not approve", () => {
    const fallback: Fallback = { type: "use_default", action: "reject", reason: "deny when unsure" };
    expect(resolveFallback(expiring(fallback, neverPosted), AT_DEADLINE)).toMatchObject({ type: "decide", decision: { action: "reject", justification: "deny when unsure" } });
    expect(resolveFallback(expiring({ type: "delegate", approvers: ["bob"] }, neverPosted), AT_DEADLINE)).toMatchObject({ type: "delegate", approvers: ["bob"] });
  });
});

describe("resolveFallback: delegate", () => {
  const handedOver = (approvers: string[], deadline: string, escalation?: { warningBeforeMs: number; nextAt: string }) => ({
    type: "delegate",
    approvers,
    deadline,
    fallback: { type: "abort", reason: "No decision after delegation" },
    escalation: { ladder: [], warningBeforeMs: escalation?.warningBeforeMs ?? null, level: 0, warned: false, nextAt: escalation?.nextAt ?? deadline },
  });

  it.each<[string, Fallback, Date, ReturnType<typeof handedOver>]>([
    ["to approvers, extended by extend_by", { type: "delegate", approvers: ["dave"], extend_by: "24h" }, AT_DEADLINE, handedOver(["dave"], "2026-11-28T10:00:00.000Z")],
    ["without extend_by: the original span again", { type: "delegate", approvers: ["dave", "@octo-org/ops"] }, AT_DEADLINE, handedOver(["dave", "@octo-org/ops"], "2026-11-30T10:00:00.000Z")],
    ["a late sweep: the extension counts from now", { type: "delegate", approvers: ["dave"], extend_by: "24h" }, new Date("2026-11-27T12:00:00.000Z"), handedOver(["dave"], "2026-11-28T12:00:00.000Z")],
  ])("%s", (_, fallback, now, expected) => {
    expect(resolveFallback(expiring(fallback), now)).toEqual(expected);
  });

  it("keeps the warning when it still comes after the hand-over", () => {
    const escalation = initialEscalation({ ladder: LADDER, warningBeforeMs: 12 * HOUR, createdAt: CREATED, deadline: DEADLINE });
    const request = expiring({ type: "delegate", approvers: ["dave"], extend_by: "24h" }, { escalation: { ...escalation, level: 2, warned: true } });
    expect(resolveFallback(request, AT_DEADLINE)).toEqual(
      handedOver(["dave"], "2026-11-28T10:00:00.000Z", { warningBeforeMs: 12 * HOUR, nextAt: "2026-11-27T22:00:00.000Z" }),
    );
  });

  it("drops a warning that would be due at once", () => {
    const escalation = initialEscalation({ ladder: [], warningBeforeMs: 48 * HOUR, createdAt: CREATED, deadline: DEADLINE });
    const request = expiring({ type: "delegate", approvers: ["dave"], extend_by: "24h" }, { escalation });
    expect(resolveFallback(request, AT_DEADLINE)).toEqual(handedOver(["dave"], "2026-11-28T10:00:00.000Z"));
  });

  it("without approvers, everyone who may decide now keeps it", () => {
    const escalation = initialEscalation({ ladder: LADDER, warningBeforeMs: null, createdAt: CREATED, deadline: DEADLINE });
    const request = expiring({ type: "delegate", extend_by: "1d" }, { approvers: ["alice"], escalation: { ...escalation, level: 2 } });
    expect(resolveFallback(request, AT_DEADLINE)).toEqual(handedOver(["alice", "bob", "@octo-org/leads"], "2026-11-28T10:00:00.000Z"));
  });

  it.each<[string, Fallback]>([
    ["a rule", { type: "delegate", rule: "small-refunds" }],
    ["a rule and approvers: the rule", { type: "delegate", rule: "small-refunds", approvers: ["dave"] }],
  ])("to %s: an instruction for the engine", (_, fallback) => {
    expect(resolveFallback(expiring(fallback), AT_DEADLINE)).toEqual({ type: "delegate_rule", ruleId: "small-refunds" });
  });

  it("hands over once: the delegated request aborts at its new deadline", () => {
    const escalation = initialEscalation({ ladder: LADDER, warningBeforeMs: null, createdAt: CREATED, deadline: DEADLINE });
    const original = expiring({ type: "delegate", approvers: ["dave"], extend_by: "24h" }, { escalation: { ...escalation, level: 2 } });
    const outcome = resolveFallback(original, AT_DEADLINE);
    if (outcome.type !== "delegate") throw new Error(`expected a delegation, got ${outcome.type}`);
    // What the sweep stores.
    const delegated: ApprovalRequest = { ...original, approvers: outcome.approvers, deadline: outcome.deadline, fallback: outcome.fallback, escalation: outcome.escalation };

    expect(allowedApprovers(delegated)).toEqual(["dave"]);
    expect(currentApprovers(delegated)).toEqual(["dave"]);
    expect(nextStep(delegated, new Date("2026-11-28T09:59:59.999Z"))).toEqual({ type: "none" });
    const newDeadline = new Date("2026-11-28T10:00:00.000Z");
    expect(nextStep(delegated, newDeadline)).toEqual({ type: "expire" });
    expect(applyStep(delegated, { type: "expire" }, newDeadline).nextAt).toBeNull();
    expect(resolveFallback(delegated, newDeadline)).toEqual({
      type: "decide",
      decision: {
        action: "abort",
        status: "expired",
        decidedBy: { type: "fallback", fallback: "abort" },
        justification: "No decision after delegation",
        decidedAt: "2026-11-28T10:00:00.000Z",
        via: "fallback",
        fallback: DELEGATION_FALLBACK,
      },
    });
  });
});

describe("delegatedRuleAbort", () => {
  const fallback: Fallback = { type: "delegate", rule: "small-refunds" };
  it.each([
    ["no_match", "No decision before the deadline 2026-11-27T10:00:00.000Z; it was delegated to rule small-refunds, but rule small-refunds did not match, so the request was aborted"],
    ["missing", "No decision before the deadline 2026-11-27T10:00:00.000Z; it was delegated to rule small-refunds, but .hitl.yml has no rule small-refunds, so the request was aborted"],
  ] as const)("%s", (why, justification) => {
    expect(delegatedRuleAbort(expiring(fallback), "small-refunds", why, AT_DEADLINE)).toEqual({
      action: "abort",
      status: "expired",
      decidedBy: { type: "fallback", fallback: "delegate" },
      justification,
      decidedAt: DEADLINE,
      via: "fallback",
      fallback,
    });
  });
});
