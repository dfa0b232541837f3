import { preCheckDecider } from "../core/authorize.js";
import { approverKey, approverLists, currentApprovers } from "../core/schedule.js";
import type { ApprovalRequest } from "../core/types.js";
import { hasStages, outcomeOf, stageApproverLists } from "../core/vote.js";
import type { GitHubGateway } from "../engine/ports.js";

/**
 * Which requests a person sees on the desk: those the engine would let them decide (or vote on)
 * now, asked of GitHub as the engine asks it (`github.mayDecide` per approver list, teams
 * included), so a request of a repository the person cannot write to never shows. The engine
 * still authorizes every decision itself; this only chooses what to show.
 */

export interface DeskAccess {
  /** The person may decide, or vote in the open stage of, the request now. */
  mayDecide(request: ApprovalRequest, login: string): Promise<boolean>;
  /** The request names the person (or one of their teams) among those it asks now. */
  waitsOn(request: ApprovalRequest, login: string): Promise<boolean>;
}

/** How long an answer for one (login, request, version) is reused. */
export const ACCESS_TTL_MS = 30_000;
const MAX_ENTRIES = 10_000;

export function createDeskAccess(deps: { github: Pick<GitHubGateway, "mayDecide">; agentAccounts: string[]; clock: () => Date; ttlMs?: number }): DeskAccess {
  const ttl = deps.ttlMs ?? ACCESS_TTL_MS;
  const cache = new Map<string, { value: Promise<boolean>; until: number }>();

  function cached(key: string, compute: () => Promise<boolean>): Promise<boolean> {
    const now = deps.clock().getTime();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.value;
    if (cache.size >= MAX_ENTRIES) {
      for (const [k, entry] of cache) if (entry.until <= now) cache.delete(k);
      if (cache.size >= MAX_ENTRIES) cache.clear();
    }
    // A failed question is not remembered.
    const value = compute().catch((error: unknown) => {
      cache.delete(key);
      throw error;
    });
    cache.set(key, { value, until: now + ttl });
    return value;
  }

  /** One question to GitHub per person, repository and approver list while it is fresh, however many requests share it. */
  const ask = (request: ApprovalRequest, login: string, approvers: string[]) =>
    cached(`${login.toLowerCase()}\n${request.installationId}\n${request.repo.toLowerCase()}\n${approvers.map(approverKey).sort().join(",")}`, () =>
      deps.github.mayDecide(request.installationId, request.repo, login, approvers),
    );

  async function passesAll(request: ApprovalRequest, login: string, lists: string[][]): Promise<boolean> {
    for (const approvers of lists) {
      if (!(await ask(request, login, approvers))) return false;
    }
    return true;
  }

  async function compute(request: ApprovalRequest, login: string): Promise<boolean> {
    if (request.status !== "pending") return false;
    const requesters = [request.requestedBy, ...(request.agentLogins ?? []), request.onBehalfOf, request.surfaceRef?.author].filter((who): who is string => Boolean(who));
    if (preCheckDecider({ actor: { login, type: "User" }, requesters, agentAccounts: deps.agentAccounts })) return false;
    if (!hasStages(request)) return passesAll(request, login, approverLists(request));
    const open = outcomeOf(request, deps.clock());
    if (open.type !== "open") return false;
    if (!(await passesAll(request, login, stageApproverLists(request, open.stage)))) return false;
    if (!open.stage.weights) return true;
    for (const [who, weight] of Object.entries(open.stage.weights)) {
      if (weight <= 0) continue;
      if (who.includes("/") ? await ask(request, login, [who]) : who.replace(/^@/, "").toLowerCase() === login.toLowerCase()) return true;
    }
    return false;
  }

  return {
    mayDecide: (request, login) => cached(`${login.toLowerCase()}\n${request.id}\n${request.version}\ndecide`, () => compute(request, login)),
    waitsOn: (request, login) =>
      cached(`${login.toLowerCase()}\n${request.id}\n${request.version}\nwaits`, async () => {
        const asked = currentApprovers(request);
        return asked.length > 0 && (await ask(request, login, asked));
      }),
  };
}
