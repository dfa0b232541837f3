import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createTokenCache, tokenCacheKey } from "../../src/github/token-cache.js";
import { createRedisStore } from "../../src/store/redis-store.js";
import { createRespRequester } from "../../src/store/resp-requester.js";
import { StoreUnavailableError, type Store } from "../../src/store/store.js";
import { testPrivateKey } from "../support/app-harness.js";
import { deleteKeys, REDIS_URL } from "../support/redis-keys.js";

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const TOKEN = "ghs_0123456789abcdefghijklmnopqrstuvwxyz";
/** As @octokit/auth-app caches a token: token|createdAt|expiresAt|selection|permissions. */
const cached = (token: string, expiresAtMs: number) => `${token}|${new Date(T0).toISOString()}|${new Date(expiresAtMs).toISOString()}|all|issues!,metadata`;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A Redis store under a prefix of its own, and a raw client to look at what it wrote. */
function openStore(prefix = `hitl-test:tokens:${randomBytes(6).toString("hex")}:`) {
  const requester = createRespRequester(REDIS_URL);
  const store = createRedisStore({ redis: new Redis(requester), prefix, onClose: () => requester.close() });
  const raw = new IORedis(REDIS_URL);
  closers.push(async () => {
    await store.close();
    raw.disconnect();
    await deleteKeys(REDIS_URL, `${prefix}*`);
  });
  return { store, raw, prefix };
}

describe("installation-token cache", () => {
  it("gives a token set by one replica to another, sealed in the store", async () => {
    const { store, raw, prefix } = openStore();
    let now = T0;
    const a = createTokenCache({ store, secret: testPrivateKey(), clock: () => new Date(now) });
    const b = createTokenCache({ store, secret: testPrivateKey(), clock: () => new Date(now) });
    const value = cached(TOKEN, T0 + 60 * 60_000);

    await a.set("1", value);
    expect(await b.get("1")).toBe(value);
    expect(await b.get("2")).toBeUndefined();

    const stored = (await raw.get(`${prefix}cache:${tokenCacheKey("1")}`)) ?? "";
    expect(stored).toMatch(/^\{"v":"v1\.[\w-]+\.[\w-]+\.[\w-]+"\}$/);
    expect(stored).not.toContain(TOKEN);
    expect(stored).not.toContain("ghs_");
    // Kept until five minutes before GitHub's expiry.
    expect(await raw.pttl(`${prefix}cache:${tokenCacheKey("1")}`)).toBeGreaterThan(54 * 60_000);
    expect(await raw.pttl(`${prefix}cache:${tokenCacheKey("1")}`)).toBeLessThanOrEqual(55 * 60_000);
    now = T0 + 55 * 60_000;
    expect(await a.get("1")).toBeUndefined();
  });

  it("cannot be read with another key, nor moved to another installation", async () => {
    const { store, raw, prefix } = openStore();
    const clock = () => new Date(T0);
    const ours = createTokenCache({ store, secret: testPrivateKey(), clock });
    await ours.set("1", cached(TOKEN, T0 + 60 * 60_000));

    const other = createTokenCache({ store, secret: "another app's private key", clock });
    expect(await other.get("1")).toBeUndefined();

    await raw.copy(`${prefix}cache:${tokenCacheKey("1")}`, `${prefix}cache:${tokenCacheKey("2")}`);
    expect(await createTokenCache({ store, secret: testPrivateKey(), clock }).get("2")).toBeUndefined();
    await raw.set(`${prefix}cache:${tokenCacheKey("3")}`, JSON.stringify({ v: "v1.AAAA.BBBB.CCCC" }));
    expect(await createTokenCache({ store, secret: testPrivateKey(), clock }).get("3")).toBeUndefined();
  });

  it("lets one replica fetch a missing token while the others wait for it", async () => {
    const { store } = openStore();
    const clock = () => new Date(T0);
    const a = createTokenCache({ store, secret: testPrivateKey(), clock });
    const b = createTokenCache({ store, secret: testPrivateKey(), clock });
    const c = createTokenCache({ store, secret: testPrivateKey(), clock, waitForOtherMs: 300 });

    expect(await a.get("1")).toBeUndefined();
    const waiting = b.get("1");
    await a.set("1", cached(TOKEN, T0 + 60 * 60_000));
    expect(await waiting).toBe(cached(TOKEN, T0 + 60 * 60_000));

    // A replica that took the lease and never came back holds the others up only for a while.
    expect(await a.get("2")).toBeUndefined();
    expect(await c.get("2")).toBeUndefined();
  });

  it("drops a token for every replica", async () => {
    const { store, raw, prefix } = openStore();
    const clock = () => new Date(T0);
    const a = createTokenCache({ store, secret: testPrivateKey(), clock });
    const b = createTokenCache({ store, secret: testPrivateKey(), clock });
    await a.set("1", cached(TOKEN, T0 + 60 * 60_000));
    expect(await b.get("1")).toBe(cached(TOKEN, T0 + 60 * 60_000));

    await a.drop(1);
    expect(await raw.exists(`${prefix}cache:${tokenCacheKey("1")}`)).toBe(0);
    expect(await a.get("1")).toBeUndefined();
    // b held it in memory: its own 401 drops it there too.
    await b.drop(1);
    expect(await b.get("1")).toBeUndefined();
  });

  it("does not keep a token about to expire", async () => {
    const { store, raw, prefix } = openStore();
    const cache = createTokenCache({ store, secret: testPrivateKey(), clock: () => new Date(T0) });
    await cache.set("1", cached(TOKEN, T0 + 4 * 60_000));
    expect(await cache.get("1")).toBeUndefined();
    expect(await raw.exists(`${prefix}cache:${tokenCacheKey("1")}`)).toBe(0);
  });

  it("keeps working in memory while the store fails", async () => {
    const failing = new Proxy({} as Store, {
      get: () => () => Promise.reject(new StoreUnavailableError("Redis at redis://127.0.0.1 could not read a cached value: not reachable")),
    });
    const cache = createTokenCache({ store: failing, secret: testPrivateKey(), clock: () => new Date(T0) });
    expect(await cache.get("1")).toBeUndefined();
    await cache.set("1", cached(TOKEN, T0 + 60 * 60_000));
    expect(await cache.get("1")).toBe(cached(TOKEN, T0 + 60 * 60_000));
    await cache.drop(1);
    expect(await cache.get("1")).toBeUndefined();
  });
});
