import { unsealRequest } from "../sensitive/seal-request.js";
import type { SealingKeys } from "../sensitive/sealing.js";
import { EventEmitter } from "node:events";
import { evaluatePolicy } from "../core/policy.js";
import type { ApprovalRequest, AuditEntry, AuditEvent, Decider, Evaluation, Job, JobKind } from "../core/types.js";
import type { RetentionLimits } from "../core/retention.js";
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
  /** Every agent's GitHub accounts (`HITL_AGENT_TOKENS` `github=`): none of them ever decides a request. */
  agentAccounts?: string[];
  /** Called after a write that queued jobs, so they run now instead of at the next sweep. */
  onJobsQueued?: () => void;
  /** Signs a decision's receipt (receipts/receipt-signer.ts); without it, decisions carry none. */
  signReceipt?: (request: ApprovalRequest) => Promise<string>;
  /** HITL_RETENTION_CONTEXT and HITL_RETENTION_AUDIT: the longest anything is kept; absent: for ever. */
  retention?: RetentionLimits;
  /** Where the job runner counts jobs and sends; none by default. */
  metrics?: Metrics;
  /** `HITL_ENCRYPTION_KEYS`: seal sensitive values; null or absent: requests may carry none. */
  sealingKeys?: SealingKeys | null;
}

export interface Agent {
  name: string;
  /** May read every agent's requests and whole audit trails. */
  readAll?: boolean;
  /** The agent's own GitHub identities, lowercased. */
  githubLogins?: string[];
}

/** The audit events that record a decision: the entry carries the decision's receipt. */
const DECIDING_EVENTS: ReadonlySet<AuditEvent> = new Set(["decided", "expired", "cancelled"]);

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

  /**
   * The job that tells people outside GitHub of an event (`.hitl.yml` `notify:`), and updates
   * what they were sent once the request ends; none for a request nobody is told of.
   */
  function channelJobs(request: ApprovalRequest, reason: AuditEvent, force = false): Job[] {
    return force || request.notify?.length || request.notifications?.length ? [job(request, "channel_event", reason)] : [];
  }

  /** The jobs that tell the world a request reached a final state. */
  function finalJobs(request: ApprovalRequest, reason: AuditEvent): Job[] {
    const jobs = [job(request, "sync_surface", reason)];
    if (request.callbackUrl) jobs.push(job(request, "callback", reason));
    if (request.deployment) jobs.push(job(request, "deployment_review", reason));
    return [...jobs, ...channelJobs(request, reason)];
  }

  /**
   * A write that records a decision gets its receipt, signed from the state about to be written,
   * in the request's decision and the deciding audit entry both: the receipt is part of the same
   * atomic write, and is thrown away with it when another write came first.
   */
  async function withReceipt(next: ApprovalRequest, entries: AuditEntry[]): Promise<{ next: ApprovalRequest; entries: AuditEntry[] }> {
    const decision = next.decision;
    const deciding = entries.some((entry) => DECIDING_EVENTS.has(entry.event));
    if (!deps.signReceipt || !decision || decision.receipt || next.status === "pending" || !deciding) return { next, entries };
    const receipt = await deps.signReceipt(next);
    return {
      next: { ...next, decision: { ...decision, receipt } },
      entries: entries.map((entry) => (DECIDING_EVENTS.has(entry.event) ? { ...entry, receipt } : entry)),
    };
  }

  /** Writes a state change; on success tells waiters and the job runner. Null when another write came first. */
  async function commit(change: ApprovalRequest, expected: number, changeEntries: AuditEntry[], jobs: Job[]): Promise<ApprovalRequest | null> {
    const { next, entries } = await withReceipt(change, changeEntries);
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
        // Rules may test sensitive fields: opened here, in memory only.
        decisionData: unsealRequest(deps.sealingKeys ?? null, request).decisionData,
        requestType: request.requestType,
        riskScore: request.riskScore,
        confidence: request.confidence,
        ...(request.sensitive ? { sensitivePaths: request.sensitive.paths } : {}),
        ...(request.hidden ? { hiddenPaths: request.hidden.paths } : {}),
        availableActions: request.availableActions,
      },
      now: clock(),
      takeUse: options.dryRun
        ? async (ruleId, max) => (await store.uses(useKey(ruleId))) < max
        : async (ruleId, max) => (await store.takeUse(useKey(ruleId), max)) !== null,
    });
  }

  return { ...deps, decided, audit, job, channelJobs, finalJobs, commit, mustGet, evaluate };
}

export type EngineContext = ReturnType<typeof createEngineContext>;
