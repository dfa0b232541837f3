import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { run, Server } from "probot";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHomeHandler } from "./api/home-page.js";
import { createOpenApiHandler } from "./api/openapi-handler.js";
import { hitlApp, type HitlRuntime } from "./app.js";
import { readEnv } from "./env.js";
import { GITHUB_TIMEOUT_MS, hitlOctokit, sharedGitHub } from "./github/octokit.js";
import { createLogger } from "./logger.js";
import { unsignedChannelWarnings } from "./notify/channels.js";
import { createStore } from "./store/create-store.js";
import { createStoreClock } from "./store/store-clock.js";
import { mailChannelWiring } from "./channels/mail-wiring.js";
import { githubBases } from "./desk/github-oauth.js";

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

const log = await createLogger(process.env);
if (env.HITL_SWEEP_CRON === null && !env.sweepToken) {
  log.warn("HITL_SWEEP_CRON is off and HITL_SWEEP_TOKEN is not set: nothing runs the sweep here, so escalations, deadlines and fallbacks wait for another replica's cron.");
}
for (const warning of unsignedChannelWarnings(env.channels)) log.warn(warning);

const { store, kind } = await createStore(env);
log.info(`hitl store: ${kind}`);
const clock = createStoreClock({ storeTime: () => store.time(), log });
await clock.sync();
clock.start();

const root = fileURLToPath(new URL("..", import.meta.url));
const home = createHomeHandler({
  facts: {
    version: (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version,
    appId: env.self?.appId ?? null,
    agents: env.agents.map((agent) => agent.name),
    store: kind,
    webhookProxy: Boolean(process.env.WEBHOOK_PROXY_URL),
    desk: env.desk !== null && env.self !== null,
  },
  pending: async (limit) => (await store.list({ status: "pending", limit })).length,
  root,
});

if (!env.self) {
  // Probot's setup mode loads no app and offers no hook before it starts listening: its Server's
  // start() is where the handlers are gathered, so the API's description is added there. The
  // home page goes before the setup app's handler, which would redirect `/` to its own page.
  const start = Server.prototype.start;
  Server.prototype.start = function (this: Server) {
    this.addHandler(createOpenApiHandler());
    return start.call(this);
  };
  const loadHandlerFactory = Server.prototype.loadHandlerFactory;
  Server.prototype.loadHandlerFactory = function (this: Server, factory) {
    this.addHandler(home);
    Server.prototype.loadHandlerFactory = loadHandlerFactory;
    return loadHandlerFactory.call(this, factory);
  };
}

const mail = mailChannelWiring(env.mail, { allowed: env.allowedTargets });
const probotEnv = { ...process.env, REDIS_URL: undefined, ...(await webhookProxyEnv(process.env.WEBHOOK_PROXY_URL)) };

let runtime: HitlRuntime | undefined;
const hitl = env.self
  ? hitlApp({
        store,
        self: env.self,
        agents: env.agents,
        channels: env.channels,
        ...(env.slack ? { slack: env.slack } : {}),
        outbound: { allowed: env.allowedTargets },
        senders: [...mail.senders],
        ...(mail.links ? { links: mail.links } : {}),
        sweepCron: env.HITL_SWEEP_CRON,
        sweepToken: env.sweepToken,
        metricsToken: env.metricsToken,
        maxBodyBytes: env.HITL_MAX_BODY_BYTES,
        retention: { contextMs: env.HITL_RETENTION_CONTEXT ?? null, auditMs: env.HITL_RETENTION_AUDIT ?? null },
        clock: clock.now,
        sealingKeys: env.sealingKeys,
        ...(env.desk
          ? { desk: { publicUrl: env.desk.publicUrl, oauth: { clientId: env.desk.clientId, clientSecret: env.desk.clientSecret, ...githubBases(process.env.GHE_HOST, process.env.GHE_PROTOCOL) } } }
          : {}),
        receipts: { configured: env.signingKeys, issuer: env.HITL_PUBLIC_URL?.replace(/\/+$/, "") },
        onReady: (ready) => (runtime = ready),
      })
  : null;
const server = await run(
  // Without APP_ID, Probot serves its setup page and loads no app.
  hitl
    ? (app, options) => {
        options.addHandler(home);
        return hitl(app, options);
      }
    : () => undefined,
  // REDIS_URL is hitl's store. Probot would also take it for Bottleneck's cluster mode (keys
  // outside HITL_REDIS_PREFIX, pub/sub that Upstash's REST API lacks, no shared token cache):
  // the replicas share one write budget and one token cache through the store instead.
  { env: probotEnv, Octokit: hitlOctokit({}, GITHUB_TIMEOUT_MS, sharedGitHub(store, clock.now)), log },
);

/**
 * Probot forwards the webhooks sent to WEBHOOK_PROXY_URL (a smee.io channel) to this process only
 * when the `smee-client` package can be imported, and otherwise only warns. hitl does not ship it,
 * so when it is missing the variable is kept from Probot (its setup page still reads it to
 * register the app with that webhook URL) and the log says how to forward instead.
 */
async function webhookProxyEnv(proxy: string | undefined): Promise<{ WEBHOOK_PROXY_URL?: undefined }> {
  if (!proxy) return {};
  const smee = "smee-client";
  if (await import(smee).then(() => true, () => false)) return {};
  const port = process.env.PORT || "3000";
  log.info(`WEBHOOK_PROXY_URL is set: forward its webhooks to this app with \`npx smee-client@5 --url <WEBHOOK_PROXY_URL> --target http://localhost:${port}/api/github/webhooks\` (or install smee-client to let the app do it)`);
  return { WEBHOOK_PROXY_URL: undefined };
}

/** Everything below must fit in this, or the process exits anyway (orchestrators kill at 10 s or later). */
const STOP_BUDGET_MS = 9_000;
/** How long jobs in hand may take to finish before they are handed back to the store. */
const JOB_GRACE_MS = 4_000;

/**
 * Stops in order: answer open long-polls and refuse new API calls, stop listening once the
 * requests in flight are answered, let jobs in hand finish or hand them back, then close the
 * store (which releases the embedded store's lock).
 */
async function shutdown(signal: string): Promise<void> {
  log.info(`${signal}: stopping`);
  setTimeout(() => {
    log.error(`did not stop within ${STOP_BUDGET_MS / 1000} s; exiting anyway (unfinished jobs run again after their lease)`);
    process.exit(1);
  }, STOP_BUDGET_MS).unref();
  try {
    runtime?.drain();
    await Promise.race([server.stop(), new Promise((resolve) => setTimeout(resolve, STOP_BUDGET_MS - JOB_GRACE_MS - 1_000).unref())]);
    await runtime?.stop(JOB_GRACE_MS);
    clock.stop();
    await store.close();
    log.info(`${signal}: stopped`);
    exitSoon(0);
  } catch (error) {
    log.error({ err: error }, "error while stopping");
    exitSoon(1);
  }
}

/** Exits once the last log lines are written (the logger writes through a stream), or soon regardless. */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 250);
}
// Probot's run() installs a SIGINT handler that exits without closing the store: replace it.
process.removeAllListeners("SIGINT");
process.once("SIGINT", () => void shutdown("SIGINT"));
process.once("SIGTERM", () => void shutdown("SIGTERM"));
