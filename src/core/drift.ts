import { canonicalJson, contextHash } from "./context-hash.js";
import type { ApprovalRequest, Drift, DriftedField } from "./types.js";

/** Why an approval does not hold for the agent's current context. */
export const INVALID_REASONS = ["not_approved", "drifted", "too_old", "head_moved"] as const;
export type InvalidReason = (typeof INVALID_REASONS)[number];

/** The agent's context now; `githubHead` is the pull request's head as GitHub reports it. */
export interface CurrentContext {
  decisionData?: Record<string, unknown>;
  /** The head commit the agent is about to act on. */
  agentHead?: string;
  /** Pull requests: the head GitHub reports now (null: the pull request is gone). */
  githubHead?: string | null;
}

export interface Validation {
  valid: boolean;
  reasons: InvalidReason[];
  /** SHA-256 of what the approver approved (edits applied), and of the same with the agent's current data. */
  contextHash: { approved: string; current: string };
  drift: Drift;
  /** The approval's age; null while nothing was approved. `maxMs` null: no limit. */
  age: { ms: number; maxMs: number | null } | null;
  /** Pull requests: the head the approval was given on, GitHub's head now, and the agent's if it sent one. */
  head: { approved: string | null; current: string | null; agent: string | null } | null;
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** The decision data as approved: the agent's, with the fields the approver edited. */
export function approvedData(request: ApprovalRequest): Record<string, unknown> {
  return { ...request.decisionData, ...(request.decision?.editedFields ?? {}) };
}

/**
 * The fields whose values differ, by dotted path, sorted. Objects are compared key by key at
 * every depth; lists and scalars as whole values (key order never matters). A side that lacks
 * the field has no `approved` or `current`.
 */
export function driftedFields(approved: Record<string, unknown>, current: Record<string, unknown>, prefix = ""): DriftedField[] {
  const out: DriftedField[] = [];
  for (const key of [...new Set([...Object.keys(approved), ...Object.keys(current)])]) {
    const field = `${prefix}${key}`;
    const had = Object.hasOwn(approved, key);
    const has = Object.hasOwn(current, key);
    const a = approved[key];
    const c = current[key];
    if (had && has && isRecord(a) && isRecord(c)) out.push(...driftedFields(a, c, `${field}.`));
    else if (!had || !has || canonicalJson(a) !== canonicalJson(c)) out.push({ field, ...(had ? { approved: a } : {}), ...(has ? { current: c } : {}) });
  }
  return out.sort((x, y) => (x.field < y.field ? -1 : x.field > y.field ? 1 : 0));
}

/** The context hash of the request as shown to its approver, with `data` as its decision data (as buildRequest makes it). */
export function shownContextHash(request: ApprovalRequest, data: Record<string, unknown>): string {
  return contextHash({
    repo: request.repo,
    taskDescription: request.taskDescription,
    approvalReason: request.approvalReason,
    decisionData: data,
    availableActions: request.availableActions,
  });
}

/**
 * Whether the request's decision still holds for the agent's current context: it was approved,
 * the data did not drift, it is no older than `maxDecisionAgeMs`, and on a pull request both
 * GitHub's head and the agent's are the commit it was approved on.
 */
export function validateDecision(request: ApprovalRequest, context: CurrentContext, now: Date): Validation {
  const reasons: InvalidReason[] = [];
  const approved = approvedData(request);
  const current = context.decisionData ?? approved;
  const fields = driftedFields(approved, current);
  const drift: Drift = { fields };
  if (request.status !== "approved") reasons.push("not_approved");
  if (fields.length > 0) reasons.push("drifted");

  const maxMs = request.maxDecisionAgeMs ?? null;
  const age = request.decision ? { ms: Math.max(0, now.getTime() - Date.parse(request.decision.decidedAt)), maxMs } : null;
  if (age && maxMs !== null && age.ms > maxMs) {
    reasons.push("too_old");
    drift.age = { ms: age.ms, maxMs };
  }

  let head: Validation["head"] = null;
  if (request.surface.type === "pull_request") {
    // An approval stored before decisions kept their head has none: it cannot be shown to hold.
    const approvedHead = request.decision ? (request.decision.headSha ?? null) : null;
    const githubHead = context.githubHead ?? null;
    const agentHead = context.agentHead ?? null;
    head = { approved: approvedHead, current: githubHead, agent: agentHead };
    const moved = approvedHead === null || githubHead !== approvedHead || (agentHead !== null && agentHead !== approvedHead);
    if (request.decision && moved) {
      reasons.push("head_moved");
      drift.head = { approved: approvedHead, current: agentHead !== null && agentHead !== approvedHead ? agentHead : githubHead };
    }
  }

  return {
    valid: reasons.length === 0,
    reasons,
    contextHash: { approved: shownContextHash(request, approved), current: shownContextHash(request, current) },
    drift,
    age,
    head,
  };
}

/** Whether re-asking makes sense: an approval that no longer holds for a reason other than not being one. */
export function worthReasking(validation: Validation): boolean {
  return !validation.reasons.includes("not_approved") && !validation.valid;
}
