import { describe, expect, it } from "vitest";
import { describeRule, renderStageOpenedComment, renderTally, renderVoteRefusedReply, replaceTally, tallyRegion } from "../../../src/core/render/votes.js";
import { makeRequest } from "../../support/fixtures.js";

const J = "\u200D";
const stage = { name: "board", approvers: ["alice", "bob", "carol"], required: "all" as const, reject: "majority" as const, allowRepeatApprovers: false };

describe("the tally and the replies about votes", () => {
  it("describes each kind of rule", () => {
    expect(describeRule(stage)).toBe(`all 3 of @${J}alice, @${J}bob and @${J}carol`);
    expect(describeRule({ ...stage, required: "majority" })).toBe(`a majority (2) of @${J}alice, @${J}bob and @${J}carol`);
    expect(describeRule({ ...stage, approvers: [], required: 1, weights: { alice: 2, "@octo-org/finance": 1 }, threshold: 3 })).toBe(`votes weighing 3 in all (@${J}alice 2 and @${J}octo-org/finance 1)`);
  });

  it("shows the open stage with a closing time and the votes in it", () => {
    const request = makeRequest({
      stages: [{ ...stage, timeoutMs: 3_600_000 }],
      votes: [{ by: "bob", action: "approve", at: "2026-11-24T10:05:00.000Z", stage: "board", justification: null, via: "review" }],
    });
    expect(renderTally(request, new Date("2026-11-24T10:06:00.000Z"))).toBe(
      [
        "### Approvals",
        "",
        `- ⏳ **board** (open): needs all 3 of @${J}alice, @${J}bob and @${J}carol for one action; rejections must reach a majority of that, closes 24 Nov 2026 11:00 UTC.`,
        "",
        "| stage | who | action | when |",
        "| --- | --- | --- | --- |",
        `| board | @${J}bob | \`approve\` | 24 Nov 2026 10:05 UTC |`,
      ].join("\n"),
    );
    expect(renderTally(makeRequest(), new Date())).toBeNull();
  });

  it("replaces only the tally between its markers", () => {
    const request = makeRequest({ stages: [stage], votes: [] });
    const now = new Date("2026-11-24T10:06:00.000Z");
    const body = `head\n\n${tallyRegion(request, now)}\n\ntail`;
    const voted = { ...request, version: 2, votes: [{ by: "bob", action: "approve", at: "2026-11-24T10:05:00.000Z", stage: "board", justification: null, via: "comment" as const }] };
    expect(replaceTally(body, voted, now)).toBe(`head\n\n${tallyRegion(voted, now)}\n\ntail`);
    expect(replaceTally("no tally here", voted, now)).toBeNull();
    // An update that read an older request than the body shows leaves it alone.
    const later = { ...voted, version: 3 };
    expect(replaceTally(`head\n\n${tallyRegion(later, now)}`, request, now)).toBeNull();
  });

  it("answers a vote on a stage that timed out", () => {
    expect(renderVoteRefusedReply("dave", "stage_closed")).toBe("@dave, the open stage of this request has timed out, so your vote was not applied. hitl applies the stage's timeout shortly.");
  });
});

describe("the comment when a stage opens", () => {
  it("mentions the stage's approvers, or those who hold the request when the stage names none", () => {
    const votes = [{ by: "alice", action: "approve", at: "2026-11-24T10:05:00.000Z", stage: "first", justification: null, via: "comment" as const }];
    const base = { approvers: [], reject: "veto" as const, allowRepeatApprovers: false, required: 1 };
    const request = makeRequest({ approvers: ["dave", "@octo-org/finance"], stages: [{ ...base, name: "first" }, { ...base, name: "second" }], votes });
    expect(renderStageOpenedComment(request, new Date("2026-11-24T10:06:00.000Z"))).toBe(
      "@dave and @octo-org/finance, stage **second** of this request is open after first approved. It needs 1 approval for one action. Vote with `/approve [reason]` or `/reject [reason]`; `/retract` withdraws your vote while the stage is open.",
    );
  });
});
