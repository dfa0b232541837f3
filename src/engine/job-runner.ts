import type { ChannelDispatcher } from "../channels/dispatcher.js";
import { PERSON_CHANNELS } from "../config/schema.js";
import type { ApprovalRequest, Job } from "../core/types.js";
import { deliveryIdOf, signedPost, type SignedPost } from "../notify/callback.js";
import { escalationMessage, type Channel } from "../notify/channels.js";
import { postJson, type Outbound } from "../notify/post-json.js";
import { NO_ALLOWED_TARGETS } from "../notify/private-targets.js";
import { NO_METRICS, type SendChannel } from "../metrics/metrics.js";
import type { Engine, EngineDeps } from "./engine.js";
import { recentDecisions } from "./recent-decisions.js";
import { JOB_LEASE_MS, MAX_JOB_ATTEMPTS, retryDelayMs } from "./retry-policy.js";

/** Surface updates that only make sense while the request still waits for a decision. */
const PENDING_ONLY_EVENTS = new Set(["escalated", "warned", "delegated", "stage_opened"]);
const FINAL_EVENTS = new Set(["decided", "expired", "cancelled", "superseded"]);
/** Changes of state that rewrite the issue body, status line first. */
const BODY_EVENTS = new Set([...FINAL_EVENTS, "surface_opened", "escalated", "delegated"]);

export interface JobRunnerDeps extends EngineDeps {
  /** The agent's token by agent name: callbacks are signed with it. */
  agentSecret: (agentName: string) => string | undefined;
  /** How the decision is shown to the agent (the API's JSON shape). */
  toAgentJson: (request: ApprovalRequest) => unknown;
  /** The request as a channel's receiver gets it: without what only the agent may see (its checkpoint). */
  toChannelJson: (request: ApprovalRequest) => unknown;
  /** Where callbacks and channel posts may go (`HITL_ALLOWED_PRIVATE_TARGETS`); public https only by default. */
  outbound?: Outbound;
  concurrency?: number;
  /** Notification channels escalation levels may name. */
  channels?: Channel[];
  /** Tells people outside GitHub (`channel_event`, `channel_send` jobs). */
  dispatcher?: ChannelDispatcher;
  /** Applies a decision a channel acknowledged (`channel_input` jobs: a Slack button press). */
  channelInput?: (request: ApprovalRequest, job: Job) => Promise<void>;
}

/**
 * Runs the jobs state changes left behind (post the surface, update it, call the agent back).
 * Jobs are leased from the store, so any replica can run them and a crash only delays them.
 */
export function createJobRunner(deps: JobRunnerDeps, engine: Engine) {
  const { store, github, clock, log } = deps;
  const outbound = deps.outbound ?? { allowed: NO_ALLOWED_TARGETS };
  const metrics = deps.metrics ?? NO_METRICS;
  let running: Promise<number> | null = null;
  let again = false;
  let stopped = false;
  /** Jobs this process holds a lease on right now. */
  const inFlight = new Map<string, { job: Job; done: Promise<void> }>();

  async function send(what: string, channel: SendChannel, url: string, post: SignedPost): Promise<void> {
    try {
      await postJson(outbound, url, post.body, post.headers);
      metrics.send(channel, true);
    } catch (error) {
      metrics.send(channel, false);
      throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async function execute(job: Job): Promise<void> {
    const request = await store.get(job.requestId);
    if (!request) return;
    switch (job.kind) {
      case "open_surface":
        await engine.resume(request.id, job.attempts + 1);
        return;
      case "sync_surface":
        if (request.status !== "pending" && PENDING_ONLY_EVENTS.has(job.reason)) return;
        // The surface came after the end; its own `surface_opened` job shows the outcome once.
        if (FINAL_EVENTS.has(job.reason) && request.surfaceRef?.openedAfterEnd) return;
        if (request.surfaceRef && request.batch) {
          await engine.syncBatchRow(request, job.reason);
        } else if (request.surfaceRef) {
          // The comment that made the change gets its 👍 before the outcome shows (best effort;
          // GitHub answers a repeated reaction with the one it has).
          if (job.reactTo !== undefined) {
            await github.react(request.installationId, request.repo, job.reactTo, "+1").catch((error: unknown) => {
              log.warn({ err: error, requestId: request.id, commentId: job.reactTo }, "could not react to the comment that decided");
            });
          }
          // A change of state rewrites the issue body, which shows the recent decisions.
          const rewrites = request.surfaceRef.type === "issue" && BODY_EVENTS.has(job.reason);
          const changed = await github.syncSurface(request, job.reason, job.attempts, rewrites ? { recent: await recentDecisions(store, request) } : {});
          if (changed) await engine.recordSurface(request.id, changed);
        } else if (request.status === "pending") throw new Error("the surface is not open yet");
        return;
      case "notify": {
        if (request.status !== "pending") return;
        const channel = deps.channels?.find((candidate) => candidate.name === job.channel);
        // `slack`, `email`, `sms` with no environment channel of that name: people hear of it through `channel_event`.
        if (!channel && (PERSON_CHANNELS as readonly string[]).includes(job.channel ?? "")) return;
        if (!channel) {
          log.warn({ requestId: request.id, channel: job.channel }, "escalation names a channel that is not configured (HITL_CHANNEL_<NAME>); skipped");
          return;
        }
        const message = escalationMessage(channel, request, clock(), deps.toChannelJson(request));
        // Slack takes its own shape, unsigned (its webhook URL is the secret); a webhook gets an event.
        const post = "event" in message ? signedPost(message, deliveryIdOf(job.id), clock(), channel.secret ?? null) : { body: JSON.stringify(message), headers: { "content-type": "application/json", "user-agent": "hitl" } };
        if (channel.headers) post.headers = { ...channel.headers, ...post.headers };
        await send(`channel ${channel.name}`, channel.kind, channel.url, post);
        return;
      }
      case "deployment_review":
        await engine.answerDeployment(request.id);
        return;
      case "channel_event":
        await deps.dispatcher?.fanOut(request, job);
        return;
      case "channel_send":
        await deps.dispatcher?.deliver(request, job);
        return;
      case "channel_input":
        if (!deps.channelInput) throw new Error("no channel takes decisions in this process");
        await deps.channelInput(request, job);
        return;
      case "callback": {
        if (!request.callbackUrl) return;
        const secret = deps.agentSecret(request.requestedBy);
        if (!secret) throw new Error(`no token is configured for agent ${request.requestedBy}; cannot sign the callback`);
        // One delivery id for the job, so the agent can drop a retry; a fresh sent_at for each try.
        const post = signedPost({ event: `request.${request.status}`, request: deps.toAgentJson(request) }, deliveryIdOf(job.id), clock(), secret);
        await send("callback", "callback", request.callbackUrl, post);
        return;
      }
    }
  }

  function runOne(job: Job): Promise<void> {
    const done = attempt(job).finally(() => inFlight.delete(job.id));
    inFlight.set(job.id, { job, done });
    return done;
  }

  async function attempt(job: Job): Promise<void> {
    try {
      await execute(job);
      await store.completeJob(job.id);
      metrics.job(job.kind, "run");
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (job.attempts >= MAX_JOB_ATTEMPTS) {
        metrics.job(job.kind, "failed");
        log.error({ jobId: job.id, kind: job.kind, requestId: job.requestId, attempts: job.attempts, error: message }, "job failed too often; giving up");
        await store.completeJob(job.id);
        return;
      }
      const runAt = new Date(clock().getTime() + retryDelayMs(job.attempts));
      log.warn({ jobId: job.id, kind: job.kind, requestId: job.requestId, attempts: job.attempts, retryAt: runAt.toISOString(), error: message }, "job failed; will retry");
      metrics.job(job.kind, "retried");
      await store.retryJob(job.id, runAt, message);
    }
  }

  /** Runs every due job, a few at a time; returns how many ran. */
  async function drainOnce(): Promise<number> {
    let total = 0;
    while (!stopped) {
      const jobs = await store.claimJobs(clock(), deps.concurrency ?? 8, JOB_LEASE_MS);
      if (jobs.length === 0) return total;
      await Promise.all(jobs.map(runOne));
      total += jobs.length;
    }
    return total;
  }

  /** Runs due jobs now; calls while a run is going on are folded into one more run. */
  function run(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          total += await drainOnce();
        } while (again);
      } finally {
        running = null;
      }
      return total;
    })();
    return running;
  }

  return {
    run,
    /** Starts a run without waiting for it; failures are logged. */
    kick(): void {
      if (stopped) return;
      run().catch((error: unknown) => log.error({ err: error }, "job run failed"));
    },

    /**
     * Takes no more jobs, gives the ones in hand `graceMs` to finish, and hands the rest back to
     * the store at once, so another replica (or the next start) runs them without waiting for
     * their lease to lapse. Returns how many were handed back.
     */
    async stop(graceMs: number): Promise<number> {
      stopped = true;
      const all = Promise.all([...inFlight.values()].map((entry) => entry.done));
      await Promise.race([all, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
      const unfinished = [...inFlight.values()].map((entry) => entry.job);
      await Promise.all(unfinished.map((job) => store.retryJob(job.id, clock(), "handed back: the process stopped before it finished")));
      if (unfinished.length > 0) log.warn({ jobs: unfinished.map((job) => job.id) }, "handed unfinished jobs back to the store");
      return unfinished.length;
    },
  };
}

export type JobRunner = ReturnType<typeof createJobRunner>;
