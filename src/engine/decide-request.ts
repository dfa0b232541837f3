import { preCheckDecider, type Actor, type RefusalReason } from "../core/authorize.js";
import { applyDecision, editedContextHash, finish, type DecisionInput } from "../core/decide.js";
import { unsealRequest } from "../sensitive/seal-request.js";
import { readDecisionInput, type InputProblem } from "../core/decision-input.js";
import { allowedApprovers, approverLists } from "../core/schedule.js";
import type { ApprovalRequest, ChannelVia, Decider, Job } from "../core/types.js";
import { castVote, hasStages, outcomeOf, retractVote, stageApproverLists, type VoteRefusal } from "../core/vote.js";
import type { Stage } from "../core/aggregate.js";
import { CAS_ATTEMPTS, type Agent, type EngineContext } from "./context.js";
import { HitlError, notFound } from "./errors.js";

/** Where a decision on GitHub came from, after the webhook handler read it. */
export interface GitHubDecision {
  repo: string;
  number: number;
  actor: Actor;
  action: string;
  justification: string | null;
  via: "comment" | "review" | "check_run" | "issue_closed" | ChannelVia;
  /** The comment was edited (it never counts). */
  edited?: boolean;
  /** The comment's id: a command that counts gets a 👍 on it before the outcome is shown (`Job.reactTo`). */
  commentId?: number;
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
  /** Decided as one of several at once (a desk selection, a batch issue's `/approve 1,3-5`): the audit entry names the batch. */
  batchId?: string;
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
/**
 * A decision a person made outside GitHub (a Slack button, an email link or reply, an SMS link),
 * after the channel has established who they are: `login` is the GitHub login `.hitl.yml`
 * `people:` maps them to. It is authorized exactly as that login's `/approve` would be.
 */
export interface ChannelDecision {
  requestId: string;
  login: string;
  action: string;
  via: ChannelVia;
  justification?: string | null;
  /** Changes to the request's editable fields (an approval only), checked against their bounds. */
  editedFields?: Record<string, unknown>;
  /** A rejection's reason code, where the request's feedback asks for one. */
  reasonCode?: string;
  /** The request's `version` the person saw: a later write (any) makes it `stale`. Rarely what a channel wants. */
  version?: number;
  /** The request's `contextHash` the person saw: a request whose content changed since is `stale`. */
  contextHash?: string;
  /** Pull requests: the head commit the person saw; a decision for an older head is `old_head`. */
  headSha?: string;
  /** Decided as one of several at once: each is still decided on its own, and its audit entry names the batch. */
  batchId?: string;
}

/** What happened to a decision from a channel: as on GitHub, or the request was not found, or changed since it was shown. */
export type ChannelOutcome = DecisionOutcome | { type: "not_found"; requestId: string } | { type: "stale"; request: ApprovalRequest };

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
  | { type: "already_decided"; request: ApprovalRequest }
  /** Requests with stages: the vote (or its withdrawal) counted and the request still waits. */
  | { type: "voted"; request: ApprovalRequest }
  | { type: "vote_refused"; request: ApprovalRequest; reason: Exclude<VoteRefusal, "not_pending" | "unknown_action" | "past_deadline"> };

/** Why a vote carrying changes to editable fields is not counted. */
export const VOTE_EDITS_PROBLEM = "this request needs more than one approval, so each vote approves the values as shown: approve without a yaml or json block, or reject and say what should change";

/** `/retract`: withdraws the person's vote; only requests with stages have votes to withdraw. */
export const RETRACT = "retract";

const OUTCOME_OF_REFUSAL = { not_pending: "already_decided", unknown_action: "unknown_action", past_deadline: "past_deadline" } as const;

/** What the audit keeps of a decision's changes and reason code, beside the original values. */
function decisionDetails(request: ApprovalRequest, batchId?: string): Record<string, unknown> | undefined {
  const decision = request.decision;
  if (!decision?.editedFields && !decision?.reasonCode && !batchId) return undefined;
  const edited = decision?.editedFields;
  return {
    ...(batchId ? { batch_id: batchId } : {}),
    ...(edited ? { edited_fields: edited, original_fields: Object.fromEntries(Object.keys(edited).map((name) => [name, request.decisionData[name]])), edited_context_hash: decision.contextHash } : {}),
    ...(decision?.reasonCode ? { reason_code: decision.reasonCode } : {}),
  };
}

/** The jobs of a change a comment made, its surface update carrying the comment to react to first. */
function reacting(jobs: Job[], input: GitHubDecision): Job[] {
  if (input.commentId === undefined) return jobs;
  return jobs.map((job) => (job.kind === "sync_surface" ? { ...job, reactTo: input.commentId } : job));
}

/** Ending requests: people deciding on GitHub, the agent withdrawing, the system cancelling. */
export function createDeciding(ctx: EngineContext) {
  /**
   * The hash of what was approved covers the sensitive values, as the request's own does: the
   * stored request holds placeholders, so it is computed again on the values, opened in memory.
   */
  function withSensitiveInHash(next: ApprovalRequest, before: ApprovalRequest): ApprovalRequest {
    const edited = next.decision?.editedFields;
    if ((!before.sensitive && !before.hidden) || !edited || !next.decision) return next;
    return { ...next, decision: { ...next.decision, contextHash: editedContextHash(unsealRequest(ctx.sealingKeys ?? null, before), edited) } };
  }

  const { store, github, clock, audit, job, channelJobs, finalJobs, commit, mustGet } = ctx;

  async function decideOne(request: ApprovalRequest, input: GitHubDecision): Promise<DecisionOutcome> {
    // Requests stored before agentLogins and onBehalfOf existed have neither.
    const requesters = [request.requestedBy, ...(request.agentLogins ?? []), request.onBehalfOf, input.pullRequestAuthor, request.surfaceRef?.author].filter(
      (login): login is string => Boolean(login),
    );
    const allowed = allowedApprovers(request);
    const refusal = preCheckDecider({ actor: input.actor, requesters, agentAccounts: ctx.agentAccounts, edited: input.edited });
    if (refusal) return { type: "refused", request, reason: refusal, allowed };
    if (input.headSha !== undefined && input.headSha !== request.surfaceRef?.headSha) return { type: "old_head", request, headSha: input.headSha };
    if (hasStages(request)) return vote(request, input);
    if (input.action === RETRACT) return request.status === "pending" ? { type: "vote_refused", request, reason: "no_vote" } : { type: "already_decided", request };
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
      const result = applyDecision(current, { action: input.action, decidedBy: decider, via: input.via, ...given }, clock(), input.madeAt === undefined ? undefined : new Date(input.madeAt));
      if (!result.ok) return { type: OUTCOME_OF_REFUSAL[result.reason], request: current };
      const next = withSensitiveInHash(result.request, current);
      const stored = await commit(next, current.version, [audit(next, "decided", decider, decisionDetails(next, input.batchId))], reacting(finalJobs(next, "decided"), input));
      if (stored) return { type: "decided", request: stored };
      current = await mustGet(current.id);
    }
    return { type: "already_decided", request: current };
  }

  /** Whether the person may vote in the stage, and their weight there when it is weighted. */
  async function mayVote(request: ApprovalRequest, stage: Stage, login: string): Promise<{ ok: true; weight?: number } | { ok: false; allowed: string[] }> {
    for (const approvers of stageApproverLists(request, stage)) {
      if (!(await github.mayDecide(request.installationId, request.repo, login, approvers))) return { ok: false, allowed: approvers };
    }
    if (!stage.weights) return { ok: true };
    let weight = 0;
    for (const [who, w] of Object.entries(stage.weights)) {
      const isTeam = who.includes("/");
      const matches = isTeam ? await github.mayDecide(request.installationId, request.repo, login, [who]) : who.replace(/^@/, "").toLowerCase() === login.toLowerCase();
      if (matches) weight = Math.max(weight, w);
    }
    return weight > 0 ? { ok: true, weight } : { ok: false, allowed: Object.keys(stage.weights) };
  }

  /**
   * A vote, or its withdrawal, on a request with stages: one compare-and-set of the request's
   * votes, so replicas racing each other still settle it once. Who may vote is checked against
   * the stage open when the vote lands; a lost compare-and-set starts over from the stored request.
   */
  async function vote(request: ApprovalRequest & { stages: Stage[] }, input: GitHubDecision): Promise<DecisionOutcome> {
    const login = input.actor.login;
    // A vote carries the feedback the request asks for, as a decision does: a request that asks
    // for more approvals must not get out of the justification and reason code .hitl.yml wants.
    if (input.action !== RETRACT) {
      const read = readDecisionInput(request, input);
      if (!read.ok) return { type: "needs_input", request, problem: read.problem };
      // Each vote approves what everyone was shown: one person's changes cannot ride on the others' votes.
      if (read.editedFields) return { type: "needs_input", request, problem: { type: "edits", problems: [VOTE_EDITS_PROBLEM] } };
    }
    // A vote counts from when it was made, however late its webhook or recovery brings it.
    const madeAt = input.madeAt === undefined ? undefined : new Date(input.madeAt);
    let current: ApprovalRequest = request;
    for (let i = 0; i < CAS_ATTEMPTS; i++) {
      if (!hasStages(current) || current.status !== "pending") return { type: "already_decided", request: current };
      const now = clock();
      let result;
      if (input.action === RETRACT) {
        result = retractVote(current, login, now);
      } else {
        const open = outcomeOf(current, madeAt && madeAt < now ? madeAt : now);
        let weight: number | undefined;
        if (open.type === "open") {
          const may = await mayVote(current, open.stage, login);
          if (!may.ok) return { type: "refused", request: current, reason: "not_approver", allowed: may.allowed };
          weight = may.weight;
        }
        result = castVote(current, { login, action: input.action, justification: input.justification, via: input.via, ...(weight !== undefined ? { weight } : {}), ...(madeAt ? { madeAt } : {}) }, now);
      }
      if (!result.ok) {
        const reason = result.reason;
        if (reason === "not_pending" || reason === "unknown_action" || reason === "past_deadline") return { type: OUTCOME_OF_REFUSAL[reason], request: current };
        return { type: "vote_refused", request: current, reason };
      }
      const next = result.request;
      const decider: Decider = { type: "human", login };
      const details = {
        ...(result.event === "decided"
          ? { stage: next.decision?.stage, approvals: next.decision?.approvals, path: next.decision?.path }
          : { action: input.action, via: input.via, votes: (next.votes ?? []).length }),
        ...(input.batchId ? { batch_id: input.batchId } : {}),
      };
      const jobs = result.event === "decided" ? finalJobs(next, "decided") : [job(next, "sync_surface", result.event)];
      const stored = await commit(next, current.version, [audit(next, result.event, decider, details)], reacting(jobs, input));
      if (stored) return { type: result.event === "decided" ? "decided" : "voted", request: stored };
      current = await mustGet(current.id);
    }
    return { type: "already_decided", request: current };
  }

  /**
   * The justification text as a comment would carry it, so one reader (`readDecisionInput`)
   * checks edits, reason codes and feedback for every door: the edits as a fenced json block
   * first (the first block is the one read), then the reason code, then the person's words.
   */
  function channelText(input: ChannelDecision): string | null {
    const words = [input.reasonCode, input.justification?.trim()].filter((part): part is string => Boolean(part)).join(" ");
    const edits = input.editedFields && Object.keys(input.editedFields).length > 0 ? "```json\n" + JSON.stringify(input.editedFields) + "\n```" : "";
    const text = [edits, words].filter(Boolean).join("\n");
    return text === "" ? null : text;
  }

  return {
    /**
     * Applies a decision made outside GitHub, as `input.login`'s comment would be applied: the
     * same separation of duties, approvers, teams, quorum and stages, feedback and edit bounds,
     * deadline, compare-and-set, audit entry and jobs (the surface then says which channel).
     */
    async decideFromChannel(input: ChannelDecision): Promise<ChannelOutcome> {
      const request = await store.get(input.requestId);
      if (!request) return { type: "not_found", requestId: input.requestId };
      if (request.status !== "pending") return { type: "already_decided", request };
      if ((input.version !== undefined && input.version !== request.version) || (input.contextHash !== undefined && input.contextHash !== request.contextHash)) {
        return { type: "stale", request };
      }
      return decideOne(request, {
        repo: request.repo,
        number: request.surfaceRef?.number ?? 0,
        actor: { login: input.login, type: "User" },
        action: input.action,
        justification: channelText(input),
        via: input.via,
        requestId: request.id,
        ...(input.headSha !== undefined ? { headSha: input.headSha } : {}),
        ...(input.batchId !== undefined ? { batchId: input.batchId } : {}),
      });
    },

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
        const stored = await commit(next, request.version, [audit(next, "cancelled", actor)], [job(next, "sync_surface", "cancelled"), ...channelJobs(next, "cancelled")]);
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
