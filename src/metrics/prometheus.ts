import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { PRIORITIES, type Priority } from "../core/types.js";
import type { Logger } from "../engine/ports.js";
import type { Metrics } from "./metrics.js";

/** From one minute to a week: how long people take, on the scale deadlines are set in. */
export const DECISION_BUCKETS_SECONDS = [60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 345_600, 604_800];
/** Store calls: a local SQLite read is sub-millisecond, a Redis round trip a few milliseconds. */
export const STORE_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Distinct repositories (and request types) labelled before the rest are counted as `other`. */
export const DEFAULT_LABEL_CAP = 100;
/** A request type is agent text: only short, plain names become label values. */
const PLAIN_LABEL = /^[a-z0-9][a-z0-9_.:/-]{0,63}$/;

export interface PromMetricsOptions {
  /** Pending requests by priority, counted in the store at each scrape (global, not per replica). */
  pending?: () => Promise<Record<Priority, number>>;
  /** Distinct `repository` and `type` label values kept (default 100 each); later ones become `other`. */
  labelCap?: number;
  /** prom-client's process metrics (CPU, memory, event loop lag, GC); default on. */
  defaultMetrics?: boolean;
  log?: Logger;
}

/**
 * A bounded set of label values: the first `cap` distinct values are kept as they are, later
 * ones (and values that are not plain names) are `other`, so a flood of repositories or
 * agent-chosen request types cannot grow the scrape without limit.
 */
function boundedLabel(cap: number) {
  const seen = new Set<string>();
  return (value: string): string => {
    if (seen.has(value)) return value;
    if (!PLAIN_LABEL.test(value) || seen.size >= cap) return "other";
    seen.add(value);
    return value;
  };
}

/** The `Metrics` port on prom-client, in a registry of its own (several apps in one process do not collide). */
export function createPromMetrics(options: PromMetricsOptions = {}): { metrics: Metrics; registry: Registry } {
  const registry = new Registry();
  const registers = [registry];
  const cap = options.labelCap ?? DEFAULT_LABEL_CAP;
  const repository = boundedLabel(cap);
  const requestType = boundedLabel(cap);

  const opened = new Counter({ name: "hitl_requests_opened_total", help: "Approval requests opened, by repository, request type and priority.", labelNames: ["repository", "type", "priority"], registers });
  const ended = new Counter({
    name: "hitl_decisions_total",
    help: "Requests that reached a final state, by repository, outcome (final status), decider kind and how the decision arrived.",
    labelNames: ["repository", "outcome", "decider", "via"],
    registers,
  });
  const timeToDecision = new Histogram({
    name: "hitl_time_to_decision_seconds",
    help: "Seconds from a request's creation to its final state, by outcome and decider kind.",
    labelNames: ["outcome", "decider"],
    buckets: DECISION_BUCKETS_SECONDS,
    registers,
  });
  const votes = new Counter({ name: "hitl_votes_total", help: "Votes on requests with stages or quorum, by kind (cast, retracted).", labelNames: ["kind"], registers });
  const escalations = new Counter({ name: "hitl_escalations_total", help: "Escalation steps, by kind (escalated, warned, delegated, stage_opened).", labelNames: ["kind"], registers });
  const fallbacks = new Counter({ name: "hitl_fallbacks_total", help: "Fallbacks applied at a deadline, by fallback type.", labelNames: ["kind"], registers });
  const sends = new Counter({ name: "hitl_sends_total", help: "Callbacks and channel posts attempted, by channel kind (callback, slack, webhook).", labelNames: ["channel"], registers });
  const sendFailures = new Counter({ name: "hitl_send_failures_total", help: "Callbacks and channel posts that failed (each try), by channel kind.", labelNames: ["channel"], registers });
  const github = new Counter({ name: "hitl_github_requests_total", help: "GitHub API calls, by route template and HTTP status (0: no answer).", labelNames: ["route", "status"], registers });
  const rateLimit = new Gauge({ name: "hitl_github_rate_limit_remaining", help: "Calls left in the GitHub rate limit window, as last answered to this replica, by resource.", labelNames: ["resource"], registers });
  const jobs = new Counter({ name: "hitl_jobs_total", help: "Jobs queued, run (succeeded), retried and failed (given up), by kind.", labelNames: ["kind", "outcome"], registers });
  const store = new Histogram({ name: "hitl_store_operation_duration_seconds", help: "Seconds a store operation took, by operation.", labelNames: ["operation"], buckets: STORE_BUCKETS_SECONDS, registers });

  if (options.pending) {
    const pending = options.pending;
    new Gauge({
      name: "hitl_requests_pending",
      help: "Requests waiting for a decision, by priority, counted in the store at scrape time (the same on every replica).",
      labelNames: ["priority"],
      registers,
      async collect() {
        try {
          const counts = await pending();
          for (const priority of PRIORITIES) this.set({ priority }, counts[priority]);
        } catch (error) {
          // A scrape still answers with everything else; the gauge is left out until the store answers.
          this.reset();
          options.log?.warn({ err: error }, "metrics: could not count pending requests");
        }
      },
    });
  }
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const metrics: Metrics = {
    requestOpened: (labels) => opened.inc({ repository: repository(labels.repository), type: labels.type === null ? "none" : requestType(labels.type), priority: labels.priority }),
    requestEnded(labels, seconds) {
      ended.inc({ repository: repository(labels.repository), outcome: labels.outcome, decider: labels.decider, via: labels.via });
      timeToDecision.observe({ outcome: labels.outcome, decider: labels.decider }, Math.max(0, seconds));
    },
    vote: (kind) => votes.inc({ kind }),
    escalation: (kind) => escalations.inc({ kind }),
    fallback: (kind) => fallbacks.inc({ kind }),
    send(channel, ok) {
      sends.inc({ channel });
      if (!ok) sendFailures.inc({ channel });
    },
    githubCall: (route, status) => github.inc({ route, status: String(status) }),
    githubRateLimit: (resource, remaining) => rateLimit.set({ resource }, remaining),
    job: (kind, outcome) => jobs.inc({ kind, outcome }),
    storeOperation: (operation, seconds) => store.observe({ operation }, seconds),
  };
  return { metrics, registry };
}
