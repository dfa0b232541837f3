import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linkKeyFrom, readLink } from "../../src/channels/links/link-token.js";
import { smsBody } from "../../src/channels/sms/sms-message.js";
import { createSmsSender } from "../../src/channels/sms/sms-sender.js";
import { NO_ALLOWED_TARGETS, parseAllowedTargets } from "../../src/notify/private-targets.js";
import type { Notification, Recipient } from "../../src/channels/channel.js";
import type { ApprovalRequest } from "../../src/core/types.js";
import { makeRequest } from "../support/fixtures.js";
import { startTwilioStandIn, TWILIO_SID, TWILIO_TOKEN, type TwilioStandIn } from "../support/twilio-stand-in.js";

const KEY = linkKeyFrom("link-secret-for-tests-0123456789abcdef");
const NOW = new Date("2026-11-24T10:00:00.000Z");
const ALICE: Recipient = { login: "alice", person: { phone: "+14155550100" }, address: "+14155550100" };
const note = (request: ApprovalRequest, event: Notification["event"]): Notification => ({ event, eventKey: event, request, requestJson: {}, now: NOW, deliveryId: "dlv_test" });

describe("SMS sender (a Twilio-compatible stand-in)", () => {
  let twilio: TwilioStandIn;
  const sender = (overrides: { authToken?: string; allowed?: boolean } = {}) =>
    createSmsSender({
      settings: { accountSid: TWILIO_SID, authToken: overrides.authToken ?? TWILIO_TOKEN, from: "+14155550199", apiUrl: twilio.url },
      outbound: { allowed: overrides.allowed === false ? NO_ALLOWED_TARGETS : parseAllowedTargets("127.0.0.1").targets },
      publicUrl: "https://hitl.example.com/",
      linkKey: KEY,
    });

  beforeAll(async () => {
    twilio = await startTwilioStandIn();
  });
  afterAll(() => twilio.close());

  it("sends an urgent request's summary and one link that lets the person pick the action", async () => {
    const request = makeRequest({ id: "req_sms1", priority: "critical" });
    expect(await sender().send(note(request, "opened"), ALICE)).toEqual({ ok: true, ref: { sid: "SM00000000000000000000000000000001" } });
    const sent = twilio.sent.at(-1)!;
    expect(sent.to).toBe("+14155550100");
    expect(sent.from).toBe("+14155550199");
    const [summary, link] = sent.body.split("\n");
    expect(summary).toBe("hitl: decision needed (critical) by 27 Nov 10:00 UTC: Refund order 1234");
    const token = /^https:\/\/hitl\.example\.com\/l\/(\S+)$/.exec(link!)![1]!;
    expect(readLink(KEY, token, NOW)).toMatchObject({ ok: true, claims: { requestId: "req_sms1", login: "alice", action: null } });
  });

  it("keeps the summary to one 160-character segment", () => {
    const body = smsBody(makeRequest({ taskDescription: "Rotate every production credential ".repeat(10) }), "escalated", "https://h/l/t");
    const [summary] = body.split("\n");
    expect(summary!.length).toBeLessThanOrEqual(160);
    expect(summary).toMatch(/^hitl: escalated to you \(high\) by 27 Nov 10:00 UTC: Rotate every production credential .*…$/);
  });

  it("leads with the agent's one-line summary when it sent one", () => {
    const body = smsBody(makeRequest({ layers: { summary: "Refund $120 to Ann @ann for a damaged parcel" } }), "opened", "https://h/l/t");
    expect(body).toBe("hitl: decision needed (high) by 27 Nov 10:00 UTC: Refund $120 to Ann @\u200Dann for a damaged parcel\nhttps://h/l/t");
  });

  it("wants urgent requests only, and only the events that ask for a decision", () => {
    const sms = sender();
    expect(sms.wants(makeRequest({ priority: "critical" }), "opened")).toBe(true);
    expect(sms.wants(makeRequest({ priority: "high" }), "escalated")).toBe(true);
    expect(sms.wants(makeRequest({ priority: "high" }), "warning")).toBe(true);
    expect(sms.wants(makeRequest({ priority: "normal" }), "opened")).toBe(false);
    expect(sms.wants(makeRequest({ priority: "low" }), "opened")).toBe(false);
    expect(sms.wants(makeRequest({ priority: "critical" }), "decided")).toBe(false);
    expect(sms.addressOf({ phone: "+14155550100" })).toBe("+14155550100");
    expect(sms.addressOf({ email: "a@example.com" })).toBeNull();
  });

  it("throws with the API's reason when it refuses, so the send is retried, and refuses bad numbers before calling", async () => {
    const request = makeRequest({ priority: "high" });
    await expect(sender({ authToken: "wrong-token-000" }).send(note(request, "opened"), ALICE)).rejects.toThrow("the SMS API answered HTTP 401: Authentication Error - invalid username (code 20003)");
    const before = twilio.calls.length;
    await expect(sender().send(note(request, "opened"), { login: "bob", person: { phone: "555-0100" }, address: "555-0100" })).rejects.toThrow("bob has no E.164 phone number in people:");
    expect(twilio.calls.length).toBe(before);
  });

  it("does not reach a private API address unless HITL_ALLOWED_PRIVATE_TARGETS lists it", async () => {
    const before = twilio.calls.length;
    await expect(sender({ allowed: false }).send(note(makeRequest({ priority: "high" }), "opened"), ALICE)).rejects.toThrow(
      "refused to send: the URL must be an https URL (http only for hosts in HITL_ALLOWED_PRIVATE_TARGETS)",
    );
    expect(twilio.calls.length).toBe(before);
  });
});
