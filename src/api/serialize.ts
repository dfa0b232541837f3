import { describeSchedule } from "../core/schedule.js";
import type { ApprovalRequest, AuditEntry, Decision, Decider, Evaluation } from "../core/types.js";

function decider(value: Decider): Decider {
  return { ...value };
}

function decision(value: Decision | null) {
  if (!value) return null;
  return {
    action: value.action,
    status: value.status,
    decided_by: decider(value.decidedBy),
    justification: value.justification,
    decided_at: value.decidedAt,
    via: value.via,
    ...(value.fallback ? { fallback: value.fallback } : {}),
    ...(value.editedFields ? { edited_fields: value.editedFields } : {}),
  };
}

function evaluation(value: Evaluation | null) {
  if (!value) return null;
  return {
    outcome: value.outcome.type === "decide" ? { type: "decide" as const, action: value.outcome.action, reason: value.outcome.reason } : value.outcome,
    rules: value.rules.map((rule) => ({ rule_id: rule.ruleId, matched: rule.matched, reasons: rule.reasons })),
    closest_rule_id: value.closestRuleId,
    config_error: value.configError,
  };
}

/** A request as agents see it: snake_case, with the decision and the escalation schedule. */
export function toApiRequest(request: ApprovalRequest, now: Date) {
  const schedule = describeSchedule(request, now);
  return {
    id: request.id,
    repo: request.repo,
    status: request.status,
    task_description: request.taskDescription,
    approval_reason: request.approvalReason,
    decision_data: request.decisionData,
    available_actions: request.availableActions,
    priority: request.priority,
    deadline: request.deadline,
    fallback_action: request.fallback,
    surface: request.surface,
    surface_url: request.surfaceRef?.url ?? null,
    surface_number: request.surfaceRef?.number ?? null,
    approvers: request.approvers,
    request_type: request.requestType,
    risk_score: request.riskScore,
    confidence: request.confidence,
    callback_url: request.callbackUrl,
    requested_by: request.requestedBy,
    on_behalf_of: request.onBehalfOf ?? null,
    idempotency_key: request.idempotencyKey,
    context_hash: request.contextHash,
    created_at: request.createdAt,
    updated_at: request.updatedAt,
    escalation: {
      level: schedule.level,
      next: schedule.next,
    },
    evaluation: evaluation(request.evaluation),
    decision: decision(request.decision),
    ...(request.error ? { error: { at: request.error.at, message: request.error.message } } : {}),
  };
}

export type ApiRequest = ReturnType<typeof toApiRequest>;

export function toApiAudit(entry: AuditEntry) {
  return {
    id: entry.id,
    at: entry.at,
    repo: entry.repo,
    request_id: entry.requestId,
    event: entry.event,
    actor: decider(entry.actor),
    status: entry.status,
    action: entry.action,
    justification: entry.justification,
    context_hash: entry.contextHash,
    ...(entry.details ? { details: entry.details } : {}),
    ...(entry.requestedBy ? { requested_by: entry.requestedBy } : {}),
  };
}
