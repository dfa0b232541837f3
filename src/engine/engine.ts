import { EventEmitter } from "node:events";
import { preCheckDecider, type Actor, type RefusalReason } from "../core/authorize.js";
import { buildRequest, type NewRequestInput } from "../core/build-request.js";
import { applyDecision, finalEvent, finish, type DecisionInput } from "../core/decide.js";
import { evaluatePolicy } from "../core/policy.js";
import { allowedApprovers, nextDueAt } from "../core/schedule.js";
import type { ApprovalRequest, AuditEntry, AuditEvent, Decider, Evaluation, Job, JobKind, RequestStatus } from "../core/types.js";
import type { ListQuery, Store } from "../store/store.js";
import { HitlError, notFound } from "./errors.js";
import type { GitHubGateway, LoadedConfig, Logger, PullRequestInfo } from "./ports.js";
import { OPEN_SURFACE_GRACE_MS, retryDelayMs } from "./retry-policy.js";

export interface EngineDeps {
  store: Store;
  github: GitHubGateway;
  clock: () => Date;
  newId: (prefix: string) => string;
  log: Logger;
  /** Called after a write that queued jobs, so they run now instead of at the next sweep. */
  onJobsQueued?: () => void;
}

export interface Agent {
  name: string;
}

/** Where a decision on GitHub came from, after the webhook handler read it. */
export interface GitHubDecision {
  repo: string;
  number: number;
  actor: Actor;
  action: string;
  justification: string | null;
  via: "comment" | "review" | "check_run";
  /** The comment was edited (it never counts). */
  edited?: boolean;
  /** The pull request's author, who may not approve their own change. */
  pullRequestAuthor?: string;
  /** A check-run button names one request; comments and reviews apply to every pending one. */
  requestId?: string;
}

/** What happened to one request a person tried to decide, so the handler can answer them. */
export type DecisionOutcome =
  | { type: "decided"; request: ApprovalRequest }
  | { type: "refused"; request: ApprovalRequest; reason: RefusalReason; allowed: string[] }
  | { type: "unknown_action"; request: ApprovalRequest }
  | { type: "already_decided"; request: ApprovalRequest };

const CAS_ATTEMPTS = 5;

/**
 * The approval engine: every state change of a request goes through here. It talks to the
 * world only through the store and the GitHub gateway it is given.
 */
export function createEngine(deps: EngineDeps) {
  const { store, github, clock, newId, log } = deps;
  const decided = new EventEmitter().setMaxListeners(0);

  function audit(request: ApprovalRequest, event: AuditEvent, actor: Decider, details?: Record<string, unknown>): AuditEntry {
    return {
      id: newId("aud"),
      at: clock().toISOString(),
      repo: request.repo,
      requestId: request.id,
      event,
      actor,
      status: request.status,
      action: request.decision?.action ?? null,
      justification: request.decision?.justification ?? null,
      contextHash: request.contextHash,
      ...(details ? { details } : {}),
    };
  }

  function job(request: ApprovalRequest, kind: JobKind, reason: AuditEvent, runAt = clock()): Job {
    return { id: newId("job"), kind, requestId: request.id, reason, runAt: runAt.toISOString(), attempts: 0, lastError: null };
  }

  /** The jobs that tell the world a request reached a final state. */
  function finalJobs(request: ApprovalRequest, reason: AuditEvent): Job[] {
    const jobs = [job(request, "sync_surface", reason)];
    if (request.callbackUrl) jobs.push(job(request, "callback", reason));
    return jobs;
  }

  /** Writes a state change; on success tells waiters and the job runner. */
  async function commit(next: ApprovalRequest, expected: number, entries: AuditEntry[], jobs: Job[]): Promise<ApprovalRequest | null> {
    const stored = await store.update(next, expected, { audit: entries, jobs });
    if (!stored) return null;
    if (stored.status !== "pending") decided.emit(stored.id, stored);
    if (jobs.length > 0) deps.onJobsQueued?.();
    return stored;
  }

  async function evaluate(request: ApprovalRequest, loaded: LoadedConfig): Promise<Evaluation> {
    return evaluatePolicy({
      config: loaded.config,
      configError: loaded.error,
      facts: {
        decisionData: request.decisionData,
        requestType: request.requestType,
        riskScore: request.riskScore,
        confidence: request.confidence,
        availableActions: request.availableActions,
      },
      now: clock(),
      takeUse: async (ruleId, max) => (await store.takeUse(`rule:${request.repo}:${ruleId}`, max)) !== null,
    });
  }

  /**
   * Tries the repository's policy on a freshly stored request and either decides it by rule or
   * posts it on its surface. Runs inline when the agent asks, and again from the `open_surface`
   * job if the process died half-way, so it must be safe to repeat.
   */
  async function process(request: ApprovalRequest, attempt: number, loadedConfig?: LoadedConfig, pull?: PullRequestInfo): Promise<ApprovalRequest> {
    let current = request;
    if (!current.evaluation) {
      const loaded = loadedConfig ?? (await github.loadConfig(current.installationId, current.repo));
      const evaluation = await evaluate(current, loaded);
      const { outcome } = evaluation;
      if (outcome.type === "decide") {
        const next = finish({ ...current, evaluation }, {
          action: outcome.action,
          status: outcome.status,
          decidedBy: outcome.decider,
          justification: outcome.reason,
          via: outcome.via,
        }, clock());
        const stored = await commit(next, current.version, [audit(next, "decided", outcome.decider)], next.callbackUrl ? [job(next, "callback", "decided")] : []);
        return stored ?? mustGet(current.id);
      }
      const stored = await commit({ ...current, evaluation, updatedAt: clock().toISOString() }, current.version, [], []);
      if (!stored) return mustGet(current.id);
      current = stored;
    }
    if (current.status !== "pending" || current.surfaceRef) return current;
    const recent = current.requestType
      ? (await store.list({ repo: current.repo, requestType: current.requestType, limit: 10 })).filter((r) => r.decision).slice(0, 5)
      : [];
    const surfaceRef = await github.openSurface(current, { recent, attempt, ...(pull ? { pull } : {}) });
    for (let i = 0; i < CAS_ATTEMPTS; i++) {
      const next: ApprovalRequest = { ...current, surfaceRef, updatedAt: clock().toISOString() };
      // Ended (decided, expired, cancelled) while it was being posted: the job that ended it found
      // no surface to update, so this one brings the surface up to date, once.
      const ended = next.status !== "pending";
      if (ended) next.surfaceRef = { ...surfaceRef, openedAfterEnd: true };
      const catchUp = ended ? [job(next, "sync_surface", "surface_opened")] : [];
      const stored = await commit(next, current.version, [audit(next, "surface_opened", { type: "system", reason: "surface opened" }, { ...surfaceRef })], catchUp);
      if (stored) return stored;
      current = await mustGet(current.id);
      if (current.surfaceRef) return current;
    }
    throw new Error(`Could not record the surface of ${current.id} after ${CAS_ATTEMPTS} attempts`);
  }

  async function mustGet(id: string): Promise<ApprovalRequest> {
    const request = await store.get(id);
    if (!request) throw notFound(id);
    return request;
  }

  return {
    /** Opens a request for an agent. Returns the first request again for a reused idempotency key. */
    async open(input: NewRequestInput, agent: Agent): Promise<{ request: ApprovalRequest; created: boolean }> {
      const now = clock();
      if (input.deadline && new Date(input.deadline).getTime() <= now.getTime()) {
        throw new HitlError("invalid_request", 400, "The request is not valid.", [{ path: "deadline", message: "must be in the future" }]);
      }
      const installationId = await github.installationId(input.repo);
      if (installationId === null) {
        throw new HitlError("app_not_installed", 422, `The app is not installed on ${input.repo}, or the repository does not exist. Install it there first.`);
      }
      const loaded = await github.loadConfig(installationId, input.repo);
      const agents = loaded.config?.agents;
      if (agents && agents.length > 0 && !agents.includes(agent.name)) {
        throw new HitlError("agent_not_allowed", 403, `Agent ${agent.name} may not open requests in ${input.repo}: its ${loaded.file ?? ".hitl.yml"} lists agents ${agents.join(", ")}.`);
      }
      let pull: PullRequestInfo | undefined;
      if (input.surface.type === "pull_request") {
        const wholePull = Object.keys(input.decisionData).length === 0;
        pull = (await github.pullRequest(installationId, input.repo, input.surface.number, { withFiles: wholePull })) ?? undefined;
        if (!pull) throw new HitlError("invalid_request", 400, "The request is not valid.", [{ path: "surface.number", message: `${input.repo} has no pull request #${input.surface.number}` }]);
        if (pull.state !== "open") throw new HitlError("invalid_request", 400, "The request is not valid.", [{ path: "surface.number", message: `pull request #${pull.number} is ${pull.merged ? "merged" : "closed"}` }]);
        if (wholePull) input = { ...input, decisionData: summarisePull(pull) };
      }
      const request = buildRequest(input, loaded.config, { id: newId("req"), now, requestedBy: agent.name, installationId });
      const safetyNet = job(request, "open_surface", "created", new Date(now.getTime() + OPEN_SURFACE_GRACE_MS));
      const { request: stored, created } = await store.create(request, {
        audit: [audit(request, "created", { type: "agent", name: agent.name })],
        jobs: [safetyNet],
      });
      if (!created) return { request: stored, created: false };
      try {
        const processed = await process(stored, 1, loaded, pull);
        if (processed.status !== "pending" || processed.surfaceRef) await store.completeJob(safetyNet.id);
        return { request: processed, created: true };
      } catch (error) {
        // The request is stored and acknowledged: its safety-net job posts it once GitHub answers.
        const message = error instanceof Error ? error.message : String(error);
        log.warn({ err: error, requestId: stored.id }, "could not post the request on GitHub yet; it will be retried");
        await store.retryJob(safetyNet.id, new Date(clock().getTime() + retryDelayMs(1)), message);
        return { request: (await store.get(stored.id)) ?? stored, created: true };
      }
    },

    /**
     * Finishes what `open` could not, from the `open_surface` job. `attempt` counts the try
     * `open` made inline, so any value above 1 means an issue may already exist.
     */
    async resume(requestId: string, attempt: number): Promise<void> {
      const request = await store.get(requestId);
      if (!request || request.status !== "pending" || request.surfaceRef) return;
      await process(request, attempt);
    },

    async get(id: string): Promise<ApprovalRequest> {
      return mustGet(id);
    },

    /** The requests shown on an issue or pull request, newest first. */
    onSurface(repo: string, number: number): Promise<ApprovalRequest[]> {
      return store.findBySurface(repo, number);
    },

    list(query: ListQuery): Promise<ApprovalRequest[]> {
      return store.list(query);
    },

    audit(repo: string, limit?: number): Promise<AuditEntry[]> {
      return store.audit(repo, limit);
    },

    /** Resolves with the request once it is final, or as it is when `waitMs` has passed. */
    async waitForDecision(id: string, waitMs: number, signal?: AbortSignal): Promise<ApprovalRequest> {
      const deadline = clock().getTime() + waitMs;
      let request = await mustGet(id);
      while (request.status === "pending" && !signal?.aborted) {
        const left = deadline - clock().getTime();
        if (left <= 0) break;
        // Another replica may decide it: look at the store at least every second.
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            decided.off(id, done);
            signal?.removeEventListener("abort", done);
            resolve();
          };
          const timer = setTimeout(done, Math.min(left, 1_000));
          decided.on(id, done);
          signal?.addEventListener("abort", done);
        });
        request = await mustGet(id);
      }
      return request;
    },

    /** Withdraws a pending request; only the agent that opened it may. */
    async cancel(id: string, agent: Agent, reason: string | null): Promise<ApprovalRequest> {
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        const request = await mustGet(id);
        if (request.requestedBy !== agent.name) throw notFound(id);
        if (request.status !== "pending") {
          throw new HitlError("not_pending", 409, `Request ${id} is already ${request.status}; only a pending request can be cancelled.`);
        }
        const actor: Decider = { type: "agent", name: agent.name };
        const next = finish(request, { action: "cancel", status: "cancelled", decidedBy: actor, justification: reason, via: "api" }, clock());
        const stored = await commit(next, request.version, [audit(next, "cancelled", actor)], [job(next, "sync_surface", "cancelled")]);
        if (stored) return stored;
      }
      throw new HitlError("conflict", 409, `Request ${id} changed while it was being cancelled; try again.`);
    },

    /**
     * Applies a decision a person made on GitHub to the pending requests on that issue or pull
     * request. The first valid decision wins; later ones are reported as already decided.
     */
    async decideFromGitHub(input: GitHubDecision): Promise<DecisionOutcome[]> {
      const onSurface = await store.findBySurface(input.repo, input.number);
      const targets = input.requestId ? onSurface.filter((r) => r.id === input.requestId) : onSurface;
      const pending = targets.filter((r) => r.status === "pending");
      if (pending.length === 0) {
        const latest = targets[0];
        return latest ? [{ type: "already_decided", request: latest }] : [];
      }
      const outcomes: DecisionOutcome[] = [];
      for (const request of pending) outcomes.push(await decideOne(request, input));
      return outcomes;
    },

    /** Ends a request for a reason of the system's own (e.g. its pull request was closed). */
    async endBySystem(request: ApprovalRequest, status: "cancelled", reason: string, via: DecisionInput["via"]): Promise<ApprovalRequest | null> {
      let current = request;
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        if (current.status !== "pending") return null;
        const actor: Decider = { type: "system", reason };
        const next = finish(current, { action: status === "cancelled" ? "cancel" : status, status, decidedBy: actor, justification: reason, via }, clock());
        const stored = await commit(next, current.version, [audit(next, "cancelled", actor)], finalJobs(next, "cancelled"));
        if (stored) return stored;
        current = await mustGet(current.id);
      }
      return null;
    },

    /**
     * New commits on a pull request. An approval that must not outlive a push goes back to
     * pending and the approvers are asked again; every other request's state moves to the new
     * head commit, so branch protection sees it there.
     */
    async pushedTo(repo: string, number: number, headSha: string): Promise<ApprovalRequest[]> {
      const changed: ApprovalRequest[] = [];
      for (const found of await store.findBySurface(repo, number)) {
        let current = found;
        for (let i = 0; i < CAS_ATTEMPTS; i++) {
          const ref = current.surfaceRef;
          if (!ref || ref.type !== "pull_request" || ref.headSha === headSha || current.status === "cancelled") break;
          const now = clock();
          const invalidate = current.status === "approved" && current.invalidateOnPush;
          const moved: ApprovalRequest = { ...current, surfaceRef: { ...ref, headSha }, updatedAt: now.toISOString() };
          const next: ApprovalRequest = invalidate
            ? { ...moved, status: "pending", decision: null, escalation: { ...moved.escalation, nextAt: nextDueAt(moved.escalation, moved.createdAt, moved.deadline) } }
            : moved;
          const reason = invalidate ? "stale" : "head_changed";
          const entries = invalidate ? [audit(next, "stale", { type: "system", reason: `new commits pushed (${headSha.slice(0, 7)})` }, { headSha, previous: current.decision })] : [];
          const jobs = [job(next, "sync_surface", reason), ...(invalidate && next.callbackUrl ? [job(next, "callback", "stale")] : [])];
          const stored = await commit(next, current.version, entries, jobs);
          if (stored) {
            changed.push(stored);
            break;
          }
          current = await mustGet(current.id);
        }
      }
      return changed;
    },

    /** Records a surface reference that changed while the surface was updated. */
    async recordSurface(id: string, surfaceRef: ApprovalRequest["surfaceRef"]): Promise<void> {
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        const current = await mustGet(id);
        const next = { ...current, surfaceRef, updatedAt: clock().toISOString() };
        if (await store.update(next, current.version)) return;
      }
      throw new Error(`Could not record the new surface of ${id}`);
    },

    /**
     * What would happen to a request, and why, without storing or posting anything. A candidate
     * policy (`configText`) is tried instead of the repository's when given.
     */
    async simulate(input: NewRequestInput, agent: Agent, candidate: LoadedConfig | null): Promise<{ request: ApprovalRequest; evaluation: Evaluation; config: LoadedConfig }> {
      const installationId = await github.installationId(input.repo);
      if (installationId === null && !candidate) {
        throw new HitlError("app_not_installed", 422, `The app is not installed on ${input.repo}; pass a candidate config to simulate without it.`);
      }
      const loaded = candidate ?? (await github.loadConfig(installationId!, input.repo));
      const request = buildRequest(input, loaded.config, { id: "req_simulated", now: clock(), requestedBy: agent.name, installationId: installationId ?? 0 });
      const evaluation = await evaluatePolicy({
        config: loaded.config,
        configError: loaded.error,
        facts: { decisionData: request.decisionData, requestType: request.requestType, riskScore: request.riskScore, confidence: request.confidence, availableActions: request.availableActions },
        now: clock(),
        takeUse: async (ruleId, max) => (await store.uses(`rule:${request.repo}:${ruleId}`)) < max,
      });
      return { request: { ...request, evaluation }, evaluation, config: loaded };
    },

    /** Low-level access for the sweep and surface updates, which share the audit and job conventions. */
    internals: { audit, job, finalJobs, commit, mustGet, evaluate },
  };

  async function decideOne(request: ApprovalRequest, input: GitHubDecision): Promise<DecisionOutcome> {
    const requesters = [request.requestedBy, input.pullRequestAuthor, request.surfaceRef?.author].filter((login): login is string => Boolean(login));
    const allowed = allowedApprovers(request);
    const refusal = preCheckDecider({ actor: input.actor, requesters, edited: input.edited });
    if (refusal) return { type: "refused", request, reason: refusal, allowed };
    if (!(await github.mayDecide(request.installationId, request.repo, input.actor.login, allowed))) {
      return { type: "refused", request, reason: "not_approver", allowed };
    }
    const decider: Decider = { type: "human", login: input.actor.login };
    let current = request;
    for (let i = 0; i < CAS_ATTEMPTS; i++) {
      const result = applyDecision(current, { action: input.action, decidedBy: decider, justification: input.justification, via: input.via }, clock());
      if (!result.ok) return result.reason === "not_pending" ? { type: "already_decided", request: current } : { type: "unknown_action", request: current };
      const next = result.request;
      const stored = await commit(next, current.version, [audit(next, "decided", decider)], finalJobs(next, "decided"));
      if (stored) return { type: "decided", request: stored };
      current = await mustGet(current.id);
    }
    return { type: "already_decided", request: current };
  }
}

/** What an approver of a whole pull request decides on: the size of the change and its files. */
function summarisePull(pull: PullRequestInfo): Record<string, unknown> {
  return {
    pull_request: `#${pull.number}`,
    author: pull.author,
    head_commit: pull.headSha.slice(0, 7),
    files_changed: pull.changedFiles,
    additions: pull.additions,
    deletions: pull.deletions,
    ...(pull.files ? { files: pull.files.slice(0, 30).map((file) => `${file.filename} (${file.status}, +${file.additions} −${file.deletions})`) } : {}),
  };
}

export type Engine = ReturnType<typeof createEngine>;
export type { RequestStatus };
