import { shownContext } from "./build-request.js";
import { contextHash } from "./context-hash.js";
import type { ActionKind, ActionOption, ApprovalRequest, AuditEvent, Decider, Decision, DecisionVia, FinalStatus } from "./types.js";

export interface DecisionInput {
  action: string;
  decidedBy: Decider;
  justification: string | null;
  via: DecisionVia;
  editedFields?: Record<string, unknown>;
  reasonCode?: string;
}

export type DecideResult =
  | { ok: true; request: ApprovalRequest }
  | { ok: false; reason: "not_pending" | "unknown_action" | "past_deadline" };

/**
 * What taking an action does. `reject` always rejects and `approve` always approves (both are
 * understood whether offered or not); any other action does what its `kind` says. A custom
 * action stored before kinds existed approves, as it did then. Null for an action not offered.
 */
export function actionKind(request: { availableActions: Pick<ActionOption, "id" | "kind">[] }, actionId: string): ActionKind | null {
  if (actionId === "reject") return "reject";
  if (actionId === "approve") return "approve";
  const offered = request.availableActions.find((action) => action.id === actionId);
  return offered ? (offered.kind ?? "approve") : null;
}

/** The status an action ends a request with, by its kind; null for an action not offered. */
export function statusForAction(request: { availableActions: Pick<ActionOption, "id" | "kind">[] }, actionId: string): "approved" | "rejected" | null {
  const kind = actionKind(request, actionId);
  return kind === null ? null : kind === "reject" ? "rejected" : "approved";
}

/**
 * The pending → decided transition. `approve` and `reject` are always understood; any other
 * action must be one the request offered, and approves or rejects by its kind. A decision made at
 * or after the deadline does not count, even before the sweep has applied the fallback. `madeAt`
 * (GitHub's time for the comment or review, never later than `now`) is when it was made, as for a
 * vote: one made in time whose webhook came late still counts.
 */
export function applyDecision(request: ApprovalRequest, input: DecisionInput, now: Date, madeAt?: Date): DecideResult {
  if (request.status !== "pending") return { ok: false, reason: "not_pending" };
  const made = madeAt && madeAt.getTime() < now.getTime() ? madeAt : now;
  if (made.getTime() >= Date.parse(request.deadline)) return { ok: false, reason: "past_deadline" };
  const status = statusForAction(request, input.action);
  if (status === null) return { ok: false, reason: "unknown_action" };
  return { ok: true, request: finish(request, { ...input, status }, now) };
}

/** Ends a pending request with a decision of any final status (cancelled and expired included). */
export function finish(
  request: ApprovalRequest,
  input: DecisionInput & { status: FinalStatus; fallback?: Decision["fallback"] },
  now: Date,
): ApprovalRequest {
  const at = now.toISOString();
  const decision: Decision = {
    action: input.action,
    status: input.status,
    decidedBy: input.decidedBy,
    justification: input.justification,
    decidedAt: at,
    via: input.via,
    ...(input.fallback ? { fallback: input.fallback } : {}),
    ...(input.editedFields ? { editedFields: input.editedFields, contextHash: editedContextHash(request, input.editedFields) } : {}),
    ...(input.reasonCode ? { reasonCode: input.reasonCode } : {}),
    ...(request.surfaceRef?.type === "pull_request" && request.surfaceRef.headSha ? { headSha: request.surfaceRef.headSha } : {}),
  };
  return {
    ...request,
    status: input.status,
    decision,
    updatedAt: at,
    escalation: { ...request.escalation, nextAt: null },
  };
}

/** The hash of what was shown with the approver's values in place: what was in fact approved. */
export function editedContextHash(request: ApprovalRequest, editedFields: Record<string, unknown>): string {
  return contextHash(shownContext({ ...request, decisionData: { ...request.decisionData, ...editedFields } }));
}

/** The audit event that ended a request, for a surface to say the right thing. */
export function finalEvent(request: ApprovalRequest): AuditEvent {
  if (request.status === "expired") return "expired";
  if (request.status === "cancelled") return "cancelled";
  if (request.status === "superseded") return "superseded";
  return "decided";
}
