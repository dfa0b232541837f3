import type { ApprovalRequest, RequestRetention } from "./types.js";

const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 365 * 86_400_000 } as const;
const RETENTION = /^(\d{1,5})(h|d|w|y)$/;

/** How long retention may be written: `36h`, `90d`, `12w`, `7y` (a year is 365 days). */
export const RETENTION_FORMAT = "a number and h, d, w or y, like 90d or 7y";

/** Milliseconds of a retention like `90d` or `7y`; null when it does not parse or is zero. */
export function parseRetention(text: string): number | null {
  const match = RETENTION.exec(text.trim());
  if (!match) return null;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms > 0 ? ms : null;
}

/** The operator's retention (HITL_RETENTION_CONTEXT, HITL_RETENTION_AUDIT): the longest anything is kept; null: for ever. */
export type RetentionLimits = RequestRetention;

export const KEEP_FOREVER: RetentionLimits = { contextMs: null, auditMs: null };

const shorter = (ceiling: number | null, wanted: number | null): number | null =>
  ceiling === null ? wanted : wanted === null ? ceiling : Math.min(ceiling, wanted);

/**
 * What a new request keeps: the repository's `.hitl.yml` `retention:` may shorten the
 * environment's, never lengthen it (the operator keeps the store and answers for what it holds).
 */
export function requestRetention(limits: RetentionLimits, repo: { context?: string; audit?: string } | undefined): RequestRetention {
  const own = (text: string | undefined) => (text === undefined ? null : parseRetention(text));
  return { contextMs: shorter(limits.contextMs, own(repo?.context)), auditMs: shorter(limits.auditMs, own(repo?.audit)) };
}

/** When the request ended (ms), while its context is kept; null while pending or once purged. */
export function endedAtMs(request: ApprovalRequest): number | null {
  if (request.status === "pending" || request.contextPurgedAt) return null;
  const ms = Date.parse(request.decision?.decidedAt ?? request.updatedAt);
  return Number.isFinite(ms) ? ms : null;
}

/** When the request's own retention lets its context go (ms); null: not by its own retention. */
export function contextExpiresAtMs(request: ApprovalRequest): number | null {
  const ended = endedAtMs(request);
  const keep = request.retention?.contextMs;
  return ended === null || keep === null || keep === undefined ? null : ended + keep;
}

/** The request fields retention removes (as the API names them), for the `context_purged` entry. */
export const PURGED_FIELDS = ["task_description", "approval_reason", "decision_data", "evaluation", "decision.justification", "decision.edited_fields", "sections", "presentation", "checkpoint", "prediction"] as const;

/** What the `context_purged` entry names as removed: the fields above, and the context layers the request had. */
export function purgedFields(request: ApprovalRequest): string[] {
  const layers = request.layers ? (["summary", "detail", "full"] as const).filter((layer) => request.layers![layer] !== undefined).map((layer) => `context.${layer}`) : [];
  return [...PURGED_FIELDS, ...layers];
}

/**
 * The request with its context removed: what an agent asked and showed people, what people wrote,
 * and what rules and predictions saw (a prediction's sentence holds its values). What stays is what the audit needs: who asked, who decided what and when,
 * the context hash the audit entries name, and where it was shown.
 */
export function purgeContext(request: ApprovalRequest, now: Date): ApprovalRequest {
  const at = now.toISOString();
  const { sections: _s, presentation: _p, checkpoint: _c, recovery: _r, editableFields: _e, sensitive: _sealed, hidden: _hidden, layers: _layers, prediction: _predicted, ...kept } = request;
  const decision = request.decision ? { ...request.decision, justification: null } : null;
  if (decision) delete decision.editedFields;
  return { ...kept, taskDescription: "", approvalReason: "", decisionData: {}, evaluation: null, decision, contextPurgedAt: at, updatedAt: at };
}
