import { describe, expect, it } from "vitest";
import { renderNeedsInputReply } from "../../../src/core/render/comments.js";
import { renderCheckRun } from "../../../src/core/render/check-run.js";
import { renderRequestBody } from "../../../src/core/render/request-markdown.js";
import type { ApprovalRequest } from "../../../src/core/types.js";
import { allNodes, parseGfm, type MdNode } from "../../support/gfm.js";
import { PRESENTATION_EXAMPLES } from "../../support/presentation-examples.js";

const NOW = new Date("2026-11-24T10:00:00.000Z");
const body = (request: ApprovalRequest) => renderRequestBody(request, { now: NOW, recent: [], markerKey: "k" });

/** The part of a body from a heading to the next `###` heading. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`${heading}\n`);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const next = markdown.indexOf("\n### ", start + heading.length);
  return markdown.slice(start, next === -1 ? undefined : next);
}

const headings = (tree: MdNode) =>
  allNodes(tree)
    .filter((node) => node.type === "heading")
    .map((node) => `${"#".repeat(node.depth ?? 0)} ${allNodes(node).filter((n) => n.type === "text").map((n) => n.value).join("")}`);

const HOW_TO_DECIDE = [
  "**How to decide:** post a new comment that starts with one of the commands above; the rest of the comment is your reason.",
  "",
  "**Who may decide:** @alice and @octo-org/finance (never bots, the requester or an edited comment). The first valid decision wins and hitl tells the agent.",
];

/** From a heading (or any line) to the first `<details>`: what a person reads before anything folded. */
function untilFolded(markdown: string, from: string): string {
  const start = markdown.indexOf(from);
  expect(start, from).toBeGreaterThanOrEqual(0);
  return markdown.slice(start, markdown.indexOf("\n<details>", start));
}

describe("presentations", () => {
  it("binary shows approve and reject once, each with its command and what it does", () => {
    const markdown = body(PRESENTATION_EXAMPLES.binary);
    expect(untilFolded(markdown, "### Actions")).toBe(
      [
        "### Actions",
        "",
        "- `/approve` **Rotate now** (approves): Apps reconnect with the new password",
        "- `/reject` **Not now** (rejects): The old password stays",
        "",
        ...HOW_TO_DECIDE,
        "",
        "Every decision needs a reason.",
        "",
      ].join("\n"),
    );
    expect(headings(parseGfm(markdown))).toEqual(["### Decision data", "### Actions"]);
  });

  it("multiple_choice shows each action once with its command and impact, the reason codes, and approving with changes folded", () => {
    const markdown = body(PRESENTATION_EXAMPLES.multiple_choice);
    expect(untilFolded(markdown, "### Actions")).toBe(
      [
        "### Actions",
        "",
        "- `/approve` **Refund in full** (approves): Customer gets &#36;120 back",
        "- `/choose refund-half` **Refund half** (approves): Customer gets &#36;60 back",
        "- `/reject` **Deny** (rejects): Ticket goes back to support",
        "",
        ...HOW_TO_DECIDE,
        "",
        "A rejection starts with a reason code, `/reject <code> <your reason>`, the code one of `too_high`, `wrong_customer` or `fraud`.",
        "",
      ].join("\n"),
    );
    expect(markdown).toContain(
      [
        "<details><summary>Approve with changes</summary>",
        "",
        "To approve with changes, put a `yaml` or `json` block under the `/approve` line, with the fields you change:",
        "",
        "````markdown",
        "/approve <your reason>",
        "```yaml",
        "amount: 120",
        "```",
        "````",
        "",
        "You may change:",
        "",
        "- `amount`: number, 0 to 500",
        "",
        "</details>",
      ].join("\n"),
    );
    // The example is one code block, shown as written, not a yaml block of hitl's own.
    const code = allNodes(parseGfm(markdown)).filter((node) => node.type === "code");
    expect(code.map((node) => [node.lang, node.value])).toEqual([["markdown", "/approve <your reason>\n```yaml\namount: 120\n```"]]);
  });

  it("detailed_review shows the sections in order after how to decide, long data folded", () => {
    const markdown = body(PRESENTATION_EXAMPLES.detailed_review);
    expect(markdown.slice(markdown.indexOf("### Review"), markdown.indexOf("<details><summary>Request details</summary>") + 43)).toBe(
      [
        "### Review",
        "",
        "#### 1. What changes",
        "",
        "Invoices move out of the orders table into their own table, with a foreign key back to orders.",
        "",
        "#### 2. Risk",
        "",
        "The copy takes about 4 minutes on production-sized data; writes to orders are blocked meanwhile.",
        "",
        "```json",
        '{\n  "rows": 1200000,\n  "lock": "orders",\n  "estimate": "4m"\n}',
        "```",
        "",
        "#### 3. Plan",
        "",
        "<details><summary>Data (10 lines)</summary>",
        "",
        "```json",
        '{\n  "steps": [\n    "create table invoices",\n    "copy rows in batches of 10000",\n    "add foreign key",\n    "swap reads",\n    "drop old columns"\n  ],\n  "rollback": "restore from the snapshot taken before step 1"\n}',
        "```",
        "",
        "</details>",
        "",
        "<details><summary>Request details</summary>",
      ].join("\n"),
    );
    expect(headings(parseGfm(markdown))).toEqual(["### Decision data", "### Actions", "### Review", "#### 1. What changes", "#### 2. Risk", "#### 3. Plan"]);
  });

  it("comparative shows one column per alternative, one row per field of their data", () => {
    const markdown = body(PRESENTATION_EXAMPLES.comparative);
    expect(untilFolded(markdown, "### Alternatives")).toBe(
      [
        "### Alternatives",
        "",
        "| alternative | **m7g.large** | **m7g.xlarge** | **Keep current** |",
        "| --- | --- | --- | --- |",
        "| command | `/approve` | `/choose upsize` | `/reject` |",
        "| effect | approves | approves | rejects |",
        "| impact | Cheapest that fits | Room to grow | No change |",
        "| monthly&#95;cost | &#36;1,180 | &#36;2,360 | &#36;1,540 |",
        "| p99&#95;latency | 48 ms | 31 ms | 55 ms |",
        "| memory | 8 GiB | 16 GiB | 8 GiB |",
        "",
        ...HOW_TO_DECIDE,
        "",
      ].join("\n"),
    );
    const [, table] = allNodes(parseGfm(markdown)).filter((node) => node.type === "table");
    expect(table!.children!.map((row) => row.children!.length)).toEqual([4, 4, 4, 4, 4, 4, 4]);
  });

  it("an alternative without a value for a field shows a dash", () => {
    const request = { ...PRESENTATION_EXAMPLES.comparative, availableActions: PRESENTATION_EXAMPLES.comparative.availableActions.map((action, i) => (i === 2 ? { ...action, data: { memory: "8 GiB" } } : action)) };
    expect(section(body(request), "### Alternatives")).toContain("| monthly&#95;cost | &#36;1,180 | &#36;2,360 | — |");
  });

  it("a review too long for an issue shows what fits and says where the rest is", () => {
    const long = { title: "Part", text: "x ".repeat(2_400) };
    const request = { ...PRESENTATION_EXAMPLES.detailed_review, sections: Array.from({ length: 20 }, () => long) };
    const review = untilFolded(body(request), "### Review");
    expect(review.match(/^#### /gm)).toHaveLength(6);
    expect(review.trimEnd().endsWith("*14 more sections are not shown. The full request is at `GET /api/v1/requests/req_review000001`.*")).toBe(true);
  });

  it("a comparison with more than 30 fields shows the first 30 and says how many more there are", () => {
    const data = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`f${i}`, i]));
    const request = { ...PRESENTATION_EXAMPLES.comparative, availableActions: PRESENTATION_EXAMPLES.comparative.availableActions.map((action) => ({ ...action, data })) };
    const alternatives = section(body(request), "### Alternatives");
    expect(alternatives).toContain("| f29 | 29 | 29 | 29 |\n\n*3 more fields are not shown.*");
    expect(alternatives).not.toContain("| f30 |");
  });

  it("every presentation keeps the decision in the first screen: status, summary, data, the choice and how to decide before anything else", () => {
    for (const [name, request] of Object.entries(PRESENTATION_EXAMPLES)) {
      const markdown = body(request);
      const tree = parseGfm(markdown);
      // The marker, then the status line, then the summary.
      expect(tree.children!.slice(0, 3).map((node) => node.type), name).toEqual(["html", "paragraph", "paragraph"]);
      const order = ["### Decision data", name === "comparative" ? "### Alternatives" : "### Actions", "**How to decide:**", "**Who may decide:**"].map((text) => markdown.indexOf(text));
      expect(order.every((at) => at > 0), name).toBe(true);
      expect([...order].sort((a, b) => a - b), name).toEqual(order);
      for (const later of ["### Review", "<details>"]) {
        const at = markdown.indexOf(later);
        if (at >= 0) expect(at, `${name}: ${later}`).toBeGreaterThan(order[3]!);
      }
      // The check run's text shows the same choice.
      const choice = markdown.slice(order[1]!, order[2]!);
      expect(renderCheckRun(request, { now: NOW, recent: [] }).text, name).toContain(choice);
    }
  });
});

describe("replies to a decision that needs more", () => {
  it("names the problem with each field as text, never as markup", () => {
    expect(renderNeedsInputReply("alice", { type: "edits", problems: ["**amount** must be at most 500, not 900", "@bob may not be changed"] })).toBe(
      "@alice, your changes were not applied, and neither was your decision: &#42;&#42;amount&#42;&#42; must be at most 500, not 900; @\u200Dbob may not be changed. Post a new comment with the block corrected.",
    );
  });

  it("says what justification or reason code is needed", () => {
    const policy = { minLength: 1, reasons: ["too_high"] };
    expect(renderNeedsInputReply("alice", { type: "feedback", missing: "reason_code", policy })).toBe(
      "@alice, rejecting this request needs a reason code, so your decision was not applied. Post a comment that starts with `/reject <code> <your reason>`, where the code is `too_high`.",
    );
    expect(renderNeedsInputReply("alice", { type: "feedback", missing: "justification", policy })).toBe(
      "@alice, decisions on this request need a justification, so your decision was not applied. Post a comment with the command and your reason, such as `/approve <your reason>`.",
    );
  });
});
