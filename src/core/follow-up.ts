import { layersInput } from "./context-layers.js";
import type { NewRequestInput } from "./build-request.js";
import { deadlineAt } from "./deadline.js";
import { approvedData } from "./drift.js";
import type { ApprovalRequest, Drift, PolicyAsks } from "./types.js";

/** The idempotency key of a request's follow-up; keys with this prefix are hitl's own, refused from agents. */
export const RESERVED_KEY_PREFIX = "hitl:";
export const followUpKey = (requestId: string) => `${RESERVED_KEY_PREFIX}supersedes:${requestId}`;

/** What the agent asked of the policy, as kept on the request: its own deadline becomes a duration from creation. */
export function policyAsks(input: NewRequestInput, now: Date): PolicyAsks {
  const asks: PolicyAsks = {};
  if (input.approvers !== undefined) asks.approvers = input.approvers;
  if (input.fallback !== undefined) asks.fallback = input.fallback;
  if (input.deadline !== undefined) asks.deadlineMs = deadlineAt(input.deadline, now) - now.getTime();
  if (input.escalation !== undefined) asks.escalation = input.escalation;
  if (input.warningBefore !== undefined) asks.warningBefore = input.warningBefore;
  if (input.invalidateOnPush !== undefined) asks.invalidateOnPush = input.invalidateOnPush;
  if (input.maxDecisionAge !== undefined) asks.maxDecisionAge = input.maxDecisionAge;
  if (input.feedback !== undefined) asks.feedback = input.feedback;
  if (input.requiredApprovals !== undefined) asks.requiredApprovals = input.requiredApprovals;
  if (input.stages !== undefined) asks.stages = input.stages;
  return asks;
}

/**
 * The follow-up of an approval that no longer holds: the same request with the agent's current
 * data, under exactly the asks the first was opened with (its own deadline as long again from
 * now), so re-asking can never loosen anything; `open` then applies `.hitl.yml` as for any
 * request. Without `currentData` the approved data is asked about again (a whole pull request
 * is summarised afresh, at its head now). Null for a request stored before its asks were kept.
 */
export function followUpInput(first: ApprovalRequest, currentData: Record<string, unknown> | undefined, drift: Drift, now: Date): NewRequestInput | null {
  const asked = first.asked;
  if (!asked) return null;
  const decisionData = currentData ?? (asked.wholePullRequest ? {} : approvedData(first));
  const optional = <T>(value: T | null | undefined): T | undefined => (value === null ? undefined : value);
  return {
    repo: first.repo,
    taskDescription: first.taskDescription,
    approvalReason: first.approvalReason,
    decisionData,
    availableActions: first.availableActions,
    priority: first.priority,
    surface: first.surface,
    requestType: optional(first.requestType),
    riskScore: optional(first.riskScore),
    confidence: optional(first.confidence),
    callbackUrl: optional(first.callbackUrl),
    onBehalfOf: optional(first.onBehalfOf),
    idempotencyKey: followUpKey(first.id),
    workflowId: optional(first.workflowId),
    checkpoint: first.checkpoint,
    resume: first.resume,
    approvers: asked.approvers,
    fallback: asked.fallback,
    deadline: asked.deadlineMs === undefined ? undefined : new Date(now.getTime() + asked.deadlineMs).toISOString(),
    escalation: asked.escalation,
    warningBefore: asked.warningBefore,
    invalidateOnPush: asked.invalidateOnPush,
    maxDecisionAge: asked.maxDecisionAge,
    feedback: asked.feedback,
    requiredApprovals: asked.requiredApprovals,
    stages: asked.stages,
    editableFields: asked.editableFields ? (Object.keys(asked.editableFields).length > 0 ? asked.editableFields : undefined) : first.editableFields,
    presentation: first.presentation,
    sections: first.sections,
    supersedes: { id: first.id, drift },
    ...(first.sensitive ? { sensitivePaths: first.sensitive.paths } : {}),
    ...(first.layers ? { layers: layersInput(first.layers) } : {}),
  };
}
