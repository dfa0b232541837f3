import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse-config.js";
import type { HitlConfig } from "../../src/config/schema.js";
import { checkDeploymentCallback, deploymentAnswer, deploymentPolicy, deploymentRequestInput, environmentEntry } from "../../src/core/deployment.js";
import { effectivePolicy } from "../../src/core/effective-policy.js";
import type { ApprovalRequest, Decision, DeploymentRef } from "../../src/core/types.js";
import { makeRequest } from "../support/fixtures.js";

const NOW = new Date("2026-11-24T10:00:00.000Z");
const HOUR = 3_600_000;
const inHours = (hours: number) => new Date(NOW.getTime() + hours * HOUR).toISOString();

function config(yaml: string): HitlConfig {
  const result = parseConfig(yaml, ".hitl.yml");
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

function errors(yaml: string): string[] {
  const result = parseConfig(yaml, ".hitl.yml");
  return result.ok ? [] : result.errors.map((error) => `${error.path}: ${error.message}`);
}

const FILE = config(`
approvers: [alice, bob]
deadline: 48h
warning_before: 4h
fallback: {type: use_default, action: approve, reason: "Go ahead after two days"}
escalation:
  - {after: 4h, approvers: [carol]}
escalation_critical:
  - {after: 30m, approvers: [carol]}
rules:
  - id: everything
    when: {not: {field: amount, gt: 100}}
    action: approve
auto_approve: {confidence_above: 0.5, risk_below: 0.9}
requirements:
  - name: legal sign-off
    when: {field: environment, equals: production}
    stages: [{name: legal, approvers: [dave]}]
environments:
  Production:
    approvers: [alice, erin]
    deadline: 6h
    required_approvals: 2
    priority: critical
    escalation:
      - {after: 1h, approvers: [bob]}
  "preview-*":
    deadline: 2h
    fallback: {type: use_default, action: approve, reason: "Previews go out"}
  "preview-eu":
    deadline: 1h
  "eu-?":
    stages: [{name: region-leads, approvers: ["@octo-org/leads"]}]
`);

const DEPLOYMENT: DeploymentRef = {
  environment: "production",
  ref: "main",
  sha: "47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54",
  runId: 9001,
  runUrl: "https://github.com/octo-org/payments/actions/runs/9001",
  commitUrl: "https://github.com/octo-org/payments/commit/47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54",
  deploymentId: 77,
  creator: "deploy-agent",
  sender: "deploy-agent",
  event: "push",
  policy: "Production",
};

/** The policy effectivePolicy settles for a deployment to `environment`. */
function settled(file: HitlConfig | null, environment: string) {
  const { config: derived, entry, priority } = deploymentPolicy(file, environment);
  const input = deploymentRequestInput("octo-org/payments", { ...DEPLOYMENT, environment, policy: entry }, priority);
  const result = effectivePolicy(derived, input, NOW);
  if (!result.ok) throw new Error(JSON.stringify(result.violations));
  return { policy: result.policy, derived, entry, priority, input };
}

describe("environmentEntry", () => {
  it.each([
    ["production", "Production"],
    ["PRODUCTION", "Production"],
    ["preview-eu", "preview-eu"],
    ["Preview-EU", "preview-eu"],
    ["preview-42", "preview-*"],
    ["preview-", "preview-*"],
    ["eu-1", "eu-?"],
    ["eu-12", null],
    ["staging", null],
  ])("%s takes %s", (environment, expected) => {
    expect(environmentEntry(FILE, environment)?.name ?? null).toBe(expected);
  });

  it("finds nothing without a file", () => {
    expect(environmentEntry(null, "production")).toBeNull();
  });
});

describe("deploymentPolicy through effectivePolicy", () => {
  it("lays the environment's entry over the file: approvers, deadline, ladder, priority, and its quorum beside the file's applying requirements", () => {
    const { policy, entry, priority, derived } = settled(FILE, "production");
    expect({ entry, priority }).toEqual({ entry: "Production", priority: "critical" });
    expect(derived.rules).toEqual([]);
    expect(derived.auto_approve).toBeUndefined();
    expect(policy).toMatchObject({
      approvers: ["alice", "erin"],
      policyApprovers: ["alice", "erin", "bob", "dave"],
      deadline: inHours(6),
      warningBeforeMs: 4 * HOUR,
      // The file's fallback approves; the environment names none, so the deployment is rejected at its deadline.
      fallback: { type: "abort", reason: "No decision before the deadline; the deployment is rejected" },
      ladder: [{ afterMs: HOUR, approvers: ["bob"], message: null, notify: [] }],
    });
    expect(policy.stages?.map((stage) => [stage.name, stage.required])).toEqual([
      ["approval", 2],
      ["legal", 1],
    ]);
    expect(policy.stageOrigins).toEqual([["requirement environment Production"], ["requirement legal sign-off"]]);
  });

  it("keeps an environment's own approving fallback, and drops the file's warning when it is not shorter than the deadline", () => {
    const { policy } = settled(FILE, "preview-42");
    expect(policy).toMatchObject({ approvers: ["alice", "bob"], deadline: inHours(2), warningBeforeMs: null, fallback: { type: "use_default", action: "approve", reason: "Previews go out" } });
    expect(policy.stages).toBeUndefined();
  });

  it("takes an environment's stages after the file's quorum", () => {
    const { policy } = settled(FILE, "eu-1");
    expect(policy.stages?.map((stage) => [stage.name, stage.approvers])).toEqual([["region-leads", ["@octo-org/leads"]]]);
  });

  it("gates an environment the file does not name: the file's approvers and ladder, never an approving fallback", () => {
    const { policy, entry, priority } = settled(FILE, "staging");
    expect({ entry, priority }).toEqual({ entry: null, priority: "normal" });
    expect(policy).toMatchObject({
      approvers: ["alice", "bob"],
      deadline: inHours(48),
      fallback: { type: "abort", reason: "No decision before the deadline; the deployment is rejected" },
      ladder: [{ afterMs: 4 * HOUR, approvers: ["carol"] }],
    });
  });

  it("keeps the file's fallback when it does not approve", () => {
    const { policy } = settled(config(`approvers: [alice]\nfallback: {type: abort, reason: "Nobody came"}\n`), "staging");
    expect(policy.fallback).toEqual({ type: "abort", reason: "Nobody came" });
  });

  it("gates a repository without a usable file: anyone with write access decides, and the deployment is rejected at 72h", () => {
    const { policy } = settled(null, "production");
    expect(policy).toMatchObject({ approvers: [], policyApprovers: [], deadline: inHours(72), fallback: { type: "abort", reason: "No decision before the deadline" } });
  });

  it("makes one request per run, environment and deployment", () => {
    const { input } = settled(FILE, "production");
    expect(input).toMatchObject({
      taskDescription: "Deploy main to production",
      approvalReason: "Deployments to production wait for a person (.hitl.yml environments: Production)",
      requestType: "deployment",
      idempotencyKey: "deployment:octo-org/payments:9001:production:77",
      workflowId: "9001",
      decisionData: { environment: "production", ref: "main", sha: DEPLOYMENT.sha, workflow_run: 9001, triggered_by: "deploy-agent", event: "push" },
    });
    expect(settled(FILE, "staging").input.approvalReason).toBe(
      "hitl is a deployment protection rule of staging, which .hitl.yml's environments: does not name, so the repository's approvers decide",
    );
  });
});

describe(".hitl.yml environments:", () => {
  it.each([
    ["environments:\n  production: {fallback: {type: use_default, action: ship}}\n", "environments.production.fallback.action: a deployment's default action is approve or reject"],
    ["environments:\n  production: {fallback: {type: delegate, rule: nightly}}\n", "environments.production.fallback.rule: rules do not decide deployments: delegate to approvers"],
    ["environments:\n  production: {required_approvals: 2, stages: [{name: a}]}\n", "environments.production.stages: give required_approvals or stages, not both"],
    ["environments:\n  production: {deadline: 1h, warning_before: 2h}\n", "environments.production.warning_before: warning_before must be shorter than the deadline (1h)"],
    ["environments:\n  production: {priority: urgent}\n", "environments.production.priority: 'urgent' is not allowed"],
    ["environments:\n  production: {approvers: []}\n", "environments.production.approvers: needs at least 1 item"],
    [
      "requirements:\n  - {name: legal, stages: [{name: review}]}\nenvironments:\n  production: {stages: [{name: Review}]}\n",
      "environments.production.stages.0.name: stage names must be unique across requirements and environments: 'Review' is already a stage of requirement legal",
    ],
  ])("refuses %j", (yaml, expected) => {
    expect(errors(yaml)).toEqual([expected]);
  });
});

describe("checkDeploymentCallback", () => {
  const API = "https://api.github.com";
  it.each([
    [API, "https://api.github.com/repos/octo-org/payments/actions/runs/9001/deployment_protection_rule", { ok: true, runId: 9001 }],
    [API, "https://api.github.com/repos/Octo-Org/Payments/actions/runs/9001/deployment_protection_rule", { ok: true, runId: 9001 }],
    ["https://ghe.example/api/v3", "https://ghe.example/api/v3/repos/octo-org/payments/actions/runs/12/deployment_protection_rule", { ok: true, runId: 12 }],
    ["https://ghe.example/api/v3", "https://ghe.example/repos/octo-org/payments/actions/runs/12/deployment_protection_rule", { ok: false, reason: "deployment_callback_url is not a workflow run's deployment_protection_rule endpoint" }],
    [API, "https://api.github.com.evil.example/repos/octo-org/payments/actions/runs/9001/deployment_protection_rule", { ok: false, reason: "deployment_callback_url points at https://api.github.com.evil.example, not the GitHub API (https://api.github.com)" }],
    [API, "http://api.github.com/repos/octo-org/payments/actions/runs/9001/deployment_protection_rule", { ok: false, reason: "deployment_callback_url points at http://api.github.com, not the GitHub API (https://api.github.com)" }],
    [API, "https://api.github.com:8443/repos/octo-org/payments/actions/runs/9001/deployment_protection_rule", { ok: false, reason: "deployment_callback_url points at https://api.github.com:8443, not the GitHub API (https://api.github.com)" }],
    [API, "https://token@api.github.com/repos/octo-org/payments/actions/runs/9001/deployment_protection_rule", { ok: false, reason: "deployment_callback_url carries credentials, a query or a fragment" }],
    [API, "https://api.github.com/repos/octo-org/payments/actions/runs/9001/deployment_protection_rule?next=x", { ok: false, reason: "deployment_callback_url carries credentials, a query or a fragment" }],
    [API, "https://api.github.com/repos/octo-org/tools/actions/runs/9001/deployment_protection_rule", { ok: false, reason: "deployment_callback_url names another repository than octo-org/payments" }],
    [API, "https://api.github.com/repos/octo-org/payments/actions/runs/9001/../../../../orgs/octo-org/deployment_protection_rule", { ok: false, reason: "deployment_callback_url is not a workflow run's deployment_protection_rule endpoint" }],
    [API, "https://api.github.com/repos/octo-org/payments/actions/runs/0x10/deployment_protection_rule", { ok: false, reason: "deployment_callback_url is not a workflow run's deployment_protection_rule endpoint" }],
    [API, "https://api.github.com/repos/octo-org/payments/actions/runs/99999999999999999999/deployment_protection_rule", { ok: false, reason: "deployment_callback_url is not a workflow run's deployment_protection_rule endpoint" }],
    [API, "not a url", { ok: false, reason: "deployment_callback_url is not a URL" }],
    [API, undefined, { ok: false, reason: "the event has no deployment_callback_url" }],
  ])("against %s: %s", (base, url, expected) => {
    expect(checkDeploymentCallback(url, base, "octo-org/payments")).toEqual(expected);
  });
});

describe("deploymentAnswer", () => {
  const ISSUE = "https://github.com/octo-org/payments/issues/7";
  const ended = (status: ApprovalRequest["status"], decision: Partial<Decision>, extra: Partial<ApprovalRequest> = {}): ApprovalRequest =>
    makeRequest({
      status,
      deployment: DEPLOYMENT,
      availableActions: [
        { id: "approve", label: "Deploy", kind: "approve" },
        { id: "reject", label: "Do not deploy", kind: "reject" },
      ],
      decision: { action: "approve", status: "approved", decidedBy: { type: "human", login: "alice" }, justification: null, decidedAt: NOW.toISOString(), via: "comment", ...decision } as Decision,
      ...extra,
    });

  it.each([
    ["a person's approval", ended("approved", { justification: "ship it" }), { state: "approved", comment: `Approved on hitl by alice: ship it. ${ISSUE}` }],
    ["a person's approval without a reason", ended("approved", {}), { state: "approved", comment: `Approved on hitl by alice. ${ISSUE}` }],
    [
      "a quorum",
      ended("approved", { approvals: [{ by: "alice", action: "approve", at: NOW.toISOString(), stage: "approval", justification: null, via: "comment" }, { by: "erin", action: "approve", at: NOW.toISOString(), stage: "approval", justification: "ok!", via: "comment" }], decidedBy: { type: "human", login: "erin" }, justification: "ok!" }),
      { state: "approved", comment: `Approved on hitl by alice, erin: ok! ${ISSUE}` },
    ],
    ["a rejection", ended("rejected", { action: "reject", status: "rejected", justification: "freeze" }), { state: "rejected", comment: `Rejected on hitl by alice: freeze. ${ISSUE}` }],
    [
      "an approving fallback",
      ended("expired", { status: "expired", decidedBy: { type: "fallback", fallback: "use_default" }, justification: "Previews go out", via: "fallback" }),
      { state: "approved", comment: `Nobody decided on hitl by the deadline, so the fallback approved it: Previews go out. ${ISSUE}` },
    ],
    [
      "an abort",
      ended("expired", { action: "abort", status: "expired", decidedBy: { type: "fallback", fallback: "abort" }, justification: "Nobody came", via: "fallback" }),
      { state: "rejected", comment: `Nobody decided on hitl by the deadline, so the fallback rejected it: Nobody came. ${ISSUE}` },
    ],
    [
      "a cancellation",
      ended("cancelled", { action: "cancel", status: "cancelled", decidedBy: { type: "system", reason: "issue edited" }, justification: "The issue was edited by mallory", via: "issue_edited" }),
      { state: "rejected", comment: `Cancelled on hitl: The issue was edited by mallory. ${ISSUE}` },
    ],
  ])("%s", (_name, request, expected) => {
    expect(deploymentAnswer(request, ISSUE)).toEqual(expected);
  });

  it("keeps the comment short", () => {
    const { comment } = deploymentAnswer(ended("approved", { justification: "x".repeat(5_000) }), ISSUE);
    expect(comment).toHaveLength(1_000);
    expect(comment.endsWith(`… ${ISSUE}`)).toBe(true);
  });
});
