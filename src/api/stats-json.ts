import type { GroupStats, Stats } from "../core/stats.js";

/** At most this many of the most recent ended requests of each final status are read for one answer. */
export const STATS_PER_STATUS = 2_000;
/** Without `since`: the last 30 days. */
export const STATS_DEFAULT_DAYS = 30;

function toApiGroup(stats: GroupStats) {
  return {
    count: stats.count,
    median_seconds: stats.medianSeconds,
    p90_seconds: stats.p90Seconds,
    approval_rate: stats.approvalRate,
    expired_rate: stats.expiredRate,
    fallback_rate: stats.fallbackRate,
    automatic_share: stats.automaticShare,
  };
}

/** `GET /api/v1/stats` in the API's snake_case. */
export function toApiStats(stats: Stats, window: { repo: string; since: Date; until: Date; truncated: boolean; scope: "own" | "all" }) {
  return {
    repo: window.repo,
    since: window.since.toISOString(),
    until: window.until.toISOString(),
    scope: window.scope,
    truncated: window.truncated,
    count: stats.count,
    overall: toApiGroup(stats.overall),
    by_type: stats.byType.map((group) => ({ request_type: group.requestType, ...toApiGroup(group.stats) })),
    by_approver: stats.byApprover.map((group) => ({ approver: group.approver, ...toApiGroup(group.stats) })),
    shadow_rules: stats.shadow.map((rule) => ({
      rule_id: rule.ruleId,
      matched: rule.matched,
      decided_by_people: rule.decidedByPeople,
      agreed: rule.agreed,
      agreement_rate: rule.agreementRate,
    })),
  };
}
