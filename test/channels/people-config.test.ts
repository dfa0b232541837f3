import { describe, expect, it } from "vitest";
import { parseConfig, parseConfigLayers } from "../../src/config/parse-config.js";

const errorsOf = (text: string) => {
  const parsed = parseConfig(text, ".hitl.yml");
  return parsed.ok ? [] : parsed.errors.map((error) => `${error.line}:${error.column} ${error.path}: ${error.message}`);
};

describe(".hitl.yml people: and notify:", () => {
  it("reads a person's contact points", () => {
    const parsed = parseConfig(`people:\n  alice: {email: alice@example.com, slack: U012AB3CD, phone: "+15551234567", timezone: Europe/Berlin, quiet_hours: "22:00-07:00"}\n`, ".hitl.yml");
    expect(parsed.ok && parsed.config.people).toEqual({ alice: { email: "alice@example.com", slack: "U012AB3CD", phone: "+15551234567", timezone: "Europe/Berlin", quiet_hours: "22:00-07:00" } });
  });

  it("names each bad contact point with its line and what it should be", () => {
    expect(
      errorsOf(`people:
  alice:
    slack: alice
    phone: 555-1234
    timezone: Mars/Olympus
    quiet_hours: 10pm-7am
    pager: x
`),
    ).toEqual([
      "3:12 people.alice.slack: expected a Slack user id such as U012AB3CD (not a display name)",
      "4:12 people.alice.phone: expected a phone number in E.164 form, such as +15551234567",
      "5:15 people.alice.timezone: expected an IANA time zone such as Europe/Berlin or America/New_York",
      "6:18 people.alice.quiet_hours: expected HH:MM-HH:MM such as 22:00-07:00",
      expect.stringMatching(/^7:5 people\.alice\.pager: unknown key/),
    ]);
  });

  it("refuses one Slack id for two logins: a Slack account decides as one person", () => {
    expect(errorsOf(`people:\n  alice: {slack: U012AB3CD}\n  mallory: {slack: U012AB3CD}\n`)).toEqual(["3:20 people.mallory.slack: Slack id U012AB3CD is already alice's: one Slack account decides as one login"]);
  });

  it("refuses a webhook URL in the file: only channels of the environment are named", () => {
    expect(errorsOf(`notify:\n  - {events: [opened], channels: [{webhook: "https://evil.example/x"}]}\n`)).toEqual([
      "2:45 notify.0.channels.0.webhook: expected a channel name such as oncall (HITL_CHANNEL_ONCALL)",
    ]);
    expect(errorsOf(`notify:\n  - {events: [approved], channels: [pager]}\n`)).toEqual([
      "2:15 notify.0.events.0: 'approved' is not allowed",
      "2:37 notify.0.channels.0: expected slack, email, sms, {slack: {channel: C…}} or {webhook: name}",
    ]);
  });

  it("_extends merges people person by person: the organisation keeps one directory", () => {
    const parsed = parseConfigLayers([
      { file: "octo-org/.github:.hitl.yml", text: `people:\n  alice: {slack: U0ALICE01, email: alice@example.com}\n  bob: {slack: U0BOB0001}\n` },
      { file: ".hitl.yml", text: `people:\n  bob: {email: bob@example.com}\n  carol: {slack: U0CAROL01}\n` },
    ]);
    expect(parsed.ok && parsed.config.people).toEqual({ alice: { slack: "U0ALICE01", email: "alice@example.com" }, bob: { email: "bob@example.com" }, carol: { slack: "U0CAROL01" } });
  });
});
