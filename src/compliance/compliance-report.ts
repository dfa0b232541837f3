import { actionKind } from "../core/decide.js";
import type { ApprovalRequest, AuditEntry, RequestStatus } from "../core/types.js";
import { STATUSES } from "../core/types.js";
import type { CheckId, ComplianceReport, ReceiptCheck, ReportRow, Violation } from "./report-schema.js";
import { deciderClaim } from "../receipts/receipt-payload.js";

/**
 * The compliance report, computed from plain data: the requests in scope, their audit entries,
 * and what checking each receipt found (receipt-checks.ts). No I/O, no clock of its own.
 */
export interface ReportInput {
  requests: ApprovalRequest[];
  audit: AuditEntry[];
  /** By request id; a request without an entry has no receipt. */
  receipts: ReadonlyMap<string, ReceiptCheck>;
  scope: ComplianceReport["scope"];
  keys: ComplianceReport["keys"];
  now: Date;
}

/** Requests that were decided: the base of time-to-decision and of every rate. */
const DECIDED: ReadonlySet<RequestStatus> = new Set(["approved", "rejected", "expired", "superseded"]);

const MISSING_RECEIPT: ReceiptCheck = { status: "missing", reason: null, kid: null, payload: null };

/** Every person whose decision or vote stood, and how. */
function decidersOf(request: ApprovalRequest): ReportRow["deciders"] {
  const decision = request.decision;
  if (!decision) return [];
  if (decision.approvals) {
    return decision.approvals.map((vote) => ({ login: vote.by, action: vote.action, kind: actionKind(request, vote.action), via: vote.via, stage: vote.stage, at: vote.at }));
  }
  if (decision.decidedBy.type !== "human") return [];
  return [{ login: decision.decidedBy.login, action: decision.action, kind: actionKind(request, decision.action), via: decision.via, stage: null, at: decision.decidedAt }];
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * The separation-of-duties checks that apply to a request, and what each found. The approvers
 * are the people whose approving decision or vote stood.
 */
function dutyChecks(request: ApprovalRequest, deciders: ReportRow["deciders"]): { checks: ReportRow["checks"]; violations: Violation[] } {
  const checks: ReportRow["checks"] = [];
  const violations: Violation[] = [];
  const approvers = deciders.filter((decider) => decider.kind === "approve");
  const run = (check: CheckId, offenders: { login: string | null; message: string }[]) => {
    checks.push({ check, ok: offenders.length === 0 });
    violations.push(...offenders.map((offender) => ({ request_id: request.id, check, ...offender })));
  };
  if (approvers.length > 0) {
    const agentLogins = request.agentLogins ?? [];
    run(
      "not_requester",
      approvers
        .filter((approver) => same(approver.login, request.requestedBy) || agentLogins.some((login) => same(login, approver.login)))
        .map((approver) => ({ login: approver.login, message: `${approver.login} approved a request opened by agent ${request.requestedBy}, whose own account it is.` })),
    );
    const onBehalfOf = request.onBehalfOf;
    if (onBehalfOf) {
      run(
        "not_on_behalf_of",
        approvers.filter((approver) => same(approver.login, onBehalfOf)).map((approver) => ({ login: approver.login, message: `${approver.login} approved a request made on their own behalf.` })),
      );
    }
    const author = request.surfaceRef?.author;
    if (author) {
      run(
        "not_pull_request_author",
        approvers.filter((approver) => same(approver.login, author)).map((approver) => ({ login: approver.login, message: `${approver.login} approved their own pull request #${request.surfaceRef!.number}.` })),
      );
    }
    run(
      "no_bot_approver",
      approvers.filter((approver) => /\[bot\]$/i.test(approver.login)).map((approver) => ({ login: approver.login, message: `${approver.login} is a bot; only people approve.` })),
    );
  }
  if (request.stages && approvers.some((approver) => approver.stage !== null)) {
    const firstStage = new Map<string, string>();
    const repeats: { login: string; message: string }[] = [];
    for (const stage of request.stages) {
      for (const approver of approvers.filter((candidate) => candidate.stage === stage.name)) {
        const key = approver.login.toLowerCase();
        const earlier = firstStage.get(key);
        if (earlier === undefined) firstStage.set(key, stage.name);
        else if (!stage.allowRepeatApprovers) repeats.push({ login: approver.login, message: `${approver.login} approved in stage ${earlier} and again in stage ${stage.name}, which asks for other people.` });
      }
    }
    run("distinct_stage_approvers", repeats);
  }
  return { checks, violations };
}

function receiptFinding(request: ApprovalRequest, receipt: ReceiptCheck): Violation | null {
  if (receipt.status === "valid") return null;
  const message =
    receipt.status === "missing"
      ? "The decision has no receipt: it was made before receipts existed, or its receipt was removed from the store."
      : `The decision's receipt is not valid: ${receipt.reason}`;
  return { request_id: request.id, check: "receipt_valid", login: null, message };
}

function row(request: ApprovalRequest, entries: AuditEntry[], receipts: ReadonlyMap<string, ReceiptCheck>): ReportRow {
  const decision = request.decision;
  const deciders = decidersOf(request);
  const { checks, violations } = dutyChecks(request, deciders);
  const receipt = decision ? (receipts.get(request.id) ?? MISSING_RECEIPT) : MISSING_RECEIPT;
  if (decision) {
    const finding = receiptFinding(request, receipt);
    checks.push({ check: "receipt_valid", ok: finding === null });
    if (finding) violations.push(finding);
  }
  const delegated = entries.some((entry) => entry.event === "delegated");
  const stageTimedOut = (decision?.path ?? []).some((end) => end.why === "timeout_partial");
  const fallback = decision?.fallback?.type ?? (decision?.decidedBy.type === "fallback" ? decision.decidedBy.fallback : delegated ? "delegate" : null);
  const rule = decision?.decidedBy.type === "rule" ? decision.decidedBy.id : decision?.via === "auto_approve" ? "auto_approve" : decision?.decidedBy.type === "prediction" ? "prediction" : null;
  const edited = decision?.editedFields;
  return {
    id: request.id,
    repo: request.repo,
    task_description: request.taskDescription,
    requested_by: request.requestedBy,
    on_behalf_of: request.onBehalfOf ?? null,
    agent_logins: request.agentLogins ?? [],
    pull_request_author: request.surfaceRef?.author ?? null,
    status: request.status,
    created_at: request.createdAt,
    decided_at: decision?.decidedAt ?? null,
    decision_seconds: decision ? (Date.parse(decision.decidedAt) - Date.parse(request.createdAt)) / 1000 : null,
    action: decision?.action ?? null,
    decided_by: decision ? deciderClaim(decision.decidedBy) : null,
    via: decision?.via ?? null,
    deciders,
    escalations: entries.filter((entry) => entry.event === "escalated").length,
    deadline_reached: request.status === "expired" || delegated || stageTimedOut,
    fallback,
    rule,
    edited_fields: edited ? Object.fromEntries(Object.entries(edited).map(([field, to]) => [field, { from: request.decisionData[field] ?? null, to }])) : null,
    receipt,
    checks,
    violations,
  };
}

/** Nearest-rank percentile of ascending `sorted`: the smallest value with at least p% of the values at or below it. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const rate = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000);

export function complianceReport(input: ReportInput): ComplianceReport {
  const byRequest = new Map<string, AuditEntry[]>();
  for (const entry of input.audit) byRequest.set(entry.requestId, [...(byRequest.get(entry.requestId) ?? []), entry]);
  const requests = [...input.requests].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  const rows = requests.map((request) => row(request, byRequest.get(request.id) ?? [], input.receipts));

  const outcomes = Object.fromEntries(STATUSES.map((status) => [status, rows.filter((r) => r.status === status).length])) as Record<RequestStatus, number>;
  const decided = rows.filter((r) => DECIDED.has(r.status) && r.decision_seconds !== null);
  const times = decided.map((r) => r.decision_seconds!).sort((a, b) => a - b);
  const autoDecisions = new Map<string, number>();
  for (const r of decided) if (r.rule) autoDecisions.set(r.rule, (autoDecisions.get(r.rule) ?? 0) + 1);

  return {
    generated_at: input.now.toISOString(),
    scope: input.scope,
    keys: input.keys,
    summary: {
      requests: rows.length,
      outcomes,
      decided: decided.length,
      decision_seconds: { count: times.length, p50: percentile(times, 50), p90: percentile(times, 90), p99: percentile(times, 99) },
      deadline_rate: rate(decided.filter((r) => r.deadline_reached).length, decided.length),
      fallback_rate: rate(decided.filter((r) => r.fallback !== null).length, decided.length),
      human_decisions: decided.filter((r) => r.decided_by?.kind === "human").length,
      auto_decisions: [...autoDecisions.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([rule, count]) => ({ rule, decided: count, share: rate(count, decided.length)! })),
      receipts: {
        valid: rows.filter((r) => r.receipt.status === "valid").length,
        invalid: rows.filter((r) => r.receipt.status === "invalid").length,
        missing: rows.filter((r) => r.decided_at !== null && r.receipt.status === "missing").length,
      },
      violations: rows.flatMap((r) => r.violations),
    },
    requests: rows,
  };
}
