import { Redis } from "@upstash/redis";
import { createRedisStore } from "../src/store/redis-store.js";
import { createRespRequester } from "../src/store/resp-requester.js";
import { startApp } from "../test/support/app-harness.js";

/**
 * One replica of the replicas bench (replicas.ts): the app on the Redis store at REDIS_URL under
 * BENCH_REDIS_PREFIX, talking to the GitHub stand-in at BENCH_GITHUB_URL, with Octokit's write
 * spacing on, per process or shared through the store (BENCH_SPACING), with the app's private key
 * BENCH_PRIVATE_KEY. Prints its URL as one
 * JSON line, then runs until it is killed.
 */

const githubUrl = required("BENCH_GITHUB_URL");
const prefix = required("BENCH_REDIS_PREFIX");
const spacing = required("BENCH_SPACING");
// Every replica of an app has its key; the shared token cache is sealed with it.
const privateKey = required("BENCH_PRIVATE_KEY");
if (spacing !== "per-process" && spacing !== "shared") throw new Error(`BENCH_SPACING must be per-process or shared, not ${spacing}`);

const requester = createRespRequester(process.env.REDIS_URL?.trim() || "redis://127.0.0.1:6379");
const store = createRedisStore({ redis: new Redis(requester), prefix, label: "Redis (bench replica)", onClose: () => requester.close() });
await store.ping();
const app = await startApp({
  githubUrl,
  store,
  privateKey,
  spacing: spacing === "shared" ? { kind: "shared", clock: () => new Date() } : { kind: "per-process" },
});
process.stdout.write(`${JSON.stringify({ url: app.url })}\n`);

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
