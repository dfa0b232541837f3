import { z } from "zod";
import { INVALID_REASONS } from "../core/drift.js";
import { RESUME_MODES } from "../core/types.js";

/**
 * The shapes of what an agent gets back to resume from: the fields every decision carries (GET,
 * long-poll, callback) and the answer of `POST /requests/:id/validate`. Describing what the
 * server sends, not validating input; `serialize.ts` makes them.
 */

const json = z.unknown();

const driftedField = z
  .object({
    field: z.string().describe("Dotted path into decision_data, e.g. `refund.amount`; lists and scalars compare as whole values."),
    approved: json.optional().describe("The approved value (the approver's edit if they made one); absent: the field was absent."),
    current: json.optional().describe("The agent's current value; absent: the field is absent now."),
  })
  .describe("One field whose approved value differs from the agent's current one.");

const headComparison = z.object({
  approved: z.string().nullable().describe("The head commit the request was on when it was approved."),
  current: z.string().nullable().describe("The pull request's head as GitHub reports it now; null when the pull request is gone."),
  agent: z.string().nullable().describe("The `pull_request_head` the agent sent, or null."),
});

/** In GET `/requests/:id`, `/requests/:id/decision`, the callback's `request`, and the validate answer. */
export const resumeFieldsSchema = z.object({
  workflow_id: z.string().nullable().describe("The agent's correlation id, as it sent it."),
  checkpoint: json.describe("The agent's opaque checkpoint, as it sent it (null when none); never shown to people."),
  resume: z.enum(RESUME_MODES).describe("How the agent's client integrates the decision (see the README's Resuming safely)."),
  superseded_by: z.string().nullable().describe("A superseded request: the id of the follow-up that asks again."),
});

export const validationSchema = resumeFieldsSchema.extend({
  id: z.string(),
  status: z.string().describe("The request's status now (`superseded` once re-asked)."),
  valid: z.boolean().describe("True only when the request is approved, nothing drifted, it is no older than max_decision_age and (pull requests) both heads are the approved one."),
  reasons: z.array(z.enum(INVALID_REASONS)).describe("Why it does not hold; empty when valid."),
  context_hash: z.object({
    approved: z.string().describe("SHA-256 of what the approver approved (their edits applied)."),
    current: z.string().describe("SHA-256 of the same with the agent's current decision_data."),
  }),
  drifted_fields: z.array(driftedField),
  age: z
    .object({ seconds: z.number().int(), max_seconds: z.number().int().nullable().describe("max_decision_age; null: no limit.") })
    .nullable()
    .describe("How long ago the request was decided; null while undecided."),
  pull_request_head: headComparison.nullable().describe("Pull requests only; the current head is read from GitHub."),
  decision: json.describe("The decision, as in GET /requests/:id."),
  follow_up: json.describe("The linked follow-up request (as GET /requests/:id shows it) when re_ask opened one now or earlier; else null."),
});
