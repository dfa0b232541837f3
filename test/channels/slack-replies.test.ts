import { describe, expect, it } from "vitest";
import { replyFor } from "../../src/channels/slack/interactions.js";
import type { ChannelOutcome } from "../../src/engine/decide-request.js";
import { makeRequest } from "../support/fixtures.js";

const pending = makeRequest({ id: "req_1" });
const approved = makeRequest({
  id: "req_1",
  status: "approved",
  decision: { action: "approve", status: "approved", decidedBy: { type: "human", login: "carol" }, justification: null, decidedAt: "2026-11-24T10:05:00.000Z", via: "review" },
});

describe("what a person who pressed a Slack button is told", () => {
  it.each<[string, ChannelOutcome, string | null]>([
    ["decided: the message itself shows it", { type: "decided", request: approved }, null],
    ["voted", { type: "voted", request: pending }, "Your vote (approve) counts, as alice. The request waits for more votes."],
    ["already decided", { type: "already_decided", request: approved }, "Nothing was decided: this request is already approved. Approved by carol on 24 Nov 2026 10:05 UTC."],
    ["the requester", { type: "refused", request: pending, reason: "requester", allowed: [] }, "Nothing was decided: alice asked for this request (or the agent acts for alice), and nobody decides their own request."],
    ["not an approver", { type: "refused", request: pending, reason: "not_approver", allowed: ["bob", "@octo-org/finance"] }, "Nothing was decided: alice is not among those who may decide this request (bob, @octo-org/finance)."],
    ["anyone with write access", { type: "refused", request: pending, reason: "not_approver", allowed: [] }, "Nothing was decided: alice is not among those who may decide this request (anyone with write access)."],
    ["past the deadline", { type: "past_deadline", request: pending }, "Nothing was decided: the deadline has passed, and the fallback applies."],
    ["new commits", { type: "old_head", request: pending, headSha: "abc" }, "Nothing was decided: new commits were pushed after this message was sent. See the request on GitHub."],
    ["a reason code missing", { type: "needs_input", request: pending, problem: { type: "feedback", missing: "reason_code", policy: { minLength: 0, reasons: ["fraud", "duplicate"] } } }, "Nothing was decided: this request needs a reason code (fraud, duplicate)."],
    ["a justification too short", { type: "needs_input", request: pending, problem: { type: "feedback", missing: "justification", policy: { minLength: 10, reasons: [] } } }, "Nothing was decided: this request needs a justification of at least 10 characters."],
    ["an action not offered", { type: "unknown_action", request: pending }, "Nothing was decided: the request does not offer that action."],
    ["counted in an earlier stage", { type: "vote_refused", request: pending, reason: "counted_earlier" }, "Nothing was decided: your vote counted in an earlier stage, and one person counts in one stage only."],
    ["stage timed out", { type: "vote_refused", request: pending, reason: "stage_closed" }, "Nothing was decided: the open stage has timed out."],
    ["stale", { type: "stale", request: pending }, "Nothing was decided: the request changed after this message was sent. See it on GitHub."],
    ["not found", { type: "not_found", requestId: "req_gone" }, "Nothing was decided: there is no request req_gone."],
  ])("%s", (_name, outcome, text) => {
    expect(replyFor(outcome, "alice", "approve")).toBe(text);
  });
});
