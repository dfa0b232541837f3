import { z } from "zod";
import { STATUSES } from "../core/types.js";
import { receiptPayloadSchema } from "../receipts/receipt-payload.js";

/** The compliance report's JSON (`format=json`), described for the OpenAPI document and the client. */

export const CHECKS = ["not_requester", "not_on_behalf_of", "not_pull_request_author", "no_bot_approver", "distinct_stage_approvers", "receipt_valid"] as const;
export type CheckId = (typeof CHECKS)[number];

export const violationSchema = z
  .object({
    request_id: z.string(),
    check: z.enum(CHECKS),
    login: z.string().nullable().describe("The person the check is about; null when it is about the receipt."),
    message: z.string(),
  })
  .meta({ id: "ComplianceViolation" });

const deciderRowSchema = z.object({
  login: z.string(),
  action: z.string(),
  kind: z.enum(["approve", "reject"]).nullable(),
  via: z.string(),
  stage: z.string().nullable(),
  at: z.string(),
});

export const receiptCheckSchema = z
  .object({
    status: z.enum(["valid", "invalid", "missing"]).describe("`missing`: no receipt (pending, or decided before receipts existed)."),
    reason: z.string().nullable().describe("Why it is invalid: the signature, the key, or which claim differs from the stored decision."),
    kid: z.string().nullable(),
    payload: receiptPayloadSchema.nullable().describe("The verified claims; null unless valid."),
  })
  .meta({ id: "ReceiptCheck" });

export const reportRowSchema = z
  .object({
    id: z.string(),
    repo: z.string(),
    task_description: z.string(),
    requested_by: z.string(),
    on_behalf_of: z.string().nullable(),
    agent_logins: z.array(z.string()),
    pull_request_author: z.string().nullable(),
    status: z.enum(STATUSES),
    created_at: z.string(),
    decided_at: z.string().nullable(),
    decision_seconds: z.number().nullable().describe("From opening to the decision; null while pending."),
    action: z.string().nullable(),
    decided_by: z.object({ kind: z.enum(["human", "rule", "prediction", "fallback", "agent", "system"]), id: z.string() }).nullable(),
    via: z.string().nullable(),
    deciders: z.array(deciderRowSchema).describe("Every person whose decision or vote stood, and how."),
    escalations: z.number().int(),
    deadline_reached: z.boolean().describe("Nobody decided before the deadline (or a stage's timeout): the fallback, a delegation or a partial approval applied."),
    fallback: z.string().nullable().describe("The fallback type that applied; null: none."),
    rule: z.string().nullable().describe("The `.hitl.yml` rule that decided, `auto_approve`, or `prediction` (a `predict:` entry with `mode: auto`); null: none."),
    edited_fields: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })).nullable(),
    receipt: receiptCheckSchema,
    checks: z.array(z.object({ check: z.enum(CHECKS), ok: z.boolean() })).describe("The checks that apply to the request, and whether each held."),
    violations: z.array(violationSchema),
  })
  .meta({ id: "ComplianceRow" });

const percentilesSchema = z.object({
  count: z.number().int(),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p99: z.number().nullable(),
});

export const complianceReportSchema = z
  .object({
    generated_at: z.string(),
    scope: z.object({
      repo: z.string().nullable(),
      since: z.string().nullable(),
      until: z.string().nullable(),
      agent: z.string().nullable().describe("Only this agent's requests (a token without read-all); null: every agent's."),
      truncated: z.boolean().describe("More requests matched than one report holds; narrow since/until."),
    }),
    keys: z.object({ issuer: z.string(), kids: z.array(z.string()).describe("The keys receipts were checked against (/.well-known/jwks.json).") }),
    summary: z.object({
      requests: z.number().int(),
      outcomes: z.record(z.enum(STATUSES), z.number().int()),
      decided: z.number().int().describe("Requests that were decided (approved, rejected, expired, superseded): the base of every rate."),
      decision_seconds: percentilesSchema.describe("Time to decision of the decided requests, nearest-rank percentiles."),
      deadline_rate: z.number().nullable(),
      fallback_rate: z.number().nullable(),
      human_decisions: z.number().int(),
      auto_decisions: z.array(z.object({ rule: z.string(), decided: z.number().int(), share: z.number() })).describe("Per rule (and `auto_approve`, `prediction`): how many it decided, and their share of the decided."),
      receipts: z.object({ valid: z.number().int(), invalid: z.number().int(), missing: z.number().int() }),
      violations: z.array(violationSchema).describe("Every violation found; a compliant history has none."),
    }),
    requests: z.array(reportRowSchema),
  })
  .meta({ id: "ComplianceReport" });

export type ComplianceReport = z.infer<typeof complianceReportSchema>;
export type ReportRow = z.infer<typeof reportRowSchema>;
export type Violation = z.infer<typeof violationSchema>;
export type ReceiptCheck = z.infer<typeof receiptCheckSchema>;
