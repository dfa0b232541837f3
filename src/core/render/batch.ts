import type { RowProblem, RowSelector } from "../commands.js";
import type { InputProblem } from "../decision-input.js";
import { currentApprovers } from "../schedule.js";
import type { ApprovalRequest } from "../types.js";
import type { VoteRefusal } from "../vote.js";
import type { NotAllowedReason } from "./comments.js";
import { codeCell, codeSpan, formatTime, listWords, mention, quietMention, safeCell, stripFinalStop, truncate } from "./format.js";
import { inertText, visibleJson } from "./inert.js";

/**
 * A batch issue: one table row per request, edited in place as rows are decided from anywhere.
 * Every cell of agent text goes through `safeCell`; nothing relative to now is shown, so the body
 * only changes when a row does (and an unchanged body costs no GitHub call).
 */

const DATA_ITEMS = 3;

export function renderBatchTitle(members: ApprovalRequest[]): string {
  const types = [...new Set(members.map((member) => member.requestType).filter((type): type is string => type !== null))];
  const what = types.length === 1 ? `${truncate(inertText(types[0]!), 40)} requests` : "requests";
  return `Approval needed: ${members.length} ${members.length === 1 ? "request" : what} (batch)`;
}

/** The body below hitl's marker: how to decide, then the table, rows in order. */
export function renderBatchBody(batchId: string, members: ApprovalRequest[]): string {
  const rows = [...members].sort((a, b) => a.batch!.row - b.batch!.row);
  const open = rows.filter((member) => member.status === "pending").length;
  const head =
    open === 0
      ? `Every request of this batch has ended (${rows.length} ${rows.length === 1 ? "row" : "rows"}).`
      : `${open} of ${rows.length} ${rows.length === 1 ? "request waits" : "requests wait"} for a decision. Decide rows with ${codeSpan("/approve all")}, ${codeSpan("/approve 1,3-5")} or ${codeSpan("/reject 2")}, then your reason. Each row is decided on its own: who may decide it, the reason it needs and its deadline are its own.`;
  const table = [
    "| # | What | Data | Impact | Deadline | Status |",
    "|---|---|---|---|---|---|",
    ...rows.map((member) => `| ${member.batch!.row} | ${what(member)} | ${dataSummary(member)} | ${impact(member)} | ${formatTime(member.deadline)} | ${status(member)} |`),
  ].join("\n");
  return `${head}\n\n${table}\n\nBatch ${codeCell(batchId)}.`;
}

function what(member: ApprovalRequest): string {
  return `${codeCell(truncate(member.requestedBy, 60))}: ${safeCell(member.taskDescription, 200)}`;
}

function dataSummary(member: ApprovalRequest): string {
  const entries = Object.entries(member.decisionData);
  if (entries.length === 0) return "—";
  const shown = entries.slice(0, DATA_ITEMS).map(([key, value]) => `${key}: ${typeof value === "string" ? value : visibleJson(value)}`);
  const more = entries.length > DATA_ITEMS ? ` (+${entries.length - DATA_ITEMS} more)` : "";
  return safeCell(truncate(shown.map((text) => truncate(text, 60)).join("; "), 200)) + more;
}

function impact(member: ApprovalRequest): string {
  const approve = member.availableActions.find((action) => action.kind === "approve" || action.id === "approve");
  return approve?.impact ? safeCell(approve.impact, 200) : "—";
}

function status(member: ApprovalRequest): string {
  const decision = member.decision;
  const by = decision?.decidedBy.type === "human" ? ` by ${quietMention(decision.decidedBy.login)}` : decision?.decidedBy.type === "rule" ? ` by rule ${codeCell(decision.decidedBy.id)}` : "";
  switch (member.status) {
    case "pending": {
      const level = member.escalation.level;
      const who = currentApprovers(member);
      const with_ = who.length > 0 ? ` (${who.slice(0, 5).map(quietMention).join(", ")})` : "";
      return level > 0 ? `⏳ Pending, escalated${with_}` : `⏳ Pending${with_}`;
    }
    case "approved":
      return `✅ Approved${by}`;
    case "rejected":
      return `❌ Rejected${by}`;
    case "expired":
      return `⌛ Expired: ${decision?.fallback?.type ?? member.fallback.type}`;
    case "cancelled":
      return `🚫 Cancelled${decision?.decidedBy.type === "agent" ? " by the agent" : ""}`;
    case "superseded":
      return "↪️ Superseded";
  }
}

/** What became of one row of a batch command, as the reply names it. */
export type RowOutcome =
  | { type: "decided"; status: ApprovalRequest["status"] }
  | { type: "voted" }
  /** The comment was made before the row's request was opened. */
  | { type: "later" }
  /** The comment was made before the row was on the issue. */
  | { type: "not_shown" }
  | { type: "already_decided"; status: ApprovalRequest["status"] }
  | { type: "refused"; reason: NotAllowedReason; allowed: string[] }
  | { type: "unknown_action" }
  | { type: "past_deadline" }
  | { type: "needs_input"; problem: InputProblem }
  | { type: "vote_refused"; reason: Exclude<VoteRefusal, "not_pending" | "unknown_action" | "past_deadline"> };

/** The one reply to a batch command: per row, what happened. */
export function renderBatchReply(login: string, command: { type: "approve" | "reject"; rows: RowSelector }, results: { row: number; outcome: RowOutcome }[]): string {
  const named = command.rows.type === "all" ? "all" : command.rows.text;
  const lines = results.map(({ row, outcome }) => `- Row ${row}: ${rowText(outcome)}.`);
  return [`${mention(login)}, ${codeSpan(`/${command.type} ${named}`)}:`, "", ...lines].join("\n");
}

function rowText(outcome: RowOutcome): string {
  switch (outcome.type) {
    case "decided":
      return outcome.status;
    case "voted":
      return "your vote counted; it waits for more";
    case "later":
      return "not applied: it was opened after your comment";
    case "not_shown":
      return "not applied: it was not on this issue yet when you commented";
    case "already_decided":
      return `not applied, already ${outcome.status}`;
    case "refused":
      return `not applied: ${refusal(outcome.reason, outcome.allowed)}`;
    case "unknown_action":
      return "not applied: it does not offer that action";
    case "past_deadline":
      return "not applied: its deadline has passed, so its fallback applies";
    case "needs_input":
      return `not applied: ${inputNeeded(outcome.problem)}`;
    case "vote_refused":
      return outcome.reason === "counted_earlier" ? "not applied: your vote counted in an earlier stage" : outcome.reason === "stage_closed" ? "not applied: its open stage has timed out" : "not applied: you have no vote to retract";
  }
}

function refusal(reason: NotAllowedReason, allowed: string[]): string {
  switch (reason) {
    case "requester":
      return "you opened this request";
    case "agent_account":
      return "this is an agent's GitHub account";
    case "bot":
      return "commands from bots do not count";
    case "edited":
      return "edited comments do not count";
    case "not_approver":
      return allowed.length > 0 ? `you are not one of its approvers (${listWords(allowed.map(quietMention), "or")})` : "deciding it needs write access to this repository";
  }
}

function inputNeeded(problem: InputProblem): string {
  if (problem.type === "edits") return `its changes are not valid (${problem.problems.map((text) => stripFinalStop(safeCell(text, 200))).join("; ")})`;
  if (problem.missing === "reason_code") return `it needs a reason code (${listWords(problem.policy.reasons.map(codeSpan), "or")}) after the rows`;
  return problem.policy.minLength > 1 ? `it needs a justification of at least ${problem.policy.minLength} characters` : "it needs a justification";
}

/** A batch command whose rows do not all exist, or are written wrong: nothing was applied. */
export function renderRowProblemsReply(login: string, problems: RowProblem[], rows: number[]): string {
  const named = problems.map((problem) => {
    if (problem.type === "unknown") return `${codeSpan(problem.part)} is not a row of this batch`;
    if (problem.type === "reversed") return `${codeSpan(problem.part)} runs backwards; write the smaller row first`;
    return `row ${problem.row} is named twice`;
  });
  const range = rows.length > 0 ? `Its rows are ${rows.length === 1 ? rows[0] : `${Math.min(...rows)} to ${Math.max(...rows)}`}.` : "It has no rows.";
  return `${mention(login)}, nothing was applied: ${[...new Set(named)].join("; ")}. ${range}`;
}

/** A command a batch issue does not take as written. */
export function renderBatchUsageReply(login: string): string {
  return `${mention(login)}, nothing was applied: on a batch issue, name the rows, as in ${codeSpan("/approve 1,3-5 <your reason>")}, ${codeSpan("/approve all")} or ${codeSpan("/reject 2 <your reason>")}.`;
}
