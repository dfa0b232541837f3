import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisStore } from "../../src/store/redis-store.js";
import { createRespRequester } from "../../src/store/resp-requester.js";
import { createStoreClock } from "../../src/store/store-clock.js";
import type { Store } from "../../src/store/store.js";
import { startApp, api, type AppHarness } from "../support/app-harness.js";
import { makeJob, makeRequest } from "../support/fixtures.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deleteKeys, REDIS_URL } from "../support/redis-keys.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const TEN_MINUTES = 10 * 60_000;

describe("createStoreClock", () => {
  it("takes the store's time, corrected by half the round trip", async () => {
    let machine = 1_000_000;
    const clock = createStoreClock({
      base: () => new Date(machine),
      storeTime: async () => {
        machine += 40; // the answer takes 40 ms to arrive; the store read its clock half-way
        return new Date(5_000_000 + 20);
      },
      log: silent,
    });
    await clock.sync();
    expect(clock.offsetMs()).toBe(4_000_000);
    machine = 1_000_100;
    expect(clock.now().toISOString()).toBe(new Date(5_000_100).toISOString());
  });

  it("keeps the last offset when the store does not answer, or answers too slowly to tell", async () => {
    let machine = 0;
    let answer: () => Promise<Date> = async () => new Date(machine + 500);
    const clock = createStoreClock({ base: () => new Date(machine), storeTime: () => answer(), log: silent });
    await clock.sync();
    expect(clock.offsetMs()).toBe(500);
    answer = async () => {
      throw new Error("connection refused");
    };
    await clock.sync();
    expect(clock.offsetMs()).toBe(500);
    answer = async () => {
      machine += 5_000;
      return new Date(machine + 99_999);
    };
    await clock.sync();
    expect(clock.offsetMs()).toBe(500);
  });
});

/**
 * Two replicas on one Redis, one of whose machine clocks runs ten minutes fast. Set by the
 * store's clock, the fast one neither takes a job the other holds nor expires a request early.
 */
describe("replicas whose machine clocks differ, on Redis", () => {
  let github: GitHubStandIn;
  let store: Store;
  let prefix: string;
  let fast: AppHarness;
  const fastMachine = () => new Date(Date.now() + TEN_MINUTES);
  let fastClock: ReturnType<typeof createStoreClock>;

  beforeAll(async () => {
    github = await startGitHubStandIn({ repos: { "octo-org/payments": { collaborators: { alice: "write" } } } });
    prefix = `hitl-test:${randomBytes(6).toString("hex")}:`;
    const requester = createRespRequester(REDIS_URL);
    store = createRedisStore({ redis: new Redis(requester), prefix, onClose: () => requester.close() });
    fastClock = createStoreClock({ storeTime: () => store.time(), base: fastMachine, log: silent });
    await fastClock.sync();
    fast = await startApp({ githubUrl: github.url, store, clock: fastClock.now });
  });

  afterAll(async () => {
    await fast?.close();
    await store?.close();
    await github?.close();
    await deleteKeys(REDIS_URL, `${prefix}*`);
  });

  it("reads Redis's clock, not the machine's", async () => {
    const redisNow = (await store.time()).getTime();
    expect(Math.abs(redisNow - Date.now())).toBeLessThan(1_000);
    expect(Math.abs(fastClock.offsetMs() + TEN_MINUTES)).toBeLessThan(1_000);
    expect(Math.abs(fastClock.now().getTime() - Date.now())).toBeLessThan(1_000);
  });

  it("does not take a job another replica leased a minute ago", async () => {
    const request = makeRequest({ id: `req_${randomBytes(6).toString("hex")}` });
    const job = makeJob(request, { runAt: new Date(Date.now() - 1_000).toISOString() });
    await store.create(request, { jobs: [job] });
    // The other replica, on a true clock, leases it for a minute.
    const taken = await store.claimJobs(new Date(), 10, 60_000);
    expect(taken.map((j) => j.id)).toContain(job.id);
    // The fast machine's own clock says the lease ran out long ago; the store's says it did not.
    expect((await store.claimJobs(fastClock.now(), 10, 60_000)).map((j) => j.id)).not.toContain(job.id);
    expect((await store.claimJobs(fastMachine(), 10, 60_000)).map((j) => j.id)).toContain(job.id);
  });

  it("does not expire a request before its deadline", async () => {
    const deadline = new Date(Date.now() + 5 * 60_000).toISOString();
    const created = await api(fast, "POST", "/requests", { repo: "octo-org/payments", task_description: "Refund order 9", approval_reason: "Refunds need a human", approvers: ["alice"], deadline });
    expect(created.status, created.text).toBe(201);
    expect(await fast.runtime.sweep()).toMatchObject({ ran: true });
    expect((await api(fast, "GET", `/requests/${created.json.id}`)).json).toMatchObject({ status: "pending", deadline });
  });
});
