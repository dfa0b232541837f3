import { randomBytes } from "node:crypto";
import type { ApplicationFunction, Probot } from "probot";
import type { AgentCredential } from "./api/agent-auth.js";
import { createApiHandler } from "./api/api-handler.js";
import { createHealthHandler } from "./api/health-handler.js";
import { createSweepHandler, type SweepReport } from "./api/sweep-handler.js";
import { createMcpHandler } from "./mcp/http-handler.js";
import { toApiRequest, toChannelRequest } from "./api/serialize.js";
import { createEngine, type Engine, type EngineDeps } from "./engine/engine.js";
import { createJobRunner, type JobRunner } from "./engine/job-runner.js";
import { createRecovery, type RecoveryResult } from "./engine/recovery.js";
import { createRetentionPurge, type PurgeResult } from "./engine/retention-purge.js";
import { createSweep, type SweepResult } from "./engine/sweep.js";
import type { RetentionLimits } from "./core/retention.js";
import type { AppSelf } from "./github/app-self.js";
import { appBotLogin } from "./github/app-self.js";
import { createGitHubGateway } from "./github/gateway.js";
import type { Octokit } from "./github/octokit.js";
import type { Channel } from "./notify/channels.js";
import type { Outbound } from "./notify/post-json.js";
import { NO_ALLOWED_TARGETS } from "./notify/private-targets.js";
import { handleIssueEdited } from "./handlers/issue-edited.js";
import { handleIssueClosed, handleIssueGone } from "./handlers/issue-closed.js";
import { handleCheckRunAction } from "./handlers/check-run-action.js";
import { handleConfigPullRequest, handleConfigPush } from "./handlers/config-changes.js";
import { handleDeploymentProtectionRule } from "./handlers/deployment-protection-rule.js";
import { oncePerDelivery } from "./handlers/deliveries.js";
import { handleIssueComment } from "./handlers/issue-comment.js";
import { handlePullRequest } from "./handlers/pull-request.js";
import { handlePullRequestReview, handlePullRequestReviewDismissed } from "./handlers/pull-request-review.js";
import { createMetricsHandler } from "./metrics/metrics-handler.js";
import { NO_METRICS } from "./metrics/metrics.js";
import { observeOctokit } from "./metrics/github-calls.js";
import { observeStore } from "./metrics/observed-store.js";
import { createPromMetrics } from "./metrics/prometheus.js";
import { observeStateChanges } from "./metrics/state-changes.js";
import { startScheduler } from "./scheduler.js";
import { createJwksHandler } from "./receipts/jwks-handler.js";
import { createReceiptSigner } from "./receipts/receipt-signer.js";
import { loadKeyRing, type ConfiguredKeys } from "./receipts/signing-keys.js";
import type { Store } from "./store/store.js";
import type { ChannelSender } from "./channels/channel.js";
import { createChannelDispatcher } from "./channels/dispatcher.js";
import { createSlackInteractions } from "./channels/slack/interactions.js";
import type { SlackSettings } from "./channels/slack/slack-api.js";
import { createSlackSender } from "./channels/slack/slack-sender.js";
import { createWebhookSender } from "./channels/webhook-sender.js";
import type { ApprovalRequest } from "./core/types.js";
import { createInboundEmailHandler } from "./channels/email/inbound-handler.js";
import { createLinkHandler } from "./channels/links/link-handler.js";
import type { SealingKeys } from "./sensitive/sealing.js";
import { peopleOf } from "./channels/dispatcher.js";
import { createDeskHandler, createDeskOffHandler, type DeskSettings } from "./desk/desk-handler.js";

export interface HitlOptions {
  store: Store;
  /** The GitHub App's id and the key its markers are signed with (`markerKeyFrom`). */
  self: AppSelf;
  agents: AgentCredential[];
  /** Cron expression for the sweep; null to not schedule it (`HITL_SWEEP_CRON=off`, and tests drive it by hand). */
  sweepCron: string | null;
  /** `HITL_SWEEP_TOKEN`: lets an external scheduler run a tick with `POST /api/v1/sweep`; null (default) leaves that off. */
  sweepToken?: string | null;
  maxBodyBytes?: number;
  clock?: () => Date;
  newId?: (prefix: string) => string;
  /** Where callbacks and channel posts may go (`HITL_ALLOWED_PRIVATE_TARGETS`); public https only by default. */
  outbound?: Outbound;
  /** Pending requests whose surface the recovery pass reads per tick (default 10). */
  recoveryPerPass?: number;
  /** Notification channels (`HITL_CHANNEL_<NAME>`) that escalation levels may name. */
  channels?: Channel[];
  /** Channels that tell people outside GitHub (`.hitl.yml` `notify:`), besides Slack and the webhooks: `email` … */
  senders?: ChannelSender[];
  /**
   * One-click links (`HITL_PUBLIC_URL`, `/l/<token>`) and, with `inbound`, email replies
   * (`POST /api/v1/inbound/email`, `HITL_INBOUND_EMAIL_SECRET`). Absent: neither is served.
   */
  links?: { publicUrl: string; key: Buffer; inbound?: { secret: string; replyDomain: string } };
  /**
   * The approver's desk at `/desk` (`GITHUB_CLIENT_ID`, `GITHUB_CLIENT_SECRET`, `HITL_PUBLIC_URL`).
   * Absent: `/desk` says what to set. `fetcher` and `recheckMs` are for tests.
   */
  desk?: DeskSettings & { fetcher?: typeof fetch; recheckMs?: number };
  /** `HITL_SLACK_*`: Slack messages, and decisions from their buttons at `POST /api/v1/slack/interactions`. */
  slack?: SlackSettings;
  /**
   * Decision receipts: the keys from the environment (none: a key generated once and kept in the
   * store) and the issuer they name (default `github-app:<app id>`).
   */
  receipts?: { configured?: ConfiguredKeys; issuer?: string };
  /** `HITL_ENCRYPTION_KEYS`: seal sensitive values; null or absent: requests may carry none. */
  sealingKeys?: SealingKeys | null;
  /** HITL_RETENTION_CONTEXT and HITL_RETENTION_AUDIT; absent: everything is kept for ever. */
  retention?: RetentionLimits;
  /** `HITL_METRICS_TOKEN`: `GET /metrics` asks for it as a bearer token; null (default) leaves it open. */
  metricsToken?: string | null;
  /** Counts and times (`GET /metrics`); default on. Off: no `/metrics`, no store or GitHub hooks (benchmarks compare). */
  metrics?: boolean;
  /** prom-client's process metrics (CPU, memory, event loop, GC) in `GET /metrics`; default on. */
  processMetrics?: boolean;
  /** Receives the running parts once the app is loaded (tests, and shutdown in main). */
  onReady?: (runtime: HitlRuntime) => void;
}

export interface HitlRuntime {
  engine: Engine;
  jobs: JobRunner;
  sweep: () => Promise<SweepResult>;
  /** One retention pass (the tick runs one after each sweep). */
  purge: () => Promise<PurgeResult>;
  /** One recovery pass: decisions on GitHub whose webhook never arrived. */
  recover: () => Promise<RecoveryResult>;
  /**
   * One scheduler tick: sweep, then start running the due jobs and a recovery pass (without
   * waiting for either).
   */
  tick: () => Promise<void>;
  /** One tick run to the end (sweep, recovery pass, due jobs), with what it did: `POST /api/v1/sweep`. */
  sweepOnce: () => Promise<SweepReport>;
  /**
   * The first step of stopping: open long-polls answer at once with the current status, new
   * API calls get 503, and nothing more is scheduled. Safe to call more than once.
   */
  drain: () => void;
  /** Drains, then gives the jobs in hand `graceMs` (default 5 s) to finish and hands the rest back. */
  stop: (graceMs?: number) => Promise<void>;
}

const JOB_POLL_MS = 5_000;
/** The readiness check's question to GitHub gives up after this, well within a probe's timeout. */
const GITHUB_CHECK_TIMEOUT_MS = 5_000;
const randomId = (prefix: string) => `${prefix}_${randomBytes(12).toString("base64url")}`;

/** The Probot app: wiring only. */
export function hitlApp(options: HitlOptions): ApplicationFunction {
  return (app: Probot, { addHandler }) => {
    const clock = options.clock ?? (() => new Date());
    const log = app.log;
    const observed = options.metrics === false ? null : createPromMetrics({ pending: () => options.store.countPending(), defaultMetrics: options.processMetrics ?? true, log });
    const metrics = observed?.metrics ?? NO_METRICS;
    // Every committed state change is logged (and counted) here, and every store call timed.
    const store = observeStore(options.store, observed ? metrics : null, observeStateChanges(metrics, log));
    const auth = async (installationId?: number) => observeOctokit((await app.auth(installationId)) as Octokit, metrics);
    const github = createGitHubGateway({ octokit: auth, clock, self: options.self });
    const configured = options.receipts?.configured ?? { signing: null, retired: [] };
    const issuer = options.receipts?.issuer ?? `github-app:${options.self.appId}`;
    const signer = createReceiptSigner(() => loadKeyRing({ configured, store, issuer }));
    // Loaded now, so a store that cannot give the key shows at start; a failure is tried again on use.
    signer.jwks().catch((error: unknown) => log.error({ err: error }, "could not load the receipt signing keys yet; trying again when a decision is signed"));
    // Jobs queued by a write run at once; `runner` exists by the time any write happens.
    const agentAccounts = options.agents.flatMap((agent) => agent.githubLogins ?? []);
    const deps: EngineDeps = { store, github, clock, newId: options.newId ?? randomId, log, agentAccounts, onJobsQueued: () => runner.kick(), signReceipt: signer.sign, retention: options.retention, metrics, sealingKeys: options.sealingKeys ?? null };
    const engine = createEngine(deps);
    const secrets = new Map(options.agents.map((agent) => [agent.name, agent.token]));
    const outbound = options.outbound ?? { allowed: NO_ALLOWED_TARGETS };
    const toChannelJson = (request: ApprovalRequest) => toChannelRequest(request, clock());
    const slack = options.slack ? createSlackSender(options.slack, outbound) : null;
    const senders = [...(slack ? [slack] : []), createWebhookSender(options.channels ?? [], outbound), ...(options.senders ?? [])];
    const dispatcher = createChannelDispatcher({ ...deps, senders, environmentChannels: new Set((options.channels ?? []).map((channel) => channel.name)), toChannelJson });
    const slackInteractions = options.slack && slack ? createSlackInteractions({ ...deps, settings: options.slack, call: slack.call, engine }) : null;
    const runner = createJobRunner(
      {
        ...deps,
        agentSecret: (name) => secrets.get(name),
        toAgentJson: (request) => toApiRequest(request, clock()),
        toChannelJson,
        outbound,
        channels: options.channels,
        dispatcher,
        ...(slackInteractions ? { channelInput: slackInteractions.apply } : {}),
      },
      engine,
    );
    const sweep = createSweep(deps, engine, randomId("sweeper"));
    const purge = createRetentionPurge(deps, engine, randomId("purger"));
    const recover = createRecovery(deps, engine, randomId("recoverer"), { perPass: options.recoveryPerPass });
    let recovering: Promise<unknown> | null = null;
    // The sweep waits neither for the jobs it queues nor for the recovery pass, which talks to
    // GitHub: a slow GitHub call must not hold up the next escalation.
    const tick = async () => {
      await sweep();
      runner.kick();
      await purge().catch((error: unknown) => log.error({ err: error }, "retention pass failed; it runs again on the next tick"));
      recovering ??= recover()
        .catch((error: unknown) => log.error({ err: error }, "recovery pass failed; it runs again on the next tick"))
        .finally(() => (recovering = null));
    };

    // For a process that may be frozen once it answers (serverless): everything is awaited.
    // Calls that overlap in this process share one tick (across replicas, the store's locks do).
    let sweeping: Promise<SweepReport> | null = null;
    const sweepOnce = (): Promise<SweepReport> =>
      (sweeping ??= (async () => {
        const swept = await sweep();
        let recovery: SweepReport["recovery"];
        try {
          recovery = await recover();
        } catch (error) {
          log.error({ err: error }, "recovery pass failed; it runs again on the next tick");
          recovery = { ran: false, error: error instanceof Error ? error.message : String(error) };
        }
        return { sweep: swept, recovery, jobsRun: await runner.run() };
      })().finally(() => (sweeping = null)));
    // Asked as the app itself, once, without Octokit's retries: a probe wants the answer now.
    const checkGitHub = async () => {
      const octokit = await auth();
      await octokit.request("GET /app", { request: { retries: 0, signal: AbortSignal.timeout(GITHUB_CHECK_TIMEOUT_MS) } });
    };

    const ownLogin = appBotLogin(() => auth());
    const handlerDeps = { engine, github, log, appId: options.self.appId, ownLogin };
    const once = <C>(handler: (context: C) => Promise<void>) => oncePerDelivery<C & { id: string; name: string }>(store, log, handler);
    app.on(["issue_comment.created", "issue_comment.edited"], once(handleIssueComment(handlerDeps)));
    app.on("pull_request_review.submitted", once(handlePullRequestReview(handlerDeps)));
    app.on("pull_request_review.dismissed", once(handlePullRequestReviewDismissed(handlerDeps)));
    app.on("check_run.requested_action", once(handleCheckRunAction(handlerDeps)));
    app.on("issues.edited", once(handleIssueEdited(handlerDeps)));
    app.on("issues.closed", once(handleIssueClosed(handlerDeps)));
    app.on(["issues.deleted", "issues.transferred"], once(handleIssueGone(handlerDeps)));
    app.on(["pull_request.synchronize", "pull_request.reopened", "pull_request.closed"], once(handlePullRequest(handlerDeps)));
    app.on("deployment_protection_rule.requested", once(handleDeploymentProtectionRule(handlerDeps)));
    // These two call GitHub through the webhook's own client: it is counted like the others.
    const counted = <C extends { octokit: unknown }>(handler: (context: C) => Promise<void>) => (context: C) => {
      observeOctokit(context.octokit as Octokit, metrics);
      return handler(context);
    };
    app.on("push", counted(handleConfigPush({ log, forgetConfig: github.forgetConfig })));
    app.on(["pull_request.opened", "pull_request.synchronize", "pull_request.reopened"], counted(handleConfigPullRequest({ log })));

    const closing = new AbortController();
    addHandler(createSweepHandler({ token: options.sweepToken ?? null, agents: options.agents, sweepOnce, log, closing: closing.signal }));
    const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
    if (options.links) {
      const { publicUrl, key, inbound } = options.links;
      const decide = engine.decideFromChannel;
      addHandler(createLinkHandler({ store, decide, key, publicUrl, clock, log, maxBodyBytes, sealingKeys: options.sealingKeys ?? null }));
      // Before the agent API, which answers every other path under /api/v1.
      if (inbound) {
        const contactOf = async (request: ApprovalRequest, login: string) => {
          const people = await peopleOf(github, request);
          return Object.entries(people).find(([name]) => name.toLowerCase() === login.toLowerCase())?.[1] ?? null;
        };
        addHandler(createInboundEmailHandler({ secret: inbound.secret, replyDomain: inbound.replyDomain, key, store, decide, contactOf, log, clock, maxBodyBytes }));
      }
    }
    if (options.desk) {
      const { fetcher, recheckMs, ...settings } = options.desk;
      addHandler(
        createDeskHandler({
          settings,
          store,
          github,
          decide: engine.decideFromChannel,
          holdEdits: (decide) => engine.holdingBatchEdits(null, decide),
          decided: engine.internals.decided,
          agentAccounts,
          clock,
          newId: deps.newId,
          log,
          maxBodyBytes,
          closing: closing.signal,
          sealingKeys: options.sealingKeys ?? null,
          ...(fetcher ? { fetcher } : {}),
          ...(recheckMs !== undefined ? { recheckMs } : {}),
        }),
      );
    } else addHandler(createDeskOffHandler());
    // Before the agent API, which answers every other path under /api/v1.
    if (slackInteractions) addHandler(slackInteractions.handler);
    addHandler(createApiHandler({ engine, agents: options.agents, clock, log, maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024, allowedTargets: outbound.allowed, closing: closing.signal, receipts: signer }));
    if (observed) addHandler(createMetricsHandler({ registry: observed.registry, token: options.metricsToken ?? null, log }));
    addHandler(createHealthHandler({ store, checkGitHub, clock, closing: closing.signal, log }));
    addHandler(createJwksHandler({ signer, log }));
    addHandler(createMcpHandler({ agents: options.agents, maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024, closing: closing.signal }));

    const scheduler = options.sweepCron ? startScheduler({ cron: options.sweepCron, tick, log }) : null;
    // Retries come due every few seconds; between sweeps, look for them more often than the cron.
    const poll = options.sweepCron ? setInterval(() => runner.kick(), JOB_POLL_MS).unref() : null;
    const drain = () => {
      if (closing.signal.aborted) return;
      closing.abort();
      if (poll) clearInterval(poll);
      void scheduler?.stop();
    };
    options.onReady?.({
      engine,
      jobs: runner,
      sweep,
      purge,
      recover,
      tick,
      sweepOnce,
      drain,
      async stop(graceMs = 5_000) {
        drain();
        // A recovery pass in flight only reads; it is not worth more than the jobs' grace.
        await Promise.race([recovering, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
        await runner.stop(graceMs);
      },
    });
  };
}
