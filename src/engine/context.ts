import { EventEmitter } from "node:events";
import { evaluatePolicy } from "../core/policy.js";
import type { ApprovalRequest, AuditEntry, AuditEvent, Decider, Evaluation, Job, JobKind } from "../core/types.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Store } from "../store/store.js";
import { notFound } from "./errors.js";
import type { GitHubGateway, LoadedConfig, Logger } from "./ports.js";

export interface EngineDeps {
  store: Store;
  github: GitHubGateway;
  clock: () => Date;
  newId: (prefix: string) => string;
  log: Logger;
  /** Called after a write that queued jobs, so they run now instead of at the next sweep. */
  onJobsQueued?: () => void;
  /** Where the job runner counts jobs and sends; none by default. */
  metrics?: Metrics;
}

export interface Agent {
  name: string;
  /** May read every agent's requests and whole audit trails. */
  readAll?: boolean;
  /** The agent's own GitHub identities, lowercased. */
  githubLogins?: string[];
}

/** How often a compare-and-set is tried again after another write came first. */
export const CAS_ATTEMPTS = 5;

/**
 * The conventions every state change shares: how audit entries and jobs are made, how a change
 * is written (compare-and-set, then waiters and the job runner are told), and how the
 * repository's policy is tried.
 */
export function createEngineContext(deps: EngineDeps) {
  const { store, clock, newId } = deps;
  /** Emits a request's id once it reaches a final state, for long-polls in this process. */
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
      requestedBy: request.requestedBy,
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

  /** Writes a state change; on success tells waiters and the job runner. Null when another write came first. */
  async function commit(next: ApprovalRequest, expected: number, entries: AuditEntry[], jobs: Job[]): Promise<ApprovalRequest | null> {
    const stored = await store.update(next, expected, { audit: entries, jobs });
    if (!stored) return null;
    if (stored.status !== "pending") decided.emit(stored.id, stored);
    if (jobs.length > 0) deps.onJobsQueued?.();
    return stored;
  }

  async function mustGet(id: string): Promise<ApprovalRequest> {
    const request = await store.get(id);
    if (!request) throw notFound(id);
    return request;
  }

  /**
   * Tries the policy on a request. A rule's `max_uses` is taken from the store, or only looked
   * at when `dryRun` (a simulation must not use one up).
   */
  function evaluate(request: ApprovalRequest, loaded: LoadedConfig, options: { dryRun?: boolean } = {}): Promise<Evaluation> {
    const useKey = (ruleId: string) => `rule:${request.repo}:${ruleId}`;
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
      takeUse: options.dryRun
        ? async (ruleId, max) => (await store.uses(useKey(ruleId))) < max
        : async (ruleId, max) => (await store.takeUse(useKey(ruleId), max)) !== null,
    });
  }

  return { ...deps, decided, audit, job, finalJobs, commit, mustGet, evaluate };
}

export type EngineContext = ReturnType<typeof createEngineContext>;
