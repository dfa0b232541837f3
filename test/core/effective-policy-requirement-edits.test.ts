import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse-config.js";
import type { HitlConfig } from "../../src/config/schema.js";
import type { NewRequestInput } from "../../src/core/build-request.js";
import { buildRequest } from "../../src/core/build-request.js";
import { effectivePolicy } from "../../src/core/effective-policy.js";
import { followUpInput } from "../../src/core/follow-up.js";

const NOW = new Date("2026-11-24T10:00:00.000Z");

function config(yaml: string): HitlConfig {
  const result = parseConfig(yaml, ".hitl.yml");
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const input = (overrides: Partial<NewRequestInput> = {}): NewRequestInput => ({
  repo: "octo-org/payments",
  taskDescription: "Refund order 1234",
  approvalReason: "Refunds need a person",
  decisionData: { amount: 1500, currency: "EUR", note: "late delivery" },
  availableActions: [
    { id: "approve", label: "Refund" },
    { id: "reject", label: "Deny" },
  ],
  priority: "normal",
  surface: { type: "issue" },
  ...overrides,
});

const POLICY = config(`
feedback:
  require_justification: true
  reasons: [too_high]
requirements:
  - name: large refunds
    when: {field: amount, gt: 1000}
    editable_fields:
      amount: {type: number, minimum: 0, maximum: 1500}
      missing: {type: string}
    feedback:
      require_justification: {min_length: 20}
      reasons: [wrong_customer, too_high]
  - name: currency
    editable_fields:
      currency: {type: string, enum: [EUR, USD]}
      amount: {type: string}
`);

function policyOf(result: ReturnType<typeof effectivePolicy>) {
  if (!result.ok) throw new Error(JSON.stringify(result.violations));
  return result.policy;
}

describe("effectivePolicy: a .hitl.yml requirement's editable_fields and feedback", () => {
  it("folds the top-level feedback with every applying requirement's: the longest minimum, the union of the codes", () => {
    expect(policyOf(effectivePolicy(POLICY, input(), NOW)).feedback).toEqual({ minLength: 20, reasons: ["too_high", "wrong_customer"] });
    // The requirement does not apply to a small refund: the top-level feedback alone.
    expect(policyOf(effectivePolicy(POLICY, input({ decisionData: { amount: 50, currency: "EUR" } }), NOW)).feedback).toEqual({ minLength: 1, reasons: ["too_high"] });
    // A requirement alone asks for codes where the file's top level asks for none.
    const only = config(`
requirements:
  - name: refunds
    feedback: {reasons: [fraud]}
`);
    expect(policyOf(effectivePolicy(only, input(), NOW)).feedback).toEqual({ minLength: 0, reasons: ["fraud"] });
  });

  it("a request may ask for more than the folded feedback, never less", () => {
    expect(policyOf(effectivePolicy(POLICY, input({ feedback: { minLength: 30, reasons: ["wrong_customer"] } }), NOW)).feedback).toEqual({ minLength: 30, reasons: ["wrong_customer"] });
    const result = effectivePolicy(POLICY, input({ feedback: { minLength: 10, reasons: ["fraud"] } }), NOW);
    expect(result).toEqual({
      ok: false,
      violations: [
        { path: "feedback.require_justification", message: "must ask for at least 20 characters, as .hitl.yml's feedback does" },
        { path: "feedback.reasons.0", message: "fraud is not one of the reason codes .hitl.yml allows: too_high, wrong_customer" },
      ],
    });
  });

  it("makes the applying requirements' fields editable with their bounds, skipping one decision_data lacks or holds with another type; the request adds others", () => {
    const small = config(`
requirements:
  - name: large refunds
    when: {field: amount, gt: 1000}
    editable_fields:
      amount: {type: number, minimum: 0, maximum: 1500}
      missing: {type: string}
      note: {type: boolean}
`);
    const policy = policyOf(effectivePolicy(small, input({ editableFields: { note: { type: "string", maxLength: 200 } } }), NOW));
    expect(policy.editableFields).toEqual({ amount: { type: "number", minimum: 0, maximum: 1500 }, note: { type: "string", maxLength: 200 } });
    expect(policyOf(effectivePolicy(small, input({ decisionData: { amount: 10 } }), NOW)).editableFields).toBeUndefined();
  });

  it("a request may repeat a requirement's field only exactly as declared", () => {
    const small = config(`
requirements:
  - name: large refunds
    when: {field: amount, gt: 1000}
    editable_fields:
      amount: {type: number, minimum: 0, maximum: 1500}
`);
    expect(policyOf(effectivePolicy(small, input({ editableFields: { amount: { type: "number", maximum: 1500, minimum: 0 } } }), NOW)).editableFields).toEqual({
      amount: { type: "number", minimum: 0, maximum: 1500 },
    });
    expect(effectivePolicy(small, input({ editableFields: { amount: { type: "number", minimum: 0, maximum: 100_000 } } }), NOW)).toEqual({
      ok: false,
      violations: [
        { path: "editable_fields.amount", message: ".hitl.yml's requirement large refunds declares it (number, 0 to 1500); a request may repeat it only exactly, or leave it out" },
      ],
    });
  });

  it("two applying requirements declaring one field differently refuse the request", () => {
    const result = effectivePolicy(POLICY, input({ decisionData: { amount: 1500, currency: "EUR" } }), NOW);
    // `amount` is a number: the second requirement's string declaration does not fit it and is skipped.
    expect(policyOf(result).editableFields).toEqual({ amount: { type: "number", minimum: 0, maximum: 1500 }, currency: { type: "string", enum: ["EUR", "USD"] } });
    const clash = config(`
requirements:
  - name: finance
    editable_fields: {amount: {type: number, maximum: 1000}}
  - name: risk
    editable_fields: {amount: {type: number, maximum: 500}}
  - name: audit
    editable_fields: {amount: {type: number}}
`);
    expect(effectivePolicy(clash, input(), NOW)).toEqual({ ok: false, violations: [{ path: "editable_fields.amount", message: "requirements finance and risk disagree" }] });
  });

  it("a follow-up re-asks with the request's own fields, and .hitl.yml's requirements apply to it afresh", () => {
    const before = config(`
requirements:
  - name: large refunds
    when: {field: amount, gt: 1000}
    editable_fields: {amount: {type: number, maximum: 1500}}
`);
    const asked = input({ editableFields: { note: { type: "string", maxLength: 200 } } });
    const first = buildRequest(asked, policyOf(effectivePolicy(before, asked, NOW)), { id: "req-1", now: NOW, requestedBy: "agent", installationId: 1 });
    expect(first.editableFields).toEqual({ amount: { type: "number", maximum: 1500 }, note: { type: "string", maxLength: 200 } });
    const again = followUpInput({ ...first, status: "approved" }, { amount: 1400, currency: "EUR", note: "late" }, { fields: [] }, NOW)!;
    expect(again.editableFields).toEqual({ note: { type: "string", maxLength: 200 } });
    // The owners widened the bound meanwhile: the follow-up gets the new one, and is not refused.
    const after = config(`
requirements:
  - name: large refunds
    when: {field: amount, gt: 1000}
    editable_fields: {amount: {type: number, maximum: 3000}}
`);
    expect(policyOf(effectivePolicy(after, again, NOW)).editableFields).toEqual({ amount: { type: "number", maximum: 3000 }, note: { type: "string", maxLength: 200 } });
    // Without fields of its own, the follow-up declares none.
    const bare = input();
    const plain = buildRequest(bare, policyOf(effectivePolicy(before, bare, NOW)), { id: "req-2", now: NOW, requestedBy: "agent", installationId: 1 });
    expect(followUpInput({ ...plain, status: "approved" }, undefined, { fields: [] }, NOW)!.editableFields).toBeUndefined();
  });
});
