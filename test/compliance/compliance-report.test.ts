import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatherComplianceReport, type ReportSources } from "../../src/compliance/gather-report.js";
import { percentile } from "../../src/compliance/compliance-report.js";
import type { ComplianceReport } from "../../src/compliance/report-schema.js";
import type { ApprovalRequest, AuditEntry, Decision } from "../../src/core/types.js";
import type { Agent } from "../../src/engine/context.js";
import { createReceiptSigner, type ReceiptSigner } from "../../src/receipts/receipt-signer.js";
import { loadKeyRing } from "../../src/receipts/signing-keys.js";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import type { Store } from "../../src/store/store.js";
import { makeAudit, makeRequest } from "../support/fixtures.js";

const BASE = Date.parse("2026-10-01T00:00:00.000Z");
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const AUDITOR: Agent = { name: "auditor", readAll: true };

/**
 * A history with known answers: requests 1–100 are decided, request i after i minutes, so the
 * decision times are 60 … 6000 s; every tenth expires by its fallback after two escalations,
 * i % 10 ∈ {1, 2} are decided by rule small-refunds, 3 by auto_approve, 4–7 approved by people,
 * 8–9 rejected. Five more are cancelled by the agent, three still pending. Four are written by
 * hand with a fault: 4 approved by the account it was made on behalf of, 5 approved by one
 * person in two stages that ask for distinct people, 6 approved by its pull request's author,
 * and 7's receipt was removed.
 */
function decisionFor(i: number, createdAt: number): Pick<ApprovalRequest, "status"> & { decision: Decision } {
  const decidedAt = iso(createdAt + i * 60_000);
  const base = { justification: null, decidedAt };
  switch (i % 10) {
    case 0:
      return { status: "expired", decision: { ...base, action: "abort", status: "expired", decidedBy: { type: "fallback", fallback: "abort" }, via: "fallback", fallback: { type: "abort", reason: "nobody answered" } } };
    case 1:
    case 2:
      return { status: "approved", decision: { ...base, action: "approve", status: "approved", decidedBy: { type: "rule", id: "small-refunds" }, via: "rule" } };
    case 3:
      return { status: "approved", decision: { ...base, action: "approve", status: "approved", decidedBy: { type: "system", reason: "auto_approve" }, via: "auto_approve" } };
    case 8:
    case 9:
      return { status: "rejected", decision: { ...base, action: "reject", status: "rejected", decidedBy: { type: "human", login: "bob" }, via: "review" } };
    default:
      return { status: "approved", decision: { ...base, action: "approve", status: "approved", decidedBy: { type: "human", login: "alice" }, via: "comment" } };
  }
}

async function seed(store: Store, signer: ReceiptSigner): Promise<Map<number, ApprovalRequest>> {
  const byIndex = new Map<number, ApprovalRequest>();
  const write = async (request: ApprovalRequest, entries: AuditEntry[] = []) => {
    const signed = request.decision ? { ...request, decision: { ...request.decision, receipt: await signer.sign(request) } } : request;
    await store.create(signed, { audit: [makeAudit(signed, { at: signed.createdAt }), ...entries] });
    return signed;
  };
  for (let i = 1; i <= 100; i++) {
    const createdAt = BASE + i * HOUR;
    let request = makeRequest({ id: `req_h${String(i).padStart(3, "0")}`, createdAt: iso(createdAt), agentLogins: ["refund-bot"], ...decisionFor(i, createdAt) });
    if (i === 4) request = { ...request, onBehalfOf: "dana", decision: { ...request.decision!, decidedBy: { type: "human", login: "Dana" } } };
    if (i === 5) {
      request = {
        ...request,
        stages: [
          { name: "review", approvers: [], required: 1, reject: "veto", allowRepeatApprovers: false },
          { name: "finance", approvers: [], required: 1, reject: "veto", allowRepeatApprovers: false },
        ],
        decision: {
          ...request.decision!,
          decidedBy: { type: "human", login: "carol" },
          stage: "finance",
          approvals: [
            { by: "carol", action: "approve", at: iso(createdAt + 60_000), stage: "review", justification: null, via: "comment" },
            { by: "Carol", action: "approve", at: request.decision!.decidedAt, stage: "finance", justification: null, via: "comment" },
          ],
        },
      };
    }
    if (i === 6) {
      request = {
        ...request,
        surface: { type: "pull_request", number: 42 },
        surfaceRef: { type: "pull_request", number: 42, url: null, author: "erin", headSha: "abc1234" },
        decision: { ...request.decision!, decidedBy: { type: "human", login: "erin" }, via: "review", headSha: "abc1234" },
      };
    }
    const escalations = i % 10 === 0 ? [1, 2].map((level) => makeAudit(request, { event: "escalated", at: iso(createdAt + level * 1000), actor: { type: "system", reason: "sweep" } })) : [];
    let stored = await write(request, escalations);
    if (i === 7) {
      const { receipt: _removed, ...bare } = stored.decision!;
      stored = (await store.update({ ...stored, decision: bare }, 1))!;
    }
    byIndex.set(i, stored);
  }
  for (let j = 1; j <= 5; j++) {
    const createdAt = BASE + (100 + j) * HOUR;
    const decidedAt = iso(createdAt + 30_000);
    await write(makeRequest({ id: `req_c${j}`, createdAt: iso(createdAt), status: "cancelled", decision: { action: "cancel", status: "cancelled", decidedBy: { type: "agent", name: "refund-agent" }, justification: null, decidedAt, via: "api" } }));
  }
  for (let j = 1; j <= 3; j++) await write(makeRequest({ id: `req_p${j}`, createdAt: iso(BASE + (110 + j) * HOUR) }));
  // Another agent's request: an agent without read-all never sees it.
  await write(makeRequest({ id: "req_other", requestedBy: "deploy-bot", createdAt: iso(BASE + 120 * HOUR) }));
  return byIndex;
}

describe("the compliance report over a generated history", () => {
  let dir: string;
  let store: Store;
  let sources: ReportSources;
  let history: Map<number, ApprovalRequest>;
  let report: ComplianceReport;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hitl-compliance-"));
    store = await createEmbeddedStore({ dir, fsync: false });
    const signer = createReceiptSigner(() => loadKeyRing({ configured: { signing: null, retired: [] }, store, issuer: "github-app:1" }));
    history = await seed(store, signer);
    sources = {
      list: (query, agent) => store.list(agent.readAll ? query : { ...query, requestedBy: agent.name }),
      audit: (repo, limit, agent) => store.audit(repo, limit, agent.readAll ? undefined : agent.name),
      jwks: signer.jwks,
      issuer: signer.issuer,
      clock: () => new Date("2026-11-01T00:00:00.000Z"),
    };
    report = await gatherComplianceReport(sources, { repo: "octo-org/payments" }, AUDITOR);
  });

  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("counts outcomes, and computes time to decision and rates over the decided requests", () => {
    const { summary } = report;
    expect(summary.requests).toBe(109);
    expect(summary.outcomes).toEqual({ pending: 4, approved: 70, rejected: 20, expired: 10, cancelled: 5, superseded: 0 });
    expect(summary.decided).toBe(100);
    expect(summary.decision_seconds).toEqual({ count: 100, p50: 3000, p90: 5400, p99: 5940 });
    expect(summary.deadline_rate).toBe(0.1);
    expect(summary.fallback_rate).toBe(0.1);
    expect(summary.human_decisions).toBe(60);
    expect(summary.auto_decisions).toEqual([
      { rule: "auto_approve", decided: 10, share: 0.1 },
      { rule: "small-refunds", decided: 20, share: 0.2 },
    ]);
    expect(summary.receipts).toEqual({ valid: 104, invalid: 0, missing: 1 });
  });

  it("reports every planted violation, and nothing else", () => {
    expect(report.summary.violations).toEqual([
      { request_id: "req_h004", check: "not_on_behalf_of", login: "Dana", message: "Dana approved a request made on their own behalf." },
      { request_id: "req_h005", check: "distinct_stage_approvers", login: "Carol", message: "Carol approved in stage review and again in stage finance, which asks for other people." },
      { request_id: "req_h006", check: "not_pull_request_author", login: "erin", message: "erin approved their own pull request #42." },
      {
        request_id: "req_h007",
        check: "receipt_valid",
        login: null,
        message: "The decision has no receipt: it was made before receipts existed, or its receipt was removed from the store.",
      },
    ]);
  });

  it("describes each request: who asked, who decided and how, escalations, fallbacks, rules, checks", () => {
    const row = (id: string) => report.requests.find((candidate) => candidate.id === id)!;
    expect(row("req_h010")).toMatchObject({ status: "expired", decision_seconds: 600, decided_by: { kind: "fallback", id: "abort" }, escalations: 2, deadline_reached: true, fallback: "abort", rule: null, deciders: [] });
    expect(row("req_h011")).toMatchObject({ rule: "small-refunds", decided_by: { kind: "rule", id: "small-refunds" }, checks: [{ check: "receipt_valid", ok: true }] });
    expect(row("req_h014")).toMatchObject({
      requested_by: "refund-agent",
      agent_logins: ["refund-bot"],
      deciders: [{ login: "alice", action: "approve", kind: "approve", via: "comment", stage: null, at: history.get(14)!.decision!.decidedAt }],
      checks: [
        { check: "not_requester", ok: true },
        { check: "no_bot_approver", ok: true },
        { check: "receipt_valid", ok: true },
      ],
    });
    expect(row("req_h014").receipt).toMatchObject({ status: "valid", reason: null, payload: { request_id: "req_h014", decider: { kind: "human", id: "alice" } } });
    expect(row("req_h005").deciders.map((d) => [d.login, d.stage])).toEqual([
      ["carol", "review"],
      ["Carol", "finance"],
    ]);
    expect(row("req_p1")).toMatchObject({ status: "pending", decided_at: null, decision_seconds: null, checks: [], receipt: { status: "missing" } });
  });

  it("keeps to [since, until) and, for a token without read-all, to the agent's own requests", async () => {
    const window = await gatherComplianceReport(sources, { since: iso(BASE + 51 * HOUR), until: iso(BASE + 61 * HOUR) }, AUDITOR);
    expect(window.requests.map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, k) => `req_h0${51 + k}`));
    expect(window.summary.decision_seconds).toEqual({ count: 10, p50: 55 * 60, p90: 59 * 60, p99: 60 * 60 });
    const own = await gatherComplianceReport(sources, {}, { name: "deploy-bot" });
    expect(own.scope).toMatchObject({ agent: "deploy-bot", repo: null });
    expect(own.requests.map((r) => r.id)).toEqual(["req_other"]);
  });
});

describe("percentile (nearest rank)", () => {
  it.each([
    [[], 50, null],
    [[7], 99, 7],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 51, 3],
    [[1, 2, 3, 4], 100, 4],
    [[10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90, 90],
    [[10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 91, 100],
  ])("of %j at p%i is %j", (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});
