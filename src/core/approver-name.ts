/**
 * How an approver is written: a GitHub login (`alice`, `@alice`) or a team (`@org/team-slug`).
 * One grammar for `.hitl.yml`, the agent API and the code that asks GitHub, so a name one of
 * them refuses can never reach a membership look-up (where `@org/..` would become a question
 * about the whole organisation).
 */

/** A GitHub login or organisation name. */
export const LOGIN_SOURCE = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})";
/** A team slug as GitHub makes them: letters, digits, '-' and '_', starting with a letter or digit. */
export const TEAM_SLUG_SOURCE = "[A-Za-z0-9][A-Za-z0-9_-]{0,99}";

/** Any approver the agent API takes: `alice`, `@alice`, `org/team` or `@org/team`. */
export const APPROVER_PATTERN = new RegExp(`^@?(${LOGIN_SOURCE})(?:/(${TEAM_SLUG_SOURCE}))?$`);

export type ParsedApprover = { type: "user"; login: string } | { type: "team"; org: string; slug: string };

/** The user or team an entry names, or null when it is not a well-formed one. */
export function parseApprover(entry: string): ParsedApprover | null {
  const match = APPROVER_PATTERN.exec(entry);
  if (!match) return null;
  return match[2] === undefined ? { type: "user", login: match[1]! } : { type: "team", org: match[1]!, slug: match[2] };
}
