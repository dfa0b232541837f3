import { afterEach, describe, expect, it } from "vitest";
import { readChannels, type Channel } from "../../src/notify/channels.js";
import { signBody } from "../../src/notify/callback.js";
import { NO_ALLOWED_TARGETS } from "../../src/notify/private-targets.js";
import { api, LOCAL_RECEIVERS, startApp, type AppHarness } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T10:00:00.000Z");
const SECRET = "oncall-secret-0123456789";

const POLICY = `
approvers: [alice]
notify:
  - {events: [opened, decided], priority: [high, critical], channels: [{webhook: oncall}]}
  - {events: [opened], channels: [{webhook: oncall}, {webhook: nowhere}]}
`;

describe("webhook channel", () => {
  let github: GitHubStandIn;
  let receiver: CallbackReceiver;
  let app: AppHarness;

  afterEach(async () => {
    await app?.close();
    await github?.close();
    await receiver?.close();
    [app, github, receiver] = [undefined, undefined, undefined] as unknown as [AppHarness, GitHubStandIn, CallbackReceiver];
  });

  async function start(policy: string, channelsOf?: (base: string) => Channel[]) {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" }, files: { main: { ".hitl.yml": policy } } } } });
    receiver = await startCallbackReceiver();
    const { channels, errors } = readChannels(
      { HITL_CHANNEL_ONCALL: `${receiver.base}/pager`, HITL_CHANNEL_ONCALL_SECRET: SECRET, HITL_CHANNEL_ONCALL_HEADERS: '{"X-Api-Key": "key-from-the-environment"}' },
      LOCAL_RECEIVERS.allowed,
    );
    expect(errors).toEqual([]);
    app = await startApp({ githubUrl: github.url, now: T0, channels: channelsOf ? channelsOf(receiver.base) : channels });
  }

  it("posts the whole request, signed like a callback, with the environment's headers, once per event", async () => {
    await start(POLICY);
    const response = await api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 1234", approval_reason: "Refunds need a human", priority: "high", deadline: "2026-11-30T10:00:00Z" });
    await app.runtime.jobs.run();
    const id = (response.json as { id: string }).id;
    expect(receiver.received).toHaveLength(1);
    const [post] = receiver.received;
    expect(post!.path).toBe("/pager");
    expect(post!.headers["x-api-key"]).toBe("key-from-the-environment");
    expect(post!.headers["x-hitl-signature-256"]).toBe(signBody(SECRET, post!.body));
    const sent = JSON.parse(post!.body) as Record<string, any>;
    expect(Object.keys(sent)).toEqual(["event", "delivery_id", "sent_at", "request"]);
    expect(sent.event).toBe("request.opened");
    expect(sent.sent_at).toBe(T0.toISOString());
    expect(sent.request).toMatchObject({ id, status: "pending", task_description: "Refund order 1234", surface_url: "https://github.com/octo-org/payments/issues/1" });
    expect(sent.request).not.toHaveProperty("checkpoint");
    // `nowhere` has no HITL_CHANNEL_NOWHERE: it fails, visibly, and is not retried.
    expect(((await api(app, "GET", `/requests/${id}`)).json as any).notifications).toEqual([
      { channel: "webhook", recipient: "oncall", event: "opened", state: "sent", attempts: 1, last_error: null },
      { channel: "webhook", recipient: "nowhere", event: "opened", state: "failed", attempts: 1, last_error: "no HITL_CHANNEL_NOWHERE is configured" },
    ]);
  });

  it("a receiver that keeps failing is retried with backoff and never holds up the request", async () => {
    await start(POLICY);
    receiver.failNext([500, 502]);
    const response = await api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 1234", approval_reason: "Refunds need a human", priority: "critical", deadline: "2026-11-30T10:00:00Z" });
    expect(response.status).toBe(201);
    await app.runtime.jobs.run();
    const id = (response.json as { id: string }).id;
    const record = async () => ((await api(app, "GET", `/requests/${id}`)).json as any).notifications[0];
    expect(await record()).toEqual({ channel: "webhook", recipient: "oncall", event: "opened", state: "retrying", attempts: 1, last_error: "channel oncall: answered HTTP 500" });
    app.setNow(new Date(T0.getTime() + 4_999));
    await app.runtime.jobs.run();
    expect(receiver.received).toHaveLength(1);
    app.setNow(new Date(T0.getTime() + 5_000));
    await app.runtime.jobs.run();
    expect(await record()).toMatchObject({ state: "retrying", attempts: 2, last_error: "channel oncall: answered HTTP 502" });
    app.setNow(new Date(T0.getTime() + 15_000));
    await app.runtime.jobs.run();
    expect(await record()).toMatchObject({ state: "sent", attempts: 3, last_error: null });
    // The delivery id is the same on every try, so the receiver acts once.
    expect(new Set(receiver.received.map((post) => JSON.parse(post.body).delivery_id)).size).toBe(1);
  });

  it("goes through the outbound guard at send time: a private address the operator did not allow is refused", async () => {
    expect(readChannels({ HITL_CHANNEL_ONCALL: "https://10.0.0.7/pager" }, NO_ALLOWED_TARGETS).errors).toEqual([
      "HITL_CHANNEL_ONCALL: must not be a private, loopback, link-local or metadata address unless HITL_ALLOWED_PRIVATE_TARGETS lists it",
    ]);
    // Even a channel that got past start-up (the rule changed since) is checked again when sending.
    await start(POLICY, () => [{ name: "oncall", url: "http://10.0.0.7/pager", kind: "webhook" }]);
    const response = await api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 1234", approval_reason: "Refunds need a human", deadline: "2026-11-30T10:00:00Z" });
    await app.runtime.jobs.run();
    const id = (response.json as { id: string }).id;
    expect(((await api(app, "GET", `/requests/${id}`)).json as any).notifications[0]).toEqual({
      channel: "webhook",
      recipient: "oncall",
      event: "opened",
      state: "retrying",
      attempts: 1,
      last_error: "channel oncall: refused to send: the URL must be an https URL (http only for hosts in HITL_ALLOWED_PRIVATE_TARGETS)",
    });
  });

  it("reads HITL_CHANNEL_<NAME>_HEADERS as JSON, refusing what hitl sets itself and values over one line", () => {
    expect(readChannels({ HITL_CHANNEL_PAGER: "https://pager.example/h", HITL_CHANNEL_PAGER_HEADERS: "Authorization: Bearer x" }, NO_ALLOWED_TARGETS).errors).toEqual([
      'HITL_CHANNEL_PAGER_HEADERS: must be a JSON object of header names to values, e.g. {"Authorization": "Bearer …"}',
    ]);
    expect(readChannels({ HITL_CHANNEL_PAGER: "https://pager.example/h", HITL_CHANNEL_PAGER_HEADERS: '{"X-Hitl-Signature-256": "sha256=0"}' }, NO_ALLOWED_TARGETS).errors).toEqual([
      "HITL_CHANNEL_PAGER_HEADERS: X-Hitl-Signature-256 is set by hitl itself",
    ]);
    expect(readChannels({ HITL_CHANNEL_PAGER: "https://pager.example/h", HITL_CHANNEL_PAGER_HEADERS: '{"X-Key": "a\\r\\nX-Evil: 1"}' }, NO_ALLOWED_TARGETS).errors).toEqual([
      "HITL_CHANNEL_PAGER_HEADERS: the value of X-Key must be a string of one line",
    ]);
    expect(readChannels({ HITL_CHANNEL_PAGER_HEADERS: '{"X-Key": "a"}' }, NO_ALLOWED_TARGETS).errors).toEqual(["HITL_CHANNEL_PAGER_HEADERS: there is no HITL_CHANNEL_PAGER to send them to"]);
    expect(readChannels({ HITL_CHANNEL_PAGER: "https://pager.example/h", HITL_CHANNEL_PAGER_HEADERS: '{"X-Key": "k"}' }, NO_ALLOWED_TARGETS)).toEqual({
      channels: [{ name: "pager", url: "https://pager.example/h", kind: "webhook", headers: { "X-Key": "k" } }],
      errors: [],
    });
  });
});
