import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { linkKeyFrom } from "../../src/channels/links/link-token.js";
import { createSmsSender } from "../../src/channels/sms/sms-sender.js";
import { api, LOCAL_RECEIVERS, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { startTwilioStandIn, TWILIO_SID, TWILIO_TOKEN, type TwilioStandIn } from "../support/twilio-stand-in.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const KEY = linkKeyFrom("link-secret-for-tests-0123456789abcdef");
const PUBLIC_URL = "https://hitl.example.com";

const POLICY = `approvers: [alice]
people:
  alice: {phone: "+14155550100"}
notify:
  - events: [opened, decided]
    channels: [sms]
`;

describe("SMS, end to end", () => {
  let github: GitHubStandIn;
  let twilio: TwilioStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" }, files: { main: { ".hitl.yml": POLICY } } } } });
    twilio = await startTwilioStandIn();
    const sms = createSmsSender({ settings: { accountSid: TWILIO_SID, authToken: TWILIO_TOKEN, from: "+14155550199", apiUrl: twilio.url }, outbound: LOCAL_RECEIVERS, publicUrl: PUBLIC_URL, linkKey: KEY });
    app = await startApp({ githubUrl: github.url, now: T0, senders: [sms], links: { publicUrl: PUBLIC_URL, key: KEY } });
  });
  afterEach(async () => {
    await app.close();
    await Promise.all([github.close(), twilio.close()]);
  });

  async function open(priority: string): Promise<string> {
    const response = await api(app, "POST", "/requests", { repo: REPO, task_description: "Restart the payments database", approval_reason: "Production outage", decision_data: { cluster: "eu-1" }, priority, deadline: "2026-11-24T10:00:00Z" });
    expect(response.status).toBe(201);
    await app.runtime.jobs.run();
    await app.runtime.jobs.run();
    return (response.json as { id: string }).id;
  }

  it("texts an urgent request with a link whose page offers every action; the person picks one and confirms", async () => {
    const id = await open("critical");
    expect(twilio.sent).toHaveLength(1);
    const [summary, link] = twilio.sent[0]!.body.split("\n");
    expect(twilio.sent[0]!.to).toBe("+14155550100");
    expect(summary).toBe("hitl: decision needed (critical) by 24 Nov 10:00 UTC: Restart the payments database");

    const path = link!.replace(PUBLIC_URL, "");
    const page = await fetch(`${app.url}${path}`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('<input type="radio" name="action" value="approve" required>');
    expect(html).toContain('<input type="radio" name="action" value="reject" required>');
    const cookie = page.headers.get("set-cookie")!.split(";")[0]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;

    const post = (form: Record<string, string>) => fetch(`${app.url}${path}`, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
    // No action picked: asked again, nothing spent.
    expect((await post({ csrf })).status).toBe(422);
    const done = await post({ csrf, action: "reject", justification: "Failover first" });
    expect(done.status).toBe(200);
    const request = (await api(app, "GET", `/requests/${id}`)).json as { status: string; decision: unknown; notifications: unknown[] };
    expect(request.status).toBe("rejected");
    expect(request.decision).toMatchObject({ action: "reject", decided_by: { type: "human", login: "alice" }, via: "sms", justification: "Failover first" });
    // The outcome is not texted: SMS asks for decisions only.
    await app.runtime.jobs.run();
    expect(twilio.sent).toHaveLength(1);
  });

  it("does not text a request that is not urgent", async () => {
    const id = await open("normal");
    await app.runtime.jobs.run();
    expect(twilio.calls).toEqual([]);
    expect(((await api(app, "GET", `/requests/${id}`)).json as { notifications?: unknown[] }).notifications).toBeUndefined();
  });
});
