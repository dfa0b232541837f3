import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse-config.js";
import { stageSchema, type HitlConfig } from "../../src/config/schema.js";
import type { NewRequestInput } from "../../src/core/build-request.js";
import { effectivePolicy, repositoryApprovers } from "../../src/core/effective-policy.js";

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
  decisionData: { amount: 1500, environment: "production" },
  availableActions: [
    { id: "approve", label: "Refund" },
    { id: "reject", label: "Deny" },
  ],
  priority: "normal",
  surface: { type: "issue" },
  ...overrides,
});
const stage = (value: unknown) => stageSchema.parse(value);

const POLICY = config(`
approvers: [alice, bob, carol]
requirements:
  - name: production
    when: {field: environment, equals: production}
    required_approvals: 2
  - name: large
    when: {field: amount, gt: 1000}
    required_approvals: 3
  - name: legal review
    when: {field: amount, gt: 1000}
    stages:
      - {name: legal, approvers: [dave, erin], required: all}
`);

describe("effectivePolicy: .hitl.yml requirements and a request's quorum and stages", () => {
  it("every matching requirement applies and the strictest quorum wins; stages follow in file order", () => {
    const result = effectivePolicy(POLICY, input(), NOW);
    if (!result.ok) throw new Error(JSON.stringify(result.violations));
    expect(result.policy.stages?.map((s) => [s.name, s.required])).toEqual([
      ["approval", 3],
      ["legal", "all"],
    ]);
    expect(result.policy.stageOrigins).toEqual([["requirement production", "requirement large"], ["requirement legal review"]]);
    expect(result.policy.requirements?.map((r) => [r.name, r.applies])).toEqual([
      ["production", true],
      ["large", true],
      ["legal review", true],
    ]);
    // The stage's approvers join the repository's set.
    expect(repositoryApprovers(POLICY)).toEqual(["alice", "bob", "carol", "dave", "erin"]);
  });

  it("a request may raise the quorum and add stages, never lower or rename into .hitl.yml's", () => {
    const lower = effectivePolicy(POLICY, input({ requiredApprovals: 2 }), NOW);
    expect(lower).toEqual({ ok: false, violations: [{ path: "required_approvals", message: "must be at least 3, what .hitl.yml's requirement large asks for this request" }] });
    const raised = effectivePolicy(POLICY, input({ requiredApprovals: 4, stages: [stage({ name: "ops", approvers: ["alice"] })] }), NOW);
    expect(raised.ok && raised.policy.stages?.map((s) => [s.name, s.required])).toEqual([
      ["approval", 4],
      ["legal", "all"],
      ["ops", 1],
    ]);
    const outside = effectivePolicy(POLICY, input({ stages: [stage({ name: "ops", weights: { mallory: 2 }, threshold: 2 })] }), NOW);
    expect(outside).toEqual({ ok: false, violations: [{ path: "stages.0.weights.0", message: "mallory is not one of the approvers .hitl.yml allows: alice, bob, carol, dave, erin" }] });
  });

  it("a branch's action must be one the request offers", () => {
    const branching = input({ stages: [stage({ name: "ops", then: [{ when: { field: "amount", gt: 1 }, action: "refund-half" }] })] });
    expect(effectivePolicy(null, branching, NOW)).toEqual({
      ok: false,
      violations: [{ path: "stages.0.then.0.action", message: "stage ops may end the request with refund-half, which must be approve, reject or one of available_actions" }],
    });
  });

  it("a .hitl.yml branch's action the request does not offer is named against available_actions", () => {
    const cfg = config(`
requirements:
  - name: triage
    stages:
      - {name: triage, then: [{when: {field: amount, gt: 1}, action: escalate}]}
`);
    expect(effectivePolicy(cfg, input({ stages: [stage({ name: "extra" })] }), NOW)).toEqual({
      ok: false,
      violations: [{ path: "available_actions", message: "stage triage may end the request with escalate, which must be approve, reject or one of available_actions" }],
    });
  });

  it("without requirements, and with a quorum of one, one approval decides as before", () => {
    const none = effectivePolicy(null, input(), NOW);
    expect(none.ok && none.policy).not.toHaveProperty("stages");
    const one = effectivePolicy(null, input({ requiredApprovals: 1 }), NOW);
    expect(one.ok && one.policy).not.toHaveProperty("stages");
  });

  it("refuses a .hitl.yml whose requirements define one stage name twice, or take the quorum stage's name, at its line", () => {
    // Two applying requirements naming one stage would otherwise keep only the first: the second,
    // stricter definition (here, legal's "all") would be silently dropped.
    const twice = parseConfig(
      `approvers: [alice, dave, erin]
requirements:
  - name: small
    stages:
      - {name: legal, approvers: [dave]}
  - name: large
    when: {field: amount, gt: 1000}
    stages:
      - {name: Legal, approvers: [dave, erin], required: all}
      - {name: approval, approvers: [alice]}
`,
      ".hitl.yml",
    );
    expect(twice).toEqual({
      ok: false,
      errors: [
        { file: ".hitl.yml", line: 9, column: 16, path: "requirements.1.stages.0.name", message: "stage names must be unique across requirements: 'Legal' is already a stage of requirement small" },
        { file: ".hitl.yml", line: 10, column: 16, path: "requirements.1.stages.1.name", message: "'approval' is the stage required_approvals makes; name this stage otherwise" },
      ],
    });
  });

  it("a config with one stage name twice that skipped the schema is refused, not trimmed to its first", () => {
    const legal = POLICY.requirements![2]!;
    const unchecked: HitlConfig = { ...POLICY, requirements: [{ ...legal, name: "a" }, { ...legal, name: "b" }] };
    expect(effectivePolicy(unchecked, input(), NOW)).toEqual({
      ok: false,
      violations: [{ path: "stages", message: ".hitl.yml's requirements define stage legal twice; stage names must be unique across requirements" }],
    });
  });

  it("the stage schema names what is wrong with a stage", () => {
    const issues = (value: unknown) => stageSchema.safeParse(value).error?.issues.map((issue) => [issue.path.join("."), issue.message]);
    expect(issues({ name: "x", weights: { alice: 1 } })).toEqual([["threshold", "weights need a threshold"]]);
    expect(issues({ name: "x", approvers: ["alice"], required: 2 })).toEqual([["required", "2 approvals can never come from 1 approvers"]]);
    expect(issues({ name: "x", then: [{ when: { field: "a", gt: 1 }, next: "y", action: "approve" }] })).toEqual([["then.0", "a branch has exactly one of next and action"]]);
  });
});
