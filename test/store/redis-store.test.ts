import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { describe, expect, it } from "vitest";
import { createRedisStore } from "../../src/store/redis-store.js";
import { createRespRequester } from "../../src/store/resp-requester.js";
import { StoreUnavailableError, type Store } from "../../src/store/store.js";
import { makeJob, makeRequest } from "../support/fixtures.js";
import { freePort } from "../support/ports.js";
import { deleteKeys, REDIS_URL as url } from "../support/redis-keys.js";
import { describeStoreContract } from "./store-contract.js";

/** A store under a prefix no other test uses, and a cleanup that deletes its keys. */
async function openStore(options: { deserialize?: boolean; prefix?: string } = {}) {
  const prefix = options.prefix ?? `hitl-test:${randomBytes(6).toString("hex")}:`;
  const requester = createRespRequester(url);
  const redis = new Redis(requester);
  // Redis(requester) takes no options; set the one Redis({ url, token, ... }) would.
  if (options.deserialize === false) Object.assign(redis, { opts: { automaticDeserialization: false } });
  const store = createRedisStore({ redis, prefix, onClose: () => requester.close() });
  return {
    store,
    prefix,
    async cleanup() {
      await store.close();
      await deleteKeys(url, `${prefix}*`);
    },
  };
}

describeStoreContract("redis (raw strings)", () => openStore({ deserialize: false }));
describeStoreContract("redis (deserialising client)", () => openStore());

describe("redis store expiries", () => {
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  async function withRaw<T>(use: (raw: IORedis) => Promise<T>): Promise<T> {
    const raw = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await raw.connect();
      return await use(raw);
    } finally {
      raw.disconnect();
    }
  }

  it("sets a counter's expiry when it is created, lengthens it, never shortens it, and sets none without ttlMs", async () => {
    const { store, prefix, cleanup } = await openStore();
    try {
      await store.takeUse("link:a", 5, { ttlMs: 60_000 });
      await store.takeUse("rule:kept", 5);
      await withRaw(async (raw) => {
        const first = await raw.pttl(`${prefix}use:link:a`);
        expect(first).toBeGreaterThan(50_000);
        expect(first).toBeLessThanOrEqual(60_000);
        expect(await store.takeUse("link:a", 5, { ttlMs: 3_600_000 })).toBe(2);
        expect(await raw.pttl(`${prefix}use:link:a`)).toBeGreaterThan(3_500_000);
        expect(await store.takeUse("link:a", 5, { ttlMs: 60_000 })).toBe(3);
        expect(await raw.pttl(`${prefix}use:link:a`)).toBeGreaterThan(3_500_000);
        expect(await store.takeUse("link:a", 5)).toBe(4);
        expect(await raw.pttl(`${prefix}use:link:a`)).toBeGreaterThan(3_500_000);
        expect(await raw.pttl(`${prefix}use:rule:kept`)).toBe(-1);
        expect(await store.takeUse("rule:kept", 5, { ttlMs: 60_000 })).toBe(2);
        expect(await raw.pttl(`${prefix}use:rule:kept`)).toBe(-1);
      });
    } finally {
      await cleanup();
    }
  });

  it("sets a setting's expiry when it is created, lengthens it, never shortens it, and sets none without ttlMs", async () => {
    const { store, prefix, cleanup } = await openStore();
    try {
      await store.createSetting("signed-out", "x", { ttlMs: 60_000 });
      await store.createSetting("signing-key", "k");
      await withRaw(async (raw) => {
        const first = await raw.pttl(`${prefix}setting:signed-out`);
        expect(first).toBeGreaterThan(50_000);
        expect(first).toBeLessThanOrEqual(60_000);
        expect(await store.createSetting("signed-out", "y", { ttlMs: 3_600_000 })).toBe("x");
        expect(await raw.pttl(`${prefix}setting:signed-out`)).toBeGreaterThan(3_500_000);
        expect(await store.createSetting("signed-out", "z", { ttlMs: 60_000 })).toBe("x");
        expect(await store.createSetting("signed-out", "z")).toBe("x");
        expect(await raw.pttl(`${prefix}setting:signed-out`)).toBeGreaterThan(3_500_000);
        expect(await raw.pttl(`${prefix}setting:signing-key`)).toBe(-1);
        expect(await store.createSetting("signing-key", "other", { ttlMs: 60_000 })).toBe("k");
        expect(await raw.pttl(`${prefix}setting:signing-key`)).toBe(-1);
      });
    } finally {
      await cleanup();
    }
  });

  it("forgets a counter and a setting once their expiry has passed", async () => {
    const { store, cleanup } = await openStore();
    try {
      expect(await store.takeUse("link:short", 1, { ttlMs: 50 })).toBe(1);
      expect(await store.createSetting("short", "first", { ttlMs: 50 })).toBe("first");
      await sleep(200);
      expect(await store.uses("link:short")).toBe(0);
      expect(await store.setting("short")).toBeNull();
      expect(await store.createSetting("short", "again")).toBe("again");
    } finally {
      await cleanup();
    }
  });
});

describe("redis store across replicas", () => {
  async function twoReplicas(): Promise<{ a: Store; b: Store; cleanup(): Promise<void> }> {
    const first = await openStore();
    const second = await openStore({ prefix: first.prefix });
    return { a: first.store, b: second.store, cleanup: async () => (await second.store.close(), await first.cleanup()) };
  }

  it("lets exactly one replica win a compare-and-set", async () => {
    const { a, b, cleanup } = await twoReplicas();
    const request = makeRequest();
    await a.create(request);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).update({ ...request, approvers: [`user${i}`] }, 1)),
    );
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect((await b.get(request.id))?.version).toBe(2);
    await cleanup();
  });

  it("gives the last rule use to exactly one replica", async () => {
    const { a, b, cleanup } = await twoReplicas();
    await a.takeUse("rule:x", 3);
    await b.takeUse("rule:x", 3);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).takeUse("rule:x", 3)));
    expect(results.filter((r) => r !== null)).toEqual([3]);
    await cleanup();
  });

  it("never hands one job to both replicas", async () => {
    const { a, b, cleanup } = await twoReplicas();
    const request = makeRequest();
    const jobs = Array.from({ length: 30 }, () => makeJob(request));
    await a.create(request, { jobs });
    const now = new Date("2026-12-01T00:00:00.000Z");
    const batches = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).claimJobs(now, 5, 60_000)));
    const ids = batches.flat().map((j) => j.id);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    await cleanup();
  });

  it("keeps each prefix to itself", async () => {
    const one = await openStore();
    const two = await openStore();
    const request = makeRequest();
    await one.store.create(request);
    expect(await two.store.get(request.id)).toBeNull();
    expect(await two.store.list({})).toEqual([]);
    await one.cleanup();
    await two.cleanup();
  });
});

describe("redis store with requests written by an earlier version", () => {
  it("lists a request whose hash has no agent field only without an agent filter, until it is written again", async () => {
    const { store, prefix, cleanup } = await openStore();
    const requester = createRespRequester(url);
    const request = makeRequest({ requestedBy: "refund-agent" });
    await store.create(request);
    await new Redis(requester).hdel(`${prefix}req:${request.id}`, "by");
    expect((await store.list({ requestedBy: "refund-agent" })).map((r) => r.id)).toEqual([]);
    expect((await store.list({})).map((r) => r.id)).toEqual([request.id]);
    await store.update({ ...request, updatedAt: "2026-11-24T10:05:00.000Z" }, 1);
    expect((await store.list({ requestedBy: "refund-agent" })).map((r) => r.id)).toEqual([request.id]);
    await requester.close();
    await cleanup();
  });
});

describe("redis store when Redis is unreachable", () => {
  it("rejects every call quickly with StoreUnavailableError that names Redis but not the password", async () => {
    const requester = createRespRequester(`redis://hitl:s3cret-pass@127.0.0.1:${await freePort()}/0`);
    const store = createRedisStore({ redis: new Redis(requester), label: "Redis at redis://127.0.0.1" });
    const calls: Array<() => Promise<unknown>> = [
      () => store.ping(),
      () => store.get("req_x"),
      () => store.create(makeRequest()),
      () => store.claimJobs(new Date(), 5, 1000),
      () => store.claimDelivery("d", 1000),
    ];
    for (const run of calls) {
      const started = Date.now();
      const error = await run().then(
        () => null,
        (e: unknown) => e,
      );
      expect(Date.now() - started).toBeLessThan(2500);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toMatch(/^Redis at redis:\/\/127\.0\.0\.1 could not .*not reachable/);
      expect((error as Error).message).not.toContain("s3cret");
    }
    await store.close();
  });
});
