import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/store.js";
import { AGENT, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";
import { auditOf, callApi } from "../support/api-client.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { freePort } from "../support/ports.js";
import { uniquePrefix } from "../support/redis-keys.js";
import { sleep, waitFor, within } from "../support/wait.js";
import { startGatedProxy, type GatedProxy } from "./support/gated-proxy.js";
import { startRedisServer, type RedisServer } from "./support/redis-server.js";
import { openRedisStore } from "./support/redis-store.js";

/**
 * The app on a Redis of its own (a redis-server this test starts on a free port), which then
 * goes away: killed, or frozen. While it is gone the API answers 503 `store_unavailable` at once
 * and writes nothing, /readyz says 503 (/healthz, liveness, stays 200), and webhooks are not acknowledged, so GitHub records a
 * failed delivery. When it is back the app recovers by itself, and a redelivery is applied.
 */

const REPO = "octo-org/payments";
const ISSUES = `/repos/${REPO}/issues`;
/** An answer to an unreachable store must come at once: well under the requester's 10 s command timeout. */
const QUICK_MS = 5_000;

/** Without persistence, as a cache-like Redis runs: a restart comes back empty. */
const VOLATILE = ["--save", "", "--appendonly", "no"];
/** With an fsync'd append-only file: a kill -9 loses nothing Redis acknowledged. */
const persistent = (dir: string) => ["--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", dir];

const requestBody = (callbackUrl: string, overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  decision_data: { amount: 120, currency: "USD" },
  approvers: ["alice"],
  callback_url: `${callbackUrl}/cb`,
  ...overrides,
});

const is2xx = (status: number) => status >= 200 && status < 300;

describe("the store goes away", () => {
  let port: number;
  let redis: RedisServer | null;
  let dataDir: string;
  let github: GitHubStandIn;
  let proxy: GatedProxy | null;
  let callbacks: CallbackReceiver;
  let store: Store;
  let app: AppHarness;

  beforeEach(async () => {
    port = await freePort();
    redis = null;
    proxy = null;
    dataDir = await mkdtemp(join(tmpdir(), "hitl-fault-redis-"));
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write", bob: "write", carol: "write" } } },
      teams: { "octo-org/finance": ["carol"] },
    });
    callbacks = await startCallbackReceiver();
  });

  afterEach(async () => {
    await app?.close();
    await store?.close();
    await proxy?.close();
    await redis?.kill();
    await github?.close();
    await callbacks?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Starts redis-server on the test's port, then (the first time) the app on it. */
  async function startRedis(args: string[]): Promise<void> {
    redis = await startRedisServer(port, args);
  }
  async function startAppOn(options: { throughProxy?: boolean } = {}): Promise<void> {
    store = openRedisStore(`redis://127.0.0.1:${port}`, uniquePrefix("outage"));
    if (options.throughProxy) proxy = await startGatedProxy(github.url);
    app = await startApp({ githubUrl: proxy?.url ?? github.url, store });
  }
  async function killRedis(): Promise<void> {
    await redis!.kill();
    redis = null;
  }
  const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    callApi(app.url, method, path, { token: AGENT.token, body, headers, timeoutMs: QUICK_MS });
  const health = async (timeoutMs = QUICK_MS) => (await fetch(`${app.url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) })).status;
  const live = async () => (await fetch(`${app.url}/healthz`, { signal: AbortSignal.timeout(QUICK_MS) })).status;
  const comment = (issue: number, body: string, login: string, deliveryId: string) =>
    within(
      "the webhook answer",
      deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: issue, body, login }), secret: WEBHOOK_SECRET, deliveryId }),
      30_000,
    );
  const waitUntilHealthy = () =>
    waitFor("/readyz to answer 200 again", async () => ((await health().catch(() => 0)) === 200 ? true : undefined), 30_000, 200);
  const drain = async () => {
    await app.runtime.jobs.run();
  };
  async function open(overrides: Record<string, unknown> = {}, headers?: Record<string, string>) {
    const created = await api("POST", "/requests", requestBody(callbacks.base, overrides), headers);
    expect(created.status, created.text).toBe(201);
    expect(created.json.surface_number).toEqual(expect.any(Number));
    return { id: created.json.id as string, issue: created.json.surface_number as number };
  }
  /** Redelivers until one is acknowledged (bounded); returns that answer. */
  async function redeliverUntilAcknowledged(issue: number, body: string, login: string, deliveryId: string) {
    let last = { status: 0, text: "" };
    for (let attempt = 0; attempt < 40; attempt++) {
      last = await comment(issue, body, login, deliveryId);
      if (is2xx(last.status)) return last;
      await sleep(1_000);
    }
    return last;
  }

  it("answers 503 store_unavailable at once while Redis is down, and recovers by itself when it is back", async () => {
    await startRedis(VOLATILE);
    await startAppOn();
    const before = await open();
    expect(await health()).toBe(200);

    await killRedis();
    github.clearCalls();
    const during = {
      "POST /requests": await api("POST", "/requests", requestBody(callbacks.base), { "idempotency-key": "during-the-outage" }),
      "GET /requests/:id": await api("GET", `/requests/${before.id}`),
      "GET /requests": await api("GET", `/requests?repo=${REPO}&status=pending`),
      "GET /requests/:id/decision": await api("GET", `/requests/${before.id}/decision?wait=1`),
      "POST /requests/:id/cancel": await api("POST", `/requests/${before.id}/cancel`, { reason: "changed my mind" }),
      "GET /audit": await api("GET", `/audit?repo=${REPO}`),
    };
    for (const [call, answer] of Object.entries(during)) {
      expect({ call, status: answer.status, code: answer.json?.error?.code }).toEqual({ call, status: 503, code: "store_unavailable" });
    }
    expect(await health()).toBe(503);
    // Liveness does not depend on the store: an outage must not restart every replica.
    expect(await live()).toBe(200);
    const webhook = await comment(before.issue, "/approve go ahead", "alice", randomUUID());
    expect(is2xx(webhook.status), `the webhook answered ${webhook.status}: ${webhook.text}`).toBe(false);
    // Nothing reached GitHub on the strength of a write that did not happen.
    expect(github.callsTo("POST", ISSUES)).toEqual([]);
    expect(github.calls.filter((c) => c.method !== "GET")).toEqual([]);

    await startRedis(VOLATILE);
    await waitUntilHealthy();
    // A restarted cache-like Redis is empty; the app works again on it without a restart of its own.
    const after = await open();
    expect((await api("GET", `/requests/${after.id}`)).json).toMatchObject({ id: after.id, status: "pending" });
    const decision = await comment(after.issue, "/approve go ahead", "alice", randomUUID());
    expect(decision.status).toBe(200);
    await drain();
    expect((await api("GET", `/requests/${after.id}`)).json).toMatchObject({ status: "approved", decision: { decided_by: { login: "alice" } } });
    expect(callbacks.received.filter((c) => c.requestId === after.id).map((c) => c.event)).toEqual(["request.approved"]);
  }, 90_000);

  it("writes nothing during the outage, keeps what was acknowledged, and applies a redelivery afterwards", async () => {
    await startRedis(persistent(dataDir));
    await startAppOn();
    const request = await open();

    await killRedis();
    github.clearCalls();
    const deliveryId = randomUUID();
    const webhook = await comment(request.issue, "/approve customer is a regular", "alice", deliveryId);
    expect(is2xx(webhook.status), `the webhook answered ${webhook.status}: ${webhook.text}`).toBe(false);
    const post = await api("POST", "/requests", requestBody(callbacks.base), { "idempotency-key": "refund-during-outage" });
    expect({ status: post.status, code: post.json?.error?.code }).toEqual({ status: 503, code: "store_unavailable" });
    const cancel = await api("POST", `/requests/${request.id}/cancel`, {});
    expect({ status: cancel.status, code: cancel.json?.error?.code }).toEqual({ status: 503, code: "store_unavailable" });
    expect(github.calls.filter((c) => c.method !== "GET")).toEqual([]);

    await startRedis(persistent(dataDir));
    await waitUntilHealthy();
    // What was acknowledged before is there; what failed during the outage left no trace.
    expect((await api("GET", `/requests/${request.id}`)).json).toMatchObject({ status: "pending", decision: null, surface_number: request.issue });
    expect((await auditOf(app.url, AGENT.token, REPO)).filter((e) => e.request_id === request.id).map((e) => e.event)).toEqual(["created", "surface_opened"]);

    const redelivery = await comment(request.issue, "/approve customer is a regular", "alice", deliveryId);
    expect(redelivery.status).toBe(200);
    await drain();
    expect((await api("GET", `/requests/${request.id}`)).json).toMatchObject({ status: "approved", decision: { decided_by: { login: "alice" }, justification: "customer is a regular" } });
    expect((await auditOf(app.url, AGENT.token, REPO)).filter((e) => e.request_id === request.id && e.event === "decided")).toHaveLength(1);
    expect(callbacks.received.filter((c) => c.requestId === request.id).map((c) => c.event)).toEqual(["request.approved"]);
    expect(github.callsTo("PATCH", `${ISSUES}/${request.issue}`).filter((c) => (c.body as { state?: string }).state === "closed")).toHaveLength(1);

    // The key the failed POST used is still free: nothing of that request was stored.
    const retried = await api("POST", "/requests", requestBody(callbacks.base), { "idempotency-key": "refund-during-outage" });
    expect(retried.status, retried.text).toBe(201);
    expect(github.callsTo("POST", ISSUES)).toHaveLength(1);
  }, 90_000);

  it("decides by a comment whose webhook the outage refused, without any redelivery, exactly once", async () => {
    await startRedis(persistent(dataDir));
    await startAppOn();
    const request = await open();

    await killRedis();
    // Alice comments on GitHub; GitHub's only delivery finds the store down, and GitHub never retries.
    const made = github.comment(REPO, request.issue, { login: "alice", body: "/approve customer is a regular" });
    const deliveryId = randomUUID();
    const payload = () => issueCommentPayload({ repo: REPO, issueNumber: request.issue, body: made.body, login: "alice", commentId: made.id, at: made.createdAt });
    const refused = await within("the webhook answer", deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: payload(), secret: WEBHOOK_SECRET, deliveryId }), 30_000);
    expect(is2xx(refused.status), `the webhook answered ${refused.status}: ${refused.text}`).toBe(false);

    await startRedis(persistent(dataDir));
    await waitUntilHealthy();
    expect((await api("GET", `/requests/${request.id}`)).json.status).toBe("pending");
    github.clearCalls();
    // The next scheduler tick reads the surface and finds the comment.
    await app.runtime.tick();
    await waitFor("the refused comment to decide the request", async () => ((await api("GET", `/requests/${request.id}`)).json.status === "approved" ? true : undefined), 30_000, 200);
    await drain();
    expect((await api("GET", `/requests/${request.id}`)).json).toMatchObject({ status: "approved", decision: { decided_by: { login: "alice" }, justification: "customer is a regular" } });

    // Someone redelivers the failed delivery after all, and a later tick lists again: nothing more happens.
    const late = await within("the webhook answer", deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: payload(), secret: WEBHOOK_SECRET, deliveryId }), 30_000);
    expect(late.status).toBe(200);
    await app.runtime.recover();
    await drain();
    expect((await auditOf(app.url, AGENT.token, REPO)).filter((e) => e.request_id === request.id && e.event === "decided")).toHaveLength(1);
    expect(callbacks.received.filter((c) => c.requestId === request.id).map((c) => c.event)).toEqual(["request.approved"]);
    expect(github.callsTo("POST", `${ISSUES}/${request.issue}/comments`)).toHaveLength(1);
    expect(github.callsTo("PATCH", `${ISSUES}/${request.issue}`).filter((c) => (c.body as { state?: string }).state === "closed")).toHaveLength(1);
  }, 90_000);

  it("applies a redelivery of a webhook the outage cut off half-way (after its delivery was claimed)", async () => {
    await startRedis(persistent(dataDir));
    await startAppOn({ throughProxy: true });
    const request = await open({ approvers: ["@octo-org/finance"] });

    // Carol's decision is claimed, then waits on GitHub for her team membership; Redis dies meanwhile.
    const gate = proxy!.hold("GET", "/orgs/octo-org/teams/finance/memberships/carol");
    const deliveryId = randomUUID();
    const first = comment(request.issue, "/approve within budget", "carol", deliveryId);
    await within("the membership look-up", gate.held, 20_000);
    await killRedis();
    gate.release();
    const cutOff = await first;
    expect(is2xx(cutOff.status), `the cut-off webhook answered ${cutOff.status}: ${cutOff.text}`).toBe(false);

    await startRedis(persistent(dataDir));
    await waitUntilHealthy();
    expect((await api("GET", `/requests/${request.id}`)).json).toMatchObject({ status: "pending", decision: null });

    // GitHub shows a failed delivery; someone redelivers it. An acknowledged redelivery must be applied.
    const redelivery = await redeliverUntilAcknowledged(request.issue, "/approve within budget", "carol", deliveryId);
    expect(is2xx(redelivery.status), `a redelivery is acknowledged eventually (last answer ${redelivery.status})`).toBe(true);
    await drain();
    const shown = (await api("GET", `/requests/${request.id}`)).json;
    expect(shown.status, "the acknowledged redelivery was applied").toBe("approved");
    expect(shown.decision).toMatchObject({ decided_by: { login: "carol" }, justification: "within budget" });
    expect(callbacks.received.filter((c) => c.requestId === request.id).map((c) => c.event)).toEqual(["request.approved"]);
  }, 120_000);

  it("does not acknowledge a webhook while Redis hangs instead of refusing, and a retry never makes two requests", async () => {
    await startRedis(VOLATILE);
    await startAppOn();
    const request = await open();

    // A frozen Redis (a stalled host, a full network buffer) accepts commands and never answers.
    redis!.process.kill("SIGSTOP");
    const deliveryId = randomUUID();
    let webhook: { status: number; text: string };
    let post: { status: number; json: any; text: string };
    try {
      [webhook, post] = await Promise.all([
        comment(request.issue, "/approve customer is a regular", "alice", deliveryId),
        callApi(app.url, "POST", "/requests", { token: AGENT.token, body: requestBody(callbacks.base), headers: { "idempotency-key": "refund-while-frozen" }, timeoutMs: 30_000 }),
      ]);
    } finally {
      redis!.process.kill("SIGCONT");
    }
    expect.soft(is2xx(webhook.status), `the webhook during the stall answered ${webhook.status}: ${webhook.text}`).toBe(false);
    expect.soft({ status: post.status, code: post.json?.error?.code }).toEqual({ status: 503, code: "store_unavailable" });

    await waitUntilHealthy();
    // A stalled store may still apply the write when it wakes, so the 503 asks for a retry with
    // the same key: that retry gets the one request for it, created now or earlier, never two.
    expect(post.json.error.message).toContain("same Idempotency-Key");
    const retried = await api("POST", "/requests", requestBody(callbacks.base), { "idempotency-key": "refund-while-frozen" });
    expect([200, 201]).toContain(retried.status);
    const again = await api("POST", "/requests", requestBody(callbacks.base), { "idempotency-key": "refund-while-frozen" });
    expect({ status: again.status, id: again.json.id }).toEqual({ status: 200, id: retried.json.id });

    const redelivery = await redeliverUntilAcknowledged(request.issue, "/approve customer is a regular", "alice", deliveryId);
    expect(is2xx(redelivery.status), `a redelivery is acknowledged eventually (last answer ${redelivery.status})`).toBe(true);
    await drain();
    expect((await api("GET", `/requests/${request.id}`)).json.status, "the acknowledged redelivery was applied").toBe("approved");
  }, 120_000);
});
