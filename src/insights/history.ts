import type { ApprovalRequest } from "../core/types.js";
import { fieldValue, type PastDecision } from "./predict.js";

/** The most past decisions a prediction reads: the newest, so opening a request stays cheap. */
export const HISTORY_WINDOW = 500;

/** Whether two dotted paths name the same value or one holds the other. */
export function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}

/**
 * The past decisions a prediction learns from, newest first, at most `HISTORY_WINDOW`: only
 * people's (never a rule's, a fallback's, an agent's, hitl's, or a prediction's own: it never
 * learns from itself), only approvals and rejections. An approval that changed a predicted field
 * approved other values than were asked, so it says nothing of the values as asked and is left
 * out; an approval with edits to other fields counts as an approval. A request whose context was
 * purged, or whose predicted fields were sealed (the stored values are placeholders), is left out.
 */
export function pastDecisions(requests: readonly ApprovalRequest[], fields: readonly string[], exceptId?: string): PastDecision[] {
  const decisions: PastDecision[] = [];
  for (const request of requests) {
    const decision = request.decision;
    if (!decision || request.id === exceptId || decision.decidedBy.type !== "human") continue;
    if (decision.status !== "approved" && decision.status !== "rejected") continue;
    if (request.contextPurgedAt !== undefined) continue;
    // Sealed and hidden values are placeholders in decision_data; a prediction shown on GitHub never names a hidden value.
    const withheld = [...(request.sensitive?.paths ?? []), ...(request.hidden?.paths ?? [])];
    if (fields.some((field) => withheld.some((path) => overlaps(field, path)))) continue;
    if (decision.editedFields && fields.some((field) => Object.keys(decision.editedFields!).some((edited) => overlaps(field, edited)))) continue;
    decisions.push({ id: request.id, decidedAt: decision.decidedAt, approved: decision.status === "approved", values: fields.map((field) => fieldValue(request.decisionData, field)) });
  }
  decisions.sort((a, b) => (a.decidedAt === b.decidedAt ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.decidedAt < b.decidedAt ? 1 : -1));
  return decisions.slice(0, HISTORY_WINDOW);
}
