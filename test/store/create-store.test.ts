import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createStore } from "../../src/store/create-store.js";
import { StoreUnavailableError } from "../../src/store/store.js";
import { freePort } from "../support/ports.js";
import { REDIS_URL as redisUrl } from "../support/redis-keys.js";

describe("createStore", () => {
  it("uses the embedded store under HITL_DATA_DIR when no Redis is configured", async () => {
    const dir = await fs.mkdtemp(path.join(tmpdir(), "hitl-create-"));
    const { store, kind } = await createStore({ HITL_DATA_DIR: dir, REDIS_URL: "" });
    expect(kind).toBe("embedded");
    await store.ping();
    await store.close();
    expect(await fs.readdir(dir)).toEqual(expect.arrayContaining(["hitl.db"]));
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("uses Redis over TCP when REDIS_URL is set", async () => {
    const { store, kind } = await createStore({ REDIS_URL: redisUrl, HITL_REDIS_PREFIX: "hitl-test:create:" });
    expect(kind).toBe("redis");
    await store.ping();
    await store.close();
  });

  it("prefers Upstash when both of its variables are set, and reports it unreachable without the token", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const { store, kind } = await createStore({ UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: "tok-s3cret", REDIS_URL: redisUrl });
    expect(kind).toBe("upstash");
    const error = await store.ping().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/^Upstash Redis at http:\/\/127\.0\.0\.1:\d+ could not answer a ping/);
    expect((error as Error).message).not.toContain("tok-s3cret");
    await store.close();
  });

  it.each([
    [{ UPSTASH_REDIS_REST_URL: "https://x.upstash.io" }, /UPSTASH_REDIS_REST_TOKEN is not/],
    [{ UPSTASH_REDIS_REST_TOKEN: "t" }, /UPSTASH_REDIS_REST_URL is not/],
    [{ UPSTASH_REDIS_REST_URL: "x.upstash.io", UPSTASH_REDIS_REST_TOKEN: "t" }, /UPSTASH_REDIS_REST_URL must be an https/],
    [{ REDIS_URL: "http://user:s3cret@cache:6379" }, /REDIS_URL must start with redis:\/\//],
  ])("refuses %j, naming the variable", async (env, message) => {
    const error = await createStore(env).then(() => null, (e: unknown) => e);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("s3cret");
  });
});
