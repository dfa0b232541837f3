import { describe, expect, it } from "vitest";
import { escalationMessage, readChannels, unsignedChannelWarnings } from "../../src/notify/channels.js";
import { NO_ALLOWED_TARGETS, parseAllowedTargets } from "../../src/notify/private-targets.js";
import { makeRequest } from "../support/fixtures.js";

const ZWJ = "\u200D";

describe("notification channels", () => {
  it("reads HITL_CHANNEL_<NAME> variables, Slack webhooks by their host", () => {
    expect(
      readChannels({
        HITL_CHANNEL_SLACK: "https://hooks.slack.com/services/T0/B0/secret",
        HITL_CHANNEL_ON_CALL: "https://pager.example/hooks/hitl",
        HITL_CHANNEL_EMPTY: "",
        HITL_CHANNEL_ON_CALL_SECRET: "on-call-secret-0123456789",
        OTHER: "https://ignored.example",
      }, NO_ALLOWED_TARGETS),
    ).toEqual({
      channels: [
        { name: "slack", url: "https://hooks.slack.com/services/T0/B0/secret", kind: "slack" },
        { name: "on_call", url: "https://pager.example/hooks/hitl", kind: "webhook", secret: "on-call-secret-0123456789" },
      ],
      errors: [],
    });
  });

  it("names a bad variable without echoing its value", () => {
    const { errors } = readChannels({ HITL_CHANNEL_PAGER: "not a url with a secret", HITL_CHANNEL_FTP: "ftp://x.example/secret" }, NO_ALLOWED_TARGETS);
    expect(errors).toEqual(["HITL_CHANNEL_PAGER: must be an https URL", "HITL_CHANNEL_FTP: must be an https URL (http only for hosts in HITL_ALLOWED_PRIVATE_TARGETS)"]);
  });

  it("refuses http and private addresses unless HITL_ALLOWED_PRIVATE_TARGETS lists the host", () => {
    const env = {
      HITL_CHANNEL_PLAIN: "http://pager.example/hooks",
      HITL_CHANNEL_METADATA: "https://169.254.169.254/latest",
      HITL_CHANNEL_MAPPED: "https://[::ffff:10.0.0.7]/hooks",
      HITL_CHANNEL_INTERNAL: "http://pager.internal:8080/hooks",
    };
    expect(readChannels(env, NO_ALLOWED_TARGETS).errors).toEqual([
      "HITL_CHANNEL_PLAIN: must be an https URL (http only for hosts in HITL_ALLOWED_PRIVATE_TARGETS)",
      "HITL_CHANNEL_METADATA: must not be a private, loopback, link-local or metadata address unless HITL_ALLOWED_PRIVATE_TARGETS lists it",
      "HITL_CHANNEL_MAPPED: must not be a private, loopback, link-local or metadata address unless HITL_ALLOWED_PRIVATE_TARGETS lists it",
      "HITL_CHANNEL_INTERNAL: must be an https URL (http only for hosts in HITL_ALLOWED_PRIVATE_TARGETS)",
    ]);
    const allowed = parseAllowedTargets("pager.internal,10.0.0.0/8").targets;
    expect(readChannels({ HITL_CHANNEL_MAPPED: env.HITL_CHANNEL_MAPPED, HITL_CHANNEL_INTERNAL: env.HITL_CHANNEL_INTERNAL }, allowed)).toEqual({
      channels: [
        { name: "mapped", url: "https://[::ffff:10.0.0.7]/hooks", kind: "webhook" },
        { name: "internal", url: "http://pager.internal:8080/hooks", kind: "webhook" },
      ],
      errors: [],
    });
  });

  it("names a channel secret that is short, has no channel, or is set for Slack (which does not check signatures)", () => {
    const { errors } = readChannels(
      {
        HITL_CHANNEL_SLACK: "https://hooks.slack.com/services/T0/B0/x",
        HITL_CHANNEL_SLACK_SECRET: "slack-secret-0123456789",
        HITL_CHANNEL_PAGER: "https://pager.example/h",
        HITL_CHANNEL_PAGER_SECRET: "short",
        HITL_CHANNEL_GONE_SECRET: "gone-secret-0123456789",
      },
      NO_ALLOWED_TARGETS,
    );
    expect(errors).toEqual([
      "HITL_CHANNEL_SLACK_SECRET: Slack incoming webhooks are not signed (their URL is the secret); leave it out",
      "HITL_CHANNEL_PAGER_SECRET: must be at least 16 characters",
      "HITL_CHANNEL_GONE_SECRET: there is no HITL_CHANNEL_GONE to sign for",
    ]);
    expect(errors.join("\n")).not.toMatch(/0123456789|short/);
  });

  it("warns of each webhook channel without a secret (Slack's are never signed)", () => {
    const { channels } = readChannels(
      {
        HITL_CHANNEL_SLACK: "https://hooks.slack.com/services/T0/B0/x",
        HITL_CHANNEL_ON_CALL: "https://pager.example/h",
        HITL_CHANNEL_SIGNED: "https://signed.example/h",
        HITL_CHANNEL_SIGNED_SECRET: "signed-secret-0123456789",
      },
      NO_ALLOWED_TARGETS,
    );
    expect(unsignedChannelWarnings(channels)).toEqual([
      "HITL_CHANNEL_ON_CALL has no HITL_CHANNEL_ON_CALL_SECRET: its posts are not signed, so its receiver cannot tell them from forgeries.",
    ]);
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
