import { aggregate, type Outcome, type Stage, type Vote } from "./aggregate.js";
import { actionKind, finish } from "./decide.js";
import { approverLists, nextDueAt } from "./schedule.js";
import type { ApprovalRequest, Decider, DecisionVia } from "./types.js";
import { unhidden } from "../sensitive/hidden-fields.js";

/** A request with stages: each allowed person's word is a vote, and the votes decide (core/aggregate.ts). */
export const hasStages = (request: ApprovalRequest): request is ApprovalRequest & { stages: Stage[] } => (request.stages?.length ?? 0) > 0;

/** Where the request's votes stand at `now`. */
export function outcomeOf(request: ApprovalRequest & { stages: Stage[] }, now: Date): Outcome {
  return aggregate(
    {
      stages: request.stages,
      votes: request.votes ?? [],
      openedAt: request.createdAt,
      kindOf: (action) => actionKind(request, action),
      // Values kept off GitHub by `.hitl.yml` are in the request, in clear: branches see them.
      facts: { decisionData: unhidden(request).decisionData, requestType: request.requestType, riskScore: request.riskScore, confidence: request.confidence },
    },
    now,
  );
}

/** Who may vote in a stage: its own approvers (or the request's), and `.hitl.yml`'s set, as for one decision. */
export function stageApproverLists(request: ApprovalRequest, stage: Stage): string[][] {
  return approverLists(stage.approvers.length > 0 ? { ...request, approvers: stage.approvers } : request);
}

/** The people whose votes counted in stages that ended. */
export function countedEarlier(request: ApprovalRequest, outcome: Outcome): Set<string> {
  const ended = new Set(outcome.done.map((end) => end.stage));
  return new Set((request.votes ?? []).filter((vote) => ended.has(vote.stage)).map((vote) => vote.by.toLowerCase()));
}

/** The sweep must look again at the open stage's timeout as well as at the next rung, warning and deadline. */
export function stagedNextAt(request: ApprovalRequest, now: Date): string | null {
  if (request.status !== "pending") return null;
  const due = nextDueAt(request.escalation, request.createdAt, request.deadline);
  if (!hasStages(request)) return due;
  const outcome = outcomeOf(request, now);
  const closes = outcome.type === "open" ? outcome.closesAt : null;
  return closes !== null && Date.parse(closes) < Date.parse(due) ? closes : due;
}

export type VoteRefusal = "not_pending" | "unknown_action" | "past_deadline" | "stage_closed" | "counted_earlier" | "no_vote";

export type VoteResult =
  | { ok: true; request: ApprovalRequest; event: "decided" | "voted" | "stage_opened" | "vote_retracted" }
  | { ok: false; reason: VoteRefusal };

/** The open stage a person may vote in or withdraw from, or why not. */
function openStage(request: ApprovalRequest & { stages: Stage[] }, now: Date): Extract<Outcome, { type: "open" }> | VoteRefusal {
  if (request.status !== "pending") return "not_pending";
  if (now.getTime() >= Date.parse(request.deadline)) return "past_deadline";
  const outcome = outcomeOf(request, now);
  return outcome.type === "open" ? outcome : "stage_closed";
}

/** The request once its votes changed: decided when they settle it, else pending with the open stage's timeout scheduled. */
function afterVotes(request: ApprovalRequest & { stages: Stage[] }, decider: Decider, via: DecisionVia, justification: string | null, openIndex: number, now: Date): VoteResult {
  const outcome = outcomeOf(request, now);
  if (outcome.type === "decided") {
    const status = outcome.kind === "reject" ? "rejected" : "approved";
    const finished = finish(request, { action: outcome.action, status, decidedBy: decider, justification, via }, now);
    const decision = { ...finished.decision!, approvals: request.votes ?? [], stage: outcome.stage, path: outcome.done };
    return { ok: true, request: { ...finished, decision }, event: "decided" };
  }
  // A vote cannot make a stage time out: the open stage was open at this same time.
  if (outcome.type !== "open") return { ok: false, reason: "stage_closed" };
  const pending = { ...request, updatedAt: now.toISOString() };
  pending.escalation = { ...pending.escalation, nextAt: stagedNextAt(pending, now) };
  return { ok: true, request: pending, event: outcome.index === openIndex ? "voted" : "stage_opened" };
}

/**
 * Records a person's vote in the open stage (replacing their earlier one there) and settles what it
 * decides. `madeAt`, when the comment or review was made (recovery finds some late), is the vote's
 * time: the deadline and the stage's timeout are judged then, and the tally replays it in its
 * place; it is never later than `now` nor earlier than its stage opened.
 */
export function castVote(
  request: ApprovalRequest & { stages: Stage[] },
  input: { login: string; action: string; justification: string | null; via: DecisionVia; weight?: number; madeAt?: Date },
  now: Date,
): VoteResult {
  const made = input.madeAt && input.madeAt.getTime() < now.getTime() ? input.madeAt : now;
  const open = openStage(request, made);
  if (typeof open === "string") return { ok: false, reason: open };
  if (actionKind(request, input.action) === null) return { ok: false, reason: "unknown_action" };
  const login = input.login.toLowerCase();
  if (!open.stage.allowRepeatApprovers && countedEarlier(request, open).has(login)) return { ok: false, reason: "counted_earlier" };
  const vote: Vote = {
    by: input.login,
    action: input.action,
    at: new Date(Math.max(made.getTime(), Date.parse(open.openedAt))).toISOString(),
    stage: open.stage.name,
    justification: input.justification,
    via: input.via,
    ...(input.weight !== undefined ? { weight: input.weight } : {}),
  };
  const votes = [...(request.votes ?? []).filter((v) => !(v.stage === open.stage.name && v.by.toLowerCase() === login)), vote];
  return afterVotes({ ...request, votes }, { type: "human", login: input.login }, input.via, input.justification, open.index, now);
}

/** Withdraws a person's vote from the open stage; `onlyVia` limits it to a vote cast that way (a dismissed review). */
export function retractVote(request: ApprovalRequest & { stages: Stage[] }, login: string, now: Date, onlyVia?: DecisionVia): VoteResult {
  const open = openStage(request, now);
  if (typeof open === "string") return { ok: false, reason: open };
  const key = login.toLowerCase();
  const mine = (vote: Vote) => vote.stage === open.stage.name && vote.by.toLowerCase() === key && (onlyVia === undefined || vote.via === onlyVia);
  const votes = request.votes ?? [];
  if (!votes.some(mine)) return { ok: false, reason: "no_vote" };
  const next = { ...request, votes: votes.filter((vote) => !mine(vote)), updatedAt: now.toISOString() };
  return { ok: true, request: next, event: "vote_retracted" };
}
