import { describe, expect, it } from "vitest";
import type { ChannelSender } from "../../src/channels/channel.js";
import { planNotifications } from "../../src/channels/plan.js";
import { SMS_PRIORITIES } from "../../src/channels/sms/sms-message.js";
import type { NotifyRoute } from "../../src/core/types.js";
import { makeRequest } from "../support/fixtures.js";

const NOW = new Date("2026-11-24T10:00:00.000Z");
const senders = new Map<string, Pick<ChannelSender, "addressOf" | "wants">>([
  ["email", { addressOf: (person) => person.email ?? null }],
  // As the SMS sender: urgent requests, and the events that ask for a decision.
  ["sms", { addressOf: (person) => person.phone ?? null, wants: (request, event) => event !== "decided" && SMS_PRIORITIES.includes(request.priority) }],
]);
const people = { alice: { email: "alice@example.com", phone: "+15550000001" }, dana: { phone: "+15550000004" } };
const routes: NotifyRoute[] = [
  { events: ["opened", "decided"], channels: [{ kind: "sms" }] },
  { events: ["opened", "decided"], channels: [{ kind: "email" }] },
];

const plan = (priority: "normal" | "high", event: "opened" | "decided" = "opened") =>
  planNotifications({ request: makeRequest({ priority }), event, eventKey: event, routes, people, audience: ["alice", "dana"], senders, now: NOW }).records.map(
    (record) => `${record.channel} ${record.recipient}`,
  );

describe("a channel that declines an event", () => {
  it("is not planned: the person hears from a later entry instead, or not at all when nothing else reaches them", () => {
    expect(plan("high")).toEqual(["sms @alice", "sms @dana"]);
    expect(plan("normal")).toEqual(["email @alice"]);
    expect(plan("high", "decided")).toEqual(["email @alice"]);
  });
});
