import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { run } from "probot";
import { hitlApp, type HitlRuntime } from "./app.js";
import { readEnv } from "./env.js";
import { hitlOctokit } from "./github/octokit.js";
import { createStore } from "./store/create-store.js";

// Probot's setup page writes APP_ID, PRIVATE_KEY and WEBHOOK_SECRET to `.env`, and Probot reads
// it inside run(), after hitl has read its own settings and handed Probot its environment: read
// it first, the way Probot does (the file's values win).
if (existsSync(".env")) Object.assign(process.env, parseEnv(readFileSync(".env", "utf8")));

const parsed = readEnv(process.env);
if (!parsed.ok) {
  console.error(`hitl cannot start; fix these environment variables:\n${parsed.errors.map((e) => `  - ${e}`).join("\n")}`);
  process.exit(1);
}
const { env } = parsed;
if (env.agents.length === 0) {
  console.warn("HITL_AGENT_TOKENS is not set: the agent API will answer 401 to every call until it is.");
}

const { store, kind } = await createStore(env);
console.info(`hitl store: ${kind}`);

let runtime: HitlRuntime | undefined;
const server = await run(
  // Without APP_ID, Probot serves its setup page and loads no app.
  env.self
    ? hitlApp({
        store,
        self: env.self,
        agents: env.agents,
        channels: env.channels,
        sweepCron: env.HITL_SWEEP_CRON,
        maxBodyBytes: env.HITL_MAX_BODY_BYTES,
        onReady: (ready) => (runtime = ready),
      })
    : () => undefined,
  // REDIS_URL is hitl's store. Probot would also take it for a rate-limit queue shared by all
  // replicas, with keys outside HITL_REDIS_PREFIX and a client it installs at run time; each
  // process spaces its own GitHub writes instead.
  { env: { ...process.env, REDIS_URL: undefined }, Octokit: hitlOctokit() },
);

async function shutdown(signal: string): Promise<void> {
  console.info(`${signal}: stopping`);
  try {
    await server.stop();
    await runtime?.stop();
    await store.close();
    process.exit(0);
  } catch (error) {
    console.error("error while stopping", error);
    process.exit(1);
  }
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
