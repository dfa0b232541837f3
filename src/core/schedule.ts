import { parseDuration } from "./duration.js";
import type { ApprovalRequest, EscalationState, EscalationStep, Priority } from "./types.js";

/**
 * The escalation schedule of a request: which rung of its ladder holds it, when the deadline
 * warning goes out, and when the fallback applies. The sweep asks `nextStep` what is due, takes
 * that step, and stores `applyStep`'s state; `nextAt` is what the store's due index is keyed on,
 * so it is due exactly when `nextStep` has something to do.
 */

/** What the sweep must do to a request now. */
export type Step =
  | { type: "none" }
  | { type: "escalate"; level: number; step: EscalationStep; skipped: number[] }
  | { type: "warn"; deadline: string }
  | { type: "expire" };

export interface ScheduleView {
  /** 0 while the first approvers hold it; n after the n-th rung fired. */
  level: number;
  /** What the sweep does next and when (in the past when it is overdue); null once final. */
  next: { type: "escalate" | "warn" | "expire"; at: string; level?: number } | null;
}

const NONE: Step = { type: "none" };

/** The last moment a JavaScript Date can hold (+275760-09-13). */
const LATEST_MS = 8.64e15;

const isTime = (iso: unknown) => typeof iso === "string" && Number.isFinite(Date.parse(iso));
const isSpan = (ms: unknown) => typeof ms === "number" && Number.isFinite(ms) && ms >= 0 && ms <= LATEST_MS;

/**
 * Why the schedule of a stored request cannot be computed at `now`, naming the field, or null
 * when it can. Requests are checked when they are opened, so this only finds what older
 * versions stored or what was written to the store by hand; the sweep parks such a request
 * instead of failing on it every minute.
 */
export function scheduleFault(request: ApprovalRequest, now: Date): string | null {
  if (!isTime(request.createdAt)) return `createdAt ${JSON.stringify(request.createdAt)} is not a time`;
  if (!isTime(request.deadline)) return `deadline ${JSON.stringify(request.deadline)} is not a time`;
  const state = request.escalation as EscalationState | undefined;
  if (typeof state !== "object" || state === null || !Array.isArray(state.ladder)) return "escalation is not a schedule";
  if (state.nextAt !== null && !isTime(state.nextAt)) return `escalation.nextAt ${JSON.stringify(state.nextAt)} is not a time`;
  if (state.warningBeforeMs !== null && !isSpan(state.warningBeforeMs)) return `escalation.warningBeforeMs ${String(state.warningBeforeMs)} is not a duration`;
  const level = state.ladder.findIndex((step) => !isSpan(step.afterMs));
  if (level !== -1) return `escalation.ladder.${level}.afterMs ${String(state.ladder[level]!.afterMs)} is not a duration`;
  const fallback = request.fallback;
  if (fallback.type === "delegate" && !fallback.rule && fallback.extend_by !== undefined) {
    const extendMs = parseDuration(fallback.extend_by);
    const from = Math.max(Date.parse(request.deadline), now.getTime());
    if (extendMs === null) return `fallback.extend_by ${JSON.stringify(fallback.extend_by)} is not a duration`;
    if (from + extendMs > LATEST_MS) return `fallback.extend_by ${fallback.extend_by} puts the deadline past any date that can be stored`;
  }
  return null;
}

/** The ladder a request is opened with: critical requests take the shorter one when there is one. */
export function ladderFor<T>(priority: Priority, ladders: { escalation: T[]; critical?: T[] | null }): T[] {
  return priority === "critical" && ladders.critical ? ladders.critical : ladders.escalation;
}

export function initialEscalation(input: {
  ladder: EscalationStep[];
  warningBeforeMs: number | null;
  createdAt: string;
  deadline: string;
}): EscalationState {
  const state: EscalationState = { ladder: input.ladder, warningBeforeMs: input.warningBeforeMs, level: 0, warned: false, nextAt: null };
  return { ...state, nextAt: nextDueAt(state, input.createdAt, input.deadline) };
}

interface Remaining {
  /** Rungs not fired yet that fall before the deadline (a rung at or after it never fires). */
  levels: { level: number; at: number }[];
  /** Null when already warned, no warning was asked for, or it would not come before the deadline. */
  warnAt: number | null;
  deadlineAt: number;
}

function remaining(state: EscalationState, createdAt: string, deadline: string): Remaining {
  const created = Date.parse(createdAt);
  const deadlineAt = Date.parse(deadline);
  const levels = state.ladder
    .map((step, index) => ({ level: index + 1, at: created + step.afterMs }))
    .filter((entry) => entry.level > state.level && entry.at < deadlineAt);
  // A warning longer than the whole wait is due as soon as the request is open.
  const warnAt = state.warned || state.warningBeforeMs === null ? null : Math.max(created, deadlineAt - state.warningBeforeMs);
  return { levels, warnAt: warnAt !== null && warnAt < deadlineAt ? warnAt : null, deadlineAt };
}

/** The earliest of the next rung, the warning and the deadline. A pending request always has one. */
export function nextDueAt(state: EscalationState, createdAt: string, deadline: string): string {
  const left = remaining(state, createdAt, deadline);
  const times = [left.deadlineAt, ...left.levels.map((entry) => entry.at)];
  if (left.warnAt !== null) times.push(left.warnAt);
  return new Date(Math.min(...times)).toISOString();
}

/**
 * What is due at `now`. When several steps are overdue (the sweep did not run for a while) only
 * the latest applies: past the deadline the request expires without escalating first; otherwise
 * the highest due rung fires once and the ones it jumped over are listed as skipped.
 */
export function nextStep(request: ApprovalRequest, now: Date): Step {
  if (request.status !== "pending" || request.decision) return NONE;
  const state = request.escalation;
  const left = remaining(state, request.createdAt, request.deadline);
  const at = now.getTime();
  if (at >= left.deadlineAt) return { type: "expire" };
  const due = left.levels.filter((entry) => entry.at <= at).map((entry) => entry.level);
  if (due.length > 0) {
    const level = Math.max(...due);
    const skipped: number[] = [];
    for (let n = state.level + 1; n < level; n++) skipped.push(n);
    return { type: "escalate", level, step: state.ladder[level - 1]!, skipped };
  }
  if (left.warnAt !== null && left.warnAt <= at) return { type: "warn", deadline: request.deadline };
  return NONE;
}

/**
 * The escalation state once `step` was taken at `now`. An escalation that happens when the
 * warning is also due counts as the warning: its comment already says what happens at the
 * deadline, so the new approvers are not told twice.
 */
export function applyStep(request: ApprovalRequest, step: Step, now: Date): EscalationState {
  const state = request.escalation;
  switch (step.type) {
    case "none":
      return state;
    case "expire":
      return { ...state, nextAt: null };
    case "escalate":
    case "warn": {
      const warnAt = remaining(state, request.createdAt, request.deadline).warnAt;
      const next: EscalationState = {
        ...state,
        level: step.type === "escalate" ? Math.max(state.level, step.level) : state.level,
        warned: state.warned || step.type === "warn" || (warnAt !== null && warnAt <= now.getTime()),
      };
      return { ...next, nextAt: nextDueAt(next, request.createdAt, request.deadline) };
    }
  }
}

/** An approver as compared: without a leading `@`, lowercased (`@Octo-Org/Leads` is `octo-org/leads`). */
export const approverKey = (approver: string) => approver.replace(/^@/, "").toLowerCase();

/** The approvers in order, each once. */
export function dedupe(approvers: string[]): string[] {
  const seen = new Set<string>();
  return approvers.filter((approver) => {
    const key = approverKey(approver);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Who may decide: the first approvers and those of every rung that fired, in that order. Empty
 * means anyone with write access, and stays so when rungs fire: escalation widens who is asked,
 * it never narrows an open request to the rung's approvers.
 */
export function allowedApprovers(request: ApprovalRequest): string[] {
  if (request.approvers.length === 0) return [];
  const fired = request.escalation.ladder.slice(0, request.escalation.level).flatMap((step) => step.approvers);
  return dedupe([...request.approvers, ...fired]);
}

/**
 * The approver lists a person must each pass to decide (their users, their teams' members, or
 * anyone with write access when a list is empty): the request's own, and the set `.hitl.yml`
 * allowed when it was opened, unless every one the request names is listed there by name.
 */
export function approverLists(request: ApprovalRequest): string[][] {
  const own = allowedApprovers(request);
  const policy = request.policyApprovers;
  if (policy === undefined) return [own];
  const listed = new Set(policy.map(approverKey));
  const within = policy.length === 0 ? own.length === 0 : own.length > 0 && own.every((approver) => listed.has(approverKey(approver)));
  return within ? [own] : [own, policy];
}

/** Who holds the request now, to assign it to: the highest fired rung that names anyone, else the first approvers. */
export function currentApprovers(request: ApprovalRequest): string[] {
  const fired = request.escalation.ladder.slice(0, request.escalation.level);
  for (let index = fired.length - 1; index >= 0; index--) {
    const approvers = fired[index]!.approvers;
    if (approvers.length > 0) return dedupe(approvers);
  }
  return dedupe(request.approvers);
}

/** The schedule as the API shows it: the current level and the next thing the sweep will do. */
export function describeSchedule(request: ApprovalRequest, now: Date): ScheduleView {
  const level = request.escalation?.level ?? 0;
  // A parked request (see scheduleFault) is pending with nothing scheduled.
  if (request.status !== "pending" || request.decision || request.escalation.nextAt === null || scheduleFault(request, now)) return { level, next: null };
  const dueAt = Date.parse(nextDueAt(request.escalation, request.createdAt, request.deadline));
  const step = nextStep(request, new Date(Math.max(now.getTime(), dueAt)));
  switch (step.type) {
    case "escalate":
      return { level, next: { type: "escalate", at: new Date(Date.parse(request.createdAt) + step.step.afterMs).toISOString(), level: step.level } };
    case "warn": {
      const warnAt = remaining(request.escalation, request.createdAt, request.deadline).warnAt!;
      return { level, next: { type: "warn", at: new Date(warnAt).toISOString() } };
    }
    case "expire":
    case "none":
      return { level, next: { type: "expire", at: new Date(Date.parse(request.deadline)).toISOString() } };
  }
}
