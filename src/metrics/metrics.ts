import type { JobKind } from "../core/types.js";

/** Who decided, as a metric label: the `Decider` type, with `human` named `person`. */
export const DECIDER_KINDS = ["person", "rule", "prediction", "fallback", "agent", "system"] as const;
export type DeciderKind = (typeof DECIDER_KINDS)[number] | "other";

/** Where an outbound message went: the agent's callback, or a channel by its kind. */
export type SendChannel = "callback" | "slack" | "webhook";

export type JobOutcome = "queued" | "run" | "retried" | "failed";

/**
 * What hitl counts, as plain calls. The engine, the job runner and the GitHub client report
 * through this port and never see prom-client; `NO_METRICS` is the port for tests and tools
 * that do not look. Labels are passed raw: the Prometheus adapter bounds them.
 */
export interface Metrics {
  requestOpened(labels: { repository: string; type: string | null; priority: string }): void;
  /** A request reached a final state; `seconds` from its creation. */
  requestEnded(labels: { repository: string; outcome: string; decider: DeciderKind; via: string }, seconds: number): void;
  vote(kind: "cast" | "retracted"): void;
  /** `escalated`, `warned`, `delegated`, `stage_opened`. */
  escalation(kind: string): void;
  /** The fallback type that applied (`abort`, `use_default`, `delegate`, …). */
  fallback(kind: string): void;
  send(channel: SendChannel, ok: boolean): void;
  /** `route` is the template (`POST /repos/{owner}/{repo}/issues`); status 0 when no answer came. */
  githubCall(route: string, status: number): void;
  githubRateLimit(resource: string, remaining: number): void;
  job(kind: JobKind, outcome: JobOutcome): void;
  storeOperation(operation: string, seconds: number): void;
}

const nothing = (): void => {};

export const NO_METRICS: Metrics = {
  requestOpened: nothing,
  requestEnded: nothing,
  vote: nothing,
  escalation: nothing,
  fallback: nothing,
  send: nothing,
  githubCall: nothing,
  githubRateLimit: nothing,
  job: nothing,
  storeOperation: nothing,
};

const KNOWN_DECIDERS = new Set<string>(DECIDER_KINDS);

/** The decider kind of a `Decider` (or of a kind the core may add later, such as `prediction`). */
export function deciderKind(decider: { type: string }): DeciderKind {
  if (decider.type === "human") return "person";
  return KNOWN_DECIDERS.has(decider.type) ? (decider.type as DeciderKind) : "other";
}
