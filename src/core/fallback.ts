import { actionKind } from "./decide.js";
import { parseDuration } from "./duration.js";
import { allowedApprovers, initialEscalation } from "./schedule.js";
import type { ApprovalRequest, Decision, EscalationState, Fallback } from "./types.js";

/** What the sweep does with a request whose deadline passed. */
export type FallbackOutcome =
  /** The request ends (status `expired`) with this decision. */
  | { type: "decide"; decision: Decision }
  /** The request stays pending, handed to other approvers with a new deadline. */
  | { type: "delegate"; approvers: string[]; deadline: string; fallback: Fallback; escalation: EscalationState }
  /** The engine must try this rule; if it does not decide, `delegatedRuleAbort` ends the request. */
  | { type: "delegate_rule"; ruleId: string };

/** A delegated request cannot delegate again: if the new approvers do not answer either, it aborts. */
export const DELEGATION_FALLBACK: Fallback = { type: "abort", reason: "No decision after delegation" };

/**
 * Applies the fallback of a pending request whose deadline passed. Every kind but `delegate`
 * ends it as `expired`, decided by the fallback; the decision keeps the fallback itself, so the
 * agent gets the abort's cleanup, the degraded mode or the modifications to retry with.
 */
export function resolveFallback(request: ApprovalRequest, now: Date): FallbackOutcome {
  const fallback = request.fallback;
  // An approving fallback stands in for people who were asked and did not answer. A request that
  // never reached GitHub (issues turned off, GitHub refusing every post) asked nobody.
  if (!request.surfaceRef && mayApprove(request, fallback)) {
    return decide(
      request,
      "abort",
      `No decision before the deadline ${request.deadline}, and the request never reached GitHub, so nobody was asked: its fallback, which would approve, does not apply, and it was aborted`,
      now,
    );
  }
  switch (fallback.type) {
    case "abort":
      return decide(request, "abort", fallback.reason, now);
    case "use_default":
      if (!offers(request, fallback.action)) {
        return decide(
          request,
          "abort",
          `No decision before the deadline ${request.deadline}; the default action ${fallback.action} is not one the request offers, so it was aborted`,
          now,
        );
      }
      return decide(request, fallback.action, fallback.reason, now);
    case "degrade":
      return decide(request, "degrade", fallback.reason, now);
    case "retry_with_modification":
      return decide(request, "retry_with_modification", fallback.reason, now);
    case "delegate":
      return delegate(request, fallback, now);
  }
}

/**
 * The decision when a `delegate` fallback named a rule that did not decide the request: it
 * aborts, decided by the delegate fallback. `missing` is for a rule no longer in `.hitl.yml`,
 * `needs_person` for a risk_score above `require_human_above_risk`, which no rule may decide.
 */
export function delegatedRuleAbort(request: ApprovalRequest, ruleId: string, why: "no_match" | "missing" | "needs_person", now: Date): Decision {
  const because =
    why === "no_match"
      ? `rule ${ruleId} did not match`
      : why === "missing"
        ? `.hitl.yml has no rule ${ruleId}`
        : `a person must decide a request with risk_score ${request.riskScore} (above require_human_above_risk)`;
  return {
    action: "abort",
    status: "expired",
    decidedBy: { type: "fallback", fallback: "delegate" },
    justification: `No decision before the deadline ${request.deadline}; it was delegated to rule ${ruleId}, but ${because}, so the request was aborted`,
    decidedAt: now.toISOString(),
    via: "fallback",
    fallback: request.fallback,
  };
}

/** A default action that approves, or a rule that could. */
function mayApprove(request: ApprovalRequest, fallback: Fallback): boolean {
  if (fallback.type === "use_default") return actionKind(request, fallback.action) === "approve";
  return fallback.type === "delegate" && fallback.rule !== undefined;
}

function offers(request: ApprovalRequest, action: string): boolean {
  return actionKind(request, action) !== null;
}

function decide(request: ApprovalRequest, action: string, reason: string | undefined, now: Date): FallbackOutcome {
  const type = request.fallback.type;
  return {
    type: "decide",
    decision: {
      action,
      status: "expired",
      decidedBy: { type: "fallback", fallback: type },
      justification: reason?.trim() ? reason : `No decision before the deadline ${request.deadline}; fallback ${type} applied`,
      decidedAt: now.toISOString(),
      via: "fallback",
      fallback: request.fallback,
    },
  };
}

/**
 * Hands the request over. A named rule wins over approvers (the engine evaluates it). Without
 * approvers everyone who may decide now keeps it, with more time (an empty list would open it
 * to anyone with write access, unless it already was). The new deadline counts from the old one, or from now when the
 * sweep comes late, so the new approvers get the whole extension.
 */
function delegate(request: ApprovalRequest, fallback: Extract<Fallback, { type: "delegate" }>, now: Date): FallbackOutcome {
  if (fallback.rule) return { type: "delegate_rule", ruleId: fallback.rule };
  const approvers = fallback.approvers?.length ? fallback.approvers : allowedApprovers(request);
  const oldDeadline = Date.parse(request.deadline);
  const extendMs = (fallback.extend_by ? parseDuration(fallback.extend_by) : null) ?? oldDeadline - Date.parse(request.createdAt);
  const deadlineAt = Math.max(oldDeadline, now.getTime()) + extendMs;
  const deadline = new Date(deadlineAt).toISOString();
  // A warning that would be due at once would only repeat the delegation comment.
  const warningBeforeMs = request.escalation.warningBeforeMs;
  const keepWarning = warningBeforeMs !== null && deadlineAt - warningBeforeMs > now.getTime();
  const escalation = initialEscalation({ ladder: [], warningBeforeMs: keepWarning ? warningBeforeMs : null, createdAt: request.createdAt, deadline });
  return { type: "delegate", approvers, deadline, fallback: DELEGATION_FALLBACK, escalation };
}
