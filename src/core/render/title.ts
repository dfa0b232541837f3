import type { ApprovalRequest } from "../types.js";
import { truncate } from "./format.js";
import { inertText } from "./inert.js";

/**
 * The request's title: the issue's, and so the subject of GitHub's notification email, and the
 * subject or headline a notification channel shows. Read on a phone in a list of mail, so it says
 * what is needed, how urgent, and by when, in at most `TITLE_MAX` characters:
 *
 *   Approval needed (high): Refund order 1234 — by Tue 12:00 UTC
 *
 * The priority is named only when it is `high` or `critical`, the deadline only when it is near
 * (within `NEAR_DEADLINE_MS` of `now`, so a weekday and a time name it unambiguously). The task
 * is the agent's text: made inert (no mention, reference, link or marker, even though a title is
 * not markdown) and cut with an ellipsis so the whole fits.
 */

/** Titles are cut to this many characters (the task gives way; the rest is hitl's and short). */
export const TITLE_MAX = 80;
/** A deadline at most this far from now is named in the title. */
export const NEAR_DEADLINE_MS = 48 * 3_600_000;

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

export function renderRequestTitle(request: Pick<ApprovalRequest, "taskDescription" | "priority" | "deadline">, now: Date): string {
  const priority = request.priority === "high" || request.priority === "critical" ? ` (${request.priority})` : "";
  const head = `Approval needed${priority}: `;
  const by = nearDeadline(request.deadline, now);
  const tail = by ? ` — by ${by}` : "";
  const room = Math.max(TITLE_MAX - head.length - tail.length, 10);
  return `${head}${truncate(inertTitleText(request.taskDescription), room)}${tail}`;
}

/** `Tue 12:00 UTC` when the deadline is in the future and within `NEAR_DEADLINE_MS`; otherwise null. */
export function nearDeadline(deadline: string, now: Date): string | null {
  const at = new Date(deadline);
  const left = at.getTime() - now.getTime();
  if (Number.isNaN(left) || left <= 0 || left > NEAR_DEADLINE_MS) return null;
  const hh = String(at.getUTCHours()).padStart(2, "0");
  const mm = String(at.getUTCMinutes()).padStart(2, "0");
  return `${DAYS[at.getUTCDay()]} ${hh}:${mm} UTC`;
}

/**
 * Agent text for a title: one inert line, and no `<!--` either, so nothing in a title can pass
 * for one of hitl's hidden markers wherever the title is copied into markdown.
 */
export function inertTitleText(text: string): string {
  const inert = inertText(text).replace(/<(?=!)/g, "<\u200D");
  return inert === "" ? "(no description)" : inert;
}
