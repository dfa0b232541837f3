import type { ApprovalRequest, AuditEntry } from "../core/types.js";
import type { Logger } from "../engine/ports.js";
import type { Effects } from "../store/store.js";
import { deciderKind, type Metrics } from "./metrics.js";

const ESCALATION_EVENTS = new Set(["escalated", "warned", "delegated", "stage_opened"]);

/**
 * What a committed write tells the operator: one info line per audit entry (a state change),
 * so a request's life can be followed by its id in any log system, and the counters it moves.
 * Called only after the store made the write durable.
 */
export function observeStateChanges(metrics: Metrics, log: Logger) {
  return function committed(request: ApprovalRequest, effects: Effects): void {
    for (const entry of effects.audit ?? []) {
      const ended = entry.status !== "pending" && isFinal(entry) && request.decision !== null;
      const via = ended ? request.decision!.via : null;
      log.info(
        { requestId: entry.requestId, repo: entry.repo, event: entry.event, status: entry.status, decider: deciderKind(entry.actor), via },
        `request ${entry.event}`,
      );
      count(metrics, request, entry, ended);
    }
    for (const job of effects.jobs ?? []) metrics.job(job.kind, "queued");
  };
}

/** A change that ends a request with a decision of its own; `superseded` only retires an approval already counted. */
function isFinal(entry: AuditEntry): boolean {
  return entry.event === "decided" || entry.event === "expired" || entry.event === "cancelled";
}

function count(metrics: Metrics, request: ApprovalRequest, entry: AuditEntry, ended: boolean): void {
  if (entry.event === "created") {
    metrics.requestOpened({ repository: request.repo, type: request.requestType, priority: request.priority });
  } else if (entry.event === "voted") {
    metrics.vote("cast");
  } else if (entry.event === "vote_retracted") {
    metrics.vote("retracted");
  } else if (ESCALATION_EVENTS.has(entry.event)) {
    metrics.escalation(entry.event);
  }
  if (entry.actor.type === "fallback") metrics.fallback(entry.actor.fallback);
  if (ended) {
    const decision = request.decision!;
    const seconds = (Date.parse(decision.decidedAt) - Date.parse(request.createdAt)) / 1000;
    metrics.requestEnded({ repository: request.repo, outcome: request.status, decider: deciderKind(decision.decidedBy), via: decision.via }, Number.isFinite(seconds) ? seconds : 0);
  }
}
