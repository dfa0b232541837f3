import { parseApprover } from "./approver-name.js";
import type { NewRequestInput } from "./build-request.js";

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

/**
 * A list of approvers in a request that names only people who may never decide it: its agent's
 * GitHub accounts and every other agent's (`never`), `on_behalf_of`, the pull request's author
 * (in `never`) and bots. Nobody could reject such a request, so its fallback would be certain;
 * each name of such a list is refused, by its field. A list with a team or with anyone else is
 * left to the decision-time check (which refuses those people when they try).
 */
export function neverDeciding(input: Pick<NewRequestInput, "approvers" | "escalation" | "fallback" | "stages" | "onBehalfOf">, never: string[]): { path: string; message: string }[] {
  const excluded = new Set([...never, ...(input.onBehalfOf ? [input.onBehalfOf] : [])].map((login) => login.toLowerCase()));
  const lists: [string, string[] | undefined][] = [
    ["approvers", input.approvers],
    ...(input.escalation ?? []).map((level, index): [string, string[]] => [`escalation.${index}.approvers`, level.approvers]),
    ["fallback_action.approvers", input.fallback?.type === "delegate" ? input.fallback.approvers : undefined],
    ...(input.stages ?? []).map((stage, index): [string, string[]] => [`stages.${index}.approvers`, stage.approvers]),
    // With weights, only those listed vote.
    ...(input.stages ?? []).map((stage, index): [string, string[] | undefined] => [`stages.${index}.weights`, stage.weights ? Object.keys(stage.weights) : undefined]),
  ];
  const issues: { path: string; message: string }[] = [];
  const neverDecides = (name: string) => {
    const parsed = parseApprover(name);
    return parsed?.type === "user" && (excluded.has(parsed.login.toLowerCase()) || isBot({ login: parsed.login, type: "User" }));
  };
  for (const [path, names = []] of lists) {
    if (names.length === 0 || !names.every(neverDecides)) continue;
    names.forEach((name, index) => {
      issues.push({ path: `${path}.${index}`, message: `${name} may never decide this request: the agent's GitHub accounts, on_behalf_of, every agent's account, the pull request's author and bots do not count` });
    });
  }
  return issues;
}
