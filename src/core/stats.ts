import type { ApprovalRequest } from "./types.js";

/**
 * Decision statistics of a repository's ended requests, per request type and per approver. Pure:
 * the caller chooses which requests (the window, the agent's own) and passes them in.
 */

/** Figures of one group of ended requests. Rates are fractions (0 to 1), rounded to 4 places; null when there is nothing to divide by. */
export interface GroupStats {
  count: number;
  /** Seconds from creation to the final state. */
  medianSeconds: number | null;
  p90Seconds: number | null;
  /** Approved among those approved or rejected (a deadline or cancellation is neither). */
  approvalRate: number | null;
  /** Ended because the deadline passed (status `expired`). */
  expiredRate: number;
  /**
   * Ended by a fallback that handed the agent something to do in place of a decision
   * (`use_default`, `degrade`, `retry_with_modification`, or an expired delegation): not a bare
   * `abort`.
   */
  fallbackRate: number;
  /** Decided without a person: by a rule, `auto_approve`, or a prediction. */
  automaticShare: number;
}

export interface Stats {
  /** Ended requests counted. */
  count: number;
  overall: GroupStats;
  /** By `requestType`; null for requests that gave none. Largest group first. */
  byType: { requestType: string | null; stats: GroupStats }[];
  /** By the person whose decision ended the request (rules, fallbacks and the agent are not approvers). Largest first. */
  byApprover: { approver: string; stats: GroupStats }[];
  /** Per rule in `mode: shadow` (by id, as requests recorded it): how often it matched and agreed with people. */
  shadow: ShadowStats[];
}

/** How a rule in `mode: shadow` fared against the people who decided the requests it matched. */
export interface ShadowStats {
  ruleId: string;
  /** Ended requests it matched. */
  matched: number;
  /** Of those, the ones a person decided (approved or rejected). */
  decidedByPeople: number;
  /** Of those, the ones where the person took the action the rule would have. */
  agreed: number;
  /** `agreed / decidedByPeople`, rounded to 4 places; null when no person decided any. */
  agreementRate: number | null;
}

const AUTOMATIC = new Set(["rule", "prediction"]);

/**
 * The `p`-th quantile (0 to 1) of sorted values, interpolated linearly between the two nearest
 * ranks (so the median of an even count is the mean of the middle two).
 */
export function quantile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const h = (sorted.length - 1) * p;
  const low = Math.floor(h);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low]! + (h - low) * (sorted[high]! - sorted[low]!);
}

const round = (value: number, places = 4) => Math.round(value * 10 ** places) / 10 ** places;
const rate = (part: number, whole: number) => (whole === 0 ? 0 : round(part / whole));

export function groupStats(requests: readonly ApprovalRequest[]): GroupStats {
  const seconds: number[] = [];
  let approved = 0;
  let rejected = 0;
  let expired = 0;
  let fallback = 0;
  let automatic = 0;
  for (const request of requests) {
    const decision = request.decision!;
    const took = (Date.parse(decision.decidedAt) - Date.parse(request.createdAt)) / 1000;
    if (Number.isFinite(took)) seconds.push(Math.max(0, took));
    // The decision's own status: a superseded request was approved first, and counts as that.
    if (decision.status === "approved") approved++;
    else if (decision.status === "rejected") rejected++;
    else if (decision.status === "expired") expired++;
    if (decision.decidedBy.type === "fallback" && decision.decidedBy.fallback !== "abort") fallback++;
    if (AUTOMATIC.has(decision.decidedBy.type)) automatic++;
  }
  seconds.sort((a, b) => a - b);
  const median = quantile(seconds, 0.5);
  const p90 = quantile(seconds, 0.9);
  return {
    count: requests.length,
    medianSeconds: median === null ? null : round(median, 3),
    p90Seconds: p90 === null ? null : round(p90, 3),
    approvalRate: approved + rejected === 0 ? null : round(approved / (approved + rejected)),
    expiredRate: rate(expired, requests.length),
    fallbackRate: rate(fallback, requests.length),
    automaticShare: rate(automatic, requests.length),
  };
}

function grouped<K>(requests: readonly ApprovalRequest[], keyOf: (request: ApprovalRequest) => K | undefined): Map<K, ApprovalRequest[]> {
  const groups = new Map<K, ApprovalRequest[]>();
  for (const request of requests) {
    const key = keyOf(request);
    if (key === undefined) continue;
    const group = groups.get(key);
    if (group) group.push(request);
    else groups.set(key, [request]);
  }
  return groups;
}

/** Largest group first, then by key, so the answer is the same for the same history. */
const byCountThenKey = <K>(a: [K, ApprovalRequest[]], b: [K, ApprovalRequest[]]) => b[1].length - a[1].length || String(a[0] ?? "").localeCompare(String(b[0] ?? ""));

/** Statistics of the requests that ended (with a decision) and were created at or after `since`; others are left out. */
export function decisionStats(requests: readonly ApprovalRequest[], since: Date): Stats {
  const from = since.getTime();
  const ended = requests.filter((request) => request.status !== "pending" && request.decision !== null && Date.parse(request.createdAt) >= from);
  const types = [...grouped(ended, (request) => request.requestType).entries()].sort(byCountThenKey);
  const approvers = [...grouped(ended, (request) => (request.decision!.decidedBy.type === "human" ? request.decision!.decidedBy.login : undefined)).entries()].sort(byCountThenKey);
  return {
    count: ended.length,
    overall: groupStats(ended),
    byType: types.map(([requestType, group]) => ({ requestType, stats: groupStats(group) })),
    byApprover: approvers.map(([approver, group]) => ({ approver, stats: groupStats(group) })),
    shadow: shadowStats(ended),
  };
}

/** Agreement of each shadow rule with people, most matched first, then by id. */
export function shadowStats(requests: readonly ApprovalRequest[]): ShadowStats[] {
  const byRule = new Map<string, ShadowStats>();
  for (const request of requests) {
    const decision = request.decision;
    for (const match of request.evaluation?.shadow ?? []) {
      const entry = byRule.get(match.ruleId) ?? { ruleId: match.ruleId, matched: 0, decidedByPeople: 0, agreed: 0, agreementRate: null };
      entry.matched++;
      if (decision?.decidedBy.type === "human" && (decision.status === "approved" || decision.status === "rejected" || decision.status === "superseded")) {
        entry.decidedByPeople++;
        if (decision.action === match.action && decision.editedFields === undefined) entry.agreed++;
      }
      byRule.set(match.ruleId, entry);
    }
  }
  return [...byRule.values()]
    .map((entry) => ({ ...entry, agreementRate: entry.decidedByPeople === 0 ? null : round(entry.agreed / entry.decidedByPeople) }))
    .sort((a, b) => b.matched - a.matched || a.ruleId.localeCompare(b.ruleId));
}
