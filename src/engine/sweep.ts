import { finish } from "../core/decide.js";
import { delegatedRuleAbort, resolveFallback } from "../core/fallback.js";
import { needsPerson } from "../core/policy.js";
import { applyStep, nextStep, scheduleFault, type Step } from "../core/schedule.js";
import { PRIORITIES, type ApprovalRequest, type Decider } from "../core/types.js";
import { hasStages, outcomeOf, stagedNextAt } from "../core/vote.js";
import type { Engine, EngineDeps } from "./engine.js";

const BATCH = 500;
const LOCK_TTL_MS = 55_000;
const priorityRank = (request: ApprovalRequest) => PRIORITIES.length - PRIORITIES.indexOf(request.priority);

export interface SweepResult {
  /** False when another replica holds the sweep lock. */
  ran: boolean;
  escalated: number;
  warned: number;
  expired: number;
  delegated: number;
  /** Requests whose schedule could not be computed, taken out of the due index. */
  parked: number;
}

type Plan =
  | { type: "none" }
  | { type: "escalate" | "warn"; step: Extract<Step, { type: "escalate" | "warn" }>; escalation: ApprovalRequest["escalation"] }
  | { type: "fallback"; outcome: ReturnType<typeof resolveFallback> }
  | { type: "stage_ended"; next: ApprovalRequest };

/**
 * A stage whose timeout passed: it proceeds with its leading approval (`proceed_if_partial`),
 * or the request's fallback applies as at the deadline. A `delegate` fallback cannot hand a
 * stage on (its approvers are the stage's), so a stage that times out under one aborts.
 */
function stagePlan(request: ApprovalRequest & { stages: NonNullable<ApprovalRequest["stages"]> }, now: Date): Plan | null {
  if (now.getTime() >= Date.parse(request.deadline)) return null;
  const outcome = outcomeOf(request, now);
  if (outcome.type === "open") return null;
  const justification = `Stage ${outcome.stage} timed out at ${outcome.at}`;
  if (outcome.type === "decided") {
    const status = outcome.kind === "reject" ? "rejected" : "approved";
    const done = finish(request, { action: outcome.action, status, decidedBy: { type: "system", reason: justification }, justification, via: "fallback" }, now);
    return { type: "stage_ended", next: { ...done, decision: { ...done.decision!, approvals: request.votes ?? [], stage: outcome.stage, path: outcome.done } } };
  }
  const fallback = request.fallback.type === "delegate" ? { type: "abort" as const, reason: `${justification}; nobody decided` } : request.fallback;
  return { type: "fallback", outcome: resolveFallback({ ...request, fallback }, now) };
}

/** What the sweep will do to the request, from the pure core alone: a throw here is the data's fault. */
function plan(request: ApprovalRequest, now: Date): Plan {
  const staged = hasStages(request) && request.status === "pending" ? stagePlan(request, now) : null;
  if (staged) return staged;
  const step = nextStep(request, now);
  if (step.type === "none") return { type: "none" };
  if (step.type === "expire") return { type: "fallback", outcome: resolveFallback(request, now) };
  return { type: step.type, step, escalation: applyStep(request, step, now) };
}

/**
 * One pass of the scheduler: takes the requests whose next step is due (from the store's due
 * index, not a scan of all pending ones), most urgent first, and moves each one step. Each step
 * is a compare-and-set, so a decision landing meanwhile wins and nothing fires twice.
 */
export function createSweep(deps: EngineDeps, engine: Engine, owner: string) {
  const { store, clock, log } = deps;
  const { audit, job, channelJobs, finalJobs, commit, evaluate } = engine.internals;

  async function advance(request: ApprovalRequest, now: Date, result: SweepResult): Promise<void> {
    let planned: Plan;
    try {
      const fault = scheduleFault(request, now);
      if (fault) throw new Error(fault);
      planned = plan(request, now);
    } catch (error) {
      await park(request, error instanceof Error ? error.message : String(error), now, result);
      return;
    }
    if (planned.type === "none") {
      // A request with stages whose open stage's timeout is not yet due: look again then.
      const nextAt = stagedNextAt(request, now);
      if (hasStages(request) && nextAt !== request.escalation.nextAt) await commit({ ...request, escalation: { ...request.escalation, nextAt } }, request.version, [], []);
      return;
    }
    if (planned.type === "stage_ended") {
      const { next } = planned;
      if (await commit(next, request.version, [audit(next, "decided", next.decision!.decidedBy, { stage: next.decision!.stage, timedOut: true })], finalJobs(next, "decided"))) result.expired += 1;
      return;
    }
    if (planned.type !== "fallback") {
      const { step } = planned;
      const next = { ...request, escalation: planned.escalation, updatedAt: now.toISOString() };
      if (hasStages(next)) next.escalation = { ...next.escalation, nextAt: stagedNextAt(next, now) };
      const event = step.type === "escalate" ? "escalated" : "warned";
      const details = step.type === "escalate" ? { level: step.level, approvers: step.step.approvers, skipped: step.skipped } : { deadline: request.deadline };
      const notify = step.type === "escalate" ? step.step.notify.map((channel) => ({ ...job(next, "notify", event), channel })) : [];
      const told = channelJobs(next, event, step.type === "escalate" && step.step.notify.length > 0);
      if (await commit(next, request.version, [audit(next, event, { type: "system", reason: "sweep" }, details)], [job(next, "sync_surface", event), ...notify, ...told])) {
        result[step.type === "escalate" ? "escalated" : "warned"] += 1;
      }
      return;
    }
    const { outcome } = planned;
    if (outcome.type === "delegate") {
      const next = { ...request, approvers: outcome.approvers, deadline: outcome.deadline, fallback: outcome.fallback, escalation: outcome.escalation, updatedAt: now.toISOString() };
      const actor: Decider = { type: "fallback", fallback: "delegate" };
      if (await commit(next, request.version, [audit(next, "delegated", actor, { approvers: outcome.approvers, deadline: outcome.deadline })], [job(next, "sync_surface", "delegated")])) {
        result.delegated += 1;
      }
      return;
    }
    let next: ApprovalRequest;
    if (outcome.type === "delegate_rule") {
      next = await decideByDelegatedRule(request, outcome.ruleId, now);
    } else {
      next = finish(request, outcome.decision, now);
    }
    const actor = next.decision?.decidedBy ?? { type: "fallback", fallback: request.fallback.type };
    if (await commit(next, request.version, [audit(next, "expired", actor)], finalJobs(next, "expired"))) result.expired += 1;
  }

  /**
   * Takes a request whose schedule cannot be computed out of the due index, once, with the
   * reason on the request and in its audit trail: it would otherwise fail every minute and,
   * with enough of them, fill every batch ahead of the requests that can move.
   */
  async function park(request: ApprovalRequest, message: string, now: Date, result: SweepResult): Promise<void> {
    const error = { at: now.toISOString(), message };
    // A malformed stored schedule is filled out, so the parked request reads back whole.
    const stored = request.escalation as Partial<ApprovalRequest["escalation"]> | undefined;
    const escalation = { ladder: [], warningBeforeMs: null, level: 0, warned: false, ...stored, nextAt: null };
    const next: ApprovalRequest = { ...request, escalation, error, updatedAt: now.toISOString() };
    if (await commit(next, request.version, [audit(next, "error", { type: "system", reason: "sweep" }, { message })], [])) {
      result.parked += 1;
      log.error({ requestId: request.id, error: message }, "sweep parked a request whose schedule cannot be computed; it stays pending for people to decide");
    }
  }

  /** A `delegate` fallback naming a rule: that rule decides if it matches, else the request aborts. */
  async function decideByDelegatedRule(request: ApprovalRequest, ruleId: string, now: Date): Promise<ApprovalRequest> {
    const loaded = await deps.github.loadConfig(request.installationId, request.repo);
    const rule = loaded.config?.rules.find((candidate) => candidate.id === ruleId);
    if (!loaded.config || !rule) return finish(request, delegatedRuleAbort(request, ruleId, "missing", now), now);
    // Only that rule may decide, and only under require_human_above_risk, like every rule.
    const gate = loaded.config.auto_approve?.require_human_above_risk;
    const config = { ...loaded.config, rules: [rule], auto_approve: gate === undefined ? undefined : { require_human_above_risk: gate } };
    const evaluation = await evaluate(request, { ...loaded, config });
    if (evaluation.outcome.type !== "decide") {
      return finish(request, delegatedRuleAbort(request, ruleId, needsPerson(config, request.riskScore) ? "needs_person" : "no_match", now), now);
    }
    const { outcome } = evaluation;
    return finish(request, {
      action: outcome.action,
      status: "expired",
      decidedBy: outcome.decider,
      justification: `No decision before the deadline ${request.deadline}; delegated to rule ${ruleId}: ${outcome.reason}`,
      via: "fallback",
      fallback: request.fallback,
    }, now);
  }

  return async function sweep(): Promise<SweepResult> {
    const result: SweepResult = { ran: false, escalated: 0, warned: 0, expired: 0, delegated: 0, parked: 0 };
    if (!(await store.acquireLock("sweep", owner, LOCK_TTL_MS))) return result;
    result.ran = true;
    try {
      const now = clock();
      // Read defensively: one malformed stored request must not stop the sort, and with it everyone.
      const dueAt = (request: ApprovalRequest) => String(request.escalation?.nextAt ?? "");
      const due = (await store.due(now, BATCH)).sort((a, b) => priorityRank(b) - priorityRank(a) || dueAt(a).localeCompare(dueAt(b)));
      for (const request of due) {
        try {
          await advance(request, now, result);
        } catch (error) {
          log.error({ err: error, requestId: request.id }, "sweep could not advance a request; it stays due");
        }
      }
    } finally {
      await store.releaseLock("sweep", owner);
    }
    return result;
  };
}
