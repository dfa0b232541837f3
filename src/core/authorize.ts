import { parseApprover } from "./approver-name.js";

/**
 * The checks on who may decide that need no API call. They run before any call to GitHub, so
 * chatter from bots and the requester costs nothing.
 */
export type RefusalReason = "bot" | "requester" | "agent_account" | "not_approver" | "edited";

export interface Actor {
  login: string;
  /** GitHub's `user.type`: "User", "Bot" or "Organization". */
  type: string;
}

export interface PreCheckInput {
  actor: Actor;
  /**
   * Who may never decide: the agent's name, its own GitHub logins, the login it acts for
   * (`on_behalf_of`) and, on a pull request, the pull request's author. Compared without case.
   */
  requesters: string[];
  /**
   * Every agent's GitHub accounts (`HITL_AGENT_TOKENS` `github=`), whichever agent asked: an
   * agent's account is never the person approving (a deployment has no agent hitl knows of).
   */
  agentAccounts?: string[];
  /** The comment was edited: the text someone approved may not be the text shown now. */
  edited?: boolean;
}

export function preCheckDecider(input: PreCheckInput): RefusalReason | null {
  if (input.edited) return "edited";
  if (isBot(input.actor)) return "bot";
  const login = input.actor.login.toLowerCase();
  if (input.requesters.some((requester) => requester.toLowerCase() === login)) return "requester";
  if (input.agentAccounts?.some((account) => account.toLowerCase() === login)) return "agent_account";
  return null;
}

export function isBot(actor: Actor): boolean {
  return actor.type === "Bot" || /\[bot\]$/i.test(actor.login);
}

/**
 * Splits approvers into user logins and `org/slug` teams (written `@org/slug`). An entry that is
 * neither (`@org/..`, `org//x`) is dropped: it names nobody, and never widens to anyone.
 */
export function splitApprovers(approvers: string[]): { users: string[]; teams: { org: string; slug: string }[] } {
  const users: string[] = [];
  const teams: { org: string; slug: string }[] = [];
  for (const entry of approvers) {
    const parsed = parseApprover(entry);
    if (parsed?.type === "user") users.push(parsed.login);
    else if (parsed?.type === "team") teams.push({ org: parsed.org, slug: parsed.slug });
  }
  return { users, teams };
}
