import { describe, expect, it } from "vitest";
import type { ApprovalRequest } from "../../src/core/types.js";
import type { ChannelOutcome } from "../../src/engine/decide-request.js";
import { batchPage, outcomePage, problemPage, requestPage } from "../../src/desk/desk-pages.js";
import { readable } from "../support/desk-client.js";

const NOW = new Date("2026-11-24T09:00:00.000Z");

const request = (fields: Partial<ApprovalRequest> = {}): ApprovalRequest =>
  ({
    id: "req_1",
    version: 3,
    repo: "octo-org/payments",
    installationId: 1,
    status: "pending",
    taskDescription: "Refund order 1234 <b>now</b>",
    approvalReason: "Refunds over $50 need a human",
    decisionData: { amount: 120 },
    availableActions: [
      { id: "approve", label: "Refund" },
      { id: "reject", label: "Deny" },
    ],
    priority: "high",
    deadline: "2026-11-24T15:00:00.000Z",
    fallback: { type: "abort" },
    surface: { type: "issue" },
    surfaceRef: null,
    approvers: [],
    requestType: "refund",
    riskScore: 0.4,
    confidence: 0.9,
    callbackUrl: null,
    requestedBy: "refund-agent",
    agentLogins: [],
    onBehalfOf: "dave",
    idempotencyKey: null,
    contextHash: "0".repeat(64),
    invalidateOnPush: false,
    createdAt: "2026-11-24T08:00:00.000Z",
    updatedAt: "2026-11-24T08:00:00.000Z",
    escalation: { ladder: [], warningBeforeMs: null, level: 0, warned: false, nextAt: null },
    evaluation: null,
    decision: null,
    ...fields,
  }) as ApprovalRequest;

const decided = request({ status: "rejected", decision: { action: "reject", status: "rejected", decidedBy: { type: "human", login: "bob" }, justification: null, decidedAt: "2026-11-24T08:30:00.000Z", via: "slack" } });
const text = (page: { body: { value: string } }) => readable(page.body.value);

describe("the desk's pages", () => {
  it.each<[ChannelOutcome, number, string]>([
    [{ type: "decided", request: request({ status: "approved" }) }, 200, "Approved alice decided Approve: Refund. The agent is told now. Back to the queue"],
    [{ type: "voted", request: request() }, 200, "Your vote counts alice voted. The request waits for more approvals. Back to the queue"],
    [{ type: "already_decided", request: decided }, 409, "Someone decided first Nothing was decided by you: Rejected by bob on Slack on 24 Nov 2026 08:30 UTC. Back to the queue"],
    [{ type: "stale", request: request() }, 409, "This request changed since you opened it Nothing was decided. Look at it again before deciding. Open it again Back to the queue"],
    [{ type: "old_head", request: request(), headSha: "b".repeat(40) }, 409, "This request changed since you opened it Nothing was decided. Look at it again before deciding. Open it again Back to the queue"],
    [{ type: "refused", request: request(), reason: "not_approver", allowed: ["bob"] }, 403, "You may not decide this request You are not among those who may decide it. Nothing was decided. Back to the queue"],
    [{ type: "refused", request: request(), reason: "requester", allowed: [] }, 403, "You may not decide this request The agent, the person it acts for and the author of the change never decide their own request. Nothing was decided. Back to the queue"],
    [{ type: "vote_refused", request: request(), reason: "counted_earlier" }, 409, "Your vote was not counted Your vote counted in an earlier stage, and one person counts in one stage only. Back to the queue"],
    [{ type: "vote_refused", request: request(), reason: "stage_closed" }, 409, "Your vote was not counted The open stage has timed out. Back to the queue"],
    [{ type: "vote_refused", request: request(), reason: "no_vote" }, 409, "Your vote was not counted You have no vote to withdraw. Back to the queue"],
    [{ type: "past_deadline", request: request() }, 410, "The deadline has passed Nothing was decided; the request's fallback applies. Back to the queue"],
    [{ type: "unknown_action", request: request() }, 400, "This request does not offer that action Nothing was decided. Back to the queue"],
    [{ type: "not_found", requestId: "req_9" }, 404, "This request does not exist Nothing was decided. Back to the queue"],
    [{ type: "needs_input", request: request(), problem: { type: "feedback", missing: "reason_code", policy: { minLength: 0, reasons: ["fraud", "policy"] } } }, 422, "Not decided yet Rejecting needs a reason code (fraud, policy). Back to the queue"],
    [{ type: "needs_input", request: request(), problem: { type: "edits", problems: ["amount must be at most 120"] } }, 422, "Not decided yet amount must be at most 120. Back to the queue"],
  ])("answers %j", (outcome, status, expected) => {
    const page = outcomePage(outcome, "alice", "approve", "/desk");
    expect(page.status).toBe(status);
    expect(text(page)).toBe(expected);
  });

  it("reports each request of a batch, decided or why not", () => {
    const page = batchPage({
      base: "/desk",
      batchId: "batch_1",
      kind: "reject",
      results: [
        { id: "req_1", result: "outcome", action: "reject", outcome: { type: "decided", request: decided } },
        { id: "req_2", result: "not_yours" },
        { id: "req_3", result: "choose", request: request() },
        { id: "req_4", result: "outcome", action: "reject", outcome: { type: "stale", request: request() } },
        { id: "req_5", result: "outcome", action: "reject", outcome: { type: "refused", request: request(), reason: "not_approver", allowed: [] } },
        { id: "req_6", result: "outcome", action: "reject", outcome: { type: "needs_input", request: request(), problem: { type: "feedback", missing: "justification", policy: { minLength: 10, reasons: [] } } } },
        { id: "req_7", result: "outcome", action: "reject", outcome: { type: "vote_refused", request: request(), reason: "stage_closed" } },
        { id: "req_8", result: "outcome", action: "reject", outcome: { type: "past_deadline", request: request() } },
        { id: "req_9", result: "outcome", action: "reject", outcome: { type: "unknown_action", request: request() } },
        { id: "req_10", result: "outcome", action: "reject", outcome: { type: "not_found", requestId: "req_10" } },
      ],
    });
    expect(text(page)).toBe(
      "Rejected 1 of 10 Batch batch_1: each request was decided on its own and its audit entry names the batch. " +
        "Decided Refund order 1234 <b>now</b>: Rejected by bob on Slack. " +
        "Could not be decided req_2: not yours to decide; nothing was decided. " +
        "Refund order 1234 <b>now</b>: it offers more than one such action; decide it on its own page. " +
        "Refund order 1234 <b>now</b>: it changed since the queue was shown; look at it again. " +
        "Refund order 1234 <b>now</b>: not yours to decide. " +
        "Refund order 1234 <b>now</b>: A justification of at least 10 characters is needed. " +
        "Refund order 1234 <b>now</b>: your vote was not counted. " +
        "Refund order 1234 <b>now</b>: the deadline has passed. " +
        "Refund order 1234 <b>now</b>: it does not offer that action. " +
        "req_10: not yours to decide; nothing was decided. Back to the queue",
    );
    // Agent text is escaped, never markup.
    expect(page.body.value).not.toContain("<b>");
  });

  it("shows a request with stages, its votes, its history, and one that ended", () => {
    const staged = request({
      sections: [{ title: "Why this customer", text: "Asked twice; <i>loyal</i> since 2019", data: { orders: 41 } }, { title: "Notes" }],
      stages: [{ name: "finance", approvers: [], required: 2, reject: "veto", allowRepeatApprovers: false }],
      votes: [{ by: "bob", action: "approve", at: "2026-11-24T08:40:00.000Z", stage: "finance", justification: "fine by me", via: "desk" }],
    });
    const page = requestPage({ base: "/desk", csrf: "t", request: staged, mayDecide: true, history: [decided], now: NOW });
    expect(text(page)).toBe(
      "← Queue Decision needed · high priority Refund order 1234 <b>now</b> refund-agent asks for approval. Why: Refunds over $50 need a human Deadline 24 Nov 2026 15:00 UTC (in 6 hours) If nobody decides by then the request is aborted " +
        "Decision data amount 120 For review Why this customer Asked twice; <i>loyal</i> since 2019 {\"orders\":41} Notes About this request Repository octo-org/payments Type refund Opened 24 Nov 2026 08:00 UTC On behalf of dave Risk score 0.4 Agent's confidence 0.9 " +
        "Votes so far bob voted Approve: Refund in stage finance on 24 Nov 2026 08:40 UTC: fine by me " +
        "Decide Justification (optional) Approve: Refund Reject: Deny " +
        "Earlier requests of this type Refund order 1234 <b>now</b>: Rejected by bob on Slack on 24 Nov 2026 08:30 UTC.",
    );
    const ended = requestPage({ base: "/desk", csrf: "t", request: decided, mayDecide: false, history: [], now: NOW });
    expect(text(ended)).toContain("No longer waiting Rejected by bob on Slack on 24 Nov 2026 08:30 UTC. Earlier requests of this type None in this repository.");
    expect(ended.body.value).not.toContain("<form");
  });

  it("says why a page is missing", () => {
    expect(text(problemPage(404, "Not found", "The desk has no such page.", "/desk"))).toBe("Not found The desk has no such page. Back to the queue");
  });
});

describe("the queue page", () => {
  it("counts in words, and says when it read only the first 500 pending requests", async () => {
    const { queuePage } = await import("../../src/desk/desk-pages.js");
    const { countQueue } = await import("../../src/desk/queue.js");
    const rows = [{ request: request(), waitsOnMe: false, stage: "single" }];
    const page = queuePage({ base: "/desk", csrf: "t", queue: { rows, counts: countQueue(rows), truncated: true, unchecked: true }, filter: {}, now: NOW });
    expect(text(page)).toBe(
      "1 request waits for you Only the first 500 pending requests were read; decide some to see the rest. GitHub did not answer for some requests just now, so they are not shown. Reload to try again. " +
        "Whose turn All I may decide 1 Waiting on me 0 Priority Any 1 high 1 Repository Any 1 octo-org/payments 1 Type Any 1 refund 1 Stage Any 1 one decision 1 " +
        "Refund order 1234 <b>now</b> high refund octo-org/payments · asked by refund-agent 6 hours left " +
        "Select every request shown All 1 matching this filter Justification for the selected requests Approve selected Reject selected",
    );
  });
});
