import { describe, expect, it } from "vitest";
import { findRequestMarker, requestMarker } from "../../../src/core/render/markers.js";
import { MARKDOWN_LIMIT, renderIssueTitle, renderRequestBody, renderRequestSummary, renderStatusLine } from "../../../src/core/render/request-markdown.js";
import type { ApprovalRequest, Decision, Evaluation } from "../../../src/core/types.js";
import { makeRequest } from "../../support/fixtures.js";

const ZWJ = "\u200D";
const now = new Date("2026-11-24T10:00:00.000Z");
const markerKey = "marker-key-for-tests";
const MARKER = requestMarker("req_abc123", markerKey);

function request(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return makeRequest({ id: "req_abc123", ...overrides });
}

function decided(decision: Partial<Decision>, overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  const full: Decision = {
    action: "approve",
    status: "approved",
    decidedBy: { type: "human", login: "alice" },
    justification: null,
    decidedAt: "2026-11-20T09:00:00.000Z",
    via: "comment",
    ...decision,
  };
  return request({ status: full.status, decision: full, ...overrides });
}

function evaluation(overrides: Partial<Evaluation>): Evaluation {
  return { outcome: { type: "human", reason: "no rule matched" }, rules: [], closestRuleId: null, configError: null, ...overrides };
}

/** Mentions GitHub would notify: outside code spans, not after a letter or digit, no zero-width joiner. */
function pings(markdown: string): string[] {
  return markdown.replace(/(`+)[^`]*?\1/g, "").match(/(?<![A-Za-z0-9])@[A-Za-z0-9][\w/-]*/g) ?? [];
}

/** The part of a body between two headings (or to the end). */
function section(body: string, heading: string): string {
  const start = body.indexOf(heading);
  const next = body.indexOf("\n### ", start + heading.length);
  return body.slice(start, next === -1 ? undefined : next);
}

describe("renderIssueTitle", () => {
  const at = (deadline: string, overrides: Partial<ApprovalRequest> = {}) => renderIssueTitle(request({ deadline, ...overrides }), now);

  it("says a decision is needed, the priority when high or critical, and a deadline within 48 hours", () => {
    expect(at("2026-11-24T12:00:00.000Z")).toBe("Approval needed (high): Refund order 1234 — by Tue 12:00 UTC");
    expect(at("2026-11-26T10:00:00.000Z", { priority: "critical" })).toBe("Approval needed (critical): Refund order 1234 — by Thu 10:00 UTC");
    expect(at("2026-11-26T10:00:01.000Z")).toBe("Approval needed (high): Refund order 1234");
    expect(at("2026-11-25T09:30:00.000Z", { priority: "normal" })).toBe("Approval needed: Refund order 1234 — by Wed 09:30 UTC");
    expect(at("2026-11-27T10:00:00.000Z", { priority: "low" })).toBe("Approval needed: Refund order 1234");
    expect(at("2026-11-24T09:00:00.000Z")).toBe("Approval needed (high): Refund order 1234");
  });

  it("cuts a long task with an ellipsis so the whole stays within 80 characters, on one line", () => {
    const title = at("2026-11-24T12:00:00.000Z", { taskDescription: `Refund\norder ${"1234 ".repeat(100)}` });
    expect(title).toBe("Approval needed (high): Refund order 1234 1234 1234 1234… — by Tue 12:00 UTC");
    expect(title.length).toBeLessThanOrEqual(80);
    expect(at("2026-12-24T12:00:00.000Z", { taskDescription: "x".repeat(200) })).toBe(`Approval needed (high): ${"x".repeat(55)}…`);
  });

  it("carries no mention, reference, link or marker of the agent's", () => {
    expect(at("2026-12-24T12:00:00.000Z", { taskDescription: "Ping @alice on #12 <!-- hitl:request:req_x -->" })).toBe(
      `Approval needed (high): Ping @${ZWJ}alice on #${ZWJ}12 <${ZWJ}!-- hitl:request:req_x -->`,
    );
    expect(at("2026-12-24T12:00:00.000Z", { taskDescription: " \u200B " })).toBe("Approval needed (high): (no description)");
  });
});

describe("renderStatusLine", () => {
  const line = (r: ApprovalRequest, at = now) => renderStatusLine(r, at);

  it("says what each state is, by whom, when and how, naming people without pinging them", () => {
    expect(line(request())).toBe("⏳ **Waiting for a decision.** If nobody decides by 27 Nov 2026 10:00 UTC, the request is aborted: nobody answered.");
    expect(line(request(), new Date("2026-11-27T10:00:00.000Z"))).toBe(
      "⏳ **Waiting for a decision.** The deadline, 27 Nov 2026 10:00 UTC, has passed, so the request is aborted: nobody answered.",
    );
    expect(
      line(
        request({
          escalation: { ladder: [{ afterMs: 4 * 3_600_000, approvers: ["bob"], message: null, notify: [] }], warningBeforeMs: null, level: 1, warned: false, nextAt: null },
        }),
      ),
    ).toBe(`⏫ **Escalated** to @${ZWJ}bob (level 1, 24 Nov 2026 14:00 UTC). If nobody decides by 27 Nov 2026 10:00 UTC, the request is aborted: nobody answered.`);
    expect(line(request({ approvers: ["carol"], fallback: { type: "abort", reason: "No decision after delegation" }, deadline: "2026-11-28T10:00:00.000Z" }))).toBe(
      `↪️ **Delegated** to @${ZWJ}carol: nobody decided by the first deadline. If nobody decides by 28 Nov 2026 10:00 UTC, the request is aborted: No decision after delegation.`,
    );
    expect(line(decided({ justification: "looks fine", decidedAt: "2026-11-24T10:05:00.000Z" }))).toBe(
      `✅ **Approved** by @${ZWJ}alice with a comment on 24 Nov 2026 10:05 UTC: looks fine.`,
    );
    expect(line(decided({ action: "reject", status: "rejected", via: "review", reasonCode: "too_high", justification: "cap is $100." }))).toBe(
      `❌ **Rejected** by @${ZWJ}alice with a review on 20 Nov 2026 09:00 UTC (reason \`too_high\`): cap is &#36;100.`,
    );
    expect(line(decided({ action: "reject", status: "rejected", via: "issue_closed", justification: null }))).toBe(
      `❌ **Rejected** by @${ZWJ}alice by closing the issue on 20 Nov 2026 09:00 UTC.`,
    );
    expect(line(decided({ via: "check_run", editedFields: { amount: 80 } }))).toBe(
      `✅ **Approved** by @${ZWJ}alice with the check run's button on 20 Nov 2026 09:00 UTC. Changed: \`amount\`.`,
    );
    expect(
      line(
        decided(
          { action: "refund-half", via: "comment" },
          { availableActions: [{ id: "approve", label: "Refund" }, { id: "refund-half", label: "Refund half", kind: "approve" }, { id: "reject", label: "Deny" }] },
        ),
      ),
    ).toBe(`✅ **Approved: Refund half** by @${ZWJ}alice with a comment on 20 Nov 2026 09:00 UTC.`);
    expect(line(decided({ action: "abort", status: "expired", decidedBy: { type: "fallback", fallback: "abort" }, via: "fallback", decidedAt: "2026-11-27T10:00:00.000Z" }))).toBe(
      "⌛ **Expired** on 27 Nov 2026 10:00 UTC: nobody decided by 27 Nov 2026 10:00 UTC, so the request is aborted: nobody answered.",
    );
    expect(line(decided({ action: "cancel", status: "cancelled", decidedBy: { type: "agent", name: "refund-agent" }, via: "api", justification: "customer withdrew" }))).toBe(
      "🚫 **Cancelled** by the agent `refund-agent` through the API on 20 Nov 2026 09:00 UTC: customer withdrew.",
    );
    expect(
      line(decided({ action: "cancel", status: "cancelled", decidedBy: { type: "system", reason: "edited" }, via: "issue_edited", justification: "Its title was edited on GitHub by @mallory." })),
    ).toBe(`🚫 **Cancelled** by hitl as the issue was edited on 20 Nov 2026 09:00 UTC: Its title was edited on GitHub by @${ZWJ}mallory.`);
    expect(line(decided({ via: "comment" }, { status: "superseded", supersededBy: "req_next1", updatedAt: "2026-11-22T08:00:00.000Z" }))).toBe(
      `↪️ **Superseded** on 22 Nov 2026 08:00 UTC: it was approved by @${ZWJ}alice on 20 Nov 2026 09:00 UTC, but the agent's context changed, so it asked again in request \`req_next1\`.`,
    );
    expect(line(decided({ via: "rule", decidedBy: { type: "rule", id: "small-refunds" } }))).toBe("✅ **Approved** by rule `small-refunds` on 20 Nov 2026 09:00 UTC.");
  });
});

describe("renderRequestBody", () => {
  it("renders a typical request", () => {
    const ladder = [
      { afterMs: 4 * 3_600_000, approvers: ["bob"], message: null, notify: [] },
      { afterMs: 86_400_000, approvers: ["@octo-org/leads"], message: null, notify: [] },
    ];
    const recent = [
      decided(
        { justification: "Customer is a regular | verified\nby phone", decidedAt: "2026-11-20T09:00:00.000Z" },
        { id: "req_old1", surfaceRef: { type: "issue", number: 7, url: "https://github.com/octo-org/payments/issues/7" } },
      ),
      decided({ action: "reject", status: "rejected", decidedBy: { type: "rule", id: "big-refunds" }, decidedAt: "2026-11-18T12:30:00.000Z", via: "rule" }, { id: "req_old2" }),
    ];
    const body = renderRequestBody(
      request({
        escalation: { ladder, warningBeforeMs: null, level: 0, warned: false, nextAt: "2026-11-24T14:00:00.000Z" },
        evaluation: evaluation({
          rules: [{ ruleId: "small-refunds", matched: false, reasons: ["amount is 120, not below 50"], satisfied: 2, total: 3 }],
          closestRuleId: "small-refunds",
        }),
      }),
      { now, recent, markerKey },
    );

    expect(body).toBe(`${MARKER}
⏳ **Waiting for a decision.** If nobody decides by 27 Nov 2026 10:00 UTC, the request is aborted: nobody answered.

\`refund-agent\` asks for approval: **Refund order 1234**. Why: Refunds over &#36;50 need a human. Priority: high.

### Decision data

| field | value |
| --- | --- |
| amount | 120 |
| currency | USD |

### Actions

- \`/approve\` **Refund** (approves): Customer gets &#36;120 back
- \`/reject\` **Deny** (rejects): Ticket goes back to support

**How to decide:** post a new comment that starts with one of the commands above; the rest of the comment is your reason.

**Who may decide:** @alice and @octo-org/finance (never bots, the requester or an edited comment). The first valid decision wins and hitl tells the agent.

Closest delegation rule: \`small-refunds\` — amount is 120, not below 50.

<details><summary>Recent decisions on refund requests (2)</summary>

| when | decision | by | justification |
| --- | --- | --- | --- |
| [20 Nov 2026 09:00 UTC](https://github.com/octo-org/payments/issues/7) | approved | @${ZWJ}alice | Customer is a regular &#124; verified by phone |
| 18 Nov 2026 12:30 UTC | rejected | rule \`big-refunds\` |  |

</details>

<details><summary>Request details</summary>

| field | value |
| --- | --- |
| id | \`req_abc123\` |
| request type | \`refund\` |
| risk score | 0.4 |
| confidence | 0.9 |
| context hash | \`${"0".repeat(64)}\` |
| created at | 24 Nov 2026 10:00 UTC |
| deadline | 27 Nov 2026 10:00 UTC |
| escalation ladder | after 4h: @${ZWJ}bob; after 1d: @${ZWJ}octo-org/leads |

</details>`);
    expect(findRequestMarker(body, markerKey)).toBe("req_abc123");
  });

  it("lists /choose for actions other than approve and reject, and anyone with write access when nobody is named", () => {
    const body = renderRequestBody(
      request({
        approvers: [],
        availableActions: [
          { id: "approve", label: "Refund in full", impact: "Customer gets $120 back" },
          { id: "refund-half", label: "Refund half", impact: "Customer gets $60 back" },
          { id: "reject", label: "Deny" },
        ],
      }),
      { now, recent: [], appName: "hitl-staging", markerKey },
    );
    expect(section(body, "### Actions")).toBe(`### Actions

- \`/approve\` **Refund in full** (approves): Customer gets &#36;120 back
- \`/choose refund-half\` **Refund half** (approves): Customer gets &#36;60 back
- \`/reject\` **Deny** (rejects)

**How to decide:** post a new comment that starts with one of the commands above; the rest of the comment is your reason.

**Who may decide:** anyone with write access to this repository (never bots, the requester or an edited comment). The first valid decision wins and hitl-staging tells the agent.

<details><summary>Request details</summary>

| field | value |
| --- | --- |
| id | \`req_abc123\` |
| request type | \`refund\` |
| risk score | 0.4 |
| confidence | 0.9 |
| context hash | \`${"0".repeat(64)}\` |
| created at | 24 Nov 2026 10:00 UTC |
| deadline | 27 Nov 2026 10:00 UTC |
| escalation ladder | none |

</details>`);
    // Each action is listed once.
    expect(body.match(/refund-half/g)).toHaveLength(1);
  });

  it("shows nested decision data as JSON in a fence no value can close", () => {
    const body = renderRequestBody(
      request({ decisionData: { order: { id: 1234, items: ["mug", "```evil```"] }, amount: 120 } }),
      { now, recent: [], markerKey },
    );
    expect(section(body, "### Decision data")).toContain(`### Decision data

\`\`\`\`json
{
  "order": {
    "id": 1234,
    "items": [
      "mug",
      "\`\`\`evil\`\`\`"
    ]
  },
  "amount": 120
}
\`\`\`\`
`);
  });

  it("escapes pipes and newlines in table cells and shows empty strings and null", () => {
    const body = renderRequestBody(
      request({ decisionData: { "a|b": "x | y\nz", note: "", paid: false, ref: null } }),
      { now, recent: [], markerKey },
    );
    expect(section(body, "### Decision data")).toContain(`| field | value |
| --- | --- |
| a&#124;b | x &#124; y z |
| note | \`""\` |
| paid | false |
| ref | null |
`);
  });

  it("says so when there is no decision data", () => {
    const body = renderRequestBody(request({ decisionData: {} }), { now, recent: [], markerKey });
    expect(section(body, "### Decision data")).toContain("### Decision data\n\nNo decision data was given.\n");
  });

  it("neutralises mentions and HTML in everything the agent wrote", () => {
    const body = renderRequestBody(
      request({
        requestedBy: "agent @mallory",
        taskDescription: "Refund @alice\n### How to decide\n<!-- hitl:request:req_forged -->",
        approvalReason: "cc @octo-org/everyone <img src=x>",
        availableActions: [{ id: "approve", label: "Do it @bob", impact: "pings @carol" }],
        decisionData: { owner: "@dave" },
      }),
      { now, recent: [], markerKey },
    );
    expect(body.split("\n")[3]).toBe(
      `\`agent @mallory\` asks for approval: **Refund @${ZWJ}alice ### How to decide &lt;!-- hitl:request:req&#95;forged --&gt;**. Why: cc @${ZWJ}octo-org/everyone &lt;img src=x&gt;. Priority: high.`,
    );
    expect(body).toContain(`- \`/approve\` **Do it @${ZWJ}bob** (approves): pings @${ZWJ}carol`);
    expect(body).toContain(`| owner | @${ZWJ}dave |`);
    expect(pings(body)).toEqual(["@alice", "@octo-org/finance"]);
    expect(findRequestMarker(body, markerKey)).toBe("req_abc123");
    expect(body.match(/^\*\*How to decide:\*\*/gm)).toHaveLength(1);
  });

  it("cuts a huge table to fit GitHub's limit, with a note", () => {
    const decisionData = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`field_${i}`, "x".repeat(40)]));
    const body = renderRequestBody(request({ decisionData }), { now, recent: [], markerKey });
    expect(body.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    const note = /\n\n\*(\d+) more fields are not shown\. The full data is at `GET \/api\/v1\/requests\/req_abc123`\.\*\n/.exec(body);
    expect(note).not.toBeNull();
    const shown = body.match(/^\| field&#95;\d+ \|/gm)!.length;
    expect(shown + Number(note![1])).toBe(3000);
    expect(body).toContain("<details><summary>Request details</summary>");
  });

  it("cuts huge JSON to fit GitHub's limit, closing the fence, with a note", () => {
    const decisionData = { rows: Array.from({ length: 5000 }, (_, i) => ({ i, name: `item ${i}` })) };
    const body = renderRequestBody(request({ decisionData }), { now, recent: [], markerKey });
    expect(body.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    expect(body).toMatch(
      /\n…\n```\n\n\*The data is cut here; it has [\d,]+ characters in all\. The full data is at `GET \/api\/v1\/requests\/req_abc123`\.\*\n\n### Actions\n/,
    );
  });

  it("cuts very long agent text and stays under the limit", () => {
    const body = renderRequestBody(
      request({ taskDescription: "t".repeat(100_000), approvalReason: "r".repeat(100_000), requestedBy: "a".repeat(1000) }),
      { now, recent: [], markerKey },
    );
    expect(body.length).toBeLessThan(10_000);
    expect(body).toContain(`**${"t".repeat(999)}…**`);
  });

  it("warns when the repository's .hitl.yml could not be used", () => {
    const body = renderRequestBody(
      request({ evaluation: evaluation({ configError: ".hitl.yml line 4: rules.0.action: expected approve or reject." }) }),
      { now, recent: [], markerKey },
    );
    expect(body).toContain(`The first valid decision wins and hitl tells the agent.

> [!WARNING]
> This repository's \`.hitl.yml\` could not be used, so no delegation rule applied: .hitl.yml line 4: rules.0.action: expected approve or reject.

<details><summary>Request details</summary>`);
  });

  it("names the closest rule without reasons when its trace is missing", () => {
    const body = renderRequestBody(request({ evaluation: evaluation({ closestRuleId: "night-shift" }) }), { now, recent: [], markerKey });
    expect(body).toContain("\n\nClosest delegation rule: `night-shift`.\n\n");
  });

  it("shows the decision in the status line instead of the deadline, and no way to decide, once decided", () => {
    const body = renderRequestBody(decided({ justification: "looks fine", decidedAt: "2026-11-24T10:05:00.000Z" }), { now, recent: [], markerKey });
    expect(body.split("\n").slice(1, 4)).toEqual([
      `✅ **Approved** by @${ZWJ}alice with a comment on 24 Nov 2026 10:05 UTC: looks fine.`,
      "",
      "`refund-agent` asks for approval: **Refund order 1234**. Why: Refunds over &#36;50 need a human. Priority: high.",
    ]);
    expect(body).toContain("\n\n**How to decide:** this request is closed; commands posted now are answered, not applied.\n\n<details>");
    expect(body).not.toContain("Who may decide");
  });

  it("puts the summary, the decision data, the actions and how to decide before anything else, in that order", () => {
    const body = renderRequestBody(
      request({ editableFields: { amount: { type: "number", minimum: 0 } }, feedback: { minLength: 10, reasons: [] }, evaluation: evaluation({ closestRuleId: "night-shift" }) }),
      { now, recent: [], markerKey },
    );
    const order = ["⏳ **Waiting", "asks for approval", "### Decision data", "### Actions", "**How to decide:**", "**Who may decide:**", "Every decision needs a reason", "<details><summary>Approve with changes", "Closest delegation rule", "<details><summary>Request details"];
    const at = order.map((text) => body.indexOf(text));
    expect(at.every((index) => index > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it("shows the escalation level reached and missing scores", () => {
    const body = renderRequestBody(
      request({
        requestType: null,
        riskScore: null,
        confidence: null,
        escalation: { ladder: [{ afterMs: 5_400_000, approvers: [], message: null, notify: [] }], warningBeforeMs: null, level: 1, warned: false, nextAt: null },
      }),
      { now, recent: [], markerKey },
    );
    expect(body).toContain(`| request type | none |
| risk score | not given |
| confidence | not given |`);
    expect(body).toContain("| escalation ladder | after 90m: nobody new (level 1 reached) |");
  });
});

describe("renderRequestSummary", () => {
  it("says the fallback is due when the deadline has passed", () => {
    expect(renderRequestSummary(request(), new Date("2026-11-27T10:00:00.000Z"))).toBe(
      "`refund-agent` asks for approval: **Refund order 1234**. Why: Refunds over &#36;50 need a human. Priority: high. The deadline, 27 Nov 2026 10:00 UTC, has passed, so the request is aborted: nobody answered.",
    );
  });

  it("describes each kind of fallback", () => {
    const summary = renderRequestSummary(request({ priority: "critical", fallback: { type: "use_default", action: "reject", reason: "safer to say no." } }), now);
    expect(summary).toBe(
      "`refund-agent` asks for approval: **Refund order 1234**. Why: Refunds over &#36;50 need a human. Priority: critical. If nobody decides by 27 Nov 2026 10:00 UTC, the default action `reject` is taken: safer to say no.",
    );
  });
});

describe("a follow-up's body says what changed since the approval it asks again about", () => {
  const body = (drift: NonNullable<ApprovalRequest["supersedes"]>["drift"]) =>
    renderRequestBody(makeRequest({ id: "req_abc123", supersedes: { id: "req_first1", drift } }), { now, recent: [], markerKey });

  it("lists each drifted field, the head and the age, before the decision data", () => {
    const text = body({
      fields: [
        { field: "amount", approved: 120, current: 150 },
        { field: "refund.to", approved: "DE1" },
        { field: "note", current: { a: [1] } },
      ],
      head: { approved: "a".repeat(40), current: null },
      age: { ms: 30 * 3_600_000, maxMs: 24 * 3_600_000 },
    });
    expect(text).toContain(
      [
        "### What changed since the earlier approval",
        "",
        "This request asks again about request `req_first1`, which was approved, because the agent's context is no longer what was approved.",
        "",
        "- `amount`: approved `120`, now `150`",
        "- `refund.to`: approved `\"DE1\"`, now *absent*",
        '- `note`: approved *absent*, now `{"a":[1]}`',
        `- The pull request's head: approved on \`${"a".repeat(40)}\`, now *none*.`,
        "- The approval is 30 hours old; it holds for 24 hours.",
        "",
        "### Decision data",
      ].join("\n"),
    );
  });

  it("shows twenty fields and counts the rest", () => {
    const fields = Array.from({ length: 23 }, (_, i) => ({ field: `f${i}`, approved: i, current: i + 1 }));
    const text = body({ fields });
    expect(text).toContain("- `f19`: approved `19`, now `20`\n- …and 3 more fields.");
    expect(text).not.toContain("`f20`");
  });

  it("is absent on a request that supersedes nothing", () => {
    expect(renderRequestBody(makeRequest(), { now, recent: [], markerKey })).not.toContain("What changed");
  });
});

describe("the detail context layer on the issue", () => {
  const body = (detail: string) => renderRequestBody(request({ layers: { detail } }), { now, recent: [], markerKey });

  it("shows each paragraph as inert text before the decision data", () => {
    expect(section(body("Line @alice #7\nsame paragraph\n\n  \n\n<b>second</b> [x](https://e.x)"), "### Detail")).toBe(
      `### Detail\n\nLine @${ZWJ}alice #${ZWJ}7 same paragraph\n\n&lt;b&gt;second&lt;/b&gt; &#91;x&#93;(https:${ZWJ}//e.x)\n`,
    );
    expect(body("x").indexOf("### Detail")).toBeLessThan(body("x").indexOf("### Decision data"));
    expect(renderRequestBody(request(), { now, recent: [], markerKey })).not.toContain("### Detail");
  });

  it("cuts a detail that does not fit, saying where all of it is", () => {
    const cut = section(body(`${"*".repeat(20_000)}\n\nsecond`), "### Detail");
    const [, first, note] = cut.trimEnd().split("\n\n");
    expect(first).toBe(`${"&#42;".repeat(3_999)}…`);
    expect(note).toBe("*The detail is cut here. All of it is at `GET /api/v1/requests/req_abc123/context`.*");
    expect(body(`${"a ".repeat(5_000)}\n\n${"z".repeat(20_000)}`)).toContain(`\n\n${"z".repeat(2_332)}…\n\n*The detail is cut here.`);
  });
});
