import type { Condition } from "../config/schema.js";
import { evaluateCondition, type ConditionFacts } from "./conditions.js";
import type { ActionKind, DecisionVia } from "./types.js";

/**
 * Quorum and stages: how the votes cast on a request add up to its outcome. Pure: the request's
 * stages, its votes and the time in; which stage is open, or how the request ended, out. The
 * engine writes each vote with one compare-and-set and asks this what it did.
 */

/** `N` distinct people, every approver the stage names, or more than half of them. */
export type StageRule = number | "all" | "majority";

/** After a stage approved: the first branch whose condition holds picks the next stage or ends the request. */
export interface Branch {
  when: Condition;
  next?: string;
  action?: string;
}

export interface Stage {
  name: string;
  /** Who may vote in the stage (users and `@org/team`); empty: the request's approvers. */
  approvers: string[];
  /** How many must agree on one action. With `threshold`, the weights of their votes must reach it instead. */
  required: StageRule;
  /** Set with `weights`: an action wins when the weights of its votes add up to this. */
  threshold?: number;
  /** Weight per login or `@org/team`; a voter missing from it cannot vote in the stage. */
  weights?: Record<string, number>;
  /** How long the stage stays open once it opened; none: until the request's deadline. */
  timeoutMs?: number;
  /** At the stage's timeout: end it with the leading approval (at least one, no rejection), or apply the request's fallback. */
  onTimeout?: "proceed_if_partial" | "fallback";
  /** `veto`: one rejection rejects. `majority`: rejections must reach more than half of the stage's bar. */
  reject: "veto" | "majority";
  /** A person who counted in an earlier stage may count here too. */
  allowRepeatApprovers: boolean;
  then?: Branch[];
}

/** One person's vote. A person has at most one vote per stage: their latest. */
export interface Vote {
  by: string;
  action: string;
  at: string;
  stage: string;
  justification: string | null;
  via: DecisionVia;
  /** In a weighted stage, the voter's weight (resolved when the vote was cast, teams included). */
  weight?: number;
}

/** How a stage ended. */
export interface StageEnd {
  stage: string;
  action: string;
  kind: ActionKind;
  at: string;
  why: "quorum" | "veto" | "rejected_by_majority" | "timeout_partial";
  /** The branch that followed it, by index, when one matched. */
  branch?: number;
}

export type Outcome =
  | { type: "open"; index: number; stage: Stage; openedAt: string; closesAt: string | null; votes: Vote[]; done: StageEnd[] }
  | { type: "decided"; action: string; kind: ActionKind; stage: string; at: string; done: StageEnd[] }
  /** The open stage's timeout passed with nothing it may proceed with: the request's fallback applies. */
  | { type: "timed_out"; stage: string; at: string; done: StageEnd[] };

export interface AggregateInput {
  stages: Stage[];
  votes: Vote[];
  /** When the first stage opened: the request's creation. */
  openedAt: string;
  /** Approve or reject for an action id; null for one the request does not offer (such votes never count). */
  kindOf: (action: string) => ActionKind | null;
  /** What branch conditions look at. The chosen action is the field `chosen_action`. */
  facts: ConditionFacts;
}

/** The votes needed for one action to carry a stage. */
export function stageBar(stage: Stage): number {
  if (stage.weights) return stage.threshold ?? 1;
  if (stage.required === "all") return Math.max(1, stage.approvers.length);
  if (stage.required === "majority") return Math.floor(stage.approvers.length / 2) + 1;
  return stage.required;
}

const voteWeight = (stage: Stage, vote: Vote) => (stage.weights ? (vote.weight ?? 0) : 1);
const key = (login: string) => login.toLowerCase();

/** Each person's latest vote, in the order their latest votes were cast. */
export function latestVotes(votes: Vote[]): Vote[] {
  const byPerson = new Map<string, Vote>();
  for (const vote of votes) {
    byPerson.delete(key(vote.by));
    byPerson.set(key(vote.by), vote);
  }
  return [...byPerson.values()];
}

/**
 * Whether the votes so far end the stage, and how. Called after each vote; a bar can only be
 * crossed by the vote just cast, so that vote's action is the one that ends it.
 */
function settle(stage: Stage, votes: Vote[], kindOf: AggregateInput["kindOf"]): Omit<StageEnd, "at" | "stage"> | null {
  const last = votes.at(-1);
  const kind = last ? kindOf(last.action) : null;
  if (!last || kind === null) return null;
  const bar = stageBar(stage);
  const standing = latestVotes(votes).filter((vote) => kindOf(vote.action) !== null);
  const weigh = (list: Vote[]) => list.reduce((sum, vote) => sum + voteWeight(stage, vote), 0);
  if (kind === "reject") {
    if (stage.reject === "veto") return { action: last.action, kind, why: "veto" };
    const rejected = weigh(standing.filter((vote) => kindOf(vote.action) === "reject"));
    return rejected * 2 > bar ? { action: last.action, kind, why: "rejected_by_majority" } : null;
  }
  return weigh(standing.filter((vote) => vote.action === last.action)) >= bar ? { action: last.action, kind, why: "quorum" } : null;
}

/** The approval leading at a timeout, when there is one and no rejection. */
function partial(stage: Stage, votes: Vote[], kindOf: AggregateInput["kindOf"]): string | null {
  const latest = latestVotes(votes).filter((vote) => kindOf(vote.action) !== null);
  if (latest.length === 0 || latest.some((vote) => kindOf(vote.action) === "reject")) return null;
  const totals = new Map<string, number>();
  for (const vote of latest) totals.set(vote.action, (totals.get(vote.action) ?? 0) + voteWeight(stage, vote));
  let best: string | null = null;
  for (const [action, weight] of totals) if (best === null || weight > totals.get(best)!) best = action;
  return best;
}

/**
 * Replays the votes through the stages: each stage's votes in the order they came, until one
 * action reaches its bar (the stage ends at that vote) or its timeout passes. An approved stage
 * goes on along its first matching branch, else to the next stage, else decides the request.
 */
export function aggregate(input: AggregateInput, now: Date): Outcome {
  const { stages, kindOf } = input;
  const done: StageEnd[] = [];
  const counted = new Set<string>();
  let index = 0;
  let openedAt = input.openedAt;
  // Branches only go forward, so each stage is visited at most once.
  while (index < stages.length) {
    const stage = stages[index]!;
    const closesAt = stage.timeoutMs === undefined ? null : new Date(Date.parse(openedAt) + stage.timeoutMs).toISOString();
    const mine = input.votes
      .filter((vote) => vote.stage === stage.name && (stage.allowRepeatApprovers || !counted.has(key(vote.by))))
      .filter((vote) => closesAt === null || Date.parse(vote.at) < Date.parse(closesAt))
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    let end: StageEnd | null = null;
    for (let n = 1; n <= mine.length && !end; n++) {
      const result = settle(stage, mine.slice(0, n), kindOf);
      if (result) end = { ...result, stage: stage.name, at: mine[n - 1]!.at };
    }
    if (!end && closesAt !== null && now.getTime() >= Date.parse(closesAt)) {
      const leading = stage.onTimeout === "proceed_if_partial" ? partial(stage, mine, kindOf) : null;
      if (leading === null) return { type: "timed_out", stage: stage.name, at: closesAt, done };
      end = { stage: stage.name, action: leading, kind: "approve", at: closesAt, why: "timeout_partial" };
    }
    if (!end) return { type: "open", index, stage, openedAt, closesAt, votes: latestVotes(mine), done };
    for (const vote of latestVotes(mine)) counted.add(key(vote.by));
    done.push(end);
    if (end.kind === "reject") return { type: "decided", action: end.action, kind: "reject", stage: stage.name, at: end.at, done };
    const facts = { ...input.facts, decisionData: { ...input.facts.decisionData, chosen_action: end.action } };
    const branchIndex = (stage.then ?? []).findIndex((branch) => evaluateCondition(branch.when, facts, new Date(end.at)).matched);
    const branch = stage.then?.[branchIndex];
    if (branch) end.branch = branchIndex;
    if (branch?.action !== undefined) {
      return { type: "decided", action: branch.action, kind: kindOf(branch.action) ?? "reject", stage: stage.name, at: end.at, done };
    }
    const next = branch?.next !== undefined ? stages.findIndex((candidate) => candidate.name === branch.next) : stage.then ? -1 : index + 1;
    if (next <= index || next >= stages.length) return { type: "decided", action: end.action, kind: "approve", stage: stage.name, at: end.at, done };
    index = next;
    openedAt = end.at;
  }
  // No stages: nothing to wait for is a configuration the schema never lets through.
  return { type: "timed_out", stage: "", at: input.openedAt, done };
}

/** The stages a request may still go through after the open one: those later in the list that a branch or the order can reach. */
export function stagesAhead(stages: Stage[], index: number): string[] {
  const reachable = new Set<number>();
  const visit = (at: number) => {
    const stage = stages[at];
    if (!stage) return;
    const targets = stage.then ? stage.then.flatMap((branch) => (branch.next ? [stages.findIndex((s) => s.name === branch.next)] : [])) : [at + 1];
    for (const target of targets) {
      if (target > at && target < stages.length && !reachable.has(target)) {
        reachable.add(target);
        visit(target);
      }
    }
  };
  visit(index);
  return [...reachable].sort((a, b) => a - b).map((at) => stages[at]!.name);
}
