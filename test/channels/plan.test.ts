import { describe, expect, it } from "vitest";
import { planNotifications } from "../../src/channels/plan.js";
import { notifyRoutesFor, levelRoute } from "../../src/channels/routes.js";
import { parseConfig } from "../../src/config/parse-config.js";
import type { ChannelSender } from "../../src/channels/channel.js";
import { makeRequest } from "../support/fixtures.js";

const NOW = new Date("2026-11-24T10:00:00.000Z");
const senders = new Map<string, Pick<ChannelSender, "addressOf">>([
  ["slack", { addressOf: (person) => person.slack ?? null }],
  ["email", { addressOf: (person) => person.email ?? null }],
  ["sms", { addressOf: (person) => person.phone ?? null }],
  ["webhook", { addressOf: () => null }],
]);
const people = {
  alice: { slack: "UALICE1", email: "alice@example.com", phone: "+15550000001" },
  bob: { email: "bob@example.com" },
  dana: { phone: "+15550000004", timezone: "Europe/Berlin", quiet_hours: "09:00-17:00" },
};

function config(text: string) {
  const parsed = parseConfig(text, ".hitl.yml");
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.config;
}

const FILE = `
notify:
  - {events: [opened, escalated], priority: [critical], channels: [slack, sms]}
  - {events: [opened], channels: [email, {webhook: oncall}]}
  - {events: [opened], channels: [sms, {webhook: oncall}]}
`;

const plan = (priority: "normal" | "critical", audience = ["alice", "bob", "dana"]) => {
  const request = makeRequest({ priority });
  return planNotifications({ request, event: "opened", eventKey: "opened", routes: notifyRoutesFor(config(FILE), priority), people, audience, senders, now: NOW });
};
const summary = (records: { recipient: string; channel: string; state: string }[]) => records.map((record) => `${record.channel} ${record.recipient} ${record.state}`);

describe("who hears an event", () => {
  it("critical: the first entry that reaches a person tells them on each of its channels; later entries leave them out", () => {
    expect(summary(plan("critical").records)).toEqual([
      "slack @alice queued",
      "sms @alice queued",
      // dana has a phone (sms) but no Slack id; critical ignores her quiet hours.
      "sms @dana queued",
      "webhook oncall queued",
      "email @bob queued",
    ]);
  });

  it("normal: the critical entry does not apply; a destination hears it once; quiet hours hold", () => {
    const { records } = plan("normal");
    expect(summary(records)).toEqual(["webhook oncall queued", "email @alice queued", "email @bob queued", "sms @dana held"]);
    expect(records.find((record) => record.recipient === "@dana")!.heldUntil).toBe("2026-11-24T16:00:00.000Z");
  });

  it("quiet hours never hold a message past the deadline: the person would hear only after the fallback applied", () => {
    // An agent picks the priority and the deadline: a routine request opened in someone's quiet
    // hours, ending before they end, would otherwise reach them only as a withdrawn message.
    const request = makeRequest({ priority: "normal", deadline: "2026-11-24T12:00:00.000Z" });
    const { records } = planNotifications({ request, event: "opened", eventKey: "opened", routes: notifyRoutesFor(config(FILE), "normal"), people, audience: ["dana"], senders, now: NOW });
    expect(summary(records)).toEqual(["webhook oncall queued", "sms @dana queued"]);
    expect(records.find((record) => record.recipient === "@dana")!.heldUntil).toBeUndefined();
  });

  it("never tells anyone twice of one event key, across runs of the same job", () => {
    const request = makeRequest({ priority: "normal" });
    const input = { request, event: "opened" as const, eventKey: "opened", routes: notifyRoutesFor(config(FILE), "normal"), people, audience: ["alice", "bob", "dana"], senders, now: NOW };
    const first = planNotifications(input);
    expect(planNotifications({ ...input, request: { ...request, notifications: first.records } }).records).toEqual([]);
    // A new escalation rung is a new event key.
    expect(planNotifications({ ...input, event: "escalated", eventKey: "escalated:1", routes: [{ events: ["escalated"], channels: [{ kind: "email" }] }], request: { ...request, notifications: first.records } }).records.map((record) => record.key)).toEqual([
      "escalated:1|email|@alice",
      "escalated:1|email|@bob",
    ]);
  });

  it("names channels no sender is configured for, and tells nobody through them", () => {
    const result = planNotifications({ request: makeRequest(), event: "opened", eventKey: "opened", routes: [{ events: ["opened"], channels: [{ kind: "pager" }] }], people, audience: ["alice"], senders, now: NOW });
    expect(result).toEqual({ records: [], unconfigured: ["pager"] });
  });

  it("an escalation level's slack, email and sms reach people unless the environment has a channel of that name", () => {
    const step = { afterMs: 3_600_000, approvers: ["bob"], message: null, notify: ["slack", "oncall", "email"] };
    expect(levelRoute(step, new Set(["oncall"]))).toEqual({ events: ["escalated"], channels: [{ kind: "slack" }, { kind: "email" }] });
    expect(levelRoute(step, new Set(["slack", "oncall"]))).toEqual({ events: ["escalated"], channels: [{ kind: "email" }] });
    expect(levelRoute({ ...step, notify: ["oncall"] }, new Set(["oncall"]))).toBeNull();
  });
});
