import { codeSpan, formatTime, safeCell, safeInline } from "../core/render/format.js";
import { STATUSES } from "../core/types.js";
import type { ComplianceReport, ReportRow } from "./report-schema.js";

/**
 * The report as markdown, to keep as evidence or paste into a ticket: the scope, the summary,
 * every violation, then one table row per request. Text from agents (task descriptions, the
 * accounts they name) is inert: it mentions, links and formats nothing.
 */

/** `45 s`, `12 min 5 s`, `3 h 20 min`, `2 d 4 h`: two units at most. */
export function formatSeconds(total: number): string {
  const s = Math.round(total);
  if (s < 60) return `${s} s`;
  const units: [number, string][] = [
    [86_400, "d"],
    [3_600, "h"],
    [60, "min"],
    [1, "s"],
  ];
  const first = units.findIndex(([size]) => s >= size);
  const [bigSize, bigName] = units[first]!;
  const [smallSize, smallName] = units[first + 1]!;
  const big = Math.floor(s / bigSize);
  const small = Math.floor((s - big * bigSize) / smallSize);
  return small > 0 ? `${big} ${bigName} ${small} ${smallName}` : `${big} ${bigName}`;
}

const percent = (share: number | null) => (share === null ? "n/a" : `${Math.round(share * 1000) / 10}%`);
const maybeSeconds = (value: number | null) => (value === null ? "n/a" : formatSeconds(value));

function scopeLine(report: ComplianceReport): string {
  const { scope } = report;
  const where = scope.repo ? `in ${safeInline(scope.repo)}` : "in every repository";
  const from = scope.since ? formatTime(scope.since) : "the first request";
  const to = scope.until ? formatTime(scope.until) : formatTime(report.generated_at);
  const whose = scope.agent ? `only the requests of agent ${safeInline(scope.agent)}` : "every agent's requests";
  const truncated = scope.truncated ? " More requests matched than one report holds: narrow the time range." : "";
  return `Requests opened ${where} from ${from} to ${to}; ${whose}. Generated ${formatTime(report.generated_at)}.${truncated}`;
}

function summaryTable(report: ComplianceReport): string[] {
  const { summary } = report;
  const rows: [string, string][] = [
    ["Requests", String(summary.requests)],
    ...STATUSES.map((status): [string, string] => [`${status[0]!.toUpperCase()}${status.slice(1)}`, String(summary.outcomes[status])]),
    ["Decided (the base of the rates below)", String(summary.decided)],
    ["Time to decision, p50 / p90 / p99", [summary.decision_seconds.p50, summary.decision_seconds.p90, summary.decision_seconds.p99].map(maybeSeconds).join(" / ")],
    ["Deadline reached", percent(summary.deadline_rate)],
    ["Fallback applied", percent(summary.fallback_rate)],
    ["Decided by people", String(summary.human_decisions)],
    ...summary.auto_decisions.map(({ rule, decided, share }): [string, string] => [`Decided by ${rule === "auto_approve" || rule === "prediction" ? rule : `rule ${safeCell(rule)}`}`, `${decided} (${percent(share)})`]),
    ["Receipts valid / invalid / missing", `${summary.receipts.valid} / ${summary.receipts.invalid} / ${summary.receipts.missing}`],
    ["Violations", String(summary.violations.length)],
  ];
  return ["| | |", "|---|---|", ...rows.map(([name, value]) => `| ${name} | ${value} |`)];
}

function requestRow(row: ReportRow): string {
  const decidedBy = row.decided_by ? `${row.decided_by.kind} ${safeCell(row.decided_by.id, 200)}` : "";
  const deciders = row.deciders.map((d) => `${safeCell(d.login)} ${safeCell(d.action)}${d.stage === null ? "" : ` (${safeCell(d.stage)})`}`).join(", ");
  const edits = row.edited_fields ? Object.keys(row.edited_fields).map((field) => safeCell(field)).join(", ") : "";
  const failed = row.checks.filter((check) => !check.ok).map((check) => check.check);
  const cells = [
    codeSpan(row.id),
    safeCell(row.task_description, 120),
    row.status,
    safeCell(row.requested_by) + (row.on_behalf_of ? ` for ${safeCell(row.on_behalf_of)}` : ""),
    decidedBy,
    deciders,
    row.via ?? "",
    maybeSeconds(row.decision_seconds),
    String(row.escalations),
    row.deadline_reached ? `yes${row.fallback ? ` (${row.fallback})` : ""}` : "no",
    edits,
    row.receipt.status,
    failed.length === 0 ? (row.checks.length === 0 ? "none apply" : "all hold") : `failed: ${failed.join(", ")}`,
  ];
  return `| ${cells.join(" | ")} |`;
}

export function reportMarkdown(report: ComplianceReport): string {
  const { violations } = report.summary;
  const lines = [
    "# Compliance report",
    "",
    scopeLine(report),
    "",
    `Receipts were checked against the keys of ${codeSpan(report.keys.issuer)} (${report.keys.kids.map(codeSpan).join(", ") || "none"}).`,
    "",
    "## Summary",
    "",
    ...summaryTable(report),
    "",
    "## Violations",
    "",
    ...(violations.length === 0 ? ["None."] : violations.map((v) => `- ${codeSpan(v.request_id)} ${v.check}: ${safeInline(v.message, 500)}`)),
    "",
    "## Requests",
    "",
    "| Request | Task | Status | Requested by | Decided by | People | Via | Time to decision | Escalations | Deadline reached | Edits | Receipt | Checks |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...report.requests.map(requestRow),
  ];
  return `${lines.join("\n")}\n`;
}
