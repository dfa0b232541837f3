import type { Agent } from "../engine/context.js";
import type { ApprovalRequest, AuditEntry } from "../core/types.js";
import type { ListQuery } from "../store/store.js";
import type { PublicJwk } from "../receipts/signing-keys.js";
import { complianceReport } from "./compliance-report.js";
import { checkReceipts } from "./receipt-checks.js";
import type { ReportQuery } from "./report-query.js";
import type { ComplianceReport } from "./report-schema.js";

/** One report holds at most this many requests; past it, the report says it was truncated. */
export const REPORT_MAX_REQUESTS = 10_000;
/** Audit entries read per repository for a report. */
const AUDIT_PER_REPO = 200_000;

export interface ReportSources {
  /** The engine's reads, which keep an agent without read-all to its own requests. */
  list(query: ListQuery, agent: Agent): Promise<ApprovalRequest[]>;
  audit(repo: string, limit: number | undefined, agent: Agent): Promise<AuditEntry[]>;
  jwks(): Promise<{ keys: PublicJwk[] }>;
  issuer(): Promise<string>;
  clock: () => Date;
}

/**
 * Reads what a report needs (the requests in scope, their repositories' audit entries, the
 * published keys), checks every receipt, and computes the report. An agent without read-all
 * gets a report of its own requests only, and the report's scope says so.
 */
export async function gatherComplianceReport(sources: ReportSources, query: Omit<ReportQuery, "format">, agent: Agent): Promise<ComplianceReport> {
  const fetched = await sources.list({ repo: query.repo, limit: REPORT_MAX_REQUESTS + 1 }, agent);
  const since = query.since === undefined ? -Infinity : Date.parse(query.since);
  const until = query.until === undefined ? Infinity : Date.parse(query.until);
  const inRange = (request: ApprovalRequest) => {
    const at = Date.parse(request.createdAt);
    return at >= since && at < until;
  };
  const kept = fetched.slice(0, REPORT_MAX_REQUESTS);
  const oldest = kept.at(-1);
  // Newest first: what was left out is older than everything kept, so it matters only when the
  // oldest kept is still inside the range.
  const truncated = fetched.length > REPORT_MAX_REQUESTS && oldest !== undefined && Date.parse(oldest.createdAt) >= since;
  const requests = kept.filter(inRange);
  const ids = new Set(requests.map((request) => request.id));
  const audit: AuditEntry[] = [];
  for (const repo of [...new Set(requests.map((request) => request.repo))].sort()) {
    audit.push(...(await sources.audit(repo, AUDIT_PER_REPO, agent)).filter((entry) => ids.has(entry.requestId)));
  }
  const jwks = await sources.jwks();
  return complianceReport({
    requests,
    audit,
    receipts: await checkReceipts(requests, jwks),
    scope: { repo: query.repo ?? null, since: query.since ?? null, until: query.until ?? null, agent: agent.readAll ? null : agent.name, truncated },
    keys: { issuer: await sources.issuer(), kids: jwks.keys.map((key) => key.kid) },
    now: sources.clock(),
  });
}
