import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTokenCache, tokenCacheKey } from "../../src/github/token-cache.js";
import { notifySlotKey, writeSlotKey } from "../../src/github/write-budget.js";
import { createRedisStore } from "../../src/store/redis-store.js";
import { createRespRequester } from "../../src/store/resp-requester.js";
import type { Store } from "../../src/store/store.js";
import { api, startApp, testPrivateKey, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { SECONDARY_LIMIT_MESSAGE } from "../support/github-stand-in/secondary-limit.js";
import { deleteKeys, REDIS_URL } from "../support/redis-keys.js";
import { waitFor } from "../support/wait.js";

const REPO = "octo-org/payments";
const ISSUES = "/repos/octo-org/payments/issues";
const TOKENS = "/app/installations/1/access_tokens";

const requestBody = (n: number) => ({
  repo: REPO,
  task_description: `Refund order ${n}`,
  approval_reason: "Refunds over $50 need a human",
  decision_data: { amount: 120 + n, currency: "USD" },
  available_actions: [
    { id: "approve", label: "Refund", impact: "Customer gets the money back" },
    { id: "reject", label: "Deny", impact: "Ticket goes back to support" },
  ],
  priority: "high",
  deadline: "2099-12-01T12:00:00Z",
  fallback_action: { type: "abort", reason: "nobody answered" },
  approvers: ["alice"],
});

interface Granted {
  replica: string;
  key: string;
  /** Milliseconds after T0. */
  at: number;
}

/**
 * Two replicas of the app on one Redis (each its own connection and store), on a clock frozen at
 * T0 (the time the test starts: installation tokens expire by GitHub's clock): a write waits for
 * its slot by recording it instead of sleeping, so which slots the store's budget granted, and to
 * whom, is exact.
 */
describe("replicas on one Redis", () => {
  let github: GitHubStandIn;
  let prefix: string;
  let replicas: AppHarness[];
  let stores: Store[];
  let granted: Granted[];
  let T0: number;

  function openStore(name: string): Store {
    const requester = createRespRequester(REDIS_URL);
    const store = createRedisStore({ redis: new Redis(requester), prefix, onClose: () => requester.close() });
    // The replica's own view of the budget: every slot the store granted it.
    return new Proxy(store, {
      get(target, property, receiver) {
        if (property !== "takeSlot") return Reflect.get(target, property, receiver) as unknown;
        return async (key: string, now: Date, spacingMs: number) => {
          const slot = await target.takeSlot(key, now, spacingMs);
          granted.push({ replica: name, key, at: slot.getTime() - T0 });
          return slot;
        };
      },
    });
  }

  beforeEach(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" } } }, installations: [{ id: 1, account: "octo-org", repos: [REPO] }] });
    prefix = `hitl-test:replicas:${randomBytes(6).toString("hex")}:`;
    granted = [];
    T0 = Date.now();
    stores = ["a", "b"].map(openStore);
    const clock = () => new Date(T0);
    replicas = await Promise.all(stores.map((store) => startApp({ githubUrl: github.url, store, clock, spacing: { kind: "shared", clock, sleep: async () => undefined } })));
  });

  afterEach(async () => {
    for (const replica of replicas) await replica.close();
    for (const store of stores) await store.close();
    await github.close();
    await deleteKeys(REDIS_URL, `${prefix}*`);
  });

  const slotsOf = (key: string) => granted.filter((g) => g.key === key).map((g) => g.at).sort((x, y) => x - y);
  const inWindow = (key: string, fromMs: number, toMs: number) => slotsOf(key).filter((at) => at >= fromMs && at < toMs).length;

  it("share one write budget: together they never write faster than one installation may", async () => {
    const opened = await Promise.all(Array.from({ length: 10 }, (_, i) => api(replicas[i % 2]!, "POST", "/requests", requestBody(i))));
    expect(opened.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 201));
    await waitFor("ten issues", () => (github.callsTo("POST", ISSUES).length === 10 ? true : undefined));

    // Each issue took a write slot and a notifying slot; both replicas wrote, on one budget.
    expect(slotsOf(writeSlotKey("1"))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((s) => s * 1000));
    expect(slotsOf(notifySlotKey("1"))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((s) => s * 3000));
    expect(new Set(granted.map((g) => g.replica))).toEqual(new Set(["a", "b"]));
    expect(inWindow(writeSlotKey("1"), 0, 1000)).toBe(1);
    expect(inWindow(writeSlotKey("1"), 2500, 7500)).toBe(5);
    expect(inWindow(notifySlotKey("1"), 0, 9000)).toBe(3);
    expect(github.callsTo("POST", ISSUES).map((c) => c.status)).toEqual(Array.from({ length: 10 }, () => 201));
  });

  it("all hold back after GitHub answers one of them with a secondary rate limit", async () => {
    github.failNext({ method: "POST", path: ISSUES }, [{ status: 403, headers: { "retry-after": "30" }, body: { message: SECONDARY_LIMIT_MESSAGE } }]);
    expect((await api(replicas[0]!, "POST", "/requests", requestBody(1))).status).toBe(201);
    await waitFor("the pause", () => (slotsOf(writeSlotKey("1")).length === 2 ? true : undefined));

    expect((await api(replicas[1]!, "POST", "/requests", requestBody(2))).status).toBe(201);
    await waitFor("an issue", () => (github.callsTo("POST", ISSUES).some((c) => c.status === 201) ? true : undefined));
    // The first write at 0 was refused; the pause took the slot at 30 s; the other replica's write waited past it.
    expect(slotsOf(writeSlotKey("1"))).toEqual([0, 30_000, 31_000]);
    expect(github.callsTo("POST", ISSUES).map((c) => c.status)).toEqual([403, 201]);
  });

  it("leave a request to the replica still waiting for its slot to post it: its safety net on another replica posts nothing", async () => {
    for (const replica of replicas) await replica.close();
    let now = T0;
    const clock = () => new Date(now);
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const waits: number[] = [];
    replicas = [
      await startApp({ githubUrl: github.url, store: stores[0]!, clock, spacing: { kind: "shared", clock, sleep: (ms) => (waits.push(ms), held) } }),
      await startApp({ githubUrl: github.url, store: stores[1]!, clock, spacing: { kind: "shared", clock, sleep: async () => undefined } }),
    ];
    // Other writes took the installation's next notifying slots: this issue's turn is nine seconds away.
    for (let i = 0; i < 3; i++) await stores[1]!.takeSlot(notifySlotKey("1"), new Date(T0), 3000);
    const opened = await api(replicas[0]!, "POST", "/requests", requestBody(1));
    expect(opened.status).toBe(201);
    expect(waits).toEqual([9000]);

    // The safety-net job comes due and the other replica takes it while the first still waits.
    now = T0 + 3 * 60_000;
    replicas[1]!.runtime.jobs.kick();
    const job = await waitFor("the safety net to stand back", async () => (await stores[1]!.pendingJobs()).find((j) => j.kind === "open_surface" && j.lastError !== null));
    expect(job.lastError).toBe("the request is still being posted by the replica that opened it");
    expect(github.callsTo("POST", ISSUES)).toEqual([]);

    release();
    await waitFor("the issue", () => (github.callsTo("POST", ISSUES).length === 1 ? true : undefined));
    await waitFor("the safety net done", async () => ((await stores[1]!.pendingJobs()).some((j) => j.kind === "open_surface") ? undefined : true));
    now = T0 + 10 * 60_000;
    replicas[1]!.runtime.jobs.kick();
    await replicas[1]!.runtime.stop();
    expect(github.callsTo("POST", ISSUES).map((c) => c.status)).toEqual([201]);
  });

  it("share one installation token: the second replica asks GitHub for none", async () => {
    expect((await api(replicas[0]!, "POST", "/requests", requestBody(1))).status).toBe(201);
    expect(github.callsTo("POST", TOKENS)).toHaveLength(1);
    expect((await api(replicas[1]!, "POST", "/requests", requestBody(2))).status).toBe(201);
    await waitFor("two issues", () => (github.callsTo("POST", ISSUES).length === 2 ? true : undefined));

    expect(github.callsTo("POST", TOKENS)).toHaveLength(1);
    const [first, second] = github.callsTo("POST", ISSUES);
    expect([first?.status, second?.status]).toEqual([201, 201]);
    expect(await stores[1]!.getCached(tokenCacheKey("1"))).toMatch(/^v1\./);
  });

  it("drop a token GitHub refuses, and the next call gets a new one", async () => {
    // A token both replicas hold, created an hour ago (so Octokit does not retry its 401 as
    // GitHub's replication delay) and valid for minutes more.
    const createdAt = new Date(Date.now() - 55 * 60_000).toISOString();
    const expiresAt = new Date(T0 + 30 * 60_000).toISOString();
    await createTokenCache({ store: stores[0]!, secret: testPrivateKey(), clock: () => new Date(T0) }).set("1", `ghs_revoked|${createdAt}|${expiresAt}|all|issues!`);
    github.failNext({ method: "POST", path: ISSUES }, [{ status: 401, body: { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" } }]);

    expect((await api(replicas[0]!, "POST", "/requests", requestBody(1))).status).toBe(201);
    await waitFor("the token dropped", async () => ((await stores[1]!.getCached(tokenCacheKey("1"))) === null ? true : undefined));
    expect(github.callsTo("POST", TOKENS)).toHaveLength(0);

    expect((await api(replicas[1]!, "POST", "/requests", requestBody(2))).status).toBe(201);
    await waitFor("an issue", () => (github.callsTo("POST", ISSUES).some((c) => c.status === 201) ? true : undefined));
    expect(github.callsTo("POST", ISSUES).map((c) => c.status)).toEqual([401, 201]);
    expect(github.callsTo("POST", TOKENS)).toHaveLength(1);
  });
});
