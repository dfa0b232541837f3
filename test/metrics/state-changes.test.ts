import { describe, expect, it } from "vitest";
import type { ApprovalRequest } from "../../src/core/types.js";
import { NO_METRICS, type Metrics } from "../../src/metrics/metrics.js";
import { observeStateChanges } from "../../src/metrics/state-changes.js";
import { makeAudit, makeJob, makeRequest } from "../support/fixtures.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function recording(): { metrics: Metrics; calls: string[] } {
  const calls: string[] = [];
  const metrics: Metrics = { ...NO_METRICS };
  for (const name of Object.keys(NO_METRICS) as (keyof Metrics)[]) (metrics as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => void calls.push(`${name} ${JSON.stringify(args)}`);
  return { metrics, calls };
}

const approved = (request: ApprovalRequest): ApprovalRequest => ({
  ...request,
  status: "approved",
  decision: { action: "approve", status: "approved", decidedBy: { type: "human", login: "alice" }, justification: null, decidedAt: "2026-11-24T10:05:00.000Z", via: "comment" },
});

describe("what a committed write counts", () => {
  it("counts a decision once: superseding the approval later is not a second one", () => {
    const { metrics, calls } = recording();
    const committed = observeStateChanges(metrics, silent);
    const decided = approved(makeRequest({ createdAt: "2026-11-24T10:00:00.000Z" }));
    committed(decided, { audit: [makeAudit(decided, { event: "decided", actor: { type: "human", login: "alice" } })], jobs: [makeJob(decided, { kind: "callback" })] });
    const superseded = { ...decided, status: "superseded" as const };
    committed(superseded, { audit: [makeAudit(superseded, { event: "superseded", actor: { type: "agent", name: "refund-agent" } })] });
    expect(calls).toEqual([
      `requestEnded [${JSON.stringify({ repository: "octo-org/payments", outcome: "approved", decider: "person", via: "comment" })},300]`,
      'job ["callback","queued"]',
    ]);
  });

  it("counts votes, escalations and fallbacks by kind", () => {
    const { metrics, calls } = recording();
    const committed = observeStateChanges(metrics, silent);
    const request = makeRequest();
    committed(request, {
      audit: [
        makeAudit(request, { event: "voted", actor: { type: "human", login: "alice" } }),
        makeAudit(request, { event: "vote_retracted", actor: { type: "human", login: "alice" } }),
        makeAudit(request, { event: "warned", actor: { type: "system", reason: "warning" } }),
        makeAudit(request, { event: "delegated", actor: { type: "fallback", fallback: "delegate" } }),
      ],
    });
    expect(calls).toEqual(['vote ["cast"]', 'vote ["retracted"]', 'escalation ["warned"]', 'escalation ["delegated"]', 'fallback ["delegate"]']);
  });
});
