import { z } from "zod";
import { APPROVER_PATTERN } from "../core/approver-name.js";
import type { NewRequestInput } from "../core/build-request.js";
import { dataLimitProblem } from "../core/data-limits.js";
import { DURATION_TOO_LONG, parseDuration, withinMaxDuration } from "../core/duration.js";
import { canonicalRepo } from "../core/repo-name.js";
import { stagesSchema } from "../config/schema.js";
import { PRIORITIES, STATUSES } from "../core/types.js";

const login = z.string().regex(APPROVER_PATTERN, "must be a GitHub login or @org/team-slug (a slug has letters, digits, '-' and '_')");
/** Compared without case, as GitHub does: stored and looked up lowercased. */
const repoName = z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be owner/name").transform(canonicalRepo);
const duration = z
  .string()
  .refine((value) => parseDuration(value) !== null, "must be a duration such as 30s, 15m, 4h or 2d")
  .refine(withinMaxDuration, DURATION_TOO_LONG);
const actionId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/, "must be 1-40 letters, digits, '-' or '_', starting with a letter or digit");

/** Free-form JSON, bounded in depth and size (see `DATA_LIMITS`). */
const boundedData = <T extends z.ZodType>(schema: T) =>
  schema.superRefine((value, ctx) => {
    const problem = dataLimitProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

const action = z.strictObject({
  id: actionId,
  label: z.string().min(1).max(100),
  impact: z.string().max(2_000).optional(),
  kind: z
    .enum(["approve", "reject"])
    .optional()
    .describe("Whether choosing it approves or rejects. Required for ids other than `approve` (always approves) and `reject` (always rejects)."),
});

/** An action's effect comes only from its kind, so it must be stated and must not contradict its id. */
function actionKinds(actions: z.infer<typeof action>[], ctx: z.RefinementCtx): void {
  actions.forEach((option, index) => {
    const path = [index, "kind"];
    if (option.id === "reject" && option.kind === "approve") ctx.addIssue({ code: "custom", path, message: "the reject action always rejects: leave kind out or make it reject" });
    else if (option.id === "approve" && option.kind === "reject") ctx.addIssue({ code: "custom", path, message: "the approve action always approves: leave kind out or make it approve" });
    else if (option.id.toLowerCase() === "retract") ctx.addIssue({ code: "custom", path: [index, "id"], message: "retract is reserved: /retract withdraws a vote" });
    else if (option.id !== "approve" && option.id !== "reject" && option.kind === undefined) {
      ctx.addIssue({ code: "custom", path, message: `required for action ${option.id}: approve or reject` });
    }
  });
}

export const fallbackSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("abort"), reason: z.string().min(1).max(2_000), cleanup: z.string().max(2_000).optional() }),
  z.strictObject({ type: z.literal("use_default"), action: actionId, value: boundedData(z.unknown()).optional(), reason: z.string().max(2_000).optional() }),
  z.strictObject({ type: z.literal("degrade"), mode: z.string().min(1).max(200), reason: z.string().max(2_000).optional() }),
  z.strictObject({ type: z.literal("delegate"), approvers: z.array(login).max(50).optional(), rule: z.string().optional(), extend_by: duration.optional(), reason: z.string().max(2_000).optional() }),
  z.strictObject({ type: z.literal("retry_with_modification"), modifications: boundedData(z.record(z.string(), z.unknown())), reason: z.string().max(2_000).optional() }),
]);

/** `POST /api/v1/requests`. Keys are snake_case, as agents send them. */
export const newRequestSchema = z
  .strictObject({
    repo: repoName,
    task_description: z.string().trim().min(1).max(500),
    approval_reason: z.string().trim().min(1).max(5_000),
    decision_data: boundedData(z.record(z.string(), z.unknown())).default({}),
    available_actions: z
      .array(action)
      .min(1)
      .max(10)
      .default([
        { id: "approve", label: "Approve" },
        { id: "reject", label: "Reject" },
      ])
      .refine((actions) => new Set(actions.map((a) => a.id)).size === actions.length, "action ids must be unique")
      .superRefine(actionKinds),
    priority: z.enum(PRIORITIES).default("normal"),
    deadline: z.iso.datetime({ offset: true }).optional(),
    fallback_action: fallbackSchema.optional(),
    surface: z
      .discriminatedUnion("type", [
        z.strictObject({ type: z.literal("issue") }),
        z.strictObject({ type: z.literal("pull_request"), number: z.number().int().positive() }),
      ])
      .default({ type: "issue" }),
    approvers: z.array(login).max(50).optional(),
    request_type: z.string().min(1).max(100).optional(),
    risk_score: z.number().min(0).max(1).optional(),
    confidence: z.number().min(0).max(1).optional(),
    // Where hitl may send depends on the server's HITL_ALLOWED_PRIVATE_TARGETS: the API checks it after this shape.
    callback_url: z
      .url({ protocol: /^https?$/ })
      .max(2_000)
      .describe("https URL that receives the signed decision; http, or a private address, only for hosts the server lists in HITL_ALLOWED_PRIVATE_TARGETS")
      .optional(),
    requested_by: z.string().optional(),
    on_behalf_of: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/, "must be a GitHub login, e.g. alice or some-app[bot]").optional(),
    idempotency_key: z.string().min(1).max(200).optional(),
    escalation: z
      .array(z.strictObject({ after: duration, approvers: z.array(login).min(1).max(50), message: z.string().max(2_000).optional() }))
      .max(10)
      .optional(),
    warning_before: duration.optional(),
    invalidate_on_push: z.boolean().optional(),
    required_approvals: z
      .int()
      .min(1)
      .max(50)
      .optional()
      .describe("This many distinct allowed people must approve. May raise what the repository's .hitl.yml requires, never lower it."),
    stages: stagesSchema.optional().describe("Sequential stages of sign-off, added after those the repository's .hitl.yml requires."),
  });

export type NewRequestBody = z.infer<typeof newRequestSchema>;

/**
 * What is wrong with the depth or size of a body's `stages`, checked before the schema walks
 * them: their conditions nest, and zod's walk recurses, so a deep enough one would overflow the
 * stack instead of being a 400.
 */
export function stagesLimitProblem(body: unknown): string | null {
  const stages = typeof body === "object" && body !== null ? (body as { stages?: unknown }).stages : undefined;
  return stages === undefined ? null : dataLimitProblem(stages);
}

export function toNewRequestInput(body: NewRequestBody, idempotencyKey: string | undefined): NewRequestInput {
  return {
    repo: body.repo,
    taskDescription: body.task_description,
    approvalReason: body.approval_reason,
    decisionData: body.decision_data,
    availableActions: body.available_actions,
    priority: body.priority,
    deadline: body.deadline,
    fallback: body.fallback_action,
    surface: body.surface,
    approvers: body.approvers,
    requestType: body.request_type,
    riskScore: body.risk_score,
    confidence: body.confidence,
    callbackUrl: body.callback_url,
    idempotencyKey: idempotencyKey ?? body.idempotency_key,
    escalation: body.escalation,
    warningBefore: body.warning_before,
    invalidateOnPush: body.invalidate_on_push,
    onBehalfOf: body.on_behalf_of,
    ...(body.required_approvals !== undefined ? { requiredApprovals: body.required_approvals } : {}),
    ...(body.stages !== undefined ? { stages: body.stages } : {}),
  };
}

export const listQuerySchema = z.strictObject({
  repo: repoName.optional(),
  status: z.enum(STATUSES).optional(),
  request_type: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const auditQuerySchema = z.strictObject({
  repo: repoName,
  limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
});

export const waitQuerySchema = z.strictObject({
  wait: z.coerce.number().min(0).max(60).default(0),
});

/** `POST /api/v1/simulate`: a request body, and optionally a candidate `.hitl.yml` to try instead. */
export const simulateSchema = z.strictObject({
  request: z.unknown(),
  config: z.string().max(256 * 1024).optional(),
});

export const cancelSchema = z.strictObject({ reason: z.string().max(2_000).optional() });
