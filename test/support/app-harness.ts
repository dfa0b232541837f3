import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino, type Logger } from "pino";
import { createNodeMiddleware, Probot } from "probot";
import type { AgentCredential } from "../../src/api/agent-auth.js";
import { hitlApp, type HitlOptions, type HitlRuntime } from "../../src/app.js";
import type { RetentionLimits } from "../../src/core/retention.js";
import { markerKeyFrom, type AppSelf } from "../../src/github/app-self.js";
import { hitlOctokit, sharedGitHub } from "../../src/github/octokit.js";
import type { ChannelSender } from "../../src/channels/channel.js";
import type { SlackSettings } from "../../src/channels/slack/slack-api.js";
import type { Channel } from "../../src/notify/channels.js";
import type { Outbound } from "../../src/notify/post-json.js";
import { parseAllowedTargets } from "../../src/notify/private-targets.js";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import type { Store } from "../../src/store/store.js";
import { callApi } from "./api-client.js";

/** The stand-in answers in milliseconds; a call it leaves hanging gives up after this. */
export const GITHUB_TEST_TIMEOUT_MS = 8_000;

export const WEBHOOK_SECRET = "webhook-secret-for-tests";
/** The app as the stand-in knows it (id 1), with the marker key production derives from WEBHOOK_SECRET. */
export const SELF: AppSelf = { appId: 1, markerKey: markerKeyFrom(WEBHOOK_SECRET) };
export const AGENT = { name: "refund-agent", token: "refund-agent-token-0123456789" };
export const OTHER_AGENT = { name: "deploy-bot", token: "deploy-bot-token-0123456789ab" };

/**
 * The callback receivers and channels of the tests listen on 127.0.0.1 over http, as
 * `HITL_ALLOWED_PRIVATE_TARGETS=127.0.0.1` allows; the app is given that unless a test says otherwise.
 */
export const LOCAL_RECEIVERS: Outbound = { allowed: parseAllowedTargets("127.0.0.1").targets };

let privateKey: string | undefined;
/** A real RSA key, so Probot signs real app JWTs for the stand-in. */
export function testPrivateKey(): string {
  privateKey ??= generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs1", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } }).privateKey;
  return privateKey;
}

export interface AppHarness {
  url: string;
  store: Store;
  runtime: HitlRuntime;
  /** Sets the clock the app sees (unless it was given a clock of its own). */
  setNow(date: Date): void;
  close(): Promise<void>;
}

/**
 * The app as production wires it (Probot's node middleware, the API handlers, an embedded or
 * given store), on a local port, talking to the GitHub stand-in at `githubUrl`. Octokit's own
 * retries are off, so failures reach hitl's job retries at once.
 */
export async function startApp(options: {
  githubUrl: string;
  store?: Store;
  now?: Date;
  outbound?: Outbound;
  channels?: Channel[];
  clock?: () => Date;
  recoveryPerPass?: number;
  /** Default `AGENT` and `OTHER_AGENT`. */
  agents?: AgentCredential[];
  /** `HITL_SWEEP_TOKEN`; without it `POST /api/v1/sweep` is off. */
  sweepToken?: string;
  /** Where the app logs. Default: nowhere. */
  log?: Logger;
  /** The app's private key; default `testPrivateKey()`, which is this process's own. */
  privateKey?: string;
  /**
   * Octokit's write spacing, off by default. `per-process`: Octokit's own limiter, each process
   * spacing its own writes. `shared`: every write takes its slot from the store's budget and
   * tokens come from the store's cache, as production does; `sleep` waits for a slot (default:
   * really waits).
   */
  spacing?: { kind: "per-process" } | { kind: "shared"; clock: () => Date; sleep?: (ms: number) => Promise<void> };
  slack?: SlackSettings;
  /** Channels that tell people outside GitHub (`notify:`), and one-click links and email replies. */
  senders?: ChannelSender[];
  retention?: RetentionLimits;
  links?: HitlOptions["links"];
  maxBodyBytes?: number;
  /** `HITL_METRICS_TOKEN`; without it `GET /metrics` is open. */
  metricsToken?: string;
  /** Metrics on (default) or off; prom-client's process metrics are off unless asked for. */
  metrics?: boolean;
  processMetrics?: boolean;
  /** `HITL_ENCRYPTION_KEYS`; without it requests may carry no sensitive data. */
  sealingKeys?: HitlOptions["sealingKeys"];
  /** The approver's desk; `publicUrl` defaults to the app's own address. */
  desk?: Omit<NonNullable<HitlOptions["desk"]>, "publicUrl"> & { publicUrl?: string };
}): Promise<AppHarness> {
  const dir = options.store ? null : await mkdtemp(join(tmpdir(), "hitl-app-"));
  const store = options.store ?? (await createEmbeddedStore({ dir: dir! }));
  let now = options.now ?? null;
  const clock = options.clock ?? (() => now ?? new Date());
  const probot = new Probot({
    appId: SELF.appId,
    privateKey: options.privateKey ?? testPrivateKey(),
    secret: WEBHOOK_SECRET,
    baseUrl: options.githubUrl,
    log: options.log ?? pino({ level: "silent" }),
    // Octokit's own retries and its spacing of writes (a second, or three for notifying calls)
    // are off: failures reach hitl's job retries at once, and tests do not wait on timers.
    Octokit: !options.spacing
      ? hitlOctokit({ retry: { enabled: false }, throttle: { enabled: false } }, GITHUB_TEST_TIMEOUT_MS)
      : options.spacing.kind === "shared"
        ? hitlOctokit({ retry: { enabled: false } }, GITHUB_TEST_TIMEOUT_MS, sharedGitHub(store, options.spacing.clock, options.spacing.sleep))
        : hitlOctokit({ retry: { enabled: false } }, GITHUB_TEST_TIMEOUT_MS),
  });
  let runtime: HitlRuntime | undefined;
  let middleware: Awaited<ReturnType<typeof createNodeMiddleware>> | undefined;
  const server: Server = createServer((req, res) => {
    void middleware!(req, res, () => {
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  middleware = await createNodeMiddleware(
    hitlApp({
      store,
      self: SELF,
      agents: options.agents ?? [AGENT, OTHER_AGENT],
      sweepCron: null,
      sweepToken: options.sweepToken ?? null,
      metricsToken: options.metricsToken ?? null,
      metrics: options.metrics,
      processMetrics: options.processMetrics ?? false,
      clock,
      outbound: options.outbound ?? LOCAL_RECEIVERS,
      channels: options.channels,
      recoveryPerPass: options.recoveryPerPass,
      ...(options.slack ? { slack: options.slack } : {}),
      ...(options.senders ? { senders: options.senders } : {}),
      retention: options.retention,
      ...(options.links ? { links: options.links } : {}),
      maxBodyBytes: options.maxBodyBytes,
      sealingKeys: options.sealingKeys ?? null,
      ...(options.desk ? { desk: { ...options.desk, publicUrl: options.desk.publicUrl ?? url } } : {}),
      onReady: (ready) => (runtime = ready),
    }),
    { probot },
  );
  return {
    url,
    store,
    runtime: runtime!,
    setNow(date) {
      now = date;
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime?.stop();
      if (!options.store) await store.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Calls the agent API of `app` as an agent would (`AGENT` unless another token is given), with no deadline. */
export function api(app: { url: string }, method: string, path: string, body?: unknown, options: { token?: string; headers?: Record<string, string> } = {}) {
  return callApi(app.url, method, path, { token: options.token ?? AGENT.token, body, headers: options.headers, timeoutMs: null });
}
