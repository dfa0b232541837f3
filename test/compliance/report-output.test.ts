import { describe, expect, it } from "vitest";
import { complianceReport } from "../../src/compliance/compliance-report.js";
import { csvField, reportCsv } from "../../src/compliance/report-csv.js";
import { formatSeconds, reportMarkdown } from "../../src/compliance/report-markdown.js";
import type { ReceiptCheck } from "../../src/compliance/report-schema.js";
import { makeAudit, makeRequest } from "../support/fixtures.js";

const VALID: ReceiptCheck = { status: "valid", reason: null, kid: "kid-1", payload: null };

/** Three requests whose text an agent wrote to cause trouble in a spreadsheet or on GitHub. */
function smallReport() {
  const approved = makeRequest({
    id: "req_out1",
    taskDescription: "=HYPERLINK(\"https://evil.example\",\"click\") | @octo-org/admins see #12",
    onBehalfOf: "-dana",
    createdAt: "2026-11-02T09:00:00.000Z",
    status: "approved",
    decision: {
      action: "approve",
      status: "approved",
      decidedBy: { type: "human", login: "alice" },
      justification: "ok",
      decidedAt: "2026-11-02T10:30:15.000Z",
      via: "comment",
      editedFields: { amount: 80 },
      contextHash: "b".repeat(64),
    },
  });
  const ruled = makeRequest({
    id: "req_out2",
    taskDescription: "Refund, \"small\"\nsecond line",
    createdAt: "2026-11-02T11:00:00.000Z",
    status: "approved",
    decision: { action: "approve", status: "approved", decidedBy: { type: "rule", id: "small-refunds" }, justification: null, decidedAt: "2026-11-02T11:00:00.500Z", via: "rule" },
  });
  const pending = makeRequest({ id: "req_out3", taskDescription: "+1 <b>bold</b> [link](https://x.example)", createdAt: "2026-11-02T12:00:00.000Z" });
  return complianceReport({
    requests: [pending, ruled, approved],
    audit: [makeAudit(approved, { event: "escalated" })],
    receipts: new Map([
      ["req_out1", VALID],
      ["req_out2", { status: "invalid", reason: "its claim action is \"reject\", but the stored decision says \"approve\".", kid: "kid-1", payload: null }],
    ]),
    scope: { repo: "octo-org/payments", since: "2026-11-01T00:00:00.000Z", until: null, agent: null, truncated: false },
    keys: { issuer: "https://hitl.example.com", kids: ["kid-1"] },
    now: new Date("2026-11-03T00:00:00.000Z"),
  });
}

describe("the report's CSV", () => {
  it("quotes per RFC 4180 and defuses formulas", () => {
    expect(["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "plain", 'say "hi", twice', "two\nlines", 3.5, true, null].map(csvField)).toEqual([
      "'=1+1",
      "'+1",
      "'-1",
      "'@SUM(A1)",
      "'\tx",
      "plain",
      '"say ""hi"", twice"',
      '"two\nlines"',
      "3.5",
      "true",
      "",
    ]);
  });

  it("is pinned", () => {
    expect(reportCsv(smallReport())).toBe(
      [
        "id,repo,status,requested_by,on_behalf_of,pull_request_author,created_at,decided_at,decision_seconds,action,decided_by_kind,decided_by,via,deciders,escalations,deadline_reached,fallback,rule,edited_fields,receipt,receipt_reason,violations,task_description",
        'req_out1,octo-org/payments,approved,refund-agent,\'-dana,,2026-11-02T09:00:00.000Z,2026-11-02T10:30:15.000Z,5415,approve,human,alice,comment,alice approve via comment,1,false,,,"{""amount"":{""from"":120,""to"":80}}",valid,,,"\'=HYPERLINK(""https://evil.example"",""click"") | @octo-org/admins see #12"',
        'req_out2,octo-org/payments,approved,refund-agent,,,2026-11-02T11:00:00.000Z,2026-11-02T11:00:00.500Z,0.5,approve,rule,small-refunds,rule,,0,false,,small-refunds,,invalid,"its claim action is ""reject"", but the stored decision says ""approve"".",receipt_valid,"Refund, ""small""\nsecond line"',
        "req_out3,octo-org/payments,pending,refund-agent,,,2026-11-02T12:00:00.000Z,,,,,,,,0,false,,,,missing,,,'+1 <b>bold</b> [link](https://x.example)",
        "",
      ].join("\r\n"),
    );
  });
});

describe("the report's markdown", () => {
  it.each([
    [0, "0 s"],
    [59.6, "1 min"],
    [5415, "1 h 30 min"],
    [3600, "1 h"],
    [90061, "1 d 1 h"],
    [61, "1 min 1 s"],
  ])("writes %f seconds as %s", (seconds, text) => {
    expect(formatSeconds(seconds)).toBe(text);
  });

  it("is pinned, with agent text inert", () => {
    expect(reportMarkdown(smallReport())).toBe(PINNED_MARKDOWN);
  });
});

const PINNED_MARKDOWN = [
  "# Compliance report",
  "",
  "Requests opened in octo-org/payments from 1 Nov 2026 00:00 UTC to 3 Nov 2026 00:00 UTC; every agent's requests. Generated 3 Nov 2026 00:00 UTC.",
  "",
  "Receipts were checked against the keys of `https://hitl.example.com` (`kid-1`).",
  "",
  "## Summary",
  "",
  "| | |",
  "|---|---|",
  "| Requests | 3 |",
  "| Pending | 1 |",
  "| Approved | 2 |",
  "| Rejected | 0 |",
  "| Expired | 0 |",
  "| Cancelled | 0 |",
  "| Superseded | 0 |",
  "| Decided (the base of the rates below) | 2 |",
  "| Time to decision, p50 / p90 / p99 | 1 s / 1 h 30 min / 1 h 30 min |",
  "| Deadline reached | 0% |",
  "| Fallback applied | 0% |",
  "| Decided by people | 1 |",
  "| Decided by rule small-refunds | 1 (50%) |",
  "| Receipts valid / invalid / missing | 1 / 1 / 0 |",
  "| Violations | 1 |",
  "",
  "## Violations",
  "",
  "- `req_out2` receipt_valid: The decision's receipt is not valid: its claim action is \"reject\", but the stored decision says \"approve\".",
  "",
  "## Requests",
  "",
  "| Request | Task | Status | Requested by | Decided by | People | Via | Time to decision | Escalations | Deadline reached | Edits | Receipt | Checks |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  "| `req_out1` | =HYPERLINK(\"https:\u200d//evil.example\",\"click\") &#124; @\u200docto-org/admins see #\u200d12 | approved | refund-agent for -dana | human alice | alice approve | comment | 1 h 30 min | 1 | no | amount | valid | all hold |",
  "| `req_out2` | Refund, \"small\" second line | approved | refund-agent | rule small-refunds |  | rule | 1 s | 0 | no |  | invalid | failed: receipt_valid |",
  "| `req_out3` | +1 &lt;b&gt;bold&lt;/b&gt; &#91;link&#93;(https:\u200d//x.example) | pending | refund-agent |  |  |  | n/a | 0 | no |  | missing | none apply |",
  "",

].join("\n");

describe("a decision by prediction in the report", () => {
  it("names the prediction as what decided, and counts it with the automatic decisions", () => {
    const predicted = makeRequest({
      id: "req_pred",
      createdAt: "2026-11-02T09:00:00.000Z",
      status: "approved",
      decision: { action: "approve", status: "approved", decidedBy: { type: "prediction", id: "refund" }, justification: "Of the 12 most similar past refund requests (amount 40–95, currency EUR), people approved 12 (100%).", decidedAt: "2026-11-02T09:00:01.000Z", via: "prediction" },
    });
    const report = complianceReport({
      requests: [predicted],
      audit: [],
      receipts: new Map([["req_pred", VALID]]),
      scope: { repo: "octo-org/payments", since: null, until: null, agent: null, truncated: false },
      keys: { issuer: "https://hitl.example.com", kids: ["kid-1"] },
      now: new Date("2026-11-03T00:00:00.000Z"),
    });
    expect(report.requests[0]).toMatchObject({ decided_by: { kind: "prediction", id: "refund" }, via: "prediction", rule: "prediction", deciders: [] });
    expect(report.summary.auto_decisions).toEqual([{ rule: "prediction", decided: 1, share: 1 }]);
    expect(report.summary.human_decisions).toBe(0);
    expect(reportMarkdown(report)).toContain("| Decided by prediction | 1 (100%) |");
  });
});
