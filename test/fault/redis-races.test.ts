import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/store.js";
import { AGENT, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";
import { auditOf, callApi } from "../support/api-client.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { freePort } from "../support/ports.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis-keys.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import { sleep, waitFor, within } from "../support/wait.js";
import { startGatedProxy, type GatedProxy } from "./support/gated-proxy.js";
import { startRedisServer, type RedisServer } from "./support/redis-server.js";
import { openRedisStore } from "./support/redis-store.js";

/**
 * Several hitl instances on one Redis must behave as one: a decision is applied once, whoever
 * receives the webhook, and each escalation step fires once, whoever sweeps. Two setups:
 * two apps in this process, each with its own connection and store on one prefix (the sweep is
 * driven by hand with a shared clock), and two real server processes (`src/main.ts`) on one
 * Redis, sweeping every second on their own.
 */

const PAYMENTS = "octo-org/payments";
const LADDER = "octo-org/ladder";

const LADDER_POLICY = `approvers: [alice]
deadline: 8h
warning_before: 1h
fallback: {type: abort, reason: "Nobody answered within 8 hours"}
escalation:
  - after: 1h
    approvers: [bob]
    message: Alice is away; please take this.
    notify: [oncall]
  - after: 4h
    approvers: [carol]
`;

/** One level a second or two out, a deadline far away: the escalation can fire only once, and only once the sweep runs. */
const FAST_LADDER_POLICY = `approvers: [alice]
deadline: 1h
escalation:
  - after: 2s
    approvers: [bob]
    message: Escalated while two processes sweep.
`;

function seed(policy: string) {
  return {
    repos: {
      [PAYMENTS]: { collaborators: { alice: "write" as const, bob: "write" as const, carol: "write" as const } },
      [LADDER]: { collaborators: { alice: "write" as const, bob: "write" as const, carol: "write" as const }, files: { main: { ".hitl.yml": policy } } },
    },
  };
}

const requestBody = (callbackUrl: string, overrides: Record<string, unknown> = {}) => ({
  repo: PAYMENTS,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  decision_data: { amount: 120, currency: "USD" },
  approvers: ["alice", "bob"],
  callback_url: `${callbackUrl}/cb`,
  ...overrides,
});

type Cluster = {
  /** The two instances' base URLs. */
  bases: [string, string];
  github: GitHubStandIn;
  callbacks: CallbackReceiver;
  /** A store on the cluster's prefix, to look at what is left (jobs). */
  store: Store;
  /** Returns once every job the instances queued has run (by hand, or by waiting for them). */
  drain: () => Promise<void>;
};

const issuePath = (repo: string, number: number) => `/repos/${repo}/issues/${number}`;
const commentsOn = (github: GitHubStandIn, repo: string, number: number) =>
  github.callsTo("POST", `${issuePath(repo, number)}/comments`).filter((c) => c.status === 201).map((c) => (c.body as { body: string }).body);
const closesOf = (github: GitHubStandIn, repo: string, number: number) =>
  github.callsTo("PATCH", issuePath(repo, number)).filter((c) => (c.body as { state?: string }).state === "closed");
const reassignmentsOf = (github: GitHubStandIn, repo: string, number: number) =>
  github.callsTo("PATCH", issuePath(repo, number)).filter((c) => "assignees" in (c.body as object));

async function openRequest(cluster: Cluster, base: string, overrides: Record<string, unknown> = {}) {
  const created = await callApi(base, "POST", "/requests", { token: AGENT.token, body: requestBody(cluster.callbacks.base, overrides) });
  expect(created.status, created.text).toBe(201);
  expect(created.json.surface_number, "the issue is posted inline").toEqual(expect.any(Number));
  return { id: created.json.id as string, issue: created.json.surface_number as number };
}

const comment = (base: string, repo: string, issue: number, body: string, login: string, deliveryId?: string) =>
  deliver(`${base}/api/github/webhooks`, {
    event: "issue_comment",
    payload: issueCommentPayload({ repo, issueNumber: issue, body, login }),
    secret: WEBHOOK_SECRET,
    deliveryId,
  });

/** The same delivery (one `X-GitHub-Delivery`) many times, to both instances at once. */
async function duplicateDeliveries(cluster: Cluster, copies: number) {
  const { id, issue } = await openRequest(cluster, cluster.bases[0]);
  const deliveryId = randomUUID();
  const payload = issueCommentPayload({ repo: PAYMENTS, issueNumber: issue, body: "/approve customer is a regular", login: "alice" });
  const answers = await Promise.all(
    Array.from({ length: copies }, (_, i) =>
      deliver(`${cluster.bases[i % 2]}/api/github/webhooks`, { event: "issue_comment", payload, secret: WEBHOOK_SECRET, deliveryId }),
    ),
  );
  // One copy is handled and acknowledged. A copy that arrives while another is in hand is not
  // acknowledged (so it could be redelivered if that one failed); one that arrives after is.
  expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(1);
  expect(answers.every((a) => a.status === 200 || a.status === 500)).toBe(true);
  await cluster.drain();
  const later = await deliver(`${cluster.bases[1]}/api/github/webhooks`, { event: "issue_comment", payload, secret: WEBHOOK_SECRET, deliveryId });
  expect(later.status).toBe(200);

  const shown = await callApi(cluster.bases[1], "GET", `/requests/${id}`, { token: AGENT.token });
  expect(shown.json).toMatchObject({ status: "approved", decision: { decided_by: { type: "human", login: "alice" }, justification: "customer is a regular" } });
  const decided = (await auditOf(cluster.bases[0], AGENT.token, PAYMENTS)).filter((e) => e.request_id === id && e.event === "decided");
  expect(decided).toHaveLength(1);
  expect(closesOf(cluster.github, PAYMENTS, issue)).toHaveLength(1);
  // The decision comment only: a duplicate is neither applied again nor answered.
  const comments = commentsOn(cluster.github, PAYMENTS, issue);
  expect(comments).toHaveLength(1);
  expect(comments[0]).not.toMatch(/already decided/i);
  expect(cluster.callbacks.received.filter((c) => c.requestId === id).map((c) => c.event)).toEqual(["request.approved"]);
  expect((await cluster.store.pendingJobs()).filter((j) => j.requestId === id)).toEqual([]);
}

/** `/approve` from alice to one instance and `/reject` from bob to the other, at the same moment, `rounds` times. */
async function conflictingDecisions(cluster: Cluster, rounds: number, betweenRounds?: () => Promise<void>) {
  const opened: Array<{ id: string; issue: number }> = [];
  for (let round = 0; round < rounds; round++) {
    if (round > 0) await betweenRounds?.();
    const request = await openRequest(cluster, round % 2 === 0 ? cluster.bases[0] : cluster.bases[1]);
    // Alternate which instance gets which command, so neither side is always first in line.
    const [approveAt, rejectAt] = round % 2 === 0 ? [cluster.bases[0], cluster.bases[1]] : [cluster.bases[1], cluster.bases[0]];
    const answers = await Promise.all([
      comment(approveAt, PAYMENTS, request.issue, "/approve fine by me", "alice"),
      comment(rejectAt, PAYMENTS, request.issue, "/reject not this one", "bob"),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    opened.push(request);
  }
  await cluster.drain();

  const audit = await auditOf(cluster.bases[0], AGENT.token, PAYMENTS);
  const outcomes: string[] = [];
  for (const { id, issue } of opened) {
    const shown = (await callApi(cluster.bases[1], "GET", `/requests/${id}`, { token: AGENT.token })).json;
    const winner = shown.status === "approved" ? "alice" : "bob";
    const loser = winner === "alice" ? "bob" : "alice";
    outcomes.push(shown.status);
    expect(["approved", "rejected"], `${id} ends decided`).toContain(shown.status);
    expect(shown.decision.decided_by, `${id} is decided by the one whose command it applied`).toEqual({ type: "human", login: winner });

    const decided = audit.filter((e) => e.request_id === id && e.event === "decided");
    expect(decided.map((e) => e.status), `${id}: one decided audit entry`).toEqual([shown.status]);
    expect(cluster.callbacks.received.filter((c) => c.requestId === id).map((c) => c.event), `${id}: one callback`).toEqual([`request.${shown.status}`]);
    const closes = closesOf(cluster.github, PAYMENTS, issue);
    expect(closes.map((c) => (c.body as { labels: string[] }).labels[0]), `${id}: closed once`).toEqual([`hitl:${shown.status}`]);

    const comments = commentsOn(cluster.github, PAYMENTS, issue);
    const replies = comments.filter((text) => /already decided/i.test(text));
    const decisions = comments.filter((text) => !/already decided/i.test(text));
    expect(comments, `${id}: one decision comment and one reply`).toHaveLength(2);
    expect(replies, `${id}: the loser is told`).toHaveLength(1);
    expect(replies[0]).toContain(`@${loser}`);
    expect(decisions, `${id}: one decision comment`).toHaveLength(1);
    expect(decisions[0]).toContain(`@${winner}`);
  }
  expect(outcomes).toHaveLength(rounds);
  expect((await cluster.store.pendingJobs()).filter((j) => opened.some((o) => o.id === j.requestId))).toEqual([]);
}

describe("two app instances, each with its own Redis store, on one prefix", () => {
  const T0 = new Date("2026-11-24T09:00:00.000Z");
  const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);
  let prefix: string;
  let github: GitHubStandIn;
  let callbacks: CallbackReceiver;
  let stores: Store[];
  let a: AppHarness;
  let b: AppHarness;
  let cluster: Cluster;

  beforeEach(async () => {
    prefix = uniquePrefix("races");
    github = await startGitHubStandIn(seed(LADDER_POLICY));
    callbacks = await startCallbackReceiver();
    stores = [openRedisStore(REDIS_URL, prefix), openRedisStore(REDIS_URL, prefix), openRedisStore(REDIS_URL, prefix)];
    const channels = [{ name: "oncall", url: `${callbacks.base}/oncall`, kind: "webhook" as const }];
    a = await startApp({ githubUrl: github.url, store: stores[0], channels });
    b = await startApp({ githubUrl: github.url, store: stores[1], channels });
    cluster = {
      bases: [a.url, b.url],
      github,
      callbacks,
      store: stores[2]!,
      drain: async () => {
        // Both runners at once, twice: whatever one leaves (a job claimed by the other) is done by then.
        for (let i = 0; i < 2; i++) await Promise.all([a.runtime.jobs.run(), b.runtime.jobs.run()]);
      },
    };
  });

  afterEach(async () => {
    await a?.close();
    await b?.close();
    for (const store of stores ?? []) await store.close();
    await github?.close();
    await callbacks?.close();
    await deleteKeys(REDIS_URL, `${prefix}*`);
  });

  it("applies a delivery sent many times to both instances once: one decision, one close, one callback", async () => {
    await duplicateDeliveries(cluster, 12);
  });

  it("lets exactly one of two conflicting decisions win, every time, over 20 fresh requests", async () => {
    await conflictingDecisions(cluster, 20);
  }, 60_000);

  it("fires each escalation step once while both instances sweep with the same clock", async () => {
    for (const app of [a, b]) app.setNow(T0);
    const created = await callApi(a.url, "POST", "/requests", {
      token: AGENT.token,
      body: { repo: LADDER, task_description: "Refund order 77", approval_reason: "Large refund", decision_data: { amount: 900 }, callback_url: `${callbacks.base}/cb` },
    });
    expect(created.status, created.text).toBe(201);
    const { id } = created.json;
    const issue = created.json.surface_number as number;

    const totals = { ran: 0, escalated: 0, warned: 0, expired: 0, delegated: 0 };
    // Each moment is swept by both instances at once, several times over, with two sweeps per
    // instance (which share the instance's lock owner) so the compare-and-set is raced too.
    for (const hours of [0.5, 1, 1, 2, 4, 4, 5, 7, 7, 8, 8, 9, 100]) {
      for (const app of [a, b]) app.setNow(at(hours));
      for (let repeat = 0; repeat < 2; repeat++) {
        const results = await Promise.all([a.runtime.sweep(), b.runtime.sweep(), a.runtime.sweep(), b.runtime.sweep()]);
        for (const result of results) {
          totals.ran += result.ran ? 1 : 0;
          totals.escalated += result.escalated;
          totals.warned += result.warned;
          totals.expired += result.expired;
          totals.delegated += result.delegated;
        }
        await cluster.drain();
      }
    }

    expect(totals).toMatchObject({ escalated: 2, warned: 1, expired: 1, delegated: 0 });
    expect(totals.ran).toBeGreaterThan(0);
    // One reassignment per level, in order.
    // Each reassignment rewrites the status line in the same call.
    expect(reassignmentsOf(github, LADDER, issue).map((c) => (c.body as { assignees: string[] }).assignees)).toEqual([["bob"], ["carol"]]);
    const comments = commentsOn(github, LADDER, issue);
    expect(comments.filter((text) => text.includes("(level 1)"))).toHaveLength(1);
    expect(comments.filter((text) => text.includes("(level 2)"))).toHaveLength(1);
    expect(comments.filter((text) => /still has no decision/.test(text))).toHaveLength(1);
    expect(comments).toHaveLength(4);
    expect(closesOf(github, LADDER, issue)).toHaveLength(1);
    // Level 1 names a channel: it hears of it once.
    expect(callbacks.received.filter((c) => c.path === "/oncall").map((c) => c.requestId)).toEqual([id]);
    expect(callbacks.received.filter((c) => c.path === "/cb").map((c) => c.event)).toEqual(["request.expired"]);
    const events = (await auditOf(a.url, AGENT.token, LADDER)).filter((e) => e.request_id === id).map((e) => e.event);
    expect(events).toEqual(["created", "surface_opened", "escalated", "escalated", "warned", "expired"]);
    expect((await callApi(b.url, "GET", `/requests/${id}`, { token: AGENT.token })).json).toMatchObject({ status: "expired", decision: { decided_by: { type: "fallback", fallback: "abort" } } });
    expect(await cluster.store.pendingJobs()).toEqual([]);
  }, 60_000);
});

/**
 * Probot also reads REDIS_URL: with it, every process's Octokit throttle (GitHub's advice: one
 * content-creating call every 3 s) becomes one Bottleneck cluster in that Redis, under keys of
 * its own (`b_octokit-*`, outside HITL_REDIS_PREFIX). So these processes get a private
 * redis-server, and the rounds here are fewer and spaced out: every issue, reply and decision
 * comment of the whole cluster waits its turn.
 */
describe("two server processes (src/main.ts) on one Redis", () => {
  const prefix = uniquePrefix("procs");
  let redis: RedisServer;
  let github: GitHubStandIn;
  let callbacks: CallbackReceiver;
  let store: Store;
  let servers: ServerProcess[] = [];
  let cluster: Cluster;

  /** Waits (bounded) until the processes ran every job they queued. */
  async function jobsDone(): Promise<void> {
    await waitFor("every job to run", async () => ((await store.pendingJobs()).length === 0 ? true : undefined), 60_000, 200, { retryErrors: true });
  }
  /** Jobs run on their own in the processes; once none is left, a few more ticks of both, to catch anything done twice. */
  async function settle(): Promise<void> {
    await jobsDone();
    await sleep(3_000);
  }

  beforeAll(async () => {
    redis = await startRedisServer(await freePort());
    github = await startGitHubStandIn(seed(FAST_LADDER_POLICY));
    callbacks = await startCallbackReceiver();
    store = openRedisStore(redis.url, prefix);
    const env = {
      HITL_AGENT_TOKENS: `${AGENT.name}:${AGENT.token}`,
      REDIS_URL: redis.url,
      HITL_REDIS_PREFIX: prefix,
      HITL_SWEEP_CRON: "* * * * * *",
      HITL_DATA_DIR: "",
    };
    servers = await Promise.all([startServerProcess({ githubHost: github.host, env }), startServerProcess({ githubHost: github.host, env })]);
    cluster = { bases: [servers[0]!.base, servers[1]!.base], github, callbacks, store, drain: settle };
  }, 200_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await store?.close();
    await github?.close();
    await callbacks?.close();
    await redis?.kill();
  }, 60_000);

  it("applies a delivery sent many times to both processes once", async () => {
    await duplicateDeliveries(cluster, 12);
  }, 90_000);

  it("lets exactly one of two conflicting decisions win, every time", async () => {
    await conflictingDecisions(cluster, 5, jobsDone);
  }, 150_000);

  it("escalates once and expires once while both processes sweep every second", async () => {
    const ladder = await callApi(servers[0]!.base, "POST", "/requests", {
      token: AGENT.token,
      body: { repo: LADDER, task_description: "Rotate the keys", approval_reason: "Production access", decision_data: { env: "prod" }, callback_url: `${callbacks.base}/cb` },
    });
    expect(ladder.status, ladder.text).toBe(201);
    expect(ladder.json.surface_number).toEqual(expect.any(Number));
    // Its issue waits its turn behind the first one's; give it room before the deadline.
    const deadline = new Date(Date.now() + 12_000).toISOString();
    const expiring = await callApi(servers[1]!.base, "POST", "/requests", {
      token: AGENT.token,
      body: requestBody(callbacks.base, { deadline, fallback_action: { type: "abort", reason: "nobody answered in time" } }),
    });
    expect(expiring.status, expiring.text).toBe(201);
    expect(expiring.json).toMatchObject({ status: "pending", surface_number: expect.any(Number) });
    const ladderIssue = ladder.json.surface_number as number;
    const expiringIssue = expiring.json.surface_number as number;

    await waitFor("the escalation and the expiry", async () => {
      const events = (await auditOf(servers[0]!.base, AGENT.token, LADDER)).concat(await auditOf(servers[0]!.base, AGENT.token, PAYMENTS));
      const escalated = events.some((e) => e.request_id === ladder.json.id && e.event === "escalated");
      const expired = events.some((e) => e.request_id === expiring.json.id && e.event === "expired");
      return escalated && expired ? true : undefined;
    }, 60_000, 250, { retryErrors: true });
    await settle();

    const ladderEvents = (await auditOf(servers[1]!.base, AGENT.token, LADDER)).filter((e) => e.request_id === ladder.json.id).map((e) => e.event);
    expect(ladderEvents).toEqual(["created", "surface_opened", "escalated"]);
    expect(reassignmentsOf(github, LADDER, ladderIssue).map((c) => (c.body as { assignees: string[] }).assignees)).toEqual([["bob"]]);
    const ladderComments = commentsOn(github, LADDER, ladderIssue);
    expect(ladderComments).toHaveLength(1);
    expect(ladderComments[0]).toContain("(level 1)");
    expect((await callApi(servers[0]!.base, "GET", `/requests/${ladder.json.id}`, { token: AGENT.token })).json).toMatchObject({ status: "pending", escalation: { level: 1 } });

    const expiringEvents = (await auditOf(servers[1]!.base, AGENT.token, PAYMENTS)).filter((e) => e.request_id === expiring.json.id).map((e) => e.event);
    expect(expiringEvents).toEqual(["created", "surface_opened", "expired"]);
    expect(closesOf(github, PAYMENTS, expiringIssue)).toHaveLength(1);
    expect(commentsOn(github, PAYMENTS, expiringIssue)).toHaveLength(1);
    expect(callbacks.received.filter((c) => c.requestId === expiring.json.id).map((c) => c.event)).toEqual(["request.expired"]);
    expect(callbacks.received.filter((c) => c.requestId === ladder.json.id)).toEqual([]);
    for (const server of servers) expect(server.exited(), server.output()).toBe(false);
  }, 120_000);
});

/**
 * The sweep on one instance racing the other writers on another: a request that expires while
 * its issue is being posted, and an escalation whose issue update is still to be retried when a
 * person decides. A pass-through proxy in front of the GitHub stand-in holds one call of
 * instance A at an exact point while instance B acts.
 */
describe("the sweep on one instance racing writes on the other", () => {
  const T0 = new Date("2026-11-24T09:00:00.000Z");
  const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);
  let prefix: string;
  let github: GitHubStandIn;
  let proxy: GatedProxy;
  let callbacks: CallbackReceiver;
  let stores: Store[];
  let a: AppHarness;
  let b: AppHarness;
  const drain = async () => {
    for (let i = 0; i < 2; i++) await Promise.all([a.runtime.jobs.run(), b.runtime.jobs.run()]);
  };
  const setNow = (date: Date) => {
    a.setNow(date);
    b.setNow(date);
  };

  beforeEach(async () => {
    prefix = uniquePrefix("sweep-race");
    github = await startGitHubStandIn(seed(LADDER_POLICY));
    proxy = await startGatedProxy(github.url);
    callbacks = await startCallbackReceiver();
    stores = [openRedisStore(REDIS_URL, prefix), openRedisStore(REDIS_URL, prefix), openRedisStore(REDIS_URL, prefix)];
    const channels = [{ name: "oncall", url: `${callbacks.base}/oncall`, kind: "webhook" as const }];
    a = await startApp({ githubUrl: proxy.url, store: stores[0], now: T0, channels });
    b = await startApp({ githubUrl: github.url, store: stores[1], now: T0, channels });
  });

  afterEach(async () => {
    await a?.close();
    await b?.close();
    for (const store of stores ?? []) await store.close();
    await proxy?.close();
    await github?.close();
    await callbacks?.close();
    await deleteKeys(REDIS_URL, `${prefix}*`);
  });

  it("closes the issue of a request that expired while its issue was being posted", async () => {
    const gate = proxy.hold("POST", `/repos/${PAYMENTS}/issues`);
    const opening = callApi(a.url, "POST", "/requests", {
      token: AGENT.token,
      body: requestBody(callbacks.base, { approvers: ["alice"], deadline: at(1).toISOString() }),
    });
    await within("instance A posting the issue", gate.held, 20_000);

    // Meanwhile instance B's sweep finds the request past its deadline.
    b.setNow(at(2));
    expect(await b.runtime.sweep()).toMatchObject({ ran: true, expired: 1 });
    await b.runtime.jobs.run();
    // Both instances read one clock, as replicas do: job leases are measured on it.
    setNow(at(2));
    gate.release();
    const opened = await opening;
    expect(opened.status, opened.text).toBe(201);
    const issue = opened.json.surface_number as number;
    expect(issue).toEqual(expect.any(Number));
    await drain();

    const shown = (await callApi(b.url, "GET", `/requests/${opened.json.id}`, { token: AGENT.token })).json;
    expect(shown).toMatchObject({ status: "expired", surface_number: issue });
    expect(callbacks.received.filter((c) => c.requestId === opened.json.id).map((c) => c.event)).toEqual(["request.expired"]);
    // The issue must not stay open, labelled pending, for a request that is over.
    expect(closesOf(github, PAYMENTS, issue).map((c) => (c.body as { labels: string[] }).labels[0])).toEqual(["hitl:expired"]);
    expect(await stores[2]!.pendingJobs()).toEqual([]);
  });

  it("does not escalate on GitHub a request decided while its escalation's issue update waited for a retry", async () => {
    const created = await callApi(a.url, "POST", "/requests", {
      token: AGENT.token,
      body: { repo: LADDER, task_description: "Refund order 77", approval_reason: "Large refund", decision_data: { amount: 900 }, callback_url: `${callbacks.base}/cb` },
    });
    expect(created.status, created.text).toBe(201);
    const issue = created.json.surface_number as number;

    // Level 1 fires on A; GitHub fails the reassignment, so the issue update is retried later.
    github.failNext({ method: "PATCH", path: issuePath(LADDER, issue) }, [{ status: 502 }]);
    setNow(at(1));
    expect(await a.runtime.sweep()).toMatchObject({ escalated: 1 });
    await drain();
    expect(commentsOn(github, LADDER, issue)).toEqual([]);

    // Bob, the level-1 approver, decides on B before the retry comes due.
    const decision = await comment(b.url, LADDER, issue, "/approve covering for alice", "bob");
    expect(decision.status).toBe(200);
    await drain();
    expect((await callApi(b.url, "GET", `/requests/${created.json.id}`, { token: AGENT.token })).json).toMatchObject({ status: "approved", decision: { decided_by: { login: "bob" } } });
    expect(closesOf(github, LADDER, issue)).toHaveLength(1);

    // The retry comes due: the request is decided, so there is nothing to escalate on GitHub.
    setNow(new Date(at(1).getTime() + 10 * 60_000));
    await drain();
    const comments = commentsOn(github, LADDER, issue);
    expect(comments.filter((text) => /escalated to you/.test(text)), "no escalation notice on a decided request").toEqual([]);
    expect(comments).toHaveLength(1);
    const successfulReassignments = reassignmentsOf(github, LADDER, issue).filter((c) => c.status === 200);
    expect(successfulReassignments, "a closed, decided issue is not reassigned").toEqual([]);
    expect(await stores[2]!.pendingJobs()).toEqual([]);
  });
});
