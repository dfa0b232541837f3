import { createHash, timingSafeEqual } from "node:crypto";

export interface AgentCredential {
  name: string;
  token: string;
  /** May read every agent's requests and a repository's whole audit trail (option `read-all`). */
  readAll?: boolean;
  /** The agent's own GitHub identities, lowercased (options `github=<login>`); they never decide its requests. */
  githubLogins?: string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A GitHub user or app bot login: `ci-user`, `deploy-bot[bot]`. */
const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;

/**
 * `HITL_AGENT_TOKENS` is a comma-separated list of `name:token[:option,option…]`; options are
 * `read-all` and `github=<login>` (may repeat). A piece without `:` continues the options of
 * the entry before it. Names become `requested_by`. Returns the problem in words, naming the
 * entry by number, and never the token or anything that may be part of it.
 */
export function parseAgentTokens(value: string | undefined): { agents: AgentCredential[] } | { error: string } {
  const agents: AgentCredential[] = [];
  const pieces = (value ?? "").split(",").map((p) => p.trim()).filter(Boolean);
  /** The last entry had options, so a piece without ':' is one more of them. */
  let inOptions = false;
  for (const piece of pieces) {
    if (!piece.includes(":")) {
      if (!inOptions) return { error: `HITL_AGENT_TOKENS entry ${agents.length + 1} must be name:token[:option,…] with a name of letters, digits, '.', '_' or '-'` };
      const problem = addOption(agents.at(-1)!, piece);
      if (problem) return { error: `HITL_AGENT_TOKENS entry ${agents.length} (${agents.at(-1)!.name}): ${problem}` };
      continue;
    }
    const [name = "", token = "", options, ...rest] = piece.split(":").map((part) => part.trim());
    const number = agents.length + 1;
    if (!NAME.test(name)) return { error: `HITL_AGENT_TOKENS entry ${number} must be name:token[:option,…] with a name of letters, digits, '.', '_' or '-'` };
    if (token.length < 16) return { error: `HITL_AGENT_TOKENS entry ${number} (${name}): the token must be at least 16 characters` };
    if (rest.length > 0) return { error: `HITL_AGENT_TOKENS entry ${number} (${name}): a token may not contain ':'; options follow a single ':'` };
    if (agents.some((agent) => agent.name === name)) return { error: `HITL_AGENT_TOKENS names agent ${name} twice` };
    const agent: AgentCredential = { name, token };
    agents.push(agent);
    inOptions = options !== undefined;
    if (options !== undefined) {
      const problem = addOption(agent, options);
      if (problem) return { error: `HITL_AGENT_TOKENS entry ${number} (${name}): ${problem}` };
    }
  }
  return { agents };
}

/** Adds one option to the agent; the problem in words (never the option's text) when it is not one. */
function addOption(agent: AgentCredential, option: string): string | null {
  if (option === "read-all") {
    agent.readAll = true;
    return null;
  }
  if (option.startsWith("github=")) {
    const login = option.slice("github=".length);
    if (!GITHUB_LOGIN.test(login)) return "github= must name a GitHub login, e.g. github=ci-user or github=deploy-bot[bot]";
    agent.githubLogins = [...new Set([...(agent.githubLogins ?? []), login.toLowerCase()])];
    return null;
  }
  return "options are read-all and github=<login>, separated by ','; a token may not contain ':'";
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * The agent whose token is presented as `Authorization: Bearer <token>`. Every configured token
 * is compared, in constant time over fixed-length digests, so timing tells nothing.
 */
export function authenticateAgent(header: string | undefined, agents: AgentCredential[]): AgentCredential | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!match) return null;
  const presented = digest(match[1]!);
  let found: AgentCredential | null = null;
  for (const agent of agents) {
    if (timingSafeEqual(presented, digest(agent.token)) && !found) found = agent;
  }
  return found;
}
