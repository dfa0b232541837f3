import type { Validation } from "../core/drift.js";
import { formatDuration } from "../core/duration.js";
import { describeSchedule } from "../core/schedule.js";
import { stagesAhead, type Stage, type StageEnd, type Vote } from "../core/aggregate.js";
import type { EffectivePolicy } from "../core/effective-policy.js";
import { chainedRecord, type AuditRecord, type ChainedAuditEntry } from "../core/audit-chain.js";
import type { AuditVerification } from "../engine/audit-trail.js";
import type { ApprovalRequest, Decision, Decider, Drift, EditableField, Evaluation, NotificationRecord, PredictionRecord } from "../core/types.js";

const approval = (vote: Vote) => ({ by: vote.by, action: vote.action, at: vote.at, stage: vote.stage, justification: vote.justification, via: vote.via, ...(vote.weight !== undefined ? { weight: vote.weight } : {}) });
const stageEnd = (end: StageEnd) => ({ stage: end.stage, action: end.action, at: end.at, why: end.why, ...(end.branch !== undefined ? { branch: end.branch } : {}) });

function stage(value: Stage) {
  return {
    name: value.name,
    approvers: value.approvers,
    ...(value.weights ? { weights: value.weights, threshold: value.threshold } : { required: value.required }),
    ...(value.timeoutMs !== undefined ? { timeout: formatDuration(value.timeoutMs), on_timeout: value.onTimeout ?? "fallback" } : {}),
    reject: value.reject,
    allow_repeat_approvers: value.allowRepeatApprovers,
    ...(value.then ? { then: value.then } : {}),
  };
}

function decider(value: Decider): Decider {
  return { ...value };
}

function decision(value: Decision | null, data: Record<string, unknown>) {
  if (!value) return null;
  return {
    action: value.action,
    status: value.status,
    decided_by: decider(value.decidedBy),
    justification: value.justification,
    decided_at: value.decidedAt,
    via: value.via,
    ...(value.fallback ? { fallback: value.fallback } : {}),
    ...(value.reasonCode ? { reason_code: value.reasonCode } : {}),
    ...(value.editedFields
      ? {
          edited_fields: value.editedFields,
          original_fields: Object.fromEntries(Object.keys(value.editedFields).map((name) => [name, data[name] ?? null])),
          edited_context_hash: value.contextHash ?? null,
        }
      : {}),
    ...(value.approvals ? { approvals: value.approvals.map(approval), stage: value.stage ?? null, path: (value.path ?? []).map(stageEnd) } : {}),
    ...(value.headSha ? { head_sha: value.headSha } : {}),
    ...(value.receipt ? { receipt: value.receipt } : {}),
  };
}

function drift(value: Drift) {
  return {
    fields: value.fields,
    ...(value.head ? { head: value.head } : {}),
    ...(value.age ? { age: { seconds: Math.floor(value.age.ms / 1000), max_seconds: Math.floor(value.age.maxMs / 1000) } } : {}),
  };
}

/**
 * What an agent needs to resume from the decision alone (GET, long-poll and callback carry it):
 * its checkpoint, its workflow id and how its client integrates the decision.
 */
export function resumeFields(request: ApprovalRequest) {
  return {
    workflow_id: request.workflowId ?? null,
    checkpoint: request.checkpoint ?? null,
    resume: request.resume ?? "immediate",
    superseded_by: request.supersededBy ?? null,
  };
}

function evaluation(value: Evaluation | null) {
  if (!value) return null;
  return {
    outcome: value.outcome.type === "decide" ? { type: "decide" as const, action: value.outcome.action, reason: value.outcome.reason } : value.outcome,
    rules: value.rules.map((rule) => ({ rule_id: rule.ruleId, matched: rule.matched, reasons: rule.reasons })),
    closest_rule_id: value.closestRuleId,
    config_error: value.configError,
    ...(value.shadow?.length ? { shadow: value.shadow.map((match) => ({ rule_id: match.ruleId, action: match.action })) } : {}),
  };
}

function editableFieldsJson(fields: Record<string, EditableField>) {
  return Object.fromEntries(
    Object.entries(fields).map(([name, field]) => {
      if (field.type !== "string") return [name, field];
      return [name, { type: "string", ...(field.maxLength !== undefined ? { max_length: field.maxLength } : {}), ...(field.enum ? { enum: field.enum } : {}) }];
    }),
  );
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
    ...(request.editableFields ? { editable_fields: editableFieldsJson(request.editableFields) } : {}),
    ...(request.feedback ? { feedback: { require_justification: request.feedback.minLength === 0 ? false : { min_length: request.feedback.minLength }, reasons: request.feedback.reasons } } : {}),
    ...(request.presentation ? { presentation: request.presentation } : {}),
    ...(request.sections ? { sections: request.sections } : {}),
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
    ...(request.layers ? { context: { summary: request.layers.summary ?? null, detail: request.layers.detail ?? null, full: request.layers.full ? { bytes: request.layers.full.bytes, sha256: request.layers.full.sha256 } : null } } : {}),
    created_at: request.createdAt,
    updated_at: request.updatedAt,
    escalation: {
      level: schedule.level,
      next: schedule.next,
    },
    evaluation: evaluation(request.evaluation),
    decision: decision(request.decision, request.decisionData),
    ...resumeFields(request),
    max_decision_age: request.maxDecisionAgeMs == null ? null : formatDuration(request.maxDecisionAgeMs),
    supersedes: request.supersedes ? { id: request.supersedes.id, drift: drift(request.supersedes.drift) } : null,
    ...(request.stages ? { stages: request.stages.map(stage), approvals: (request.votes ?? []).map(approval) } : {}),
    ...(request.error ? { error: { at: request.error.at, message: request.error.message } } : {}),
    ...(request.notifications?.length ? { notifications: request.notifications.map(notification) } : {}),
    ...(request.contextPurgedAt ? { context_purged_at: request.contextPurgedAt } : {}),
    ...(request.prediction ? { prediction: prediction(request.prediction) } : {}),
  };
}

function prediction(value: PredictionRecord) {
  return {
    mode: value.mode,
    outcome: value.outcome,
    considered: value.considered,
    approved: value.approved,
    agreement: value.agreement,
    neighbours: value.neighbours,
    bounds: value.bounds,
    history: value.history,
    replay: value.replay,
    sentence: value.sentence,
    reasons: value.reasons,
    blocks: value.blocks,
    decided: value.decided,
  };
}

function notification(record: NotificationRecord) {
  return {
    channel: record.channel,
    recipient: record.recipient,
    event: record.event,
    state: record.state,
    attempts: record.attempts,
    last_error: record.lastError,
    ...(record.heldUntil ? { held_until: record.heldUntil } : {}),
  };
}

export type ApiRequest = ReturnType<typeof toApiRequest>;

/** A request's JSON for people's channels: everything but the agent's checkpoint. */
export function toChannelRequest(request: ApprovalRequest, now: Date) {
  const { checkpoint: _hidden, ...shown } = toApiRequest(request, now);
  return shown;
}

/** The answer of `POST /requests/:id/validate`. */
export function toApiValidation(result: { request: ApprovalRequest; validation: Validation; followUp: ApprovalRequest | null }, now: Date) {
  const { request, validation, followUp } = result;
  return {
    id: request.id,
    status: request.status,
    valid: validation.valid,
    reasons: validation.reasons,
    context_hash: validation.contextHash,
    drifted_fields: validation.drift.fields,
    age: validation.age ? { seconds: Math.floor(validation.age.ms / 1000), max_seconds: validation.age.maxMs === null ? null : Math.floor(validation.age.maxMs / 1000) } : null,
    pull_request_head: validation.head,
    decision: decision(request.decision, request.decisionData),
    ...resumeFields(request),
    follow_up: followUp ? toApiRequest(followUp, now) : null,
  };
}

/**
 * `/simulate`'s answer on sign-off: each stage the request would go through, in order, with what
 * put it there and the stages its branches may skip to; and each `.hitl.yml` requirement, whether
 * it applies and why. No stages: one approval decides.
 */
export function toApiStages(policy: Pick<EffectivePolicy, "stages" | "stageOrigins" | "requirements">) {
  const stages = policy.stages ?? [];
  return {
    stages: stages.map((value, index) => ({
      ...stage(value),
      from: policy.stageOrigins?.[index] ?? [],
      may_follow: stagesAhead(stages, index),
    })),
    requirements: policy.requirements ?? [],
  };
}

/**
 * `/simulate`'s answer: the request as it would be stored, and what it would take to decide it:
 * its stages, and what an approver may change (`editable_fields`) and must give (`feedback`),
 * after `.hitl.yml` (null: nothing to change, nothing required beyond the action).
 */
export function toApiSimulation(
  result: { request: ApprovalRequest; evaluation: { outcome: { type: string } }; config: { file: string | null; error: string | null }; policy: Pick<EffectivePolicy, "stages" | "stageOrigins" | "requirements"> },
  now: Date,
) {
  const shown = toApiRequest(result.request, now);
  return {
    outcome: result.evaluation.outcome.type === "decide" || result.request.prediction?.decided ? ("decided" as const) : ("needs_human" as const),
    would_be: shown,
    evaluation: shown.evaluation,
    sign_off: { ...toApiStages(result.policy), editable_fields: shown.editable_fields ?? null, feedback: shown.feedback ?? null },
    config: { source: result.config.file, error: result.config.error },
  };
}

/** An audit entry with its chain links, as the API, the export and the chain's hash show it. */
export function toApiAudit(entry: ChainedAuditEntry): AuditRecord {
  return chainedRecord(entry);
}

/** `GET /api/v1/audit/verify`: where the chain starts and ends, and the first fault, if any. */
export function toApiAuditVerification(result: AuditVerification) {
  const { verdict, head } = result;
  const repo = verdict.repos[0];
  const fault = verdict.fault;
  return {
    repo: result.repo,
    ok: verdict.ok,
    message: result.message,
    entries: repo?.entries ?? 0,
    first_seq: repo?.firstSeq ?? null,
    last_seq: repo?.lastSeq ?? null,
    head: head ? { seq: head.seq, hash: head.hash } : null,
    anchor: head ? { seq: head.anchor.seq, hash: head.anchor.hash, removed_at: head.anchor.removedAt } : null,
    fault: fault ? { kind: fault.kind, seq: fault.seq, request_id: fault.requestId, entry_id: fault.entryId, message: fault.message } : null,
  };
}
