import { describe, expect, it } from "vitest";
import { actionForIdentifier, renderCheckRun, renderCheckRunConclusion } from "../../../src/core/render/check-run.js";
import type { ApprovalRequest, Decision } from "../../../src/core/types.js";
import { makeRequest } from "../../support/fixtures.js";

const ZWJ = "\u200D";
const now = new Date("2026-11-24T10:00:00.000Z");
const context = { now, recent: [] };

function request(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return makeRequest({ id: "req_pr1", surface: { type: "pull_request", number: 42 }, ...overrides });
}

function decided(decision: Partial<Decision>, overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  const full: Decision = {
    action: "approve",
    status: "approved",
    decidedBy: { type: "human", login: "alice" },
    justification: "looks fine",
    decidedAt: "2026-11-24T10:05:00.000Z",
    via: "check_run",
    ...decision,
  };
  return request({ status: full.status, decision: full, ...overrides });
}

describe("renderCheckRun", () => {
  it("renders a pending request with buttons", () => {
    const run = renderCheckRun(request(), context);
    expect(run.name).toBe("hitl/approval");
    expect(run.title).toBe("Approval needed: Refund order 1234");
    expect(run.summary).toBe(
      "⏳ **Waiting for a decision.** If nobody decides by 27 Nov 2026 10:00 UTC, the request is aborted: nobody answered.\n\n`refund-agent` asks for approval: **Refund order 1234**. Why: Refunds over &#36;50 need a human. Priority: high.",
    );
    expect(run.actions).toEqual([
      { label: "Approve: Refund", description: "Approves: Customer gets $120 back", identifier: "approve" },
      { label: "Reject: Deny", description: "Rejects: Ticket goes back to support", identifier: "reject" },
    ]);
    expect(run.text).toContain(`### Actions

- \`/approve\` **Refund** (approves): Customer gets &#36;120 back
- \`/reject\` **Deny** (rejects): Ticket goes back to support

**How to decide:** press a button above, submit a review (**Approve** approves, **Request changes** rejects), or post a comment on the pull request that starts with one of the commands above; the rest of the comment is your reason.

**Who may decide:** @alice and @octo-org/finance (never bots, the requester or an edited comment).`);
    expect(run.text.startsWith("### Decision data\n")).toBe(true);
    expect(run.text).not.toContain("<!-- hitl:request:");
  });

  it("makes agent text in the title and buttons inert", () => {
    const run = renderCheckRun(
      request({
        taskDescription: "Deploy\u202E #12 for @bob\nvia https://evil.example",
        availableActions: [{ id: "approve", label: "Ship @bob", impact: "closes GH-7" }],
      }),
      context,
    );
    expect(run.title).toBe(`Approval needed: Deploy #${ZWJ}12 for @${ZWJ}bob via https:${ZWJ}//evil.example`);
    expect(run.actions[0]).toEqual({ label: `Approve: Ship @${ZWJ}bob`, description: `Approves: closes GH-${ZWJ}7`, identifier: "approve" });
  });

  it("cuts the title to 255 characters", () => {
    const run = renderCheckRun(request({ taskDescription: "word ".repeat(100) }), context);
    expect(run.title.length).toBeLessThanOrEqual(255);
    expect(run.title).toMatch(/^Approval needed: word word .*word…$/);
  });

  it("offers at most 3 buttons, approve and reject first, each within GitHub's limits", () => {
    const long = "refund-the-whole-order-and-close-the-ticket";
    const run = renderCheckRun(
      request({
        availableActions: [
          { id: long, label: "Refund the whole order and close", impact: "Customer gets $120 back and the support ticket is closed for good", kind: "reject" },
          { id: "reject", label: "Deny" },
          { id: "partial", label: "Partial refund" },
          { id: "approve", label: "Refund" },
        ],
      }),
      context,
    );
    expect(run.actions).toEqual([
      { label: "Approve: Refund", description: "Approves", identifier: "approve" },
      { label: "Reject: Deny", description: "Rejects", identifier: "reject" },
      { label: "Reject: Refund the…", description: "Rejects: Customer gets $120 back and…", identifier: "a1" },
    ]);
    for (const action of run.actions) {
      expect(action.label.length).toBeLessThanOrEqual(20);
      expect(action.description.length).toBeLessThanOrEqual(40);
      expect(action.identifier.length).toBeLessThanOrEqual(20);
    }
  });

  it("keeps the text within GitHub's limit even with thousands of actions", () => {
    const availableActions = Array.from({ length: 2000 }, (_, i) => ({ id: `option-${i}`, label: `Option ${i}`, impact: "x".repeat(30) }));
    const run = renderCheckRun(request({ availableActions }), context);
    expect(run.text.length).toBeLessThanOrEqual(65_535);
    expect(run.text.endsWith("\n\n*The rest is cut to fit GitHub's size limit.*")).toBe(true);
    expect(run.actions).toHaveLength(3);
  });

  it("offers approve and reject when the agent gave no actions", () => {
    const run = renderCheckRun(request({ availableActions: [] }), context);
    expect(run.actions).toEqual([
      { label: "Approve", description: "Approves", identifier: "approve" },
      { label: "Reject", description: "Rejects", identifier: "reject" },
    ]);
  });

  it("says in its status line that new commits made earlier approvals stale", () => {
    const pushed = request({
      surface: { type: "pull_request", number: 42 },
      invalidateOnPush: true,
      recovery: { checkedAt: "", notBefore: "2026-11-24T11:30:00Z", comments: { since: "2026-11-24T10:00:00Z", lastId: 0, etag: null }, reviews: null },
    });
    expect(renderCheckRun(pushed, context).summary.split("\n")[0]).toBe(
      "🔄 **Waiting for a decision on the new commits** pushed 24 Nov 2026 11:30 UTC; approvals given before them no longer count. If nobody decides by 27 Nov 2026 10:00 UTC, the request is aborted: nobody answered.",
    );
    // Opened on the pull request with no push since: waiting, as on an issue.
    expect(renderCheckRun({ ...pushed, recovery: { ...pushed.recovery!, notBefore: "2026-11-24T10:00:00Z" } }, context).summary).toMatch(/^⏳ \*\*Waiting for a decision\.\*\*/);
  });

  it("offers no buttons once decided", () => {
    const run = renderCheckRun(decided({}), context);
    expect(run.actions).toEqual([]);
    expect(run.title).toBe("Approved by @alice");
    expect(run.summary).toBe(
      "✅ **Approved** by @\u200Dalice with the check run's button on 24 Nov 2026 10:05 UTC: looks fine.\n\n`refund-agent` asks for approval: **Refund order 1234**. Why: Refunds over &#36;50 need a human. Priority: high.",
    );
  });
});

describe("actionForIdentifier", () => {
  it("maps identifiers back to actions, short ids avoiding real ones", () => {
    const long = "x".repeat(21);
    const r = request({
      availableActions: [
        { id: long, label: "Long" },
        { id: "a1", label: "Called a1" },
        { id: "approve", label: "Refund" },
      ],
    });
    expect(renderCheckRun(r, context).actions.map((a) => a.identifier)).toEqual(["approve", "a1-2", "a1"]);
    expect(actionForIdentifier(r, "a1-2")?.id).toBe(long);
    expect(actionForIdentifier(r, "a1")?.id).toBe("a1");
    expect(actionForIdentifier(r, "approve")?.label).toBe("Refund");
    expect(actionForIdentifier(r, "reject")).toBeNull();
    expect(actionForIdentifier(r, "nope")).toBeNull();
  });

  it("maps the default buttons back", () => {
    expect(actionForIdentifier(request({ availableActions: [] }), "reject")).toEqual({ id: "reject", label: "Reject" });
  });
});

describe("renderCheckRunConclusion", () => {
  // GitHub counts `neutral` and `skipped` as passing a required check: only an approval may pass.
  it.each<[string, ApprovalRequest, ReturnType<typeof renderCheckRunConclusion>]>([
    [
      "approved by a person",
      decided({}),
      { conclusion: "success", title: "Approved by @alice", summary: "Approved by @alice on 24 Nov 2026 10:05 UTC: looks fine." },
    ],
    [
      "rejected in a review",
      decided({ action: "reject", status: "rejected", decidedBy: { type: "human", login: "bob" }, justification: "Wrong amount.", via: "review" }),
      { conclusion: "failure", title: "Rejected by @bob", summary: "Rejected by @bob on 24 Nov 2026 10:05 UTC: Wrong amount." },
    ],
    [
      "a chosen action",
      decided(
        { action: "partial", justification: null },
        { availableActions: [{ id: "partial", label: "Partial refund" }, { id: "reject", label: "Deny" }] },
      ),
      { conclusion: "success", title: "Approved (Partial refund) by @alice", summary: "Approved by @alice with **Partial refund** (`partial`) on 24 Nov 2026 10:05 UTC." },
    ],
    [
      "expired",
      decided({ action: "abort", status: "expired", decidedBy: { type: "fallback", fallback: "abort" }, justification: null, decidedAt: "2026-11-27T10:00:00.000Z", via: "fallback" }),
      { conclusion: "failure", title: "Expired: nobody decided by 27 Nov 2026 10:00 UTC", summary: "Nobody decided by 27 Nov 2026 10:00 UTC, so the request is aborted: nobody answered." },
    ],
    [
      "expired with a default action that approves",
      decided(
        { action: "approve", status: "expired", decidedBy: { type: "fallback", fallback: "use_default" }, justification: "ship by default", decidedAt: "2026-11-27T10:00:00.000Z", via: "fallback" },
        { fallback: { type: "use_default", action: "approve", reason: "ship by default" } },
      ),
      { conclusion: "failure", title: "Expired: nobody decided by 27 Nov 2026 10:00 UTC", summary: "Nobody decided by 27 Nov 2026 10:00 UTC, so the default action `approve` is taken: ship by default." },
    ],
    [
      "rejected by a rule",
      decided({ action: "reject", status: "rejected", decidedBy: { type: "rule", id: "no-fridays" }, justification: "Fridays are frozen", via: "rule" }),
      { conclusion: "failure", title: "Rejected by rule no-fridays", summary: "Rejected by rule `no-fridays` on 24 Nov 2026 10:05 UTC: Fridays are frozen." },
    ],
    [
      "cancelled by the agent",
      decided({ action: "cancel", status: "cancelled", decidedBy: { type: "agent", name: "refund-agent" }, justification: "customer withdrew", via: "api" }),
      { conclusion: "failure", title: "Cancelled by refund-agent", summary: "Cancelled by the agent `refund-agent` on 24 Nov 2026 10:05 UTC: customer withdrew." },
    ],
    [
      "cancelled because the pull request closed",
      decided({ action: "cancel", status: "cancelled", decidedBy: { type: "system", reason: "The pull request was closed without being merged." }, justification: null, via: "pull_request_closed" }),
      {
        conclusion: "failure",
        title: "Cancelled: The pull request was closed without being merged",
        summary: "Cancelled on 24 Nov 2026 10:05 UTC: The pull request was closed without being merged.",
      },
    ],
    [
      "an approval the agent superseded",
      decided({}, { status: "superseded", supersededBy: "req_next1" }),
      {
        conclusion: "failure",
        title: "Superseded: asked again in req_next1",
        summary: "Approved by @alice on 24 Nov 2026 10:05 UTC: looks fine. It no longer holds: the agent's context changed, so it asked again in request `req_next1`.",
      },
    ],
  ])("%s", (_name, r, expected) => {
    expect(renderCheckRunConclusion(r)).toEqual(expected);
  });
});
