import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findRequestMarker } from "../../src/core/render/markers.js";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import { createStore } from "../../src/store/create-store.js";
import type { Store } from "../../src/store/store.js";
import { callApi as callAgentApi } from "../support/api-client.js";
import { SELF, startApp, WEBHOOK_SECRET } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deleteKeys, emptyDatabase, redisUrlForDb, scanKeys, uniquePrefix } from "../support/redis-keys.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import { sleep, waitFor } from "../support/wait.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";
import { startFaultProxy } from "./support/fault-proxy.js";

const REPO = "octo-org/payments";
const AGENT_NAME = "refund-agent";
const TOKEN = "crash-agent-token-0123456789";
/** Refunds under 10 are approved by rule, with no GitHub write: they are acknowledged at once. */
const POLICY = "rules:\n  - id: tiny-refunds\n    when: {field: amount, lt: 10}\n    action: approve\n";

type Kind = "target" | "issue" | "auto";

interface RequestAck {
  kind: Kind;
  id: string;
  httpStatus: number;
  key: string | null;
  surfaceNumber: number | null;
  status: string;
}

interface WebhookAck {
  requestId: string;
  action: "approve" | "reject";
  deliveryId: string;
}

interface AuditLine {
  at: string;
  request_id: string;
  event: string;
  actor: { type: string; login?: string; id?: string };
  action: string | null;
  status: string;
}

const callApi = (base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  callAgentApi(base, method, path, { token: TOKEN, body, headers });

async function sendWebhook(base: string, event: string, payload: unknown, deliveryId: string): Promise<number> {
  return (await deliver(`${base}/api/github/webhooks`, { event, payload, secret: WEBHOOK_SECRET, deliveryId, timeoutMs: 30_000 })).status;
}

function requestBody(kind: Kind, index: number, callbackUrl: string) {
  const base = {
    repo: REPO,
    approval_reason: "Refunds need a decision",
    approvers: ["alice"],
    request_type: "refund",
    deadline: "2099-01-01T00:00:00Z",
    callback_url: callbackUrl,
  };
  if (kind === "auto") return { ...base, task_description: `Crash auto ${index}`, decision_data: { amount: 5 } };
  if (kind === "target") return { ...base, task_description: `Crash target ${index}`, decision_data: { amount: 500 } };
  return {
    ...base,
    task_description: `Crash issue ${index}`,
    decision_data: { amount: 500 + index },
    escalation: [{ after: "2s", approvers: ["bob"] }],
  };
}

/** Which request each issue on the stand-in belongs to, by the marker in its body. */
function issuesByRequest(github: GitHubStandIn): Map<string, number[]> {
  const byRequest = new Map<string, number[]>();
  for (const issue of github.repo(REPO).issues) {
    const id = issue.body ? findRequestMarker(issue.body, SELF.markerKey) : null;
    if (!id) continue;
    byRequest.set(id, [...(byRequest.get(id) ?? []), issue.number]);
  }
  return byRequest;
}

/** How many issue creations GitHub answered 201 for, by request, from the stand-in's calls. */
function issueCreations(github: GitHubStandIn): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of github.callsTo("POST", `/repos/${REPO}/issues`)) {
    const body = (call.body as { body?: string } | undefined)?.body;
    const id = call.status === 201 && body ? findRequestMarker(body, SELF.markerKey) : null;
    if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

const reassignedTo = (github: GitHubStandIn, issue: number, login: string) =>
  github.callsTo("PATCH", `/repos/${REPO}/issues/${issue}`).some((call) => JSON.stringify((call.body as { assignees?: unknown }).assignees) === JSON.stringify([login]));

async function readAudit(base: string): Promise<AuditLine[]> {
  const response = await callApi(base, "GET", `/audit?repo=${REPO}&limit=10000`);
  expect(response.status).toBe(200);
  return response.text.trim().split("\n").filter(Boolean).map((line) => JSON.parse(line) as AuditLine);
}

async function listAll(base: string): Promise<any[]> {
  const response = await callApi(base, "GET", `/requests?repo=${REPO}&limit=500`);
  expect(response.status).toBe(200);
  return response.json.requests;
}

/**
 * The real server process is killed with SIGKILL while requests, idempotent replays and
 * /approve webhooks are in flight, then started again on the same data. Nothing it
 * acknowledged may be lost or applied twice, and the work it had queued (posting issues,
 * escalating, calling the agent back) must still happen.
 */
describe.each(["embedded", "redis"] as const)("kill -9 during a burst, then restart (%s store)", (kind) => {
  // On Redis, Probot's Octokit throttling is shared through Redis too (see the test below): a
  // process killed in the middle of a GitHub call holds up the restarted one's GitHub writes
  // until that call's registration expires (60 s), and the sweep lock of the killed process
  // lapses only after its 55 s lease. Waits there are longer for it.
  const patienceMs = kind === "redis" ? 150_000 : 45_000;

  it("keeps every acknowledged request and decision, decides nothing twice, posts one issue per request and still escalates", async () => {
    const github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": POLICY } } } },
    });
    const proxy = await startFaultProxy(github);
    const receiver: CallbackReceiver = await startCallbackReceiver();
    const dir = kind === "embedded" ? await mkdtemp(join(tmpdir(), "hitl-crash-")) : null;
    const prefix = kind === "redis" ? uniquePrefix("crash") : null;
    const redisUrl = kind === "redis" ? redisUrlForDb(await emptyDatabase()) : null;
    const env: Record<string, string> = {
      HITL_AGENT_TOKENS: `${AGENT_NAME}:${TOKEN}`,
      HITL_SWEEP_CRON: "* * * * * *",
      ...(dir ? { HITL_DATA_DIR: dir } : { REDIS_URL: redisUrl!, HITL_REDIS_PREFIX: prefix! }),
    };
    const servers: ServerProcess[] = [];
    let store: Store | null = null;
    let harness: Awaited<ReturnType<typeof startApp>> | null = null;
    try {
      // Before the burst: three requests with issues, for the decisions to land on.
      const first = await startServerProcess({ githubHost: proxy.host, env });
      servers.push(first);
      const opened = await Promise.all([0, 1, 2].map((i) => callApi(first.base, "POST", "/requests", requestBody("target", i, receiver.url))));
      for (const target of opened) expect(target).toMatchObject({ status: 201, json: { status: "pending" } });
      // Octokit spaces issue-creating calls three seconds apart, and the API answers within its
      // budget: the later issues may follow the answers. Wait for all three.
      const targets = await Promise.all(
        opened.map((target) =>
          waitFor(`the issue of ${target.json.id}`, async () => {
            const shown = await callApi(first.base, "GET", `/requests/${target.json.id}`);
            return shown.json.surface_number === null ? undefined : shown;
          }, 30_000, 250),
        ),
      );
      for (const target of targets) expect(target).toMatchObject({ status: 200, json: { status: "pending", surface_number: expect.any(Number) } });
      // Octokit spaces issue-creating calls three seconds apart; let that pass, so the burst's
      // first issue is tried at once.
      await sleep(3_500);

      const requestAcks: RequestAck[] = [];
      const webhookAcks: WebhookAck[] = [];
      const inflight: Promise<unknown>[] = [];
      const open = (kind: Kind, index: number, key: string | null) =>
        inflight.push(
          callApi(first.base, "POST", "/requests", requestBody(kind, index, receiver.url), key ? { "idempotency-key": key } : {})
            .then((response) => {
              if (response.status >= 200 && response.status < 300 && typeof response.json?.id === "string") {
                requestAcks.push({ kind, id: response.json.id, httpStatus: response.status, key, surfaceNumber: response.json.surface_number, status: response.json.status });
              }
            })
            .catch(() => undefined),
        );
      const decide = (target: number, action: "approve" | "reject", deliveryId: string) => {
        const requestId = targets[target]!.json.id as string;
        const payload = issueCommentPayload({ repo: REPO, issueNumber: targets[target]!.json.surface_number, body: `/${action} burst ${deliveryId.slice(0, 8)}`, login: "alice" });
        inflight.push(
          sendWebhook(first.base, "issue_comment", payload, deliveryId)
            .then((status) => {
              if (status === 200) webhookAcks.push({ requestId, action, deliveryId });
            })
            .catch(() => undefined),
        );
      };

      // GitHub refuses to create issues for the length of the burst: requests are still
      // acknowledged, and their issues must be posted after the restart.
      proxy.setRule(({ method, path }) => (method === "POST" && path === `/repos/${REPO}/issues` ? { type: "fail", status: 403, body: { message: "Resource not accessible by integration" } } : undefined));
      const t0 = Date.now();
      open("issue", 0, "crash-dup-issue");
      open("issue", 0, "crash-dup-issue");
      open("issue", 1, "crash-solo-issue");
      for (let i = 2; i < 6; i++) open("issue", i, null);
      await sleep(300);
      open("auto", 0, "crash-dup-auto");
      open("auto", 0, "crash-dup-auto");
      open("auto", 1, "crash-solo-auto");
      for (let i = 2; i < 6; i++) open("auto", i, null);
      const redelivered = randomUUID();
      decide(0, "approve", redelivered);
      decide(0, "approve", redelivered);
      decide(0, "approve", randomUUID());
      decide(1, "approve", randomUUID());
      decide(1, "approve", randomUUID());
      decide(2, "reject", randomUUID());
      decide(2, "reject", randomUUID());

      await waitFor(
        "an issue request acknowledged without its issue",
        () => {
          const ackedWithoutIssue = requestAcks.some((ack) => ack.kind === "issue" && ack.httpStatus === 201 && ack.surfaceNumber === null);
          return ackedWithoutIssue && Date.now() - t0 >= 1_500 ? true : undefined;
        },
        patienceMs,
        20,
      );
      // Two more, stored but not yet answered when the process dies: their ladder (2 s) cannot
      // have been climbed before the kill.
      open("issue", 6, null);
      open("issue", 7, null);
      await waitFor(
        "the last two requests to be stored",
        async () => {
          const stored = await listAll(first.base);
          return ["Crash issue 6", "Crash issue 7"].every((task) => stored.some((request) => request.task_description === task)) ? true : undefined;
        },
        patienceMs,
        50,
      );
      const killedAt = Date.now();
      await first.kill9();
      await Promise.allSettled(inflight);
      proxy.setRule(null);

      const ackedWithoutIssue = requestAcks.filter((ack) => ack.kind === "issue" && ack.httpStatus === 201 && ack.surfaceNumber === null);
      expect(requestAcks.some((ack) => ack.kind === "auto"), "the burst should have rule-decided requests acknowledged").toBe(true);
      expect(webhookAcks.length, "the burst should have decisions acknowledged").toBeGreaterThan(0);

      // Restart on the same data.
      const second = await startServerProcess({ githubHost: proxy.host, env });
      servers.push(second);

      // Every acknowledged request is there, and a reused key always meant the same request.
      for (const ack of requestAcks) {
        const shown = await callApi(second.base, "GET", `/requests/${ack.id}`);
        expect(shown.status, `acknowledged request ${ack.id} (${ack.kind})`).toBe(200);
        if (ack.kind === "auto") expect(shown.json).toMatchObject({ status: "approved", decision: { decided_by: { type: "rule", id: "tiny-refunds" } } });
      }
      for (const key of new Set(requestAcks.map((ack) => ack.key).filter((key): key is string => key !== null))) {
        expect(new Set(requestAcks.filter((ack) => ack.key === key).map((ack) => ack.id)).size, `idempotency key ${key}`).toBe(1);
      }
      const all = await listAll(second.base);
      for (const key of ["crash-dup-issue", "crash-solo-issue", "crash-dup-auto", "crash-solo-auto"]) {
        expect(all.filter((request) => request.idempotency_key === key).length, `requests stored under ${key}`).toBeLessThanOrEqual(1);
      }

      // Every acknowledged decision is applied, by the person who made it.
      for (const ack of webhookAcks) {
        const shown = await callApi(second.base, "GET", `/requests/${ack.requestId}`);
        expect(shown.json, `decision ${ack.deliveryId} on ${ack.requestId}`).toMatchObject({
          status: ack.action === "approve" ? "approved" : "rejected",
          decision: { action: ack.action, decided_by: { type: "human", login: "alice" }, via: "comment" },
        });
      }

      // Pending requests climb their ladder after the restart, and the issues the burst could
      // not post appear and are reassigned to the next level.
      const climbers = () => listAll(second.base).then((requests) => requests.filter((request) => request.task_description.startsWith("Crash issue") && request.status === "pending"));
      const pendingClimbers = await climbers();
      expect(pendingClimbers.length).toBeGreaterThan(0);
      await waitFor("every pending request to climb its ladder", async () => ((await climbers()).every((request) => request.escalation.level === 1) ? true : undefined), patienceMs, 250);
      const posted = await waitFor(
        "the issues of requests acknowledged without one",
        async () => {
          const numbers: number[] = [];
          for (const ack of ackedWithoutIssue) {
            const shown = await callApi(second.base, "GET", `/requests/${ack.id}`);
            if (shown.json.surface_number === null) return undefined;
            numbers.push(shown.json.surface_number);
          }
          return numbers;
        },
        patienceMs,
        250,
      );
      await waitFor("the reassignment of those issues to the next level", () => (posted.every((issue) => reassignedTo(github, issue, "bob")) ? true : undefined), patienceMs, 250);

      // Decided requests call the agent back.
      const decidedIds = (await listAll(second.base)).filter((request) => request.status !== "pending").map((request) => request.id as string);
      await waitFor(
        "a callback for every decided request",
        () => (decidedIds.every((id) => receiver.received.some((call) => call.status < 300 && JSON.parse(call.body).request.id === id)) ? true : undefined),
        patienceMs,
        250,
      );

      // Nothing decided twice, nothing escalated twice; escalations fired after the kill.
      const audit = await readAudit(second.base);
      const events = (id: string, event: string) => audit.filter((entry) => entry.request_id === id && entry.event === event);
      for (const request of await listAll(second.base)) {
        expect(events(request.id, "decided").length, `decided entries of ${request.id}`).toBeLessThanOrEqual(1);
        expect(events(request.id, "escalated").length, `escalated entries of ${request.id}`).toBeLessThanOrEqual(1);
        expect(events(request.id, "created").length, `created entries of ${request.id}`).toBe(1);
      }
      for (const ack of webhookAcks) expect(events(ack.requestId, "decided")).toEqual([expect.objectContaining({ actor: expect.objectContaining({ login: "alice" }), action: ack.action })]);
      for (const ack of requestAcks.filter((a) => a.kind === "auto")) expect(events(ack.id, "decided")).toHaveLength(1);
      for (const request of pendingClimbers) {
        const [escalated] = events(request.id, "escalated");
        expect(escalated, `escalation of ${request.id}`).toBeDefined();
        // Stored less than 2 s before the kill: climbed by the restarted process.
        if (/ [67]$/.test(request.task_description)) expect(Date.parse(escalated!.at), `escalation of ${request.id} after the kill`).toBeGreaterThan(killedAt);
      }
      expect(audit.filter((entry) => entry.event === "escalated" && Date.parse(entry.at) > killedAt).length, "escalations after the kill").toBeGreaterThan(0);

      // One issue per request, never two.
      for (const [id, numbers] of issuesByRequest(github)) expect(numbers, `issues of ${id}`).toHaveLength(1);
      for (const [id, count] of issueCreations(github)) expect(count, `issues created for ${id}`).toBe(1);

      await second.stop();
      expect(second.output()).not.toContain("error while stopping");

      // Requests stored but not yet posted when the process died wait for their safety-net job,
      // two minutes after they were stored (OPEN_SURFACE_GRACE_MS); so do idempotent replays of
      // a request whose first answer never came. Drive that on the same data with the
      // in-process app and a clock three minutes ahead.
      store = dir ? await createEmbeddedStore({ dir }) : (await createStore({ REDIS_URL: redisUrl!, HITL_REDIS_PREFIX: prefix! })).store;
      const pendingNow = (await store.list({ repo: REPO, status: "pending", limit: 500 })).filter((request) => request.taskDescription.startsWith("Crash issue"));
      const ahead = Date.now() + 3 * 60_000;
      harness = await startApp({ githubUrl: github.url, store, now: new Date(ahead) });
      for (let round = 0; round < 10; round++) {
        harness.setNow(new Date(ahead + round * 10 * 60_000));
        await harness.runtime.sweep();
        await harness.runtime.jobs.run();
        const byRequest = issuesByRequest(github);
        if (pendingNow.every((request) => (byRequest.get(request.id) ?? []).some((issue) => reassignedTo(github, issue, "bob")))) break;
      }
      const byRequest = issuesByRequest(github);
      for (const request of pendingNow) {
        const stored = await store.get(request.id);
        expect(stored?.surfaceRef?.number, `the issue of ${request.id}`).toBeTypeOf("number");
        expect(byRequest.get(request.id), `issues of ${request.id}`).toEqual([stored!.surfaceRef!.number]);
        expect(reassignedTo(github, stored!.surfaceRef!.number, "bob"), `reassignment of ${request.id}`).toBe(true);
      }
      for (const [id, numbers] of byRequest) expect(numbers, `issues of ${id}`).toHaveLength(1);
      for (const [id, count] of issueCreations(github)) expect(count, `issues created for ${id}`).toBe(1);
      // Every acknowledged request that is pending now has its issue, idempotent replays included.
      for (const ack of requestAcks.filter((a) => a.kind === "issue")) {
        const stored = await store.get(ack.id);
        if (stored?.status === "pending") expect(stored.surfaceRef, `the issue of acknowledged ${ack.id}`).not.toBeNull();
      }
    } finally {
      for (const server of servers) await server.kill9();
      await harness?.close();
      await store?.close();
      await proxy.close();
      await github.close();
      await receiver.close();
      if (dir) await rm(dir, { recursive: true, force: true });
      if (redisUrl) {
        await deleteKeys(redisUrl, `${prefix}*`);
        // Probot's throttling state, in this test's own database (see below).
        await deleteKeys(redisUrl, "b_octokit-*");
      }
    }
  }, kind === "redis" ? 420_000 : 150_000);
});

/**
 * hitl promises that it keeps its Redis state under HITL_REDIS_PREFIX. But REDIS_URL is also the
 * variable Probot reads to share Octokit's throttling (Bottleneck) through Redis, under fixed key
 * names: two deployments on one Redis then throttle each other, and a process killed during a
 * GitHub call holds up every replica's GitHub writes (and those of the restarted process) until
 * the call's registration expires, 60 s later.
 */
describe("Redis state of the server process", () => {
  it("stays under HITL_REDIS_PREFIX", async () => {
    const github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" } } } });
    const prefix = uniquePrefix("keys");
    const redisUrl = redisUrlForDb(await emptyDatabase());
    const server = await startServerProcess({ githubHost: github.host, env: { HITL_AGENT_TOKENS: `${AGENT_NAME}:${TOKEN}`, REDIS_URL: redisUrl, HITL_REDIS_PREFIX: prefix } });
    try {
      const created = await callApi(server.base, "POST", "/requests", { repo: REPO, task_description: "One request", approval_reason: "Keys", approvers: ["alice"] });
      expect(created).toMatchObject({ status: 201, json: { surface_number: 1 } });
      await server.stop();
      const outside = (await scanKeys(redisUrl, "*")).filter((key) => !key.startsWith(prefix)).sort();
      expect(outside).toEqual([]);
    } finally {
      await server.kill9();
      await github.close();
      await deleteKeys(redisUrl, `${prefix}*`);
      await deleteKeys(redisUrl, "b_octokit-*");
    }
  }, 60_000);
});
