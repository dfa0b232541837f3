import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { afterEach, describe, expect, it } from "vitest";
import { slackSignature } from "../../src/channels/slack/signature.js";
import { createRedisStore } from "../../src/store/redis-store.js";
import { createRespRequester } from "../../src/store/resp-requester.js";
import type { Store } from "../../src/store/store.js";
import { api, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deleteKeys, REDIS_URL } from "../support/redis-keys.js";
import { startSlackStandIn, type SlackStandIn } from "../support/slack-stand-in.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T10:00:00.000Z");
const SIGNING_SECRET = "slack-signing-secret-for-tests";
const POLICY = `
approvers: [alice, bob]
people:
  alice: {slack: UALICE1}
  bob: {slack: UBOB1}
notify: [{events: [opened], channels: [slack]}]
`;

describe("Slack with two replicas on Redis", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  function redisStore(prefix: string): Store {
    const requester = createRespRequester(REDIS_URL);
    return createRedisStore({ redis: new Redis(requester), prefix, onClose: () => requester.close() });
  }

  it("each person is told once though both replicas run the jobs; a press taken by one is a replay to the other", async () => {
    const prefix = `hitl-test:${randomBytes(6).toString("hex")}:`;
    const github: GitHubStandIn = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": POLICY } } } } });
    const slack: SlackStandIn = await startSlackStandIn();
    const settings = { botToken: slack.token, signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl };
    const stores = [redisStore(prefix), redisStore(prefix)];
    const apps: AppHarness[] = [];
    for (const store of stores) apps.push(await startApp({ githubUrl: github.url, now: T0, slack: settings, store }));
    cleanups.push(
      () => github.close(),
      () => slack.close(),
      () => deleteKeys(REDIS_URL, `${prefix}*`),
      ...stores.map((store) => () => store.close()),
      ...apps.map((app) => () => app.close()),
    );
    const [a, b] = apps as [AppHarness, AppHarness];

    const response = await api(a, "POST", "/requests", { repo: REPO, task_description: "Refund order 1234", approval_reason: "Refunds need a human", deadline: "2026-11-30T10:00:00Z" });
    const id = (response.json as { id: string }).id;
    await Promise.all([a.runtime.jobs.run(), b.runtime.jobs.run()]);
    await Promise.all([a.runtime.jobs.run(), b.runtime.jobs.run()]);
    expect(slack.accepted("chat.postMessage").map((message) => message.channel).sort()).toEqual(["UALICE1", "UBOB1"]);

    const toAlice = slack.calls.find((call) => call.body.channel === "UALICE1")!;
    const value = (toAlice.body.blocks as any[]).find((block) => block.type === "actions").elements[0].value as string;
    const raw = new URLSearchParams({
      payload: JSON.stringify({ type: "block_actions", user: { id: "UALICE1" }, trigger_id: "trigger-1", container: { channel_id: "DALICE1", message_ts: toAlice.answer.ts }, actions: [{ value, action_ts: "1" }] }),
    }).toString();
    const timestamp = String(T0.getTime() / 1000);
    const post = (app: AppHarness) =>
      fetch(`${app.url}/api/v1/slack/interactions`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": timestamp, "x-slack-signature": slackSignature(SIGNING_SECRET, timestamp, raw) },
        body: raw,
      });
    expect((await post(a)).status).toBe(200);
    expect((await post(b)).status).toBe(409);
    await Promise.all([a.runtime.jobs.run(), b.runtime.jobs.run()]);
    await Promise.all([a.runtime.jobs.run(), b.runtime.jobs.run()]);
    const request = (await api(b, "GET", `/requests/${id}`)).json as Record<string, any>;
    expect(request.decision).toMatchObject({ action: "approve", decided_by: { login: "alice" }, via: "slack" });
    expect(request.notifications.map((record: any) => [record.recipient, record.state])).toEqual([
      ["@alice", "updated"],
      ["@bob", "updated"],
    ]);
  });
});
