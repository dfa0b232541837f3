import { describe, expect, it } from "vitest";
import { escalationMessage, readChannels } from "../../src/notify/channels.js";
import { makeRequest } from "../support/fixtures.js";

const ZWJ = "\u200D";

describe("notification channels", () => {
  it("reads HITL_CHANNEL_<NAME> variables, Slack webhooks by their host", () => {
    expect(
      readChannels({
        HITL_CHANNEL_SLACK: "https://hooks.slack.com/services/T0/B0/secret",
        HITL_CHANNEL_ON_CALL: "https://pager.example/hooks/hitl",
        HITL_CHANNEL_EMPTY: "",
        OTHER: "https://ignored.example",
      }),
    ).toEqual({
      channels: [
        { name: "slack", url: "https://hooks.slack.com/services/T0/B0/secret", kind: "slack" },
        { name: "on_call", url: "https://pager.example/hooks/hitl", kind: "webhook" },
      ],
      errors: [],
    });
  });

  it("names a bad variable without echoing its value", () => {
    const { errors } = readChannels({ HITL_CHANNEL_PAGER: "not a url with a secret", HITL_CHANNEL_FTP: "ftp://x.example/secret" });
    expect(errors).toEqual(["HITL_CHANNEL_PAGER: must be an http(s) URL", "HITL_CHANNEL_FTP: must be an http(s) URL"]);
  });

  it("sends Slack a text message naming the task, the wait and the new approvers", () => {
    const request = makeRequest({
      createdAt: "2026-11-24T10:00:00.000Z",
      escalation: { ladder: [{ afterMs: 3_600_000, approvers: ["bob"], message: null, notify: ["slack"] }], warningBeforeMs: null, level: 1, warned: false, nextAt: null },
      surfaceRef: { type: "issue", number: 7, url: "https://github.com/octo-org/payments/issues/7" },
    });
    const body = escalationMessage({ name: "slack", url: "https://hooks.slack.com/x", kind: "slack" }, request, new Date("2026-11-24T13:00:00.000Z"), {});
    expect(body).toEqual({
      text: "Approval needed (high): Refund order 1234 — waiting 3 hours, now with bob. Deadline 2026-11-27T10:00:00.000Z. https://github.com/octo-org/payments/issues/7",
    });
  });

  it("makes the agent's task inert: Slack's control sequences are escaped, mentions and links broken", () => {
    const request = makeRequest({
      createdAt: "2026-11-24T10:00:00.000Z",
      taskDescription: "Refund <!channel> <@U024BE7LH> <https://evil.example|click> @here & www.evil.example\u202E",
      escalation: { ladder: [{ afterMs: 3_600_000, approvers: ["bob"], message: null, notify: ["slack"] }], warningBeforeMs: null, level: 1, warned: false, nextAt: null },
      surfaceRef: { type: "issue", number: 7, url: "https://github.com/octo-org/payments/issues/7" },
    });
    const at = new Date("2026-11-24T13:00:00.000Z");
    const task = `Refund <${ZWJ}!channel> <${ZWJ}@${ZWJ}U024BE7LH> <${ZWJ}https:${ZWJ}//evil.example|click> @${ZWJ}here & www${ZWJ}.evil.example`;
    const tail = " — waiting 3 hours, now with bob. Deadline 2026-11-27T10:00:00.000Z. https://github.com/octo-org/payments/issues/7";
    expect(escalationMessage({ name: "slack", url: "https://hooks.slack.com/x", kind: "slack" }, request, at, {})).toEqual({
      text: `Approval needed (high): Refund &lt;${ZWJ}!channel&gt; &lt;${ZWJ}@${ZWJ}U024BE7LH&gt; &lt;${ZWJ}https:${ZWJ}//evil.example|click&gt; @${ZWJ}here &amp; www${ZWJ}.evil.example${tail}`,
    });
    expect(escalationMessage({ name: "pager", url: "https://pager.example/h", kind: "webhook" }, request, at, { id: request.id })).toEqual({
      event: "request.escalated",
      level: 1,
      approvers: ["bob"],
      text: `Approval needed (high): ${task}${tail}`,
      request: { id: request.id },
    });
  });
});
