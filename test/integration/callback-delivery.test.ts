import { createHmac } from "node:crypto";
import type { LookupAddress } from "node:dns";
import { afterEach, describe, expect, it } from "vitest";
import { AGENT, api, LOCAL_RECEIVERS, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const later = (ms: number) => new Date(T0.getTime() + ms);
const sign = (body: string) => `sha256=${createHmac("sha256", AGENT.token).update(body).digest("hex")}`;

const PRIVATE = "must not be a private, loopback, link-local or metadata address unless HITL_ALLOWED_PRIVATE_TARGETS lists it";
const HTTP = "must be an https URL (http only for hosts in HITL_ALLOWED_PRIVATE_TARGETS)";

describe("callbacks: where they may go, and what a receiver gets", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  let agent: CallbackReceiver;
  let elsewhere: CallbackReceiver;

  async function start(resolve?: (hostname: string) => Promise<LookupAddress[]>) {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" } } } });
    agent = await startCallbackReceiver();
    elsewhere = await startCallbackReceiver();
    app = await startApp({ githubUrl: github.url, now: T0, outbound: { ...LOCAL_RECEIVERS, resolve } });
  }

  afterEach(async () => {
    await app?.close();
    await github?.close();
    await agent?.close();
    await elsewhere?.close();
  });

  const open = (callbackUrl: string) =>
    api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 1234", approval_reason: "Refunds over $50 need a human", callback_url: callbackUrl });

  async function approve(issueNumber: number) {
    const delivery = await deliver(`${app.url}/api/github/webhooks`, {
      event: "issue_comment",
      payload: issueCommentPayload({ repo: REPO, issueNumber, body: "/approve regular customer", login: "alice" }),
      secret: WEBHOOK_SECRET,
    });
    expect(delivery.status).toBe(200);
    await app.runtime.jobs.run();
  }

  it("refuses at creation an http callback_url, or a literal private address, naming the field", async () => {
    await start();
    const refused = {
      "http://agent.example/hooks/hitl": HTTP,
      "https://169.254.169.254/latest/meta-data": PRIVATE,
      "https://[::ffff:10.0.0.1]/hooks": PRIVATE,
      "https://127.0.0.2/hooks": PRIVATE, // 127.0.0.1 is allowed in these tests; its neighbour is not
      "https://100.100.100.200/hooks": PRIVATE,
    };
    for (const [url, message] of Object.entries(refused)) {
      const response = await open(url);
      expect({ url, status: response.status, json: response.json }).toEqual({
        url,
        status: 400,
        json: { error: { code: "invalid_request", message: `The request is not valid: callback_url ${message}.`, issues: [{ path: "callback_url", message }] } },
      });
    }
    const simulated = await api(app, "POST", "/simulate", { request: { repo: REPO, task_description: "x", approval_reason: "y", callback_url: "http://agent.example/x" } });
    expect(simulated.status).toBe(400);
    expect(simulated.json.error.issues).toEqual([{ path: "request.callback_url", message: HTTP }]);
    expect((await api(app, "GET", `/requests?repo=${REPO}`)).json.requests).toEqual([]);
    // The allowed local receiver is taken.
    expect((await open(agent.url)).status).toBe(201);
  });

  it("refuses at the connection a host name that resolves to the metadata address, and keeps retrying", async () => {
    const asked: string[] = [];
    await start(async (hostname) => {
      asked.push(hostname);
      return [{ address: "169.254.169.254", family: 4 }];
    });
    const created = await open("https://agent.example/hooks/hitl");
    expect(created.status).toBe(201);
    await approve(created.json.surface_number);

    expect(asked).toEqual(["agent.example"]);
    const [callbackJob] = (await app.store.pendingJobs()).filter((job) => job.kind === "callback");
    expect(callbackJob).toMatchObject({
      requestId: created.json.id,
      attempts: 1,
      lastError: "callback: agent.example resolves to 169.254.169.254, a private address; HITL_ALLOWED_PRIVATE_TARGETS does not list it",
      runAt: later(5_000).toISOString(),
    });
  });

  it("does not follow a redirect; the retry carries the same delivery id, a fresh sent_at, and a signature over both", async () => {
    await start();
    const created = await open(agent.url);
    const id = created.json.id as string;
    agent.redirectNext(`${elsewhere.base}/stolen`);
    await approve(created.json.surface_number);
    const shownAt0 = (await api(app, "GET", `/requests/${id}`)).json;

    expect(agent.received.map((call) => call.status)).toEqual([302]);
    const [job] = (await app.store.pendingJobs()).filter((candidate) => candidate.kind === "callback");
    expect(job).toMatchObject({ attempts: 1, lastError: "callback: answered HTTP 302 (redirects are not followed)" });

    app.setNow(later(5_000));
    await app.runtime.jobs.run();
    const shownAt5 = (await api(app, "GET", `/requests/${id}`)).json;
    expect(agent.received.map((call) => call.status)).toEqual([302, 204]);
    expect(elsewhere.received).toEqual([]);
    expect(elsewhere.connections()).toBe(0);

    const [first, second] = agent.received;
    const deliveryId = first!.headers["x-hitl-delivery"] as string;
    expect(deliveryId).toMatch(/^dlv_[A-Za-z0-9_-]{16}$/);
    expect(first!.body).toBe(JSON.stringify({ event: "request.approved", delivery_id: deliveryId, sent_at: T0.toISOString(), request: shownAt0 }));
    expect(second!.body).toBe(JSON.stringify({ event: "request.approved", delivery_id: deliveryId, sent_at: later(5_000).toISOString(), request: shownAt5 }));
    expect(second!.headers["x-hitl-delivery"]).toBe(deliveryId);
    for (const call of [first!, second!]) {
      expect(call.headers["x-hitl-signature-256"]).toBe(sign(call.body));
      expect(call.headers["content-type"]).toBe("application/json");
    }
    expect(await app.store.pendingJobs()).toEqual([]);
  });

  it("gives each callback of a request its own delivery id", async () => {
    await start();
    const first = await open(agent.url);
    const second = await open(agent.url);
    await approve(first.json.surface_number);
    await approve(second.json.surface_number);
    const ids = agent.received.map((call) => JSON.parse(call.body).delivery_id as string);
    expect(agent.received.map((call) => call.requestId)).toEqual([first.json.id, second.json.id]);
    expect(new Set(ids).size).toBe(2);
  });
});
