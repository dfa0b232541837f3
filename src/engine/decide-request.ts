import { preCheckDecider, type Actor, type RefusalReason } from "../core/authorize.js";
import { applyDecision, finish, type DecisionInput } from "../core/decide.js";
import { readDecisionInput, type InputProblem } from "../core/decision-input.js";
import { allowedApprovers, approverLists } from "../core/schedule.js";
import type { ApprovalRequest, Decider } from "../core/types.js";
import { CAS_ATTEMPTS, type Agent, type EngineContext } from "./context.js";
import { HitlError, notFound } from "./errors.js";

/** Where a decision on GitHub came from, after the webhook handler read it. */
export interface GitHubDecision {
  repo: string;
  number: number;
  actor: Actor;
  action: string;
  justification: string | null;
  via: "comment" | "review" | "check_run";
  /** The comment was edited (it never counts). */
  edited?: boolean;
  /** The pull request's author, who may not approve their own change. */
  pullRequestAuthor?: string;
  /** A check-run button names one request; comments and reviews apply to every pending one. */
  requestId?: string;
  /**
   * When the comment or review was made: it decides only the requests that were already open
   * then, and not before the last push that made approvals stale, whether its webhook came at
   * once or late or recovery found it; so a request opened on a pull request after an
   * approver's `/approve` or review never takes it, nor do commits pushed after it. GitHub's
   * times have whole seconds.
   */
  madeAt?: string;
  /**
   * Reviews and buttons: the commit they were made on. Only a decision on the commit the request
   * is on now counts, so an approval of old commits never decides for new ones. Comments have none.
   */
  headSha?: string;
}

/**
 * Whether a comment, review or button may decide the request: it was made once the request was
 * open and, for a comment (which names no commit), after the last push that made approvals stale
 * (kept as the recovery cursor's `notBefore`, rounded up to GitHub's whole seconds). Reviews and
 * buttons name their commit, which must be the request's head.
 */
const countsFor = (request: ApprovalRequest, input: Pick<GitHubDecision, "madeAt" | "headSha">) => {
  if (input.madeAt === undefined) return true;
  const made = Date.parse(input.madeAt);
  if (Math.floor(Date.parse(request.createdAt) / 1000) * 1000 > made) return false;
  return input.headSha !== undefined || !request.recovery || Date.parse(request.recovery.notBefore) <= made;
};
/** What happened to one request a person tried to decide, so the handler can answer them. */
export type DecisionOutcome =
  | { type: "decided"; request: ApprovalRequest }
  | { type: "refused"; request: ApprovalRequest; reason: RefusalReason; allowed: string[] }
  | { type: "unknown_action"; request: ApprovalRequest }
  /** It came at or after the deadline; the sweep applies the fallback. */
  | { type: "past_deadline"; request: ApprovalRequest }
  | { type: "old_head"; request: ApprovalRequest; headSha: string }
  /** Changes out of bounds, or a justification or reason code missing: nothing applied. */
  | { type: "needs_input"; request: ApprovalRequest; problem: InputProblem }
  | { type: "already_decided"; request: ApprovalRequest };

const OUTCOME_OF_REFUSAL = { not_pending: "already_decided", unknown_action: "unknown_action", past_deadline: "past_deadline" } as const;

/** What the audit keeps of a decision's changes and reason code, beside the original values. */
function decisionDetails(request: ApprovalRequest): Record<string, unknown> | undefined {
  const decision = request.decision;
  if (!decision?.editedFields && !decision?.reasonCode) return undefined;
  const edited = decision.editedFields;
  return {
    ...(edited ? { edited_fields: edited, original_fields: Object.fromEntries(Object.keys(edited).map((name) => [name, request.decisionData[name]])), edited_context_hash: decision.contextHash } : {}),
    ...(decision.reasonCode ? { reason_code: decision.reasonCode } : {}),
  };
}

/** Ending requests: people deciding on GitHub, the agent withdrawing, the system cancelling. */
export function createDeciding(ctx: EngineContext) {
  const { store, github, clock, audit, job, finalJobs, commit, mustGet } = ctx;

  async function decideOne(request: ApprovalRequest, input: GitHubDecision): Promise<DecisionOutcome> {
    // Requests stored before agentLogins and onBehalfOf existed have neither.
    const requesters = [request.requestedBy, ...(request.agentLogins ?? []), request.onBehalfOf, input.pullRequestAuthor, request.surfaceRef?.author].filter(
      (login): login is string => Boolean(login),
    );
    const allowed = allowedApprovers(request);
    const refusal = preCheckDecider({ actor: input.actor, requesters, edited: input.edited });
    if (refusal) return { type: "refused", request, reason: refusal, allowed };
    if (input.headSha !== undefined && input.headSha !== request.surfaceRef?.headSha) return { type: "old_head", request, headSha: input.headSha };
    // The request's approvers and the repository's both: a request only ever narrows who decides.
    // The reply names the list the person is missing from.
    for (const approvers of approverLists(request)) {
      if (!(await github.mayDecide(request.installationId, request.repo, input.actor.login, approvers))) {
        return { type: "refused", request, reason: "not_approver", allowed: approvers };
      }
    }
    const decider: Decider = { type: "human", login: input.actor.login };
    const read = readDecisionInput(request, input);
    if (!read.ok) return { type: "needs_input", request, problem: read.problem };
    const { ok: _ok, ...given } = read;
    let current = request;
    for (let i = 0; i < CAS_ATTEMPTS; i++) {
      const result = applyDecision(current, { action: input.action, decidedBy: decider, via: input.via, ...given }, clock());
      if (!result.ok) return { type: OUTCOME_OF_REFUSAL[result.reason], request: current };
      const next = result.request;
      const stored = await commit(next, current.version, [audit(next, "decided", decider, decisionDetails(next))], finalJobs(next, "decided"));
      if (stored) return { type: "decided", request: stored };
      current = await mustGet(current.id);
    }
    return { type: "already_decided", request: current };
  }

  return {
    /**
     * Applies a decision a person made on GitHub to the pending requests on that issue or pull
     * request. The first valid decision wins; later ones are reported as already decided.
     */
    async decideFromGitHub(input: GitHubDecision): Promise<DecisionOutcome[]> {
      const onSurface = await store.findBySurface(input.repo, input.number);
      const targets = (input.requestId ? onSurface.filter((r) => r.id === input.requestId) : onSurface).filter((r) => countsFor(r, input));
      const pending = targets.filter((r) => r.status === "pending");
      if (pending.length === 0) {
        const latest = targets[0];
        return latest ? [{ type: "already_decided", request: latest }] : [];
      }
      const outcomes: DecisionOutcome[] = [];
      for (const request of pending) outcomes.push(await decideOne(request, input));
      return outcomes;
    },

    /** Withdraws a pending request; only the agent that opened it may. */
    async cancel(id: string, agent: Agent, reason: string | null): Promise<ApprovalRequest> {
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        const request = await mustGet(id);
        if (request.requestedBy !== agent.name) throw notFound(id);
        if (request.status !== "pending") {
          throw new HitlError("not_pending", 409, `Request ${id} is already ${request.status}; only a pending request can be cancelled.`);
        }
        const actor: Decider = { type: "agent", name: agent.name };
        const next = finish(request, { action: "cancel", status: "cancelled", decidedBy: actor, justification: reason, via: "api" }, clock());
        const stored = await commit(next, request.version, [audit(next, "cancelled", actor)], [job(next, "sync_surface", "cancelled")]);
        if (stored) return stored;
      }
      throw new HitlError("conflict", 409, `Request ${id} changed while it was being cancelled; try again.`);
    },

    /** Cancels a pending request for a reason of the system's own (its pull request was closed). */
    async cancelBySystem(request: ApprovalRequest, reason: string, via: DecisionInput["via"]): Promise<ApprovalRequest | null> {
      let current = request;
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        if (current.status !== "pending") return null;
        const actor: Decider = { type: "system", reason };
        const next = finish(current, { action: "cancel", status: "cancelled", decidedBy: actor, justification: reason, via }, clock());
        const stored = await commit(next, current.version, [audit(next, "cancelled", actor)], finalJobs(next, "cancelled"));
        if (stored) return stored;
        current = await mustGet(current.id);
      }
      return null;
    },
  };
}
