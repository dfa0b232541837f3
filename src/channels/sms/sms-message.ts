import { truncate } from "../../core/render/format.js";
import type { ApprovalRequest, Priority } from "../../core/types.js";
import { inert } from "../request-facts.js";

/** SMS goes out for urgent requests only unless routing says otherwise. */
export const SMS_PRIORITIES: readonly Priority[] = ["critical", "high"];

/** The summary line is one SMS segment of 160 characters at most; the link follows on its own line. */
export const SMS_SUMMARY_LENGTH = 160;

const SHORT_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `1 Dec 12:00 UTC` */
function shortTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.getUTCDate()} ${SHORT_MONTHS[date.getUTCMonth()]} ${String(date.getUTCHours()).padStart(2, "0")}:${String(date.getUTCMinutes()).padStart(2, "0")} UTC`;
}

/**
 * `hitl: decision needed (critical) by 1 Dec 12:00 UTC: Refund order 1234` (cut to 160
 * characters; the agent's `context.summary` in place of the task when it sent one), then the link to the page where the person picks an action and confirms.
 */
export function smsBody(request: ApprovalRequest, event: "opened" | "escalated" | "warning", link: string): string {
  const lead = event === "warning" ? "deadline near" : event === "escalated" ? "escalated to you" : "decision needed";
  const summary = truncate(`hitl: ${lead} (${request.priority}) by ${shortTime(request.deadline)}: ${inert(request.layers?.summary ?? request.taskDescription, SMS_SUMMARY_LENGTH)}`, SMS_SUMMARY_LENGTH);
  return `${summary}\n${link}`;
}
