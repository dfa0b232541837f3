import { humanizeDuration } from "../duration.js";
import type { InputProblem } from "../decision-input.js";
import type { ApprovalRequest } from "../types.js";
import { codeSpan, describeFallback, formatTime, listWords, mention, quietMention, safeInline, sentence, stripFinalStop } from "./format.js";
import { askedApprovers, decisionCommandList, describeDecision, offeredActions } from "./request-markdown.js";

/**
 * The short comments hitl posts. Approvers are mentioned on purpose where they are asked to
 * act; replies to a commenter name the approvers without pinging them, so nobody can make hitl
 * ping approvers by posting commands.
 */

/** Posted once a request is decided, cancelled or expired. */
export function renderDecisionComment(request: ApprovalRequest): string {
  const decision = describeDecision(request, { ping: true });
  if (request.status === "cancelled") return `${decision} No decision is needed any more.`;
  if (request.status === "superseded") return `${decision} This approval no longer counts; decide on the new request.`;
  if (request.status === "pending") return decision;
  return `${decision} The agent has been told.`;
}

export type NotAllowedReason = "bot" | "requester" | "agent_account" | "not_approver" | "edited";

/** Why a command was not applied. `allowed` is who may decide; empty means anyone with write access. */
export function renderNotAllowedReply(login: string, reason: NotAllowedReason, allowed: string[]): string {
  const who =
    allowed.length > 0
      ? `Who may decide: ${listWords(allowed.map(quietMention))}.`
      : "Who may decide: anyone with write access to this repository.";
  switch (reason) {
    case "bot":
      return `Commands from bots do not count, so the command from ${codeSpan(login)} was not applied.`;
    case "requester":
      return `${mention(login)}, you opened this request, so you cannot decide it. ${who}`;
    case "agent_account":
      return `${mention(login)}, this is an agent's GitHub account, so it cannot decide. ${who}`;
    case "not_approver":
      return allowed.length > 0
        ? `${mention(login)}, you are not an approver of this request, so your command was not applied. ${who}`
        : `${mention(login)}, deciding needs write access to this repository, so your command was not applied.`;
    case "edited":
      return `${mention(login)}, edited comments do not count, so your command was not applied. Post a new comment to decide.`;
  }
}

/** A command that came after the decision. */
export function renderAlreadyDecidedReply(login: string, request: ApprovalRequest): string {
  return `${mention(login)}, this request was already decided, so your command was not applied. ${describeDecision(request, { ping: false })}`;
}

/** A command that came at or after the deadline, before the fallback was applied. */
export function renderPastDeadlineReply(login: string, request: ApprovalRequest): string {
  return `${mention(login)}, the deadline of this request (${formatTime(request.deadline)}) has passed, so your command was not applied. ${sentence(`Instead, ${describeFallback(request.fallback)}`)}`;
}

/**
 * What was missing or wrong in what came with a decision, so it was not applied. The problems
 * name fields the commenter wrote, so they are shown as inert text inside hitl's sentence.
 */
export function renderNeedsInputReply(login: string, problem: InputProblem): string {
  if (problem.type === "edits") {
    const problems = problem.problems.map((text) => stripFinalStop(safeInline(text, 300))).join("; ");
    return `${mention(login)}, your changes were not applied, and neither was your decision: ${problems}. Post a new comment with the block corrected.`;
  }
  const { minLength, reasons } = problem.policy;
  if (problem.missing === "reason_code") {
    const codes = listWords(reasons.map(codeSpan), "or");
    return `${mention(login)}, rejecting this request needs a reason code, so your decision was not applied. Post a comment that starts with ${codeSpan("/reject <code> <your reason>")}, where the code is ${codes}.`;
  }
  const length = minLength > 1 ? ` of at least ${minLength} characters` : "";
  return `${mention(login)}, decisions on this request need a justification${length}, so your decision was not applied. Post a comment with the command and your reason, such as ${codeSpan("/approve <your reason>")}.`;
}

/** `/choose` with an id the request does not offer. */
export function renderUnknownActionReply(login: string, actionId: string, request: ApprovalRequest): string {
  const ids = offeredActions(request).map((action) => codeSpan(action.id));
  return [
    `${mention(login)}, this request has no action ${codeSpan(actionId)}, so nothing was applied.`,
    `Its actions are ${listWords(ids)}. Decide with ${decisionCommandList(request)}.`,
  ].join(" ");
}

/** Posted when the request moves up its escalation ladder; mentions the new approvers. */
export function renderEscalationComment(
  request: ApprovalRequest,
  step: { level: number; approvers: string[]; message: string | null },
  now: Date,
): string {
  const waited = humanizeDuration(now.getTime() - Date.parse(request.createdAt));
  const to = step.approvers.length > 0 ? `${listWords(step.approvers.map(mention))}, this request is escalated to you` : "This request is escalated";
  const paragraphs = [`${to} (level ${step.level}). It has waited ${waited} for a decision.`];
  // The message comes from the repository's .hitl.yml or from the agent's own ladder, so it is
  // shown as agent text: one inert line.
  const message = step.message === null ? "" : safeInline(step.message);
  if (message) paragraphs.push(message);
  paragraphs.push(`${deadlineSentence(request, now)} Decide with ${decisionCommandList(request)}.`);
  return paragraphs.join("\n\n");
}

/** Posted some time before the deadline of a request nobody has decided. */
export function renderWarningComment(request: ApprovalRequest, now: Date): string {
  const asked = askedApprovers(request);
  const to = asked.length > 0 ? `${listWords(asked.map(mention))}, this request` : "This request";
  return `${to} still has no decision. ${deadlineSentence(request, now)} Decide with ${decisionCommandList(request)}.`;
}

/** Posted on a pull request when new commits make an earlier approval stale. */
export function renderStaleComment(request: ApprovalRequest, headSha: string): string {
  const head = /^[0-9a-f]{7,64}$/i.test(headSha) ? codeSpan(headSha.slice(0, 7)) : codeSpan(headSha.slice(0, 40));
  const asked = askedApprovers(request);
  const ask = asked.length > 0 ? `${listWords(asked.map(mention))}, please look again` : "Please look again";
  return `New commits were pushed (head ${head}), so the earlier approval no longer counts. ${ask} and decide with ${decisionCommandList(request)}.`;
}

/** Posted on a pull request when the approving review that decided a request is dismissed. */
export function renderReviewDismissedComment(request: ApprovalRequest): string {
  return `The approving review was dismissed, so its approval no longer counts. ${askAgain(request)}`;
}

/** A review or button on another commit than the one the request is on now. */
export function renderOldHeadReply(login: string, headSha: string, request: ApprovalRequest): string {
  const current = request.surfaceRef?.headSha;
  const now = current ? `this request is on ${commitName(current)} now` : "this request is not on that commit";
  return `${mention(login)}, your decision was made on commit ${commitName(headSha)}, but ${now}, so it was not applied. Decide on the latest commit, or with ${decisionCommandList(request)}.`;
}

function commitName(sha: string): string {
  return /^[0-9a-f]{7,64}$/i.test(sha) ? codeSpan(sha.slice(0, 7)) : codeSpan(sha.slice(0, 40));
}

function askAgain(request: ApprovalRequest): string {
  const asked = askedApprovers(request);
  const ask = asked.length > 0 ? `${listWords(asked.map(mention))}, please look again` : "Please look again";
  return `${ask} and decide with ${decisionCommandList(request)}.`;
}

function deadlineSentence(request: ApprovalRequest, now: Date): string {
  const left = Date.parse(request.deadline) - now.getTime();
  const when = left > 0 ? `${formatTime(request.deadline)} (in ${humanizeDuration(left)})` : formatTime(request.deadline);
  return sentence(`If nobody decides by ${when}, ${describeFallback(request.fallback)}`);
}

/** Why a close of a request's issue did not end the request, for the one-line reply. */
export type CloseRefusal =
  | { type: "reopen_only" }
  | { type: "refused"; reason: NotAllowedReason }
  | { type: "needs_input" }
  | { type: "voted" }
  | { type: "past_deadline" };

/**
 * Posted when hitl reopens a request's issue that someone closed by hand: one line, why the close
 * did not decide, and how to decide instead. The closer is mentioned; approvers are not.
 */
export function renderReopenedReply(login: string, request: ApprovalRequest, why: CloseRefusal): string {
  const who = why.type === "refused" && why.reason === "bot" ? codeSpan(login) : mention(login);
  const because = (() => {
    switch (why.type) {
      case "reopen_only":
        return "closing this issue does not decide the request it holds";
      case "refused":
        if (why.reason === "requester") return "you opened this request, so your close does not reject it";
        if (why.reason === "bot") return "a bot's close does not reject a request";
        return "you may not decide this request, so your close does not reject it";
      case "needs_input":
        return "rejecting this request needs a justification or a reason code, which a close cannot carry";
      case "voted":
        return "your close counted as a vote to reject, and the request still waits for more votes";
      case "past_deadline":
        return "the deadline of this request has passed and its fallback applies shortly";
    }
  })();
  return `${who}, ${because}; hitl reopened the issue. To decide, comment ${decisionCommandList(request)}.`;
}
