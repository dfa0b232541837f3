import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/store.js";
import { auditOf, callApi } from "../support/api-client.js";
import { AGENT, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis-keys.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";
import { openRedisStore } from "./support/redis-store.js";

/**
 * Votes racing on two app instances, each with its own Redis store on one prefix: each vote is
 * one compare-and-set of the request, so a quorum completes once, a vote and a rejection end
 * in one outcome, and a retraction never leaves a decided request short of its rule.
 */

const REPO = "octo-org/payments";
const ROUNDS = 8;

describe("votes racing on two instances on one Redis", () => {
  let prefix: string;
  let github: GitHubStandIn;
  let callbacks: CallbackReceiver;
  let stores: Store[];
  let a: AppHarness;
  let b: AppHarness;

  beforeEach(async () => {
    prefix = uniquePrefix("quorum-races");
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", bob: "write", carol: "write" } } } });
    callbacks = await startCallbackReceiver();
    stores = [openRedisStore(REDIS_URL, prefix), openRedisStore(REDIS_URL, prefix)];
    a = await startApp({ githubUrl: github.url, store: stores[0] });
    b = await startApp({ githubUrl: github.url, store: stores[1] });
  });

  afterEach(async () => {
    await a?.close();
    await b?.close();
    for (const store of stores ?? []) await store.close();
    await github?.close();
    await callbacks?.close();
    await deleteKeys(REDIS_URL, `${prefix}*`);
  });

  const drain = async () => {
    for (let i = 0; i < 2; i++) await Promise.all([a.runtime.jobs.run(), b.runtime.jobs.run()]);
  };
  const open = async () => {
    const created = await callApi(a.url, "POST", "/requests", {
      token: AGENT.token,
      body: { repo: REPO, task_description: "Refund order 1234", approval_reason: "Two people sign refunds", decision_data: { amount: 120 }, required_approvals: 2, callback_url: `${callbacks.base}/cb` },
    });
    expect(created.status, created.text).toBe(201);
    return { id: created.json.id as string, issue: created.json.surface_number as number };
  };
  const say = (base: string, issue: number, body: string, login: string) =>
    deliver(`${base}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: issue, body, login }), secret: WEBHOOK_SECRET });
  const shown = async (id: string) => (await callApi(b.url, "GET", `/requests/${id}`, { token: AGENT.token })).json;
  const decidedEntries = async (id: string) => (await auditOf(a.url, AGENT.token, REPO)).filter((entry) => entry.request_id === id && entry.event === "decided");
  const callbacksFor = (id: string) => callbacks.received.filter((c) => c.requestId === id).map((c) => c.event);

  it("two approvals at once, one to each instance, complete the quorum exactly once", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { id, issue } = await open();
      const [first, second] = round % 2 === 0 ? [a.url, b.url] : [b.url, a.url];
      const answers = await Promise.all([say(first, issue, "/approve", "alice"), say(second, issue, "/approve", "bob")]);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
      await drain();
      const request = await shown(id);
      expect(request.status).toBe("approved");
      expect(request.decision.approvals.map((vote: { by: string }) => vote.by).sort()).toEqual(["alice", "bob"]);
      expect(await decidedEntries(id)).toHaveLength(1);
      expect(callbacksFor(id)).toEqual(["request.approved"]);
      // The agent is told every vote and the stage that ended it.
      const told = JSON.parse(callbacks.received.find((c) => c.requestId === id)!.body);
      expect(told.request.decision).toMatchObject({ stage: "approval", approvals: request.decision.approvals });
    }
  }, 60_000);

  it("a completing vote and a rejection at once end in exactly one outcome", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { id, issue } = await open();
      expect((await say(a.url, issue, "/approve", "alice")).status).toBe(200);
      const [approveAt, rejectAt] = round % 2 === 0 ? [a.url, b.url] : [b.url, a.url];
      await Promise.all([say(approveAt, issue, "/approve", "bob"), say(rejectAt, issue, "/reject no", "carol")]);
      await drain();
      const request = await shown(id);
      expect(["approved", "rejected"]).toContain(request.status);
      const voters = request.decision.approvals.map((vote: { by: string }) => vote.by);
      // The outcome is the one the winning vote made; the other vote never landed.
      expect(voters).toEqual(request.status === "approved" ? ["alice", "bob"] : ["alice", "carol"]);
      expect((await decidedEntries(id)).map((entry) => entry.status)).toEqual([request.status]);
      expect(callbacksFor(id)).toEqual([`request.${request.status}`]);
    }
  }, 60_000);

  it("a retraction racing the completing vote never leaves a decided request with fewer votes than its rule", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { id, issue } = await open();
      expect((await say(a.url, issue, "/approve", "alice")).status).toBe(200);
      const [retractAt, approveAt] = round % 2 === 0 ? [a.url, b.url] : [b.url, a.url];
      await Promise.all([say(retractAt, issue, "/retract", "alice"), say(approveAt, issue, "/approve", "bob")]);
      await drain();
      const request = await shown(id);
      if (request.status === "approved") {
        expect(request.decision.approvals.map((vote: { by: string }) => vote.by)).toEqual(["alice", "bob"]);
        expect(callbacksFor(id)).toEqual(["request.approved"]);
      } else {
        expect(request).toMatchObject({ status: "pending", approvals: [{ by: "bob" }] });
        expect(callbacksFor(id)).toEqual([]);
      }
      expect(await decidedEntries(id)).toHaveLength(request.status === "approved" ? 1 : 0);
    }
  }, 60_000);
});
