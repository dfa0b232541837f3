import { hitlConfigSchema, type HitlConfig } from "../config/schema.js";
import { contextHash } from "./context-hash.js";
import { parseDuration } from "./duration.js";
import { initialEscalation, ladderFor } from "./schedule.js";
import type { ActionOption, ApprovalRequest, EscalationStep, Fallback, Priority, SurfaceSpec } from "./types.js";

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
}

/**
 * What identifies a request body for its idempotency key: SHA-256 of the canonical validated
 * input (defaults filled in, key order irrelevant), the key itself left out.
 */
export function idempotencyFingerprint(input: NewRequestInput): string {
  const { idempotencyKey: _key, ...body } = input;
  return contextHash(body);
}

/** A repository without `.hitl.yml` gets the schema's defaults, the same as an empty file. */
const NO_POLICY: HitlConfig = hitlConfigSchema.parse({});

/**
 * The request as it will be stored: the agent's input, completed from the repository's policy
 * (the request's own values win), with the escalation ladder snapshotted so later edits of
 * `.hitl.yml` do not change a request already in flight.
 */
export function buildRequest(
  input: NewRequestInput,
  configOrNone: HitlConfig | null,
  context: { id: string; now: Date; requestedBy: string; installationId: number },
): ApprovalRequest {
  const config = configOrNone ?? NO_POLICY;
  const createdAt = context.now.toISOString();
  const deadline = input.deadline
    ? new Date(input.deadline).toISOString()
    : new Date(context.now.getTime() + durationMs(config.deadline)!).toISOString();
  const ladderSource = input.escalation ?? ladderFor(input.priority, { escalation: config.escalation, critical: config.escalation_critical });
  const ladder: EscalationStep[] = ladderSource.map((level) => ({
    afterMs: durationMs(level.after) ?? 0,
    approvers: level.approvers,
    message: level.message ?? null,
    notify: "notify" in level && Array.isArray(level.notify) ? level.notify : [],
  }));
  const warningBeforeMs = durationMs(input.warningBefore ?? config.warning_before) ?? null;
  const shown = {
    repo: input.repo,
    taskDescription: input.taskDescription,
    approvalReason: input.approvalReason,
    decisionData: input.decisionData,
    availableActions: input.availableActions,
  };
  return {
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
    deadline,
    fallback: input.fallback ?? (config.fallback as Fallback),
    surface: input.surface,
    surfaceRef: null,
    approvers: input.approvers ?? config.approvers,
    requestType: input.requestType ?? null,
    riskScore: input.riskScore ?? null,
    confidence: input.confidence ?? null,
    callbackUrl: input.callbackUrl ?? null,
    requestedBy: context.requestedBy,
    idempotencyKey: input.idempotencyKey ?? null,
    contextHash: contextHash(shown),
    invalidateOnPush: input.invalidateOnPush ?? (input.surface.type === "pull_request" ? config.invalidate_on_push : false),
    createdAt,
    updatedAt: createdAt,
    escalation: initialEscalation({ ladder, warningBeforeMs, createdAt, deadline }),
    evaluation: null,
    decision: null,
  };
}

function durationMs(value: string | number | undefined | null): number | null {
  if (value === undefined || value === null) return null;
  return typeof value === "number" ? value : parseDuration(value);
}
