import { createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findRequestMarker } from "../../src/core/render/markers.js";
import { AGENT, api, GITHUB_TEST_TIMEOUT_MS, SELF, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import { waitFor } from "../support/wait.js";
import { deliver, issueCommentPayload, pullRequestReviewPayload } from "../support/webhooks.js";
import { rateLimited403, startFaultProxy, tooManyRequests429, type FaultAction, type FaultProxy } from "./support/fault-proxy.js";

const REPO = "octo-org/payments";
const ISSUES = "/repos/:owner/:repo/issues";
const HEAD = "a".repeat(40);
const AUTHOR = "deploy-agent";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const HOUR = 3_600_000;

const refund = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  decision_data: { amount: 120, currency: "USD" },
  approvers: ["alice"],
  deadline: "2099-01-01T00:00:00Z",
  ...overrides,
});

/** The issues on the stand-in that belong to `requestId`, by the marker in their body. */
const issuesOf = (github: GitHubStandIn, requestId: string) => github.repo(REPO).issues.filter((issue) => issue.body && findRequestMarker(issue.body, SELF.markerKey) === requestId);
const checkRunsOf = (github: GitHubStandIn, requestId: string) => github.repo(REPO).checkRuns.filter((run) => run.externalId === requestId);
const oneFault = (status: number) => ({ status });

/**
 * GitHub failing for a while (5xx, primary and secondary rate limits, answers lost after the
 * write happened) with the in-process app, whose Octokit does not retry: hitl's own job
 * retries and backoff do the work, driven by moving the app's clock.
 */
describe("GitHub failing for a while", () => {
  let github: GitHubStandIn;
  let proxy: FaultProxy;
  let app: AppHarness;
  let agent: CallbackReceiver;
  let now: number;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: {
          collaborators: { alice: "write", bob: "write", carol: "write", [AUTHOR]: "write" },
          pulls: [{ number: 42, headSha: HEAD, user: AUTHOR, files: [{ filename: "deploy/payments.yml" }] }],
        },
      },
      teams: { "octo-org/finance": ["carol"] },
    });
    proxy = await startFaultProxy(github);
    agent = await startCallbackReceiver();
    now = T0.getTime();
    app = await startApp({ githubUrl: proxy.url, now: T0 });
  });

  afterEach(async () => {
    await app.close();
    await proxy.close();
    await github.close();
    await agent.close();
  });

  /** Moves the clock by `stepMs` and runs the due jobs, until `done` or `rounds` runs. */
  async function retryUntil(done: () => boolean | Promise<boolean>, options: { stepMs?: number; rounds?: number } = {}): Promise<number> {
    await app.runtime.jobs.run();
    let rounds = 0;
    while (!(await done()) && rounds < (options.rounds ?? 12)) {
      now += options.stepMs ?? HOUR;
      app.setNow(new Date(now));
      await app.runtime.jobs.run();
      rounds += 1;
    }
    return rounds;
  }

  const shown = async (id: string) => (await api(app, "GET", `/requests/${id}`)).json;
  const auditEvents = async (id: string) =>
    (await api(app, "GET", `/audit?repo=${REPO}`)).text
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.request_id === id)
      .map((entry) => entry.event as string);
  /** Issue-creating POSTs that reached GitHub (the proxy's faults never do). */
  const issuePosts = () => github.callsTo("POST", ISSUES);
  const send = (event: string, payload: unknown, deliveryId?: string) => deliver(`${app.url}/api/github/webhooks`, { event, payload, secret: WEBHOOK_SECRET, deliveryId });

  it("acknowledges a request through 500, 502, a 403 rate limit and a 429, and posts one issue once GitHub answers", async () => {
    github.failNext({ method: "POST", path: ISSUES }, [oneFault(500), oneFault(502), rateLimited403(Math.floor(T0.getTime() / 1000) + 600), tooManyRequests429(30)]);
    const created = await api(app, "POST", "/requests", refund());
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ status: "pending", surface_url: null, surface_number: null });
    const id = created.json.id as string;

    // Nothing is retried before its backoff is over.
    await app.runtime.jobs.run();
    expect(issuePosts()).toHaveLength(1);

    const rounds = await retryUntil(async () => (await shown(id)).surface_number !== null);
    expect(rounds).toBeLessThan(12);
    expect(issuePosts().map((call) => call.status)).toEqual([500, 502, 403, 429, 201]);
    expect(issuesOf(github, id)).toHaveLength(1);
    expect(await shown(id)).toMatchObject({ status: "pending", surface_number: issuesOf(github, id)[0]!.number });
    expect(await auditEvents(id)).toEqual(["created", "surface_opened"]);
    expect(await app.store.pendingJobs()).toEqual([]);
  });

  it("answers the agent within its budget while GitHub does not answer, and posts the issue once it does", async () => {
    proxy.setRule(({ method, path }): FaultAction | undefined => (method === "POST" && path === `/repos/${REPO}/issues` ? { type: "hang" } : undefined));
    const started = Date.now();
    const created = await api(app, "POST", "/requests", refund());
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ status: "pending", surface_url: null });
    // Before the GitHub deadline: the budget, not GitHub, decided when to answer.
    expect(Date.now() - started).toBeLessThan(GITHUB_TEST_TIMEOUT_MS);
    const id = created.json.id as string;

    // GitHub answers again. While the first post is still in flight its retries leave it alone;
    // once the deadline ends it, a retry posts the issue.
    proxy.setRule(null);
    await waitFor(
      "the issue to be posted",
      async () => {
        now += 60_000;
        app.setNow(new Date(now));
        await app.runtime.jobs.run();
        return (await shown(id)).surface_number !== null ? true : undefined;
      },
      GITHUB_TEST_TIMEOUT_MS * 3,
      250,
    );
    expect(issuesOf(github, id)).toHaveLength(1);
  }, 60_000);

  it("never posts a second issue when GitHub created one but the answer was lost", async () => {
    let creates = 0;
    proxy.setRule(({ method, path }): FaultAction | undefined => {
      if (method !== "POST" || path !== `/repos/${REPO}/issues`) return undefined;
      creates += 1;
      // The inline try is lost after GitHub created the issue.
      return creates === 1 ? { type: "lose_answer", status: 502 } : undefined;
    });
    const created = await api(app, "POST", "/requests", refund());
    expect(created.status).toBe(201);
    expect(created.json.surface_number).toBeNull();
    const id = created.json.id as string;
    expect(issuesOf(github, id)).toHaveLength(1);

    await retryUntil(async () => (await shown(id)).surface_number !== null);
    expect(issuesOf(github, id)).toHaveLength(1);
    expect((await shown(id)).surface_number).toBe(issuesOf(github, id)[0]!.number);
    expect(creates).toBe(1);
    expect(await auditEvents(id)).toEqual(["created", "surface_opened"]);
  });

  it("never posts a second issue when a retry's answer is lost too, after a failed search", async () => {
    let creates = 0;
    let searches = 0;
    proxy.setRule(({ method, path }): FaultAction | undefined => {
      if (path !== `/repos/${REPO}/issues`) return undefined;
      if (method === "GET") {
        searches += 1;
        // The first search for an earlier issue fails: the retry must not create blindly.
        return searches === 1 ? { type: "fail", status: 502 } : undefined;
      }
      if (method !== "POST") return undefined;
      creates += 1;
      if (creates === 1) return { type: "fail", status: 500 };
      if (creates === 2) return { type: "lose_answer", status: 502 };
      return undefined;
    });
    const created = await api(app, "POST", "/requests", refund());
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    await retryUntil(async () => (await shown(id)).surface_number !== null);
    expect(issuesOf(github, id)).toHaveLength(1);
    expect((await shown(id)).surface_number).toBe(issuesOf(github, id)[0]!.number);
    expect(creates).toBe(2);
  });

  it("keeps the requests of a burst apart: each gets exactly one issue though GitHub lost every first answer", async () => {
    let creates = 0;
    proxy.setRule(({ method, path }): FaultAction | undefined => {
      if (method !== "POST" || path !== `/repos/${REPO}/issues`) return undefined;
      // The first five creations happen on GitHub, and every answer is lost.
      creates += 1;
      return creates <= 5 ? { type: "lose_answer", status: 502 } : undefined;
    });
    const responses = await Promise.all(Array.from({ length: 5 }, (_, i) => api(app, "POST", "/requests", refund({ task_description: `Refund order ${i}` }))));
    expect(responses.map((response) => response.status)).toEqual([201, 201, 201, 201, 201]);
    const ids = responses.map((response) => response.json.id as string);
    await retryUntil(async () => (await Promise.all(ids.map(shown))).every((request) => request.surface_number !== null));
    for (const id of ids) {
      expect(issuesOf(github, id), `issues of ${id}`).toHaveLength(1);
      expect((await shown(id)).surface_number).toBe(issuesOf(github, id)[0]!.number);
    }
    expect(github.repo(REPO).issues.filter((issue) => !issue.isPullRequest)).toHaveLength(5);
    expect(creates).toBe(5);
  });

  it("answers 502 and stores nothing when GitHub fails before the request is stored; the agent's retry then gets one request and one issue", async () => {
    const headers = { "idempotency-key": "refund-1234" };
    github.failNext({ method: "GET", path: "/repos/:owner/:repo/installation" }, [oneFault(502)]);
    const first = await api(app, "POST", "/requests", refund(), { headers });
    expect(first.status).toBe(502);
    expect(first.json.error.code).toBe("github_unavailable");

    github.failNext({ method: "GET", path: "/repos/:owner/:repo/contents/:path+" }, [tooManyRequests429(5)]);
    const second = await api(app, "POST", "/requests", refund(), { headers });
    expect(second.status).toBe(502);
    expect((await api(app, "GET", `/requests?repo=${REPO}`)).json.requests).toEqual([]);
    expect(issuePosts()).toEqual([]);

    const third = await api(app, "POST", "/requests", refund(), { headers });
    expect(third.status).toBe(201);
    const again = await api(app, "POST", "/requests", refund(), { headers });
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(third.json.id);
    expect((await api(app, "GET", `/requests?repo=${REPO}`)).json.requests).toHaveLength(1);
    expect(issuesOf(github, third.json.id)).toHaveLength(1);
  });

  it("tells the agent once its endpoint recovers, and closes the issue once GitHub does, with one decision comment", async () => {
    const created = await api(app, "POST", "/requests", refund({ callback_url: agent.url }));
    const id = created.json.id as string;
    const issue = created.json.surface_number as number;
    agent.failNext([500, 500, 503]);
    github.failNext({ method: "PATCH", path: `/repos/octo-org/payments/issues/${issue}` }, [oneFault(502), tooManyRequests429(10)]);

    const delivery = await send("issue_comment", issueCommentPayload({ repo: REPO, issueNumber: issue, body: "/approve regular customer", login: "alice" }));
    expect(delivery.status).toBe(200);
    expect((await shown(id)).status).toBe("approved");

    await retryUntil(() => agent.received.some((call) => call.status < 300) && github.repo(REPO).issues.find((i) => i.number === issue)!.state === "closed");
    expect(agent.received.map((call) => call.status)).toEqual([500, 500, 503, 204]);
    const delivered = agent.received.at(-1)!;
    expect(delivered.headers["x-hitl-signature-256"]).toBe(`sha256=${createHmac("sha256", AGENT.token).update(delivered.body).digest("hex")}`);
    expect(JSON.parse(delivered.body)).toMatchObject({ event: "request.approved", request: { id, status: "approved", decision: { justification: "regular customer" } } });
    // The same delivery id on every try, so the agent can tell a retry from a new event.
    expect(new Set(agent.received.map((call) => call.headers["x-hitl-delivery"])).size).toBe(1);

    const closed = github.repo(REPO).issues.find((i) => i.number === issue)!;
    expect(closed).toMatchObject({ state: "closed", labels: ["hitl:approved", "priority:normal"] });

    // Nothing more once everything went through.
    now += 24 * HOUR;
    app.setNow(new Date(now));
    await app.runtime.jobs.run();
    expect(agent.received).toHaveLength(4);
    expect(await app.store.pendingJobs()).toEqual([]);
    expect(await auditEvents(id)).toEqual(["created", "surface_opened", "decided"]);

    // The issue shows the decision once, though closing it failed twice.
    const decisionComments = closed.comments.filter((comment) => comment.user === "hitl[bot]" && comment.body.includes("@alice"));
    expect(decisionComments).toHaveLength(1);
  });

  it("a decision whose approver check fails on GitHub is answered 500, and its redelivery decides once", async () => {
    const created = await api(app, "POST", "/requests", refund({ approvers: ["@octo-org/finance"], callback_url: agent.url }));
    const id = created.json.id as string;
    github.failNext({ method: "GET", path: "/orgs/:org/teams/:slug/memberships/:username" }, [oneFault(502)]);
    const payload = issueCommentPayload({ repo: REPO, issueNumber: created.json.surface_number, body: "/approve", login: "carol" });
    const failed = await send("issue_comment", payload, "delivery-approve-1");
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect((await shown(id)).status).toBe("pending");

    const redelivered = await send("issue_comment", payload, "delivery-approve-1");
    expect(redelivered.status).toBe(200);
    expect(await shown(id)).toMatchObject({ status: "approved", decision: { decided_by: { login: "carol" } } });
    const again = await send("issue_comment", payload, "delivery-approve-1");
    expect(again.status).toBe(200);
    await retryUntil(() => agent.received.some((call) => call.status < 300));
    expect((await auditEvents(id)).filter((event) => event === "decided")).toHaveLength(1);
    expect(agent.received).toHaveLength(1);
  });

  it("on a pull request: one check run though its creation's answer was lost and the review request failed, completed once GitHub recovers", async () => {
    let checkCreates = 0;
    let reviewRequests = 0;
    let checkUpdates = 0;
    proxy.setRule(({ method, path }): FaultAction | undefined => {
      if (method === "POST" && path === `/repos/${REPO}/check-runs`) {
        checkCreates += 1;
        return checkCreates === 1 ? { type: "lose_answer", status: 502 } : undefined;
      }
      if (method === "POST" && path === `/repos/${REPO}/pulls/42/requested_reviewers`) {
        reviewRequests += 1;
        return reviewRequests === 1 ? { type: "fail", ...rateLimited403(Math.floor(T0.getTime() / 1000) + 60) } : undefined;
      }
      if (method === "PATCH" && /^\/repos\/octo-org\/payments\/check-runs\/\d+$/.test(path)) {
        checkUpdates += 1;
        if (checkUpdates === 1) return { type: "fail", status: 500 };
        if (checkUpdates === 2) return { type: "fail", ...tooManyRequests429(20) };
      }
      return undefined;
    });
    const created = await api(app, "POST", "/requests", refund({ surface: { type: "pull_request", number: 42 }, callback_url: agent.url }));
    expect(created.status).toBe(201);
    expect(created.json.surface_number).toBeNull();
    const id = created.json.id as string;
    expect(checkRunsOf(github, id)).toHaveLength(1);

    await retryUntil(async () => (await shown(id)).surface_number !== null);
    expect(checkRunsOf(github, id)).toHaveLength(1);
    expect(checkCreates).toBe(1);
    expect(reviewRequests).toBe(2);
    expect(github.repo(REPO).pulls[0]!.requestedReviewers).toEqual(["alice"]);
    expect(await auditEvents(id)).toEqual(["created", "surface_opened"]);

    const review = await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", body: "ship it", login: "alice", headSha: HEAD, author: AUTHOR }));
    expect(review.status).toBe(200);
    await retryUntil(() => checkRunsOf(github, id)[0]!.conclusion === "success" && agent.received.some((call) => call.status < 300));
    expect(checkRunsOf(github, id)).toEqual([expect.objectContaining({ headSha: HEAD, status: "completed", conclusion: "success" })]);
    expect(checkUpdates).toBe(3);
    expect(JSON.parse(agent.received.at(-1)!.body)).toMatchObject({ event: "request.approved", request: { id } });
    expect(await app.store.pendingJobs()).toEqual([]);
  });
});

/**
 * The real process, its sweep on a one-second cron: a GitHub call that never answers (a
 * connection GitHub accepted and then went quiet on) must not hold up the escalation of other
 * requests.
 */
describe("a GitHub call that never answers", () => {
  let github: GitHubStandIn;
  let proxy: FaultProxy;
  let server: ServerProcess | null = null;
  let dir: string;
  const token = "hang-agent-token-0123456789";

  beforeEach(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", bob: "write" } } } });
    proxy = await startFaultProxy(github);
    dir = await mkdtemp(join(tmpdir(), "hitl-hang-"));
  });

  afterEach(async () => {
    await server?.kill9();
    await proxy.close();
    await github.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("does not hold up escalations", async () => {
    server = await startServerProcess({ githubHost: proxy.host, env: { HITL_AGENT_TOKENS: `${AGENT.name}:${token}`, HITL_DATA_DIR: dir, HITL_SWEEP_CRON: "* * * * * *" } });
    const call = async (body: unknown) => {
      const response = await fetch(`${server!.base}/api/v1/requests`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
      return { status: response.status, json: await response.json() };
    };
    const decided = await call(refund({ task_description: "Refund order 1" }));
    expect(decided.status).toBe(201);
    // GitHub goes quiet on closing that request's issue.
    proxy.setRule(({ method, path }) => (method === "PATCH" && path === `/repos/${REPO}/issues/${decided.json.surface_number}` ? { type: "hang" } : undefined));
    const delivery = await deliver(`${server.base}/api/github/webhooks`, {
      event: "issue_comment",
      payload: issueCommentPayload({ repo: REPO, issueNumber: decided.json.surface_number, body: "/approve", login: "alice" }),
      secret: WEBHOOK_SECRET,
    });
    expect(delivery.status).toBe(200);
    await waitFor("the close of the decided issue to hang", () => (proxy.calls.some((c) => c.action === "hang") ? true : undefined), 20_000);

    const waiting = await call(refund({ task_description: "Refund order 2", escalation: [{ after: "2s", approvers: ["bob"] }] }));
    expect(waiting.status).toBe(201);
    const show = async () => (await (await fetch(`${server!.base}/api/v1/requests/${waiting.json.id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { escalation: { level: number } };
    // The ladder says 2 s and the sweep runs every second; give it fifteen times that.
    const climbed = await waitFor("the second request to climb its ladder", async () => ((await show()).escalation.level === 1 ? true : undefined), 30_000, 250).catch(() => false);
    expect(climbed, "escalated while an unrelated GitHub call hangs").toBe(true);
  }, 60_000);
});
