import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { afterEach, describe, expect, it } from "vitest";
import { createRespRequester, describeUrl, type RespRequester } from "../../src/store/resp-requester.js";
import { freePort } from "../support/ports.js";
import { REDIS_URL as url } from "../support/redis-keys.js";

const opened: RespRequester[] = [];
const servers: ChildProcess[] = [];

function requester(target = url): RespRequester {
  const made = createRespRequester(target);
  opened.push(made);
  return made;
}

afterEach(async () => {
  for (const r of opened.splice(0)) await r.close();
  for (const server of servers.splice(0)) await stop(server);
});

const key = () => `hitl-test:rr:${randomBytes(6).toString("hex")}`;

describe("RESP requester", () => {
  it("answers one command as the REST API does: result, null for nil, error for a refusal", async () => {
    const r = requester();
    const k = key();
    expect(await r.request({ body: ["set", k, "v", "px", 10_000] })).toEqual({ result: "OK" });
    expect(await r.request({ body: ["get", k] })).toEqual({ result: "v" });
    expect(await r.request({ body: ["get", `${k}:none`] })).toEqual({ result: null });
    expect(await r.request({ body: ["incr", k] })).toEqual({ error: "ERR value is not an integer or out of range" });
    expect(await r.request({ body: ["eval", "return {1, 'a', false, {2}}", 0] })).toEqual({ result: [1, "a", null, [2]] });
    await r.request({ body: ["del", k] });
  });

  it("answers a pipeline and a transaction with one reply per command", async () => {
    const r = requester();
    const k = key();
    expect(await r.request({ path: ["pipeline"], body: [["set", k, "1"], ["incr", k], ["hget", k, "f"]] })).toEqual([
      { result: "OK" },
      { result: 2 },
      { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
    ]);
    expect(await r.request({ path: ["multi-exec"], body: [["incr", k], ["get", k]] })).toEqual([{ result: 3 }, { result: "3" }]);
    expect(await r.request({ path: ["subscribe", "x"], body: [] })).toHaveProperty("error");
    await r.request({ body: ["del", k] });
  });

  it("serves the Upstash client: commands, pipelines, transactions, scripts", async () => {
    const redis = new Redis(requester());
    const k = key();
    await redis.set(k, { a: 1 });
    expect(await redis.get(k)).toEqual({ a: 1 });
    expect(await redis.pipeline().incr(`${k}:n`).incr(`${k}:n`).exec()).toEqual([1, 2]);
    expect(await redis.multi().get(`${k}:n`).del(k, `${k}:n`).exec()).toEqual([2, 2]);
    expect(await redis.eval("return ARGV[1] .. KEYS[1]", ["k"], ["v"])).toBe("vk");
  });

  it("names the server in messages without the credentials", () => {
    expect(describeUrl("rediss://user:s3cret@cache.example:6380/2")).toBe("rediss://cache.example:6380/2");
    expect(describeUrl("not a url")).toBe("(REDIS_URL)");
  });

  it("fails fast while Redis is down and recovers by itself when it is back", { timeout: 30_000 }, async () => {
    const port = await freePort();
    servers.push(await start(port));
    const redis = new Redis(requester(`redis://127.0.0.1:${port}`));
    expect(await redis.set("k", "before")).toBe("OK");

    await stop(servers.pop()!);
    const started = Date.now();
    await expect(redis.get("k")).rejects.toThrow(`Redis at redis://127.0.0.1:${port} is not reachable`);
    await expect(redis.get("k")).rejects.toThrow(/not reachable/);
    expect(Date.now() - started).toBeLessThan(2500);

    servers.push(await start(port));
    const deadline = Date.now() + 10_000;
    let answer: unknown;
    while (Date.now() < deadline) {
      answer = await redis.set("k", "after").catch(() => undefined);
      if (answer === "OK") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(answer).toBe("OK");
  });
});

/** A private redis-server, so stopping it disturbs nobody else. */
async function start(port: number): Promise<ChildProcess> {
  const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  await new Promise<void>((resolve, reject) => {
    let output = "";
    server.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) resolve();
    });
    server.on("exit", () => reject(new Error(`redis-server on ${port} exited: ${output}`)));
  });
  return server;
}

async function stop(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.on("exit", resolve));
  server.kill("SIGKILL");
  await exited;
}
