import { describe, expect, it } from "vitest";
import { actionKind, applyDecision, statusForAction } from "../../src/core/decide.js";
import { makeRequest } from "../support/fixtures.js";

const now = new Date("2026-11-24T12:00:00.000Z");
const alice = { type: "human", login: "alice" } as const;

describe("applyDecision", () => {
  it.each([
    ["approve", "approved"],
    ["reject", "rejected"],
    ["refund-half", "approved"],
  ] as const)("%s ends the request as %s", (action, status) => {
    const request = makeRequest({ availableActions: [{ id: "refund-half", label: "Half" }] });
    const result = applyDecision(request, { action, decidedBy: alice, justification: "ok", via: "comment" }, now);
    expect(result).toEqual({
      ok: true,
      request: {
        ...request,
        status,
        updatedAt: now.toISOString(),
        escalation: { ...request.escalation, nextAt: null },
        decision: { action, status, decidedBy: alice, justification: "ok", decidedAt: now.toISOString(), via: "comment" },
      },
    });
  });

  it("refuses an action the request did not offer", () => {
    const result = applyDecision(makeRequest(), { action: "refund-half", decidedBy: alice, justification: null, via: "comment" }, now);
    expect(result).toEqual({ ok: false, reason: "unknown_action" });
  });

  it.each(["approved", "rejected", "expired", "cancelled"] as const)("refuses to decide a request already %s", (status) => {
    const result = applyDecision(makeRequest({ status }), { action: "approve", decidedBy: alice, justification: null, via: "comment" }, now);
    expect(result).toEqual({ ok: false, reason: "not_pending" });
  });

  it.each(["2026-11-27T10:00:00.000Z", "2026-11-27T10:00:30.000Z"])("refuses a decision at %s, at or after the deadline the sweep has not reached yet", (at) => {
    const request = makeRequest({ deadline: "2026-11-27T10:00:00.000Z" });
    expect(applyDecision(request, { action: "approve", decidedBy: alice, justification: null, via: "comment" }, new Date(at))).toEqual({ ok: false, reason: "past_deadline" });
    const before = new Date(Date.parse(request.deadline) - 1);
    expect(applyDecision(request, { action: "approve", decidedBy: alice, justification: null, via: "comment" }, before).ok).toBe(true);
  });


  it("a custom action of kind reject rejects", () => {
    const request = makeRequest({ availableActions: [{ id: "deny-refund", label: "Deny", kind: "reject" }] });
    const result = applyDecision(request, { action: "deny-refund", decidedBy: alice, justification: null, via: "comment" }, now);
    expect(result.ok && result.request.decision).toMatchObject({ action: "deny-refund", status: "rejected" });
  });
});

describe("actionKind", () => {
  const actions = {
    availableActions: [
      { id: "refund-half", label: "Half", kind: "approve" as const },
      { id: "deny", label: "Deny", kind: "reject" as const },
      { id: "legacy", label: "Stored before kinds" },
    ],
  };

  it.each([
    ["reject", "reject", "rejected"],
    ["approve", "approve", "approved"],
    ["refund-half", "approve", "approved"],
    ["deny", "reject", "rejected"],
    ["legacy", "approve", "approved"],
    ["not-offered", null, null],
  ] as const)("%s is of kind %s and ends the request as %s", (id, kind, status) => {
    expect(actionKind(actions, id)).toBe(kind);
    expect(statusForAction(actions, id)).toBe(status);
  });

  it("reject rejects and approve approves by id, whatever a stored action says", () => {
    const stored = { availableActions: [{ id: "reject", label: "No", kind: "approve" as const }, { id: "approve", label: "Yes", kind: "reject" as const }] };
    expect([actionKind(stored, "reject"), actionKind(stored, "approve")]).toEqual(["reject", "approve"]);
  });
});
