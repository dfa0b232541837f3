import { z } from "zod";
import type { ApprovalRequest, DecisionVia, Decider } from "../core/types.js";
import { actionKind } from "../core/decide.js";

/**
 * What a decision receipt says: the claims of a compact JWS (Ed25519, `alg: EdDSA`) that hitl
 * signs when a decision is committed. Version 1 is fixed: a field is never renamed, dropped or
 * given another meaning; a change of shape gets a new `v`. Absent facts are `null`, never left out,
 * so every receipt of a version has the same keys.
 */

/** The JWS header's `typ`: a receipt is never mistaken for another token signed with the same key. */
export const RECEIPT_TYPE = "hitl-receipt+jwt";
export const RECEIPT_VERSION = 1;

const VIAS = ["comment", "review", "check_run", "rule", "auto_approve", "prediction", "fallback", "api", "pull_request_closed", "issue_edited", "issue_closed", "slack", "email", "link", "sms", "desk"] as const satisfies readonly DecisionVia[];
const DECIDER_KINDS = ["human", "rule", "prediction", "fallback", "agent", "system"] as const satisfies readonly Decider["type"][];
// Compile-time: every way a decision arrives, and every kind of decider, is in the lists above.
type Covers<T extends true> = T;
export type ReceiptEnumChecks = [Covers<[Exclude<DecisionVia, (typeof VIAS)[number]>] extends [never] ? true : false>, Covers<[Exclude<Decider["type"], (typeof DECIDER_KINDS)[number]>] extends [never] ? true : false>];

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be a SHA-256 in lowercase hex");

export const receiptVoteSchema = z
  .strictObject({
    login: z.string().describe("The person who voted (GitHub login)."),
    action: z.string().describe("The action they voted for."),
    kind: z.enum(["approve", "reject"]).nullable().describe("Whether that action approves or rejects; null for an action the request did not offer."),
    stage: z.string().describe("The stage the vote counted in."),
    via: z.enum(VIAS),
    at: z.string().describe("When the vote was cast, ISO 8601."),
    weight: z.number().nullable().describe("In a weighted stage, the voter's weight; else null."),
  })
  .meta({ id: "ReceiptVote" });

export const receiptPayloadSchema = z
  .strictObject({
    v: z.literal(RECEIPT_VERSION).describe("The payload's version; always 1 for this shape."),
    iss: z.string().min(1).describe("The hitl deployment that signed it: HITL_PUBLIC_URL, or `github-app:<APP_ID>`."),
    sub: z.string().min(1).describe("The request id (the JWT subject), the same as `request_id`."),
    iat: z.number().int().nonnegative().describe("When the decision was made, in seconds since the epoch (`decided_at`, whole seconds)."),
    request_id: z.string().min(1),
    repo: z.string().min(1).describe("`owner/name`."),
    context_hash: sha256Hex.describe("SHA-256 of the canonical JSON of what the approvers were shown."),
    approved_context_hash: sha256Hex.nullable().describe("With edits: SHA-256 of what was shown with the edited values in place, i.e. what was approved; else null."),
    action: z.string().describe("The action taken: `approve`, `reject`, an available action's id, or the fallback's."),
    status: z.enum(["approved", "rejected", "expired", "cancelled"]).describe("How the decision ended the request."),
    edited_fields: z.record(z.string(), z.unknown()).nullable().describe("Fields of decision_data the approver changed, with their new values; null: none."),
    via: z.enum(VIAS).describe("The channel the decision arrived by."),
    decider: z
      .strictObject({
        kind: z.enum(DECIDER_KINDS),
        id: z.string().describe("human: the login; rule: the rule id; prediction: the request type predicted; fallback: the fallback type; agent: the agent's name; system: the reason."),
      })
      .describe("Who or what made the decision."),
    deciders: z.array(z.string()).describe("Every person whose decision or vote stood, in order, each once; empty when no person decided."),
    votes: z.array(receiptVoteSchema).nullable().describe("Requests with stages: every vote that stood when it ended; else null."),
    stage: z.string().nullable().describe("Requests with stages: the stage that ended it; else null."),
    requested_by: z.string().describe("The agent that opened the request (the name of its token)."),
    on_behalf_of: z.string().nullable().describe("The GitHub login the agent said it acts for; null: none."),
    head_sha: z.string().nullable().describe("Pull requests: the head commit the decision was made on; else null."),
    decided_at: z.string().describe("When the decision was made, ISO 8601 with milliseconds."),
  })
  .meta({ id: "ReceiptPayload", description: "The claims of a decision receipt (version 1). See docs/compliance.md." });

export type ReceiptPayload = z.infer<typeof receiptPayloadSchema>;

/** Who decided, as a receipt (and the compliance report) names them: a kind and an id. */
export function deciderClaim(decider: Decider): ReceiptPayload["decider"] {
  switch (decider.type) {
    case "human":
      return { kind: "human", id: decider.login };
    case "rule":
      return { kind: "rule", id: decider.id };
    case "prediction":
      return { kind: "prediction", id: decider.id };
    case "fallback":
      return { kind: "fallback", id: decider.fallback };
    case "agent":
      return { kind: "agent", id: decider.name };
    case "system":
      return { kind: "system", id: decider.reason };
  }
}

/** The people whose decision or votes stood, in order, each once. */
function decidingPeople(request: ApprovalRequest): string[] {
  const decision = request.decision!;
  const logins = (decision.approvals ?? []).map((vote) => vote.by);
  if (decision.decidedBy.type === "human") logins.push(decision.decidedBy.login);
  const seen = new Set<string>();
  return logins.filter((login) => {
    const key = login.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The receipt's claims for a request that has just been decided, from the request alone, so the
 * same stored request always gives the same claims (a report recomputes them to compare).
 * Throws for a request without a decision, or ended as `superseded` (that is not a decision).
 */
export function receiptPayload(request: ApprovalRequest, issuer: string): ReceiptPayload {
  const decision = request.decision;
  if (!decision) throw new Error(`Request ${request.id} has no decision to sign.`);
  if (decision.status === "superseded") throw new Error(`Request ${request.id}: superseded is not a decision.`);
  const stages = request.stages !== undefined;
  return {
    v: RECEIPT_VERSION,
    iss: issuer,
    sub: request.id,
    iat: Math.floor(Date.parse(decision.decidedAt) / 1000),
    request_id: request.id,
    repo: request.repo,
    context_hash: request.contextHash,
    approved_context_hash: decision.contextHash ?? null,
    action: decision.action,
    status: decision.status,
    edited_fields: decision.editedFields ?? null,
    via: decision.via,
    decider: deciderClaim(decision.decidedBy),
    deciders: decidingPeople(request),
    votes: stages
      ? (decision.approvals ?? []).map((vote) => ({
          login: vote.by,
          action: vote.action,
          kind: actionKind(request, vote.action),
          stage: vote.stage,
          via: vote.via,
          at: vote.at,
          weight: vote.weight ?? null,
        }))
      : null,
    stage: stages ? (decision.stage ?? null) : null,
    requested_by: request.requestedBy,
    on_behalf_of: request.onBehalfOf ?? null,
    head_sha: decision.headSha ?? null,
    decided_at: decision.decidedAt,
  };
}
