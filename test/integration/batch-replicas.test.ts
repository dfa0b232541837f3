import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRedisStore } from "../../src/store/redis-store.js";
import { createRespRequester } from "../../src/store/resp-requester.js";
import type { Store } from "../../src/store/store.js";
import { api, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deleteKeys, REDIS_URL } from "../support/redis-keys.js";

const REPO = "octo-org/payments";
const ISSUES = `/repos/${REPO}/issues`;
const WAIT_MS = 10 * 60_000;

const body = (n: number) => ({
  repo: REPO,
  task_description: `Refund order ${n}`,
  approval_reason: "Refunds need a human",
  decision_data: { order: n },
  request_type: "refund",
  deadline: "2099-12-01T12:00:00Z",
});

/** Two replicas on one Redis, opening requests of one batch group at the same time. */
describe("batches across replicas", () => {
  let github: GitHubStandIn;
  let prefix: string;
  let stores: Store[];
  let replicas: AppHarness[];
  let now: number;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write" }, files: { main: { ".hitl.yml": "approvers: [alice]\nbatch: {by: request_type, max_size: 4, max_wait: 10m}\n" } } } },
      installations: [{ id: 1, account: "octo-org", repos: [REPO] }],
    });
    prefix = `hitl-test:batch-replicas:${randomBytes(6).toString("hex")}:`;
    // The start of a batch window, a little in the past (installation tokens expire by GitHub's clock).
    now = Math.floor(Date.now() / WAIT_MS) * WAIT_MS;
    const clock = () => new Date(now);
    stores = ["a", "b"].map(() => {
      const requester = createRespRequester(REDIS_URL);
      return createRedisStore({ redis: new Redis(requester), prefix, onClose: () => requester.close() });
    });
    replicas = await Promise.all(stores.map((store) => startApp({ githubUrl: github.url, store, clock })));
  });

  afterEach(async () => {
    for (const replica of replicas) await replica.close();
    for (const store of stores) await store.close();
    await github.close();
    await deleteKeys(REDIS_URL, `${prefix}*`);
  });

  const rowsOf = async (ids: string[]) => Promise.all(ids.map(async (id) => (await stores[0]!.get(id))!));

  it("give every request its own row and each full batch one issue, however the calls interleave", async () => {
    const opened = await Promise.all(Array.from({ length: 8 }, (_, i) => api(replicas[i % 2]!, "POST", "/requests", body(i + 1))));
    expect(opened.map((response) => response.status)).toEqual(Array.from({ length: 8 }, () => 201));
    await Promise.all(replicas.map((replica) => replica.runtime.jobs.run()));
    const requests = await rowsOf(opened.map((response) => response.json.id as string));
    const byBatch = new Map<string, number[]>();
    for (const request of requests) byBatch.set(request.batch!.id, [...(byBatch.get(request.batch!.id) ?? []), request.batch!.row]);
    expect([...byBatch.values()].map((rows) => rows.sort())).toEqual([
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ]);
    // Two full batches: two issues, posted at once, each holding its four requests.
    expect(github.callsTo("POST", ISSUES).map((call) => call.status)).toEqual([201, 201]);
    const numbers = new Set(requests.map((request) => request.surfaceRef?.number));
    expect(numbers.size).toBe(2);
    for (const issue of github.repo(REPO).issues) expect(issue.body!.match(/^\| \d \|/gm)).toHaveLength(4);

    // Every key of a batch expires on Redis a day after its members' deadline (later than a year after the window).
    const keep = Date.parse(body(1).deadline) - now + 86_400_000;
    const raw = new IORedis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await raw.connect();
      const ttls = async (keys: string[]) => Promise.all(keys.map((key) => raw.pttl(`${prefix}${key}`)));
      const inRange = (ttl: number, expected: number) => ttl > expected - 60_000 && ttl <= expected;
      for (const request of requests) {
        const { id, row, counter } = request.batch!;
        const [rowTtl, counterTtl] = await ttls([`setting:batch:${id}:row:${row}`, `use:${counter}`]);
        const [issueTtl, postingTtl] = await ttls([`setting:batch:${id}:issue`, `setting:batch:${id}:posting`]);
        expect([rowTtl, counterTtl, issueTtl, postingTtl].map((ttl) => inRange(ttl!, keep))).toEqual([true, true, true, true]);
      }
    } finally {
      raw.disconnect();
    }
  });

  it("keep a batch's keys on Redis a year and a day past its window when every deadline comes sooner", async () => {
    const opened = await Promise.all(Array.from({ length: 4 }, (_, i) => api(replicas[i % 2]!, "POST", "/requests", { ...body(i + 1), deadline: "in 2d" })));
    await Promise.all(replicas.map((replica) => replica.runtime.jobs.run()));
    const requests = await rowsOf(opened.map((response) => response.json.id as string));
    const { id, counter } = requests[0]!.batch!;
    const raw = new IORedis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await raw.connect();
      const day = 86_400_000;
      const ttl = (key: string) => raw.pttl(`${prefix}${key}`);
      const inRange = (value: number, expected: number) => value > expected - 60_000 && value <= expected;
      // Rows and the counter: from the window's end; the batch filled up, so it posted at once.
      expect(inRange(await ttl(`use:${counter}`), WAIT_MS + 366 * day)).toBe(true);
      for (const request of requests) expect(inRange(await ttl(`setting:batch:${id}:row:${request.batch!.row}`), WAIT_MS + 366 * day)).toBe(true);
      expect(inRange(await ttl(`setting:batch:${id}:issue`), 366 * day)).toBe(true);
    } finally {
      raw.disconnect();
    }
  });

  it("post a batch that is due once, when both replicas run its jobs at the same time", async () => {
    const opened = await Promise.all(Array.from({ length: 3 }, (_, i) => api(replicas[i % 2]!, "POST", "/requests", body(i + 1))));
    await Promise.all(replicas.map((replica) => replica.runtime.jobs.run()));
    expect(github.callsTo("POST", ISSUES)).toEqual([]);
    now += WAIT_MS;
    // A replica that finds the other posting retries later; both run until nothing is left.
    for (let i = 0; i < 3; i++) {
      await Promise.all(replicas.map((replica) => replica.runtime.jobs.run()));
      for (const job of await stores[0]!.pendingJobs()) await stores[0]!.retryJob(job.id, new Date(now), "test: run again now");
    }
    expect(github.callsTo("POST", ISSUES)).toHaveLength(1);
    const requests = await rowsOf(opened.map((response) => response.json.id as string));
    expect(requests.map((request) => request.surfaceRef?.number)).toEqual([1, 1, 1]);
    expect(requests.map((request) => request.batch!.row).sort()).toEqual([1, 2, 3]);
  });
});
