import { DELEGATION_FALLBACK } from "../fallback.js";
import { currentApprovers } from "../schedule.js";
import type { ApprovalRequest, Decision, DecisionVia } from "../types.js";
import { codeSpan, describeFallback, formatTime, listWords, quietMention, safeInline, sentence, stripFinalStop, truncate } from "./format.js";

/**
 * The first line people read on a request's issue: its state now. hitl rewrites it on every change
 * of state (decided, escalated, delegated, expired, cancelled, superseded), so anyone who lands on
 * the issue later sees the outcome (what, by whom, when, how) before the comments. It names people
 * without pinging them: the body is edited, and an edit must not notify anyone.
 */
export function renderStatusLine(request: ApprovalRequest, now: Date): string {
  if (request.status === "pending" || !request.decision) return pendingLine(request, now);
  const decision = request.decision;
  const at = formatTime(decision.decidedAt);
  switch (request.status) {
    case "approved":
    case "rejected": {
      const icon = request.status === "approved" ? "✅" : "❌";
      return sentence(`${icon} **${outcomeWord(request, decision)}** ${byWhom(decision)}${viaWords(decision.via)} on ${at}${because(decision)}`) + edits(decision);
    }
    case "expired":
      return sentence(`⌛ **Expired** on ${at}: nobody decided by ${formatTime(request.deadline)}, so ${describeFallback(decision.fallback ?? request.fallback)}`);
    case "cancelled":
      return sentence(`🚫 **Cancelled** ${byWhom(decision)}${viaWords(decision.via)} on ${at}${because(decision)}`);
    case "superseded": {
      const followUp = request.supersededBy ? ` in request ${codeSpan(request.supersededBy)}` : "";
      const earlier = `${outcomeWord(request, decision).toLowerCase()} ${byWhom(decision)} on ${at}`;
      return sentence(`↪️ **Superseded** on ${formatTime(request.updatedAt)}: it was ${earlier}, but the agent's context changed, so it asked again${followUp}`);
    }
  }
}

/**
 * Waiting: since when it is with whom (once escalated or delegated), until when, and what happens
 * then. Nothing relative to now ("in 3 days"), which would go stale between edits.
 */
function pendingLine(request: ApprovalRequest, now: Date): string {
  const passed = Date.parse(request.deadline) <= now.getTime();
  const until = passed
    ? `The deadline, ${formatTime(request.deadline)}, has passed, so ${describeFallback(request.fallback)}`
    : `If nobody decides by ${formatTime(request.deadline)}, ${describeFallback(request.fallback)}`;
  const approvers = currentApprovers(request);
  const to = approvers.length > 0 ? ` to ${listWords(approvers.map(quietMention))}` : "";
  const level = request.escalation.level;
  const reachedAt = level > 0 ? escalatedAt(request) : null;
  const pushedAt = lastStalingPush(request);
  const how = delegated(request)
    ? `↪️ **Delegated**${to}: nobody decided by the first deadline.`
    : level > 0
      ? `⏫ **Escalated**${to} (level ${level}${reachedAt ? `, ${reachedAt}` : ""}).`
      : pushedAt
        ? `🔄 **Waiting for a decision on the new commits** pushed ${pushedAt}; approvals given before them no longer count.`
        : "⏳ **Waiting for a decision.**";
  return `${how} ${sentence(until)}`;
}

/**
 * On a pull request whose approvals go stale on a push: when the last push after the request was
 * opened came (recovery's `notBefore` moves to it), or null when none came.
 */
function lastStalingPush(request: ApprovalRequest): string | null {
  if (request.surface.type !== "pull_request" || !request.invalidateOnPush || !request.recovery) return null;
  const pushed = Date.parse(request.recovery.notBefore);
  return pushed > Math.ceil(Date.parse(request.createdAt) / 1000) * 1000 ? formatTime(new Date(pushed).toISOString()) : null;
}

/** When the level reached fell due: the request's creation plus the level's `after`. */
function escalatedAt(request: ApprovalRequest): string | null {
  const step = request.escalation.ladder[request.escalation.level - 1];
  const created = Date.parse(request.createdAt);
  return step && !Number.isNaN(created) ? formatTime(new Date(created + step.afterMs).toISOString()) : null;
}

/** A `delegate` fallback handed the request on: its fallback is now the one delegation leaves. */
function delegated(request: ApprovalRequest): boolean {
  return request.fallback.type === DELEGATION_FALLBACK.type && request.fallback.reason === DELEGATION_FALLBACK.reason;
}

/** `Approved`, or `Approved: Refund half` for an action other than approve and reject. */
function outcomeWord(request: ApprovalRequest, decision: Decision): string {
  const status = decision.status.charAt(0).toUpperCase() + decision.status.slice(1);
  if (decision.action === "approve" || decision.action === "reject" || decision.action === "cancel") return status;
  const action = request.availableActions.find((a) => a.id === decision.action);
  return action ? `${status}: ${safeInline(action.label, 100)}` : `${status}: ${codeSpan(truncate(decision.action, 100))}`;
}

function byWhom(decision: Decision): string {
  const by = decision.decidedBy;
  switch (by.type) {
    case "human":
      return `by ${quietMention(by.login)}`;
    case "rule":
      return `by rule ${codeSpan(by.id)}`;
    case "prediction":
      return "by prediction from people's past decisions";
    case "agent":
      return `by the agent ${codeSpan(truncate(by.name, 100))}`;
    case "fallback":
      return `by the fallback (${by.fallback})`;
    case "system":
      return "by hitl";
  }
}

const VIA: Record<DecisionVia, string> = {
  comment: " with a comment",
  review: " with a review",
  check_run: " with the check run's button",
  rule: "",
  auto_approve: " automatically",
  prediction: "",
  fallback: "",
  api: " through the API",
  pull_request_closed: " as the pull request was closed",
  issue_edited: " as the issue was edited",
  issue_closed: " by closing the issue",
  slack: " via Slack",
  email: " via email",
  link: " via a one-click link",
  sms: " via SMS",
  desk: " on the approver's desk",
};

function viaWords(via: DecisionVia): string {
  return VIA[via] ?? "";
}

function because(decision: Decision): string {
  const code = decision.reasonCode ? ` (reason ${codeSpan(decision.reasonCode)})` : "";
  const text = decision.justification === null ? "" : stripFinalStop(safeInline(decision.justification, 300));
  return `${code}${text ? `: ${text}` : ""}`;
}

function edits(decision: Decision): string {
  const fields = Object.keys(decision.editedFields ?? {});
  return fields.length === 0 ? "" : ` Changed: ${listWords(fields.map((field) => codeSpan(truncate(field, 100))))}.`;
}
