import type { HitlConfig, PredictEntry } from "../config/schema.js";
import { actionKind } from "./decide.js";
import type { ApprovalRequest } from "./types.js";

/** What the guardrails look at: the request as it is opened under `.hitl.yml` (effective stages, the agent's asks). */
export type GuardedRequest = Pick<ApprovalRequest, "priority" | "riskScore" | "stages" | "asked" | "availableActions" | "deployment" | "sensitive">;

/**
 * Why a prediction may not decide a request on its own, next to `effectivePolicy` (the bar a
 * request is opened under): empty when `auto` may decide. A prediction never decides
 * - a `critical` request;
 * - a request above the repository's risk limit: `auto_approve.require_human_above_risk`, and the
 *   entry's `max_risk`; with either set, a request without a risk_score is held too;
 * - a request that needs more than one approval (a quorum or stages, `.hitl.yml`'s or its own);
 * - a request that asked for more than the repository does: named approvers, more approvals, stages;
 * - a deployment, or a request whose approving actions are a choice among alternatives
 *   (people's past approvals do not say which one they would pick).
 */
export function predictionBlocks(config: HitlConfig, entry: PredictEntry, request: GuardedRequest): string[] {
  const blocks: string[] = [];
  if (request.priority === "critical") blocks.push("the request is critical");
  const limits = [config.auto_approve?.require_human_above_risk, entry.max_risk].filter((limit): limit is number => limit !== undefined);
  if (limits.length > 0) {
    const limit = Math.min(...limits);
    // "Not at most", so a NaN risk_score is held too.
    if (request.riskScore === null) blocks.push(`the request gives no risk_score, and predictions decide only at or below ${limit}`);
    else if (!(request.riskScore <= limit)) blocks.push(`risk_score ${request.riskScore} is above ${limit}, the most a prediction may decide`);
  }
  if ((request.stages?.length ?? 0) > 0) blocks.push("the request needs more than one approval");
  const asked = request.asked ?? {};
  if (asked.approvers !== undefined) blocks.push("the request names its own approvers");
  if (asked.requiredApprovals !== undefined && asked.requiredApprovals > 1) blocks.push("the request asks for more than one approval");
  if ((asked.stages?.length ?? 0) > 0) blocks.push("the request asks for stages of sign-off");
  if (request.deployment) blocks.push("deployments are decided by people");
  const alternatives = request.availableActions.filter((action) => action.id !== "approve" && action.id !== "reject" && actionKind(request, action.id) === "approve");
  if (alternatives.length > 0) blocks.push("the request offers a choice of actions to approve with");
  return blocks;
}
