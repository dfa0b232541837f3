import { z } from "zod";
import { REASON_CODE_PATTERN } from "../config/schema.js";
import { hasEditableType, toEditableField } from "../core/edited-fields.js";
import { APPROVER_PATTERN } from "../core/approver-name.js";
import type { NewRequestInput } from "../core/build-request.js";
import { dataLimitProblem } from "../core/data-limits.js";
import { valueAt } from "../sensitive/sensitive-fields.js";
import { toAskedFeedback } from "../core/feedback.js";
import { DURATION_TOO_LONG, parseDuration, withinMaxDuration } from "../core/duration.js";
import { DEADLINE_FORMS, isRelativeDeadline, RELATIVE_DEADLINE } from "../core/deadline.js";
import { canonicalRepo } from "../core/repo-name.js";
import { editableFieldSchema, stagesSchema } from "../config/schema.js";
import { RESERVED_KEY_PREFIX } from "../core/follow-up.js";
import { PRESENTATIONS, PRIORITIES, RESUME_MODES, STATUSES } from "../core/types.js";

/** A key, or dotted keys into nested objects. */
const SENSITIVE_PATH = /^[^.\s]{1,100}(?:\.[^.\s]{1,100}){0,9}$/;
const login = z.string().regex(APPROVER_PATTERN, "must be a GitHub login or @org/team-slug (a slug has letters, digits, '-' and '_')");
/** Compared without case, as GitHub does: stored and looked up lowercased. */
export const repoName = z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be owner/name").transform(canonicalRepo);
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

/** The largest `checkpoint`, as JSON. */
export const CHECKPOINT_MAX_BYTES = 64 * 1024;

/** An idempotency key the agent chooses; keys starting `hitl:` are hitl's own (a follow-up's). */
export const idempotencyKey = z
  .string()
  .min(1)
  .max(200)
  .refine((key) => !key.startsWith(RESERVED_KEY_PREFIX), `must not start with ${RESERVED_KEY_PREFIX}, which hitl keeps for its own requests`);

const workflowId = z.string().min(1).max(200);

const action = z.strictObject({
  id: actionId,
  label: z.string().min(1).max(100),
  impact: z.string().max(2_000).optional(),
  kind: z
    .enum(["approve", "reject"])
    .optional()
    .describe("Whether choosing it approves or rejects. Required for ids other than `approve` (always approves) and `reject` (always rejects)."),
  data: boundedData(z.record(z.string(), z.unknown()))
    .optional()
    .describe("What this alternative would do, as data; `presentation: comparative` shows one column per alternative."),
});

/** A reason code an approver writes after `/reject`. */
const reasonCode = z.string().regex(REASON_CODE_PATTERN, "must be 1-40 lowercase letters, digits, '-' or '_', starting with a letter or digit");

export const feedbackSchema = z.strictObject({
  require_justification: z
    .union([z.boolean(), z.strictObject({ min_length: z.number().int().min(1).max(5_000) })])
    .optional()
    .describe("Whether every decision needs a reason: true (any text), or at least min_length characters."),
  reasons: z
    .array(reasonCode)
    .min(1)
    .max(20)
    .refine((codes) => new Set(codes).size === codes.length, "reason codes must be unique")
    .optional()
    .describe("Reason codes a rejection must start with: `/reject <code> <text>`."),
});

const section = z.strictObject({
  title: z.string().trim().min(1).max(200),
  text: z.string().max(5_000).optional(),
  data: boundedData(z.unknown()).optional(),
});

/** The longest `context.summary` (one line) and `context.detail`. */
export const SUMMARY_MAX = 500;
export const DETAIL_MAX = 20_000;

const contextLayers = z
  .strictObject({
    summary: z
      .string()
      .trim()
      .min(1)
      .max(SUMMARY_MAX)
      .refine((text) => !/[\r\n]/.test(text), "must be one line")
      .optional()
      .describe(`One line, at most ${SUMMARY_MAX} characters, that Slack, email and SMS messages lead with.`),
    detail: z
      .string()
      .trim()
      .min(1)
      .max(DETAIL_MAX)
      .optional()
      .describe(`Text, at most ${DETAIL_MAX} characters, shown on the issue (or check run) under **Detail**, as plain text: links, mentions and markup are made inert.`),
    full: boundedData(z.unknown())
      .refine((value) => value !== undefined, "must be JSON")
      .optional()
      .describe(
        "Any JSON (bounded by the body limit, HITL_MAX_BODY_BYTES), never posted to GitHub, chat or email: fetched on demand with `GET /api/v1/requests/{id}/context` and shown on the approver's desk. Stored compressed past 16 KiB. The context hash covers it.",
      ),
  })
  .describe(
    "The context in layers: `summary` for notifications, `detail` for the issue, `full` on demand. Each is optional; the context hash covers all three. Only decision_data is what people approve: `full` cannot change a value of it.",
  );

/** What only the whole body can say: editable fields exist in decision_data, and each presentation has what it shows. */
function requestShape(body: { decision_data: Record<string, unknown>; sensitive_data?: Record<string, unknown> | undefined; sensitive?: string[] | undefined; editable_fields?: Record<string, z.infer<typeof editableFieldSchema>> | undefined; presentation?: string | undefined; sections?: unknown[] | undefined; available_actions: z.infer<typeof action>[] }, ctx: z.RefinementCtx): void {
  for (const key of Object.keys(body.sensitive_data ?? {})) {
    if (Object.hasOwn(body.decision_data, key)) ctx.addIssue({ code: "custom", path: ["sensitive_data", key], message: `${key} is also a key of decision_data; name it in one of them` });
  }
  // A path that names nothing is most likely a typo, and the value meant to be hidden would be shown.
  (body.sensitive ?? []).forEach((path, index) => {
    if (!valueAt(body.decision_data, path).found) ctx.addIssue({ code: "custom", path: ["sensitive", index], message: `${path} is not a path of decision_data` });
  });
  const sensitive = [...(body.sensitive ?? []), ...Object.keys(body.sensitive_data ?? {})];
  for (const name of Object.keys(body.editable_fields ?? {})) {
    if (sensitive.some((path) => path === name || path.startsWith(`${name}.`))) ctx.addIssue({ code: "custom", path: ["editable_fields", name], message: `${name} is sensitive; sensitive fields cannot be editable` });
  }
  for (const [name, field] of Object.entries(body.editable_fields ?? {})) {
    const path = ["editable_fields", name];
    if (!Object.hasOwn(body.decision_data, name)) ctx.addIssue({ code: "custom", path, message: `${name} is not a key of decision_data; only its fields can be editable` });
    else if (!hasEditableType(field.type, body.decision_data[name])) ctx.addIssue({ code: "custom", path: [...path, "type"], message: `decision_data.${name} is not a ${field.type}` });
    if (field.type === "number" && field.minimum !== undefined && field.maximum !== undefined && field.minimum > field.maximum) {
      ctx.addIssue({ code: "custom", path: [...path, "minimum"], message: "must not be above maximum" });
    }
  }
  const presentation = body.presentation;
  if (presentation === "binary" && body.available_actions.some((option) => option.id !== "approve" && option.id !== "reject")) {
    ctx.addIssue({ code: "custom", path: ["presentation"], message: "binary offers only approve and reject; use multiple_choice for other actions" });
  }
  if (presentation === "detailed_review" && !body.sections?.length) ctx.addIssue({ code: "custom", path: ["sections"], message: "required for presentation detailed_review" });
  if (body.sections && presentation !== "detailed_review") ctx.addIssue({ code: "custom", path: ["sections"], message: "only with presentation detailed_review" });
  if (presentation === "comparative" && body.available_actions.filter((option) => option.data).length < 2) {
    ctx.addIssue({ code: "custom", path: ["available_actions"], message: "comparative needs at least two actions with data, one column each" });
  }
}

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
    sensitive_data: boundedData(z.record(z.string(), z.unknown()))
      .optional()
      .describe("More decision data, every value of which is sensitive: sealed at rest (HITL_ENCRYPTION_KEYS), never posted to GitHub, chat, email or logs; shown on the one-click confirmation page and returned to the requesting agent only. Its keys must not repeat decision_data's."),
    sensitive: z
      .array(z.string().regex(SENSITIVE_PATH, "must be a key of decision_data, or a dotted path into it (customer.email)"))
      .max(100)
      .optional()
      .describe("Paths of decision_data (`card_number`, `customer.email`) whose values are sensitive, as for sensitive_data. .hitl.yml's `sensitive` may add more for the request type, and none it names can be left out."),
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
    deadline: z
      .union([z.iso.datetime({ offset: true }), z.string().regex(RELATIVE_DEADLINE).refine(isRelativeDeadline)], { error: `expected ${DEADLINE_FORMS}` })
      .optional()
      .meta({
        description: `When the request's fallback applies if nobody decides: ${DEADLINE_FORMS}. A relative deadline counts from when hitl receives the request. Absent: .hitl.yml's \`deadline\` (72h by default).`,
        examples: ["in 48h", "2026-12-01T12:00:00Z"],
      }),
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
    idempotency_key: idempotencyKey.optional(),
    workflow_id: workflowId.describe("The agent's correlation id (a workflow or run); `GET /api/v1/requests?workflow_id=` lists by it.").optional(),
    checkpoint: boundedData(z.unknown())
      .refine((value) => Buffer.byteLength(JSON.stringify(value) ?? "null") <= CHECKPOINT_MAX_BYTES, `must be at most ${CHECKPOINT_MAX_BYTES} bytes as JSON`)
      .describe("Opaque JSON, at most 64 KB, returned with the decision (GET, long-poll, callback) so a stateless agent can resume from it; never shown to people.")
      .optional(),
    max_decision_age: duration
      .describe("How long the approval holds for `POST /requests/:id/validate`; at most .hitl.yml's max_decision_age.")
      .optional(),
    resume: z
      .enum(RESUME_MODES)
      .describe(
        "How the client integrates the decision: immediate (act on it), validated (validate for drift first), guided (the person's edits, reason and justification come back as guidance), fresh_start (they come back as constraints for a new plan). Default immediate.",
      )
      .optional(),
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
    editable_fields: z
      .record(z.string().min(1).max(100), editableFieldSchema)
      .refine((fields) => Object.keys(fields).length <= 50, "at most 50 editable fields")
      .optional()
      .describe("Fields of decision_data an approver may change when approving, each with its type and bounds."),
    feedback: feedbackSchema.optional().describe("What people must give with a decision; .hitl.yml's feedback may be stricter."),
    presentation: z.enum(PRESENTATIONS).optional().describe("How the issue shows the choice."),
    sections: z.array(section).min(1).max(20).optional().describe("presentation detailed_review: the parts to show, in order."),
    context: contextLayers.optional(),
  })
  .superRefine(requestShape);

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
    decisionData: { ...body.decision_data, ...body.sensitive_data },
    ...(body.context ? { layers: body.context } : {}),
    ...(body.sensitive || body.sensitive_data ? { sensitivePaths: [...(body.sensitive ?? []), ...Object.keys(body.sensitive_data ?? {})] } : {}),
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
    ...(body.editable_fields ? { editableFields: Object.fromEntries(Object.entries(body.editable_fields).map(([name, field]) => [name, toEditableField(field)])) } : {}),
    ...(body.feedback ? { feedback: toAskedFeedback(body.feedback) } : {}),
    ...(body.presentation ? { presentation: body.presentation } : {}),
    ...(body.sections ? { sections: body.sections } : {}),
    workflowId: body.workflow_id,
    checkpoint: body.checkpoint,
    maxDecisionAge: body.max_decision_age,
    resume: body.resume,
    ...(body.required_approvals !== undefined ? { requiredApprovals: body.required_approvals } : {}),
    ...(body.stages !== undefined ? { stages: body.stages } : {}),
  };
}

export const listQuerySchema = z.strictObject({
  repo: repoName.optional(),
  status: z.enum(STATUSES).optional(),
  request_type: z.string().max(100).optional(),
  workflow_id: workflowId.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const auditTime = (what: string) => z.iso.datetime({ offset: true, message: "must be an ISO 8601 time, like 2026-01-31T00:00:00Z" }).describe(what);
const auditRange = {
  repo: repoName.describe("One repository's entries; absent: every repository the token may read.").optional(),
  since: auditTime("Entries written at or after this time.").optional(),
  until: auditTime("Entries written before this time.").optional(),
};

export const auditQuerySchema = z.strictObject({
  ...auditRange,
  cursor: z.string().regex(/^\d{1,15}$/, "must be a next_cursor this endpoint answered").describe("The `next_cursor` of the page before; absent: from the oldest entry.").optional(),
  limit: z.coerce.number().int().min(1).max(10_000).describe("Entries per page; follow `next_cursor` for the rest (there is no cap on the total).").default(1_000),
});

export const auditExportQuerySchema = z.strictObject(auditRange);

export const auditVerifyQuerySchema = z.strictObject({ repo: repoName });

export const statsQuerySchema = z.strictObject({
  repo: repoName,
  since: z.iso.datetime({ offset: true }).optional().describe("Only requests created at or after this time; default 30 days ago"),
});

export const suggestionsQuerySchema = z.strictObject({
  repo: repoName,
});

export const suggestionPullRequestSchema = z.strictObject({
  repo: repoName,
});

export const waitQuerySchema = z.strictObject({
  wait: z.coerce.number().min(0).max(60).default(0),
});

/** `POST /api/v1/simulate`: a request body, and optionally a candidate `.hitl.yml` to try instead. */
export const simulateSchema = z.strictObject({
  request: z.unknown(),
  config: z.string().max(256 * 1024).optional(),
});

/** `POST /api/v1/requests/:id/validate`: the agent's current context. */
export const validateSchema = z.strictObject({
  decision_data: boundedData(z.record(z.string(), z.unknown()))
    .describe("The decision data the agent would act on now; compared field by field with what was approved. Absent: unchanged.")
    .optional(),
  pull_request_head: z
    .string()
    .regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/, "must be a full commit SHA (40 lowercase hex characters)")
    .describe("Pull requests: the head commit the agent is about to act on.")
    .optional(),
  re_ask: z.boolean().describe("When the approval no longer holds, open a linked follow-up request (the first becomes superseded).").default(false),
});

export const cancelSchema = z.strictObject({ reason: z.string().max(2_000).optional() });

/** The most requests one `POST /requests/batch` may open. */
export const BATCH_MAX_REQUESTS = 100;

/**
 * `POST /requests/batch`: the envelope only. Each item is checked on its own against
 * `newRequestSchema` (and must carry its `idempotency_key`), so one bad item fails alone.
 */
export const batchEnvelopeSchema = z.strictObject({
  requests: z.array(z.unknown()).min(1).max(BATCH_MAX_REQUESTS),
});

/** The same body, as the OpenAPI document shows it. */
export const batchOpenSchema = z.strictObject({
  requests: z
    .array(newRequestSchema)
    .min(1)
    .max(BATCH_MAX_REQUESTS)
    .describe(`At most ${BATCH_MAX_REQUESTS} requests, each as the body of POST /requests with its own idempotency_key (required here).`),
});
