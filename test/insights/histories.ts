import type { ApprovalRequest, Decider } from "../../src/core/types.js";
import type { FieldValue, PastDecision } from "../../src/insights/predict.js";

/** A seeded PRNG (mulberry32), so generated histories are the same on every run. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const START = Date.parse("2026-01-01T00:00:00.000Z");

/** The n-th decision of a history, an hour after the one before. */
export function at(n: number): string {
  return new Date(START + n * 3_600_000).toISOString();
}

/**
 * A history, newest first, from decisions given oldest first: each `[approved, ...values]`.
 * Ids are `r0001`… in the order given, so the newest has the largest.
 */
export function history(oldestFirst: [boolean, ...FieldValue[]][]): PastDecision[] {
  return oldestFirst
    .map(([approved, ...values], n) => ({ id: `r${String(n).padStart(4, "0")}`, decidedAt: at(n), approved, values }))
    .reverse();
}

/** A stored request decided by `decidedBy` (a person by default), for the history reader. */
export function decidedRequest(id: string, n: number, data: Record<string, unknown>, status: "approved" | "rejected", extra: { decidedBy?: Decider; editedFields?: Record<string, unknown>; sensitive?: string[] } = {}): ApprovalRequest {
  return {
    id,
    repo: "octo-org/payments",
    requestType: "refund",
    decisionData: data,
    status,
    createdAt: at(n),
    ...(extra.sensitive ? { sensitive: { paths: extra.sensitive, sealed: "x" } } : {}),
    decision: {
      action: status === "approved" ? "approve" : "reject",
      status,
      decidedBy: extra.decidedBy ?? { type: "human", login: "alice" },
      justification: null,
      decidedAt: at(n),
      via: "comment",
      ...(extra.editedFields ? { editedFields: extra.editedFields } : {}),
    },
  } as ApprovalRequest;
}
