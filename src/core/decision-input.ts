import { actionKind } from "./decide.js";
import { checkEdits, extractEdits, parseEdits } from "./edited-fields.js";
import { checkFeedback } from "./feedback.js";
import type { ApprovalRequest, FeedbackPolicy } from "./types.js";

/** Why what came with a decision keeps it from being applied; the person is told what is needed. */
export type InputProblem =
  | { type: "edits"; problems: string[] }
  | { type: "feedback"; missing: "reason_code" | "justification"; policy: FeedbackPolicy };

export type DecisionInputResult =
  | { ok: true; justification: string | null; reasonCode?: string; editedFields?: Record<string, unknown> }
  | { ok: false; problem: InputProblem };

/**
 * What a person sent with a decision, read under the request's rules. On a request with editable
 * fields, a fenced yaml or json block is the changes: only with an approval, and only within the
 * fields' bounds; elsewhere a block is just part of the reason. Then the justification and reason
 * code its feedback asks for. Any problem keeps the whole decision from being applied.
 */
export function readDecisionInput(
  request: Pick<ApprovalRequest, "availableActions" | "editableFields" | "feedback" | "decisionData">,
  input: { action: string; justification: string | null },
): DecisionInputResult {
  const kind = actionKind(request, input.action);
  // An action the request does not offer is answered as such by the decision itself.
  if (kind === null) return { ok: true, justification: input.justification };
  const editable = request.editableFields ?? {};
  const { justification, edits } = Object.keys(editable).length > 0 ? extractEdits(input.justification) : { justification: input.justification, edits: null };
  let editedFields: Record<string, unknown> | undefined;
  if (edits) {
    if (kind === "reject") return { ok: false, problem: { type: "edits", problems: ["changes apply only to an approval; reject without a yaml or json block"] } };
    const parsed = parseEdits(edits);
    if (!parsed.ok) return { ok: false, problem: { type: "edits", problems: [parsed.problem] } };
    const checked = checkEdits(parsed.fields, editable, request.decisionData);
    if (!checked.ok) return { ok: false, problem: { type: "edits", problems: checked.problems } };
    if (Object.keys(checked.edited).length > 0) editedFields = checked.edited;
  }
  const feedback = checkFeedback(request.feedback, kind, justification);
  if (!feedback.ok) return { ok: false, problem: { type: "feedback", missing: feedback.missing, policy: feedback.policy } };
  return {
    ok: true,
    justification: feedback.justification,
    ...(feedback.reasonCode ? { reasonCode: feedback.reasonCode } : {}),
    ...(editedFields ? { editedFields } : {}),
  };
}
