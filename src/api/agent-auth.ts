import { createHash, timingSafeEqual } from "node:crypto";

export interface AgentCredential {
  name: string;
  token: string;
}

/**
 * `HITL_AGENT_TOKENS` is `name:token,name:token`. Names become `requested_by`. Returns the
 * problem in words (never the token) when the value is malformed.
 */
export function parseAgentTokens(value: string | undefined): { agents: AgentCredential[] } | { error: string } {
  const agents: AgentCredential[] = [];
  for (const [index, pair] of (value ?? "").split(",").map((p) => p.trim()).filter(Boolean).entries()) {
    const colon = pair.indexOf(":");
    const name = pair.slice(0, colon).trim();
    const token = pair.slice(colon + 1).trim();
    if (colon <= 0 || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
      return { error: `HITL_AGENT_TOKENS entry ${index + 1} must be name:token with a name of letters, digits, '.', '_' or '-'` };
    }
    if (token.length < 16) return { error: `HITL_AGENT_TOKENS entry ${index + 1} (${name}): the token must be at least 16 characters` };
    if (agents.some((agent) => agent.name === name)) return { error: `HITL_AGENT_TOKENS names agent ${name} twice` };
    agents.push({ name, token });
  }
  return { agents };
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
