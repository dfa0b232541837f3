import { contextHash } from "./context-hash.js";
import type { EffectivePolicy } from "./effective-policy.js";
import { initialEscalation } from "./schedule.js";
import type { StageConfig } from "../config/schema.js";
import { stagedNextAt } from "./vote.js";
import type { ActionOption, ApprovalRequest, Fallback, Priority, SurfaceSpec } from "./types.js";

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
  /** At least this many distinct people must approve; may only raise `.hitl.yml`'s requirements. */
  requiredApprovals?: number;
  /** Stages added after those `.hitl.yml` requires. */
  stages?: StageConfig[];
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
  const shown = {
    repo: input.repo,
    taskDescription: input.taskDescription,
    approvalReason: input.approvalReason,
    decisionData: input.decisionData,
    availableActions: input.availableActions,
  };
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
    contextHash: contextHash(shown),
    invalidateOnPush: policy.invalidateOnPush,
    createdAt,
    updatedAt: createdAt,
    escalation: initialEscalation({ ladder: policy.ladder, warningBeforeMs: policy.warningBeforeMs, createdAt, deadline: policy.deadline }),
    evaluation: null,
    decision: null,
    ...(policy.stages ? { stages: policy.stages, votes: [] } : {}),
  };
  if (policy.stages) request.escalation = { ...request.escalation, nextAt: stagedNextAt(request, context.now) };
  return request;
}
