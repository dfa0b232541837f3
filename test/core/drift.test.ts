import { describe, expect, it } from "vitest";
import { contextHash } from "../../src/core/context-hash.js";
import { approvedData, driftedFields, shownContextHash, validateDecision, worthReasking } from "../../src/core/drift.js";
import { finish } from "../../src/core/decide.js";
import { followUpInput, policyAsks } from "../../src/core/follow-up.js";
import type { ApprovalRequest } from "../../src/core/types.js";
import { makeRequest } from "../support/fixtures.js";

const DECIDED = new Date("2026-11-24T12:00:00.000Z");
const HOUR = 3_600_000;
const later = (hours: number) => new Date(DECIDED.getTime() + hours * HOUR);
const HEAD = "a".repeat(40);
const OTHER = "b".repeat(40);

function approve(request: ApprovalRequest, editedFields?: Record<string, unknown>): ApprovalRequest {
  return finish(request, { action: "approve", status: "approved", decidedBy: { type: "human", login: "alice" }, justification: "ok", via: "comment", ...(editedFields ? { editedFields } : {}) }, DECIDED);
}

describe("driftedFields", () => {
  it("is empty for equal data, whatever the key order", () => {
    expect(driftedFields({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }, { b: { c: [1, { e: 3, d: 2 }] }, a: 1 })).toEqual([]);
  });

  it("names each changed, added and removed field by its dotted path, sorted", () => {
    const approved = { amount: 120, refund: { to: { iban: "DE1", name: "Ann" }, reason: "late" }, note: "x", list: [1, 2] };
    const current = { amount: 150, refund: { to: { iban: "DE2", name: "Ann" } }, list: [2, 1], extra: null };
    expect(driftedFields(approved, current)).toEqual([
      { field: "amount", approved: 120, current: 150 },
      { field: "extra", current: null },
      { field: "list", approved: [1, 2], current: [2, 1] },
      { field: "note", approved: "x" },
      { field: "refund.reason", approved: "late" },
      { field: "refund.to.iban", approved: "DE1", current: "DE2" },
    ]);
  });

  it("compares an object with a non-object as a whole value, and tells null from absent", () => {
    expect(driftedFields({ a: { b: 1 }, n: null }, { a: [1], n: 0 })).toEqual([
      { field: "a", approved: { b: 1 }, current: [1] },
      { field: "n", approved: null, current: 0 },
    ]);
    expect(driftedFields({ n: null }, {})).toEqual([{ field: "n", approved: null }]);
  });

  it("treats an inherited key as data, not as the prototype", () => {
    expect(driftedFields({}, JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>)).toEqual([{ field: "__proto__", current: { x: 1 } }]);
  });
});

describe("validateDecision", () => {
  const request = approve(makeRequest({ decisionData: { amount: 120, to: { iban: "DE1" } }, maxDecisionAgeMs: 24 * HOUR }));

  it("holds for the same data within the age, with equal hashes then and now", () => {
    const v = validateDecision(request, { decisionData: { to: { iban: "DE1" }, amount: 120 } }, later(2));
    expect(v).toEqual({
      valid: true,
      reasons: [],
      contextHash: { approved: v.contextHash.current, current: v.contextHash.approved },
      drift: { fields: [] },
      age: { ms: 2 * HOUR, maxMs: 24 * HOUR },
      head: null,
    });
    // The hash is the one the request was opened with, when nothing was edited.
    expect(v.contextHash.approved).toBe(shownContextHash(request, request.decisionData));
    expect(v.contextHash.approved).toBe(
      contextHash({ repo: request.repo, taskDescription: request.taskDescription, approvalReason: request.approvalReason, decisionData: request.decisionData, availableActions: request.availableActions }),
    );
  });

  it("holds when the agent sends no data: nothing drifted", () => {
    expect(validateDecision(request, {}, later(1)).valid).toBe(true);
  });

  it("does not hold when a field drifted, with both hashes", () => {
    const v = validateDecision(request, { decisionData: { amount: 120, to: { iban: "DE2" } } }, later(1));
    expect(v.valid).toBe(false);
    expect(v.reasons).toEqual(["drifted"]);
    expect(v.drift.fields).toEqual([{ field: "to.iban", approved: "DE1", current: "DE2" }]);
    expect(v.contextHash.current).toBe(shownContextHash(request, { amount: 120, to: { iban: "DE2" } }));
    expect(v.contextHash.current).not.toBe(v.contextHash.approved);
  });

  it("compares against the approver's edits, not what the agent first sent", () => {
    const edited = approve(makeRequest({ decisionData: { amount: 120 } }), { amount: 100 });
    expect(approvedData(edited)).toEqual({ amount: 100 });
    expect(validateDecision(edited, { decisionData: { amount: 100 } }, later(1)).valid).toBe(true);
    expect(validateDecision(edited, { decisionData: { amount: 120 } }, later(1)).drift.fields).toEqual([{ field: "amount", approved: 100, current: 120 }]);
  });

  it("does not hold past max_decision_age, and holds at it exactly", () => {
    expect(validateDecision(request, {}, later(24)).valid).toBe(true);
    const v = validateDecision(request, {}, new Date(later(24).getTime() + 1));
    expect(v.reasons).toEqual(["too_old"]);
    expect(v.drift.age).toEqual({ ms: 24 * HOUR + 1, maxMs: 24 * HOUR });
  });

  it("never grows too old without a max_decision_age", () => {
    const unlimited = approve(makeRequest({ maxDecisionAgeMs: null }));
    expect(validateDecision(unlimited, {}, later(24 * 365)).valid).toBe(true);
  });

  it.each(["pending", "rejected", "expired", "cancelled", "superseded"] as const)("does not hold for a %s request, and is not worth re-asking", (status) => {
    const other = { ...request, status };
    const v = validateDecision(other, {}, later(1));
    expect(v.reasons).toContain("not_approved");
    expect(worthReasking(v)).toBe(false);
  });

  describe("on a pull request", () => {
    const pull = makeRequest({ surface: { type: "pull_request", number: 5 }, surfaceRef: { type: "pull_request", number: 5, url: null, checkRunId: 1, headSha: HEAD } });
    const approvedPull = approve(pull);

    it("keeps the head the request was on when it was decided", () => {
      expect(approvedPull.decision?.headSha).toBe(HEAD);
    });

    it("holds while GitHub's head and the agent's are the approved one", () => {
      const v = validateDecision(approvedPull, { githubHead: HEAD, agentHead: HEAD }, later(1));
      expect(v.valid).toBe(true);
      expect(v.head).toEqual({ approved: HEAD, current: HEAD, agent: HEAD });
    });

    it.each([
      ["GitHub's head moved", { githubHead: OTHER }, OTHER],
      ["the agent acts on another head", { githubHead: HEAD, agentHead: OTHER }, OTHER],
      ["the pull request is gone", { githubHead: null }, null],
    ])("does not hold when %s", (_, context, current) => {
      const v = validateDecision(approvedPull, context, later(1));
      expect(v.reasons).toEqual(["head_moved"]);
      expect(v.drift.head).toEqual({ approved: HEAD, current });
      expect(worthReasking(v)).toBe(true);
    });

    it("does not hold for an approval stored without its head", () => {
      const legacy = { ...approvedPull, decision: { ...approvedPull.decision!, headSha: undefined } };
      expect(validateDecision(legacy, { githubHead: HEAD }, later(1)).reasons).toEqual(["head_moved"]);
    });
  });
});

describe("followUpInput", () => {
  const NOW = new Date("2026-11-24T10:00:00.000Z");

  it("asks again under exactly the first request's asks, its own deadline as long again from now", () => {
    const asked = {
      approvers: ["carol"],
      fallback: { type: "abort" as const, reason: "no" },
      deadline: new Date(NOW.getTime() + 2 * HOUR).toISOString(),
      escalation: [{ after: "1h", approvers: ["dave"] }],
      warningBefore: "30m",
      invalidateOnPush: true,
      maxDecisionAge: "4h",
    };
    const asks = policyAsks({ ...asked, repo: "r/r", taskDescription: "t", approvalReason: "a", decisionData: {}, availableActions: [], priority: "normal", surface: { type: "issue" } }, NOW);
    expect(asks).toEqual({ ...asked, deadline: undefined, deadlineMs: 2 * HOUR });
    const first = approve(makeRequest({ asked: asks, workflowId: "run-1", checkpoint: { step: 3 }, resume: "validated", callbackUrl: "https://agent.example/cb" }));
    const drift = { fields: [{ field: "amount", approved: 120, current: 150 }] };
    const input = followUpInput(first, { amount: 150 }, drift, later(5))!;
    expect(input).toMatchObject({
      approvers: ["carol"],
      fallback: { type: "abort", reason: "no" },
      deadline: new Date(later(5).getTime() + 2 * HOUR).toISOString(),
      escalation: [{ after: "1h", approvers: ["dave"] }],
      warningBefore: "30m",
      invalidateOnPush: true,
      maxDecisionAge: "4h",
      decisionData: { amount: 150 },
      idempotencyKey: `hitl:supersedes:${first.id}`,
      workflowId: "run-1",
      checkpoint: { step: 3 },
      resume: "validated",
      callbackUrl: "https://agent.example/cb",
      priority: first.priority,
      availableActions: first.availableActions,
      supersedes: { id: first.id, drift },
    });
  });

  it("asks people for what the first request asked: its feedback, sign-off, editable fields and presentation", () => {
    const feedback = { minLength: 20, reasons: ["too_high"] };
    const stages = [{ name: "finance", approvers: ["carol"], required: 1, on_timeout: "fallback" as const, reject: "veto" as const, allow_repeat_approvers: false }];
    const asks = policyAsks({ repo: "r/r", taskDescription: "t", approvalReason: "a", decisionData: { amount: 120 }, availableActions: [], priority: "normal", surface: { type: "issue" }, feedback, requiredApprovals: 2, stages }, NOW);
    expect(asks).toEqual({ feedback, requiredApprovals: 2, stages });
    const editableFields = { amount: { type: "number" as const, minimum: 0, maximum: 200 } };
    const sections = [{ title: "Why", text: "Because" }];
    const first = approve(makeRequest({ asked: asks, decisionData: { amount: 120 }, editableFields, presentation: "detailed_review", sections }));
    expect(followUpInput(first, { amount: 150 }, { fields: [] }, NOW)).toMatchObject({ feedback, requiredApprovals: 2, stages, editableFields, presentation: "detailed_review", sections });
  });

  it("leaves to .hitl.yml what the first request left to it", () => {
    const first = approve(makeRequest({ asked: {} }));
    const input = followUpInput(first, {}, { fields: [] }, NOW)!;
    for (const key of ["approvers", "fallback", "deadline", "escalation", "warningBefore", "invalidateOnPush", "maxDecisionAge"] as const) expect(input[key]).toBeUndefined();
  });

  it("without the agent's data asks about the approved data again, edits applied; a whole pull request is summarised afresh", () => {
    const edited = approve(makeRequest({ asked: {}, decisionData: { amount: 120, note: "x" } }), { amount: 100 });
    expect(followUpInput(edited, undefined, { fields: [] }, NOW)!.decisionData).toEqual({ amount: 100, note: "x" });
    expect(followUpInput(edited, { amount: 90 }, { fields: [] }, NOW)!.decisionData).toEqual({ amount: 90 });
    const whole = approve(makeRequest({ asked: { wholePullRequest: true }, decisionData: { head_commit: "aaaaaaa" } }));
    expect(followUpInput(whole, undefined, { fields: [] }, NOW)!.decisionData).toEqual({});
  });

  it("is null for a request stored before its asks were kept", () => {
    expect(followUpInput(approve(makeRequest()), {}, { fields: [] }, NOW)).toBeNull();
  });
});
