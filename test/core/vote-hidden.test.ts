import { describe, expect, it } from "vitest";
import type { Stage } from "../../src/core/aggregate.js";
import type { ApprovalRequest } from "../../src/core/types.js";
import { outcomeOf } from "../../src/core/vote.js";
import { hideRequest } from "../../src/sensitive/hidden-fields.js";

const T0 = "2026-11-24T10:00:00.000Z";
const stage = (name: string, extra: Partial<Stage> = {}): Stage => ({ name, approvers: [], required: 1, reject: "veto", allowRepeatApprovers: false, ...extra });

describe("stage branches and values .hitl.yml keeps off GitHub", () => {
  it("a branch tests the hidden value, not its placeholder", () => {
    const stages = [stage("finance", { then: [{ when: { field: "amount", gt: 1000 }, next: "legal" }] }), stage("legal")];
    const request = {
      id: "req_1",
      createdAt: T0,
      decisionData: { amount: 1500 },
      availableActions: [],
      requestType: null,
      riskScore: null,
      confidence: null,
      stages,
      votes: [{ by: "fay", action: "approve", at: "2026-11-24T10:01:00.000Z", stage: "finance", justification: null, via: "comment" }],
    } as unknown as ApprovalRequest & { stages: Stage[] };
    const hidden = hideRequest(request, ["amount"]) as typeof request;
    expect(hidden.decisionData).toEqual({ amount: "[hidden: not shown on GitHub]" });
    expect(outcomeOf(hidden, new Date("2026-11-24T10:02:00.000Z"))).toMatchObject({ type: "open", index: 1, done: [{ stage: "finance", branch: 0 }] });
  });
});
