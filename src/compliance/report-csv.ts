import type { ComplianceReport, ReportRow } from "./report-schema.js";

/**
 * The report's requests as CSV (RFC 4180): a header row, CRLF line ends, fields quoted when they
 * hold a comma, a quote or a line break, quotes doubled. A text field that a spreadsheet would
 * read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading
 * `'`, so opening the file runs nothing.
 */

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(value: string | number | boolean | null): string {
  if (value === null) return "";
  if (typeof value !== "string") return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const COLUMNS: [string, (row: ReportRow) => string | number | boolean | null][] = [
  ["id", (r) => r.id],
  ["repo", (r) => r.repo],
  ["status", (r) => r.status],
  ["requested_by", (r) => r.requested_by],
  ["on_behalf_of", (r) => r.on_behalf_of],
  ["pull_request_author", (r) => r.pull_request_author],
  ["created_at", (r) => r.created_at],
  ["decided_at", (r) => r.decided_at],
  ["decision_seconds", (r) => r.decision_seconds],
  ["action", (r) => r.action],
  ["decided_by_kind", (r) => r.decided_by?.kind ?? null],
  ["decided_by", (r) => r.decided_by?.id ?? null],
  ["via", (r) => r.via],
  ["deciders", (r) => r.deciders.map((d) => `${d.login} ${d.action} via ${d.via}${d.stage === null ? "" : ` in ${d.stage}`}`).join("; ")],
  ["escalations", (r) => r.escalations],
  ["deadline_reached", (r) => r.deadline_reached],
  ["fallback", (r) => r.fallback],
  ["rule", (r) => r.rule],
  ["edited_fields", (r) => (r.edited_fields ? JSON.stringify(r.edited_fields) : null)],
  ["receipt", (r) => r.receipt.status],
  ["receipt_reason", (r) => r.receipt.reason],
  ["violations", (r) => r.violations.map((v) => (v.login ? `${v.check}: ${v.login}` : v.check)).join("; ")],
  ["task_description", (r) => r.task_description],
];

export function reportCsv(report: ComplianceReport): string {
  const lines = [COLUMNS.map(([name]) => name).join(","), ...report.requests.map((row) => COLUMNS.map(([, value]) => csvField(value(row))).join(","))];
  return lines.map((line) => `${line}\r\n`).join("");
}
