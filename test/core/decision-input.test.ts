import { describe, expect, it } from "vitest";
import { readDecisionInput } from "../../src/core/decision-input.js";
import type { ApprovalRequest } from "../../src/core/types.js";

const request: Pick<ApprovalRequest, "availableActions" | "editableFields" | "feedback" | "decisionData"> = {
  availableActions: [
    { id: "approve", label: "Refund" },
    { id: "half", label: "Half", kind: "approve" },
    { id: "deny", label: "Deny", kind: "reject" },
  ],
  decisionData: { amount: 120 },
  editableFields: { amount: { type: "number", maximum: 500 } },
  feedback: { minLength: 3, reasons: ["too_high"] },
};

describe("readDecisionInput", () => {
  it("an approval, or an action of kind approve, takes the block's changes; the rest is the justification", () => {
    expect(readDecisionInput(request, { action: "half", justification: "fair split\n```yaml\namount: 60\n```" })).toEqual({ ok: true, justification: "fair split", editedFields: { amount: 60 } });
  });

  it("a custom action of kind reject needs the reason code and takes no changes", () => {
    expect(readDecisionInput(request, { action: "deny", justification: "too_high over the cap" })).toEqual({ ok: true, justification: "over the cap", reasonCode: "too_high" });
    expect(readDecisionInput(request, { action: "deny", justification: "too_high over\n```json\n{\"amount\": 1}\n```" })).toEqual({
      ok: false,
      problem: { type: "edits", problems: ["changes apply only to an approval; reject without a yaml or json block"] },
    });
  });

  it("changes are checked before the justification, and the first problem found is the answer", () => {
    expect(readDecisionInput(request, { action: "approve", justification: "```yaml\namount: 900\n```" })).toEqual({ ok: false, problem: { type: "edits", problems: ["amount must be at most 500, not 900"] } });
    expect(readDecisionInput(request, { action: "approve", justification: "ok\n```yaml\namount: 90\n```" })).toEqual({ ok: false, problem: { type: "feedback", missing: "justification", policy: request.feedback } });
  });

  it("leaves an action the request does not offer to the decision, which answers it", () => {
    expect(readDecisionInput(request, { action: "nope", justification: null })).toEqual({ ok: true, justification: null });
  });
});
