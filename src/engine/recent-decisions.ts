import type { ApprovalRequest } from "../core/types.js";
import type { Store } from "../store/store.js";

/**
 * The decisions on the same request type in the repository that a request's issue shows: the
 * newest five made before the request was opened, so the issue shows the same ones when its body
 * is rendered again later (a status change) as when it was opened.
 */
export async function recentDecisions(store: Store, request: ApprovalRequest): Promise<ApprovalRequest[]> {
  if (!request.requestType) return [];
  const opened = Date.parse(request.createdAt);
  const listed = await store.list({ repo: request.repo, requestType: request.requestType, limit: 10 });
  return listed.filter((r) => r.id !== request.id && r.decision && !(Date.parse(r.decision.decidedAt) > opened)).slice(0, 5);
}
