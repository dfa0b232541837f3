import { z } from "zod";
import { CHANNEL_VIAS, NOTIFICATION_EVENTS, NOTIFICATION_STATES, PRESENTATIONS, PRIORITIES, RESUME_MODES, STATUSES } from "../core/types.js";
import { fallbackSchema } from "./request-schema.js";
import type { ApiRequest, toApiAudit, toApiAuditVerification, toApiSimulation } from "./serialize.js";
import type { toApiStats } from "./stats-json.js";

/**
 * What the agent API answers, as zod schemas: the OpenAPI document is generated from these and
 * the request schemas, and the type checks at the bottom keep them in step with `serialize.ts`.
 */

const FINAL_STATUSES = ["approved", "rejected", "expired", "cancelled", "superseded"] as const;

const voteSchema = z.object({
  by: z.string(),
  action: z.string(),
  at: z.string(),
  stage: z.string(),
  justification: z.string().nullable(),
  via: z.string(),
  weight: z.number().optional(),
});

const stageEndSchema = z.object({
  stage: z.string(),
  action: z.string(),
  at: z.string(),
  why: z.enum(["quorum", "veto", "rejected_by_majority", "timeout_partial"]),
  branch: z.number().int().optional(),
});

const stageSchema = z.object({
  name: z.string(),
  approvers: z.array(z.string()),
  required: z.union([z.number().int(), z.enum(["all", "majority"])]).optional(),
  weights: z.record(z.string(), z.number()).optional(),
  threshold: z.number().optional(),
  timeout: z.string().optional(),
  on_timeout: z.enum(["proceed_if_partial", "fallback"]).optional(),
  reject: z.enum(["veto", "majority"]),
  allow_repeat_approvers: z.boolean(),
  then: z.array(z.object({ when: z.unknown(), next: z.string().optional(), action: z.string().optional() })).optional(),
});

const editableFieldsSchema = z.record(z.string(), z.record(z.string(), z.unknown()));
const feedbackSchema = z.object({ require_justification: z.union([z.boolean(), z.object({ min_length: z.number().int() })]), reasons: z.array(z.string()).optional() });

const driftSchema = z.object({
  fields: z.array(z.object({ field: z.string(), approved: z.unknown().optional(), current: z.unknown().optional() })),
  head: z.object({ approved: z.string().nullable(), current: z.string().nullable() }).optional(),
  age: z.object({ seconds: z.number(), max_seconds: z.number() }).optional(),
});

export const deciderSchema = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("human"), login: z.string() }),
    z.object({ type: z.literal("rule"), id: z.string() }),
    z.object({ type: z.literal("prediction"), id: z.string().describe("The request type predicted.") }).describe("`.hitl.yml` `predict:` with `mode: auto`: people's past decisions on the request type."),
    z.object({ type: z.literal("fallback"), fallback: z.enum(["abort", "use_default", "degrade", "delegate", "retry_with_modification"]) }),
    z.object({ type: z.literal("agent"), name: z.string() }),
    z.object({ type: z.literal("system"), reason: z.string() }),
  ])
  .meta({ id: "Decider", description: "Who or what decided: a person, a `.hitl.yml` rule, a prediction from past decisions, the fallback, the agent (cancelling), or hitl itself." });

export const decisionSchema = z
  .object({
    action: z.string().describe("The action id taken: `approve`, `reject`, another available action's id, or the fallback's."),
    status: z.enum(FINAL_STATUSES),
    decided_by: deciderSchema,
    justification: z.string().nullable(),
    decided_at: z.string().describe("ISO 8601"),
    via: z
      .enum(["comment", "review", "check_run", "rule", "auto_approve", "prediction", "fallback", "api", "pull_request_closed", "issue_edited", "issue_closed", ...CHANNEL_VIAS])
      .describe("How it arrived: on GitHub (`comment`, `review`, `check_run`), outside it (`slack`, `email`, `link`, `sms`), by closing its issue (`issue_closed`), by policy, or by the system."),
    fallback: fallbackSchema.optional().describe("Set when the fallback applied."),
    reason_code: z.string().optional().describe("The reason code a rejection gave, one of the request's `feedback.reasons`."),
    edited_fields: z.record(z.string(), z.unknown()).optional().describe("Fields of decision_data the approver changed, with their new values."),
    original_fields: z.record(z.string(), z.unknown()).optional().describe("With `edited_fields`: those fields' values before the change."),
    edited_context_hash: z.string().nullable().optional().describe("With `edited_fields`: SHA-256 of what was approved, the edits in place."),
    approvals: z.array(voteSchema).optional().describe("Requests with stages: every vote that stood when it ended."),
    stage: z.string().nullable().optional().describe("Requests with stages: the stage that ended it."),
    path: z.array(stageEndSchema).optional().describe("Requests with stages: the stages it went through and how each ended."),
    head_sha: z.string().optional().describe("Pull requests: the head commit the request was on when it was decided."),
    receipt: z
      .string()
      .optional()
      .describe("The decision receipt: a compact JWS (Ed25519, `alg: EdDSA`, `typ: hitl-receipt+jwt`) over the decision's claims (ReceiptPayload), verifiable offline with the keys at `/.well-known/jwks.json`. Absent on decisions made before receipts existed."),
  })
  .meta({ id: "Decision" });

const actionSchema = z.object({
  id: z.string(),
  label: z.string(),
  impact: z.string().optional(),
  kind: z.enum(["approve", "reject"]).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

const evaluationSchema = z
  .object({
    outcome: z.discriminatedUnion("type", [
      z.object({ type: z.literal("decide"), action: z.string(), reason: z.string() }),
      z.object({ type: z.literal("human"), reason: z.string() }),
    ]),
    rules: z.array(z.object({ rule_id: z.string(), matched: z.boolean(), reasons: z.array(z.string()) })),
    closest_rule_id: z.string().nullable(),
    config_error: z.string().nullable(),
    shadow: z
      .array(z.object({ rule_id: z.string(), action: z.string() }))
      .optional()
      .describe("Rules in `mode: shadow` that matched and what each would have done. They decided nothing. Absent: none matched."),
  })
  .meta({ id: "Evaluation", description: "How the repository's `.hitl.yml` rules judged the request." });

const nextStepSchema = z.object({
  type: z.enum(["escalate", "warn", "expire"]),
  at: z.string().describe("ISO 8601"),
  level: z.number().int().optional().describe("escalate only: the level it reaches"),
});

const predictionSchema = z
  .object({
    mode: z.enum(["suggest", "auto"]),
    outcome: z.enum(["approve", "reject"]).nullable().describe("What people would likely do; null: no prediction."),
    considered: z.number().int().describe("Similar past decisions by people that were read."),
    approved: z.number().int().describe("How many of them were approvals."),
    agreement: z.number().describe("The share of them with the majority outcome."),
    neighbours: z.array(z.string()).describe("Their request ids, nearest first."),
    bounds: z
      .array(z.union([z.object({ field: z.string(), min: z.number(), max: z.number() }), z.object({ field: z.string(), value: z.union([z.number(), z.string(), z.boolean()]).nullable() })]))
      .describe("Per predicted field: the range of their numbers, or the value they shared."),
    history: z.number().int().describe("People's decisions on the type that were read (the newest 500 at most)."),
    replay: z.object({ predicted: z.number().int(), disagreed: z.number().int() }).describe("Of the latest 20 decisions, how many the model would have predicted from the ones before, and got wrong."),
    sentence: z.string().describe("The sentence that explains it."),
    reasons: z.array(z.string()).describe("Why it is not confident enough to decide; empty when it is."),
    blocks: z.array(z.string()).describe("`auto`: why the guardrails keep it from deciding this request; empty when they do not."),
    decided: z.boolean().describe("Whether it decided the request."),
  })
  .meta({ id: "Prediction" });

export const apiRequestSchema = z
  .object({
    id: z.string(),
    repo: z.string(),
    status: z.enum(STATUSES),
    task_description: z.string(),
    approval_reason: z.string(),
    decision_data: z.record(z.string(), z.unknown()),
    available_actions: z.array(actionSchema),
    editable_fields: editableFieldsSchema.optional().describe("What an approver may change, each field with its type and bounds."),
    feedback: feedbackSchema.optional().describe("What people must give with a decision."),
    presentation: z.enum(PRESENTATIONS).optional(),
    sections: z.array(z.object({ title: z.string(), text: z.string().optional(), data: z.unknown().optional() })).optional(),
    priority: z.enum(PRIORITIES),
    deadline: z.string().describe("ISO 8601"),
    fallback_action: fallbackSchema,
    surface: z.discriminatedUnion("type", [z.object({ type: z.literal("issue") }), z.object({ type: z.literal("pull_request"), number: z.number().int() })]),
    surface_url: z.string().nullable(),
    surface_number: z.number().int().nullable(),
    approvers: z.array(z.string()),
    request_type: z.string().nullable(),
    risk_score: z.number().nullable(),
    confidence: z.number().nullable(),
    callback_url: z.string().nullable(),
    requested_by: z.string(),
    on_behalf_of: z.string().nullable(),
    idempotency_key: z.string().nullable(),
    context_hash: z.string().describe("SHA-256 of what the approvers were shown"),
    created_at: z.string(),
    updated_at: z.string(),
    escalation: z.object({ level: z.number().int(), next: nextStepSchema.nullable() }),
    evaluation: evaluationSchema.nullable(),
    decision: decisionSchema.nullable(),
    workflow_id: z.string().nullable(),
    checkpoint: z.unknown().describe("The agent's own JSON, returned as it was sent; never shown to people."),
    resume: z.enum(RESUME_MODES),
    superseded_by: z.string().nullable().describe("A superseded request: the follow-up that asks again."),
    max_decision_age: z.string().nullable().describe("How long an approval holds; null: no limit."),
    supersedes: z.object({ id: z.string(), drift: driftSchema }).nullable().describe("A follow-up: the request it asks again about, and what had changed."),
    stages: z.array(stageSchema).optional().describe("Quorum and stages: the stages of sign-off, in order."),
    approvals: z.array(voteSchema).optional().describe("Requests with stages: the votes cast so far."),
    error: z.object({ at: z.string(), message: z.string() }).optional().describe("Set when the sweep could not compute the request's schedule; it stays pending for people."),
    notifications: z
      .array(
        z.object({
          channel: z.string().describe("`slack`, `email`, `sms`, `webhook` …"),
          recipient: z.string().describe("`@login` for a person, else the destination: a Slack channel id, a webhook channel's name."),
          event: z.enum(NOTIFICATION_EVENTS),
          state: z.enum(NOTIFICATION_STATES).describe("`retrying` after a failed send (with `last_error`); `failed` once the retries gave up; `held` in quiet hours; `withdrawn` when the request ended first; `updated` once its message shows the outcome."),
          attempts: z.number().int(),
          last_error: z.string().nullable(),
          held_until: z.string().optional().describe("`held`: when it goes out."),
        }),
      )
      .optional()
      .describe("Messages about the request outside GitHub (`.hitl.yml` `notify:`), and how each fared. Absent: none."),
    context_purged_at: z
      .string()
      .optional()
      .describe("Set when retention removed the ended request's context (description, reason, data, justifications): those fields are empty from then on."),
    context: z
      .object({
        summary: z.string().nullable(),
        detail: z.string().nullable(),
        full: z
          .object({ bytes: z.number().int().describe("Its JSON's size, uncompressed"), sha256: z.string().describe("SHA-256 (hex) of its canonical JSON, which the context hash covers") })
          .nullable()
          .describe("The full layer's size and digest; `GET /api/v1/requests/{id}/context` returns it."),
      })
      .optional()
      .describe("The context layers the agent sent. Absent: none."),
    prediction: predictionSchema
      .optional()
      .describe("`.hitl.yml` `predict:` for its type: how people would likely decide it, from their decisions on the most similar past requests. Absent: nothing predicted."),
  })
  .meta({ id: "Request", description: "A request as stored: its status, decision and escalation schedule." });

export const contextLayersSchema = z
  .object({
    id: z.string(),
    context_hash: z.string().describe("SHA-256 of what the approvers were shown; it covers the layers (the full layer by its digest)"),
    summary: z.string().nullable(),
    detail: z.string().nullable(),
    full: z.unknown().describe("The full layer as the agent sent it; null when it sent none."),
    context_purged_at: z.string().nullable().describe("Set when retention removed the context: the layers are null from then on."),
  })
  .meta({ id: "ContextLayers", description: "A request's context layers, the full one included." });

export const requestListSchema = z.object({ requests: z.array(apiRequestSchema) }).meta({ id: "RequestList" });

export const decisionPollSchema = z
  .object({
    id: z.string(),
    status: z.enum(STATUSES),
    decision: decisionSchema.nullable(),
    workflow_id: z.string().nullable(),
    checkpoint: z.unknown(),
    resume: z.enum(RESUME_MODES),
    superseded_by: z.string().nullable(),
  })
  .meta({ id: "DecisionPoll", description: "`status` is still `pending` when the wait ran out." });

export const auditEntrySchema = z
  .object({
    id: z.string(),
    at: z.string(),
    repo: z.string(),
    request_id: z.string(),
    event: z.enum(["created", "decided", "escalated", "warned", "expired", "cancelled", "surface_opened", "stale", "head_changed", "review_dismissed", "delegated", "error", "superseded", "voted", "vote_retracted", "stage_opened", "deployment_answered", "context_purged", "surface_moved"]),
    actor: deciderSchema,
    status: z.enum(STATUSES),
    action: z.string().nullable(),
    justification: z.string().nullable(),
    context_hash: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
    requested_by: z.string().optional(),
    receipt: z.string().optional().describe("The entry that records a decision: the decision's receipt."),
    seq: z.number().int().describe("Its place in the repository's chain, from 1."),
    prev_hash: z.string().describe("`hash` of the entry before it in the chain (64 zeros before the first)."),
    hash: z.string().describe("SHA-256 (hex) of this object's canonical JSON without `hash`: keys sorted at every depth, no whitespace, UTF-8."),
  })
  .meta({ id: "AuditEntry", description: "One line of the audit trail, linked into its repository's hash chain (see docs/audit.md)." });

export const auditPageSchema = z
  .object({
    entries: z.array(auditEntrySchema),
    next_cursor: z.string().nullable().describe("Pass it as `cursor` for the next page; null: nothing more now (entries written later come after it)."),
  })
  .meta({ id: "AuditPage", description: "A page of the audit, oldest first (with `Accept: application/json`)." });

const chainPoint = z.object({ seq: z.number().int(), hash: z.string() });

export const auditVerificationSchema = z
  .object({
    repo: z.string(),
    ok: z.boolean().describe("True when every entry from the anchor to the head is there, in order, unchanged."),
    message: z.string().describe("What was verified and from where, or the first fault, for people."),
    entries: z.number().int(),
    first_seq: z.number().int().nullable(),
    last_seq: z.number().int().nullable(),
    head: chainPoint.nullable().describe("The chain's newest entry as the store keeps it; export it elsewhere to detect a rewrite of the whole chain."),
    anchor: chainPoint
      .extend({ removed_at: z.string().nullable().describe("When retention last removed entries; null: never.") })
      .nullable()
      .describe("Where the chain starts: seq 0 and 64 zeros, or the last entry retention removed (a checkpoint)."),
    fault: z
      .object({
        kind: z.enum(["altered", "removed", "reordered", "truncated"]),
        seq: z.number().int().describe("The entry altered, the first one missing, the one out of place, or the first cut off the end."),
        request_id: z.string().nullable(),
        entry_id: z.string().nullable(),
        message: z.string(),
      })
      .nullable()
      .describe("The first entry that was altered, removed or reordered, or where the chain was cut off; null when it verifies."),
  })
  .meta({ id: "AuditVerification" });

export const simulationSchema = z
  .object({
    outcome: z.enum(["decided", "needs_human"]),
    would_be: apiRequestSchema,
    evaluation: evaluationSchema.nullable(),
    sign_off: z
      .object({
        stages: z
          .array(stageSchema.extend({ from: z.array(z.string()).describe("What put the stage there: `.hitl.yml` requirements by name, or the request."), may_follow: z.array(z.string()) }))
          .describe("The stages the request would go through, in order; empty: one approval decides."),
        requirements: z.array(z.object({ name: z.string(), applies: z.boolean(), reasons: z.array(z.string()) })).describe("Each `.hitl.yml` requirement, whether it applies, and why."),
        editable_fields: editableFieldsSchema.nullable().describe("What an approver could change; null: nothing."),
        feedback: feedbackSchema.nullable().describe("What a person would have to give with a decision, after `.hitl.yml`; null: nothing beyond the action."),
      })
      .describe("What deciding the request would take."),
    config: z.object({ source: z.string().nullable(), error: z.string().nullable() }),
  })
  .meta({ id: "Simulation" });

/** The API's error codes, by the status they come with. */
export const ERROR_CODES = {
  400: ["invalid_request", "invalid_json"],
  401: ["unauthorized"],
  403: ["agent_not_allowed", "read_all_required"],
  404: ["not_found"],
  405: ["method_not_allowed"],
  409: ["not_pending", "conflict", "pull_request_busy", "replayed", "config_not_editable", "config_branch_taken"],
  413: ["payload_too_large"],
  422: ["app_not_installed", "idempotency_key_reused"],
  500: ["internal_error"],
  502: ["github_unavailable"],
  503: ["store_unavailable", "shutting_down"],
} as const;

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().describe(`A stable code: ${Object.values(ERROR_CODES).flat().join(", ")}`),
      message: z.string(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional().describe("400 only: each field at fault."),
    }),
  })
  .meta({ id: "Error" });

/** `POST /requests/batch`: one result per item, in the order sent. */
export const batchResultSchema = z
  .object({
    results: z.array(
      z.object({
        index: z.number().int().describe("The item's position in `requests`, from 0."),
        status: z.number().int().describe("As POST /requests would have answered this item alone: 201 opened, 200 its idempotency_key's first request, 4xx/5xx not opened."),
        request: apiRequestSchema.optional().describe("201 and 200."),
        error: errorSchema.shape.error.optional().describe("Any other status; `issues` paths name the item, e.g. `requests[3].priority`."),
      }),
    ),
  })
  .meta({ id: "BatchResult" });

/** The body of a signed callback (and of a channel's `request.escalated` event). */
export const callbackSchema = z
  .object({
    event: z.enum(["request.approved", "request.rejected", "request.expired", "request.cancelled", "request.superseded", "request.pending"]),
    delivery_id: z.string().describe("The same on every retry of one delivery: act on it once."),
    sent_at: z.string().describe("ISO 8601 time of this attempt; refuse old ones as replays."),
    request: apiRequestSchema,
  })
  .meta({ id: "Callback" });

const rate = (what: string) => z.number().min(0).max(1).describe(what);
const groupStatsShape = {
  count: z.number().int().describe("Ended requests in the group."),
  median_seconds: z.number().nullable().describe("Median seconds from creation to the final state (the mean of the middle two for an even count)."),
  p90_seconds: z.number().nullable().describe("90th percentile of the same, interpolated between the nearest ranks."),
  approval_rate: rate("Approved among those approved or rejected; null when none was.").nullable(),
  expired_rate: rate("Share that ended because the deadline passed (status `expired`)."),
  fallback_rate: rate("Share ended by a fallback that gave the agent something to do (`use_default`, `degrade`, `retry_with_modification`, an expired delegation); a bare `abort` is not counted."),
  automatic_share: rate("Share decided without a person: by a rule, `auto_approve` or a prediction."),
};

export const statsSchema = z
  .object({
    repo: z.string(),
    since: z.string().describe("ISO 8601: requests created at or after this time are counted."),
    until: z.string().describe("ISO 8601: when the figures were computed."),
    scope: z.enum(["own", "all"]).describe("`own`: only the calling agent's requests; `all` with `read-all`."),
    truncated: z.boolean().describe("True when the window held more ended requests than one answer reads (the most recent 2,000 of each final status): narrow `since`."),
    count: z.number().int(),
    overall: z.object(groupStatsShape),
    by_type: z.array(z.object({ request_type: z.string().nullable(), ...groupStatsShape })).describe("By request type, the largest group first."),
    by_approver: z.array(z.object({ approver: z.string(), ...groupStatsShape })).describe("By the person whose decision ended the request, the largest group first."),
    shadow_rules: z
      .array(
        z.object({
          rule_id: z.string(),
          matched: z.number().int().describe("Ended requests the rule matched."),
          decided_by_people: z.number().int().describe("Of those, the ones a person approved or rejected."),
          agreed: z.number().int().describe("Of those, the ones where the person took the action the rule would have."),
          agreement_rate: z.number().nullable().describe("agreed / decided_by_people; null when no person decided any."),
        }),
      )
      .describe("Per rule in `mode: shadow`, as the requests recorded it: how often it matched and how often people agreed. The most matched first."),
  })
  .meta({ id: "Stats", description: "Decision figures of a repository's ended requests in a window. Rates are fractions from 0 to 1." });

const suggestionSchema = z
  .object({
    id: z.string().describe("`sug_` and 16 hex digits; the same for the same repository and rule, so it can be opened later."),
    request_type: z.string(),
    rule: z.record(z.string(), z.unknown()).describe("The rule as `.hitl.yml` takes it: id, description, created_by, when, action, valid_until, max_uses."),
    yaml: z.string().describe("The rule as a YAML list item, ready to go under `rules:`."),
    evidence: z.object({
      support: z.number().int().describe("Requests people approved as asked that the rule would have approved."),
      request_ids: z.array(z.string()).describe("Some of them, newest first (at most 20)."),
      counter_examples: z
        .array(z.object({ request_id: z.string(), value: z.unknown(), action: z.string(), decided_at: z.string() }))
        .describe("The requests decided otherwise nearest the rule's bounds (for `equals`, the most recent ones)."),
      considered: z.number().int().describe("Requests of the type people decided, read for this answer."),
      decided_otherwise: z.number().int().describe("Of those, the ones not approved as asked."),
      chance: z.number().describe("The chance of so clean a line where the field does not matter; below 0.01 for every suggestion."),
      last_decided_at: z.string(),
    }),
  })
  .meta({ id: "Suggestion", description: "A delegation rule the repository's history supports, with its evidence." });

export const suggestionListSchema = z
  .object({
    repo: z.string(),
    suggestions: z.array(suggestionSchema),
    truncated: z.boolean().describe("More decisions than one answer reads: only the most recent 2,000 of each status were mined."),
  })
  .meta({ id: "SuggestionList" });

export const suggestionPullRequestSchema = z
  .object({
    suggestion_id: z.string(),
    pull_request: z.object({ number: z.number().int(), url: z.string(), created: z.boolean().describe("False when it had been opened before, and was answered again.") }),
  })
  .meta({ id: "SuggestionPullRequest" });

// Compile-time: what serialize.ts answers fits these schemas, field for field (a field added
// there and not here, or the other way round, fails the typecheck).
type Assignable<T, U> = [T] extends [U] ? true : false;
type SameKeys<T, U> = [Exclude<keyof T, keyof U> | Exclude<keyof U, keyof T>] extends [never] ? true : false;
type Holds<T extends true> = T;
type AuditJson = ReturnType<typeof toApiAudit>;
type VerificationJson = ReturnType<typeof toApiAuditVerification>;
type SimulationJson = ReturnType<typeof toApiSimulation>;
type StatsJson = ReturnType<typeof toApiStats>;
export type SchemaChecks = [
  Holds<Assignable<ApiRequest, z.input<typeof apiRequestSchema>>>,
  Holds<SameKeys<ApiRequest, z.input<typeof apiRequestSchema>>>,
  Holds<Assignable<AuditJson, z.input<typeof auditEntrySchema>>>,
  Holds<SameKeys<AuditJson, z.input<typeof auditEntrySchema>>>,
  Holds<Assignable<VerificationJson, z.input<typeof auditVerificationSchema>>>,
  Holds<SameKeys<VerificationJson, z.input<typeof auditVerificationSchema>>>,
  Holds<Assignable<SimulationJson, z.input<typeof simulationSchema>>>,
  Holds<SameKeys<SimulationJson, z.input<typeof simulationSchema>>>,
  Holds<SameKeys<SimulationJson["sign_off"], z.input<typeof simulationSchema>["sign_off"]>>,
  Holds<Assignable<StatsJson, z.input<typeof statsSchema>>>,
  Holds<SameKeys<StatsJson, z.input<typeof statsSchema>>>,
  Holds<SameKeys<StatsJson["by_type"][number], z.input<typeof statsSchema>["by_type"][number]>>,
];
