import { contextHash } from "./context-hash.js";
import { hashedLayers, storedLayers, type LayersInput } from "./context-layers.js";
import type { EffectivePolicy } from "./effective-policy.js";
import type { AskedFeedback } from "./feedback.js";
import { initialEscalation } from "./schedule.js";
import type { StageConfig } from "../config/schema.js";
import { policyAsks } from "./follow-up.js";
import { stagedNextAt } from "./vote.js";
import type { ActionOption, ApprovalRequest, ContextLayers, Drift, EditableField, Fallback, Presentation, Priority, ResumeMode, ReviewSection, SurfaceSpec } from "./types.js";

/** What an agent asks for, after the API validated it (camelCase; durations as written). */
export interface NewRequestInput {
  repo: string;
  taskDescription: string;
  approvalReason: string;
  decisionData: Record<string, unknown>;
  availableActions: ActionOption[];
  priority: Priority;
  deadline?: string;
  fallback?: Fallback;
  surface: SurfaceSpec;
  approvers?: string[];
  requestType?: string;
  riskScore?: number;
  confidence?: number;
  callbackUrl?: string;
  idempotencyKey?: string;
  escalation?: { after: string; approvers: string[]; message?: string }[];
  warningBefore?: string;
  invalidateOnPush?: boolean;
  /** The GitHub login the agent acts for. */
  onBehalfOf?: string;
  editableFields?: Record<string, EditableField>;
  /** What the agent asks people to give with a decision; `.hitl.yml`'s may be stricter. */
  feedback?: AskedFeedback;
  presentation?: Presentation;
  sections?: ReviewSection[];
  workflowId?: string;
  /** Opaque JSON returned with the decision, never shown to people. */
  checkpoint?: unknown;
  /** How long an approval holds, as written; `.hitl.yml` may only be made shorter. */
  maxDecisionAge?: string;
  resume?: ResumeMode;
  /** Only hitl sets it, for a follow-up: the request it asks again about, and what changed. */
  supersedes?: { id: string; drift: Drift };
  /** At least this many distinct people must approve; may only raise `.hitl.yml`'s requirements. */
  requiredApprovals?: number;
  /** Stages added after those `.hitl.yml` requires. */
  stages?: StageConfig[];
  /** Paths of `decisionData` whose values are sensitive (`sensitive_data`'s keys among them). */
  sensitivePaths?: string[];
  /** The context in layers: a one-line summary for notifications, detail for the issue, full JSON on demand. */
  layers?: LayersInput;
}

/**
 * What identifies a request body for its idempotency key: SHA-256 of the canonical validated
 * input (defaults filled in, key order irrelevant), the key itself left out.
 */
export function idempotencyFingerprint(input: NewRequestInput): string {
  const { idempotencyKey: _key, ...body } = input;
  return contextHash(body);
}

/**
 * The request as it will be stored: what the agent described, under the policy `effectivePolicy`
 * settled (approvers, deadline, fallback, ladder, warning, invalidation), with the escalation
 * ladder snapshotted so later edits of `.hitl.yml` do not change a request already in flight.
 */
export function buildRequest(
  input: NewRequestInput,
  policy: EffectivePolicy,
  context: { id: string; now: Date; requestedBy: string; installationId: number; agentLogins?: string[] },
): ApprovalRequest {
  const createdAt = context.now.toISOString();
  // A policy made by hand (not by effectivePolicy) may leave the request's own fields out.
  const editableFields = policy.editableFields ?? input.editableFields;
  // A follow-up re-asks with the request's own fields; `.hitl.yml`'s requirements apply afresh.
  const layers = storedLayers(input.layers);
  const addsEditable = Object.keys(editableFields ?? {}).some((name) => !Object.hasOwn(input.editableFields ?? {}, name));
  const request: ApprovalRequest = {
    id: context.id,
    version: 1,
    repo: input.repo,
    installationId: context.installationId,
    status: "pending",
    taskDescription: input.taskDescription,
    approvalReason: input.approvalReason,
    decisionData: input.decisionData,
    availableActions: input.availableActions,
    priority: input.priority,
    deadline: policy.deadline,
    fallback: policy.fallback,
    surface: input.surface,
    surfaceRef: null,
    approvers: policy.approvers,
    policyApprovers: policy.policyApprovers,
    requestType: input.requestType ?? null,
    riskScore: input.riskScore ?? null,
    confidence: input.confidence ?? null,
    callbackUrl: input.callbackUrl ?? null,
    requestedBy: context.requestedBy,
    agentLogins: context.agentLogins ?? [],
    onBehalfOf: input.onBehalfOf ?? null,
    idempotencyKey: input.idempotencyKey ?? null,
    contextHash: contextHash(shownContext({ ...input, editableFields, layers })),
    invalidateOnPush: policy.invalidateOnPush,
    createdAt,
    updatedAt: createdAt,
    escalation: initialEscalation({ ladder: policy.ladder, warningBeforeMs: policy.warningBeforeMs, createdAt, deadline: policy.deadline }),
    evaluation: null,
    decision: null,
    workflowId: input.workflowId ?? null,
    ...(input.checkpoint !== undefined ? { checkpoint: input.checkpoint } : {}),
    maxDecisionAgeMs: policy.maxDecisionAgeMs,
    resume: input.resume ?? "immediate",
    asked: { ...policyAsks(input, context.now), ...(addsEditable ? { editableFields: input.editableFields ?? {} } : {}) },
    supersedes: input.supersedes ?? null,
    supersededBy: null,
    ...(editableFields ? { editableFields } : {}),
    ...(policy.feedback ? { feedback: policy.feedback } : {}),
    ...(input.presentation ? { presentation: input.presentation } : {}),
    ...(input.sections ? { sections: input.sections } : {}),
    ...(layers ? { layers } : {}),
    ...(policy.stages ? { stages: policy.stages, votes: [] } : {}),
  };
  if (policy.stages) request.escalation = { ...request.escalation, nextAt: stagedNextAt(request, context.now) };
  return request;
}

type Shown = Pick<NewRequestInput, "repo" | "taskDescription" | "approvalReason" | "decisionData" | "availableActions" | "editableFields" | "presentation" | "sections"> & { layers?: ContextLayers | undefined };

/**
 * What an approver is shown, which the context hash covers. Fields a request does not use are
 * left out, so the hash of a request without them is what it always was.
 */
export function shownContext(request: Shown): Record<string, unknown> {
  return {
    repo: request.repo,
    taskDescription: request.taskDescription,
    approvalReason: request.approvalReason,
    decisionData: request.decisionData,
    availableActions: request.availableActions,
    ...(request.editableFields ? { editableFields: request.editableFields } : {}),
    ...(request.presentation ? { presentation: request.presentation } : {}),
    ...(request.sections ? { sections: request.sections } : {}),
    ...(request.layers ? { layers: hashedLayers(request.layers) } : {}),
  };
}
