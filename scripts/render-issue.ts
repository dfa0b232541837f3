/**
 * Renders what people see first, the way a phone shows it, to docs/images/:
 *
 * - `issue-pending.png`, `issue-approved.png`, `issue-escalated.png`: a request's issue (its title
 *   and body) while it waits, once approved, and once escalated;
 * - `presentation-<name>.png`: one request of each `presentation`;
 * - `issue-batch.png`: a batch issue (`.hitl.yml` `batch:`), one row decided, 900 pixels wide;
 * - `home-page.png`: the app's `GET /` page.
 *
 * The Markdown goes to HTML with micromark (CommonMark and GFM, as GitHub), with a GitHub-like
 * stylesheet, and headless Chromium (playwright-core) takes a 390-pixel-wide screenshot of the
 * first screen (390 × 844, a phone) or, for the presentations, of the whole page.
 *
 *   npx tsx scripts/render-issue.ts [path-to-chromium]
 */
import { join } from "node:path";
import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { chromium } from "playwright-core";
import { renderHomePage } from "../src/api/home-page.js";
import { renderBatchBody, renderBatchTitle } from "../src/core/render/batch.js";
import { renderIssueTitle, renderRequestBody } from "../src/core/render/request-markdown.js";
import type { ApprovalRequest } from "../src/core/types.js";
import { PRESENTATION_EXAMPLES } from "../test/support/presentation-examples.js";

const CHROMIUM = process.argv[2] ?? "/usr/bin/chromium";
const NOW = new Date("2026-11-24T10:00:00.000Z");
const OUT = join(process.cwd(), "docs", "images");
const PHONE = { width: 390, height: 844 };

const CSS = `
body { margin: 0; background: #fff; color: #1f2328; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
.page { padding: 12px 16px; }
h1.title { font-size: 20px; font-weight: 600; margin: 0 0 8px; line-height: 1.3; }
.state { display: inline-block; border-radius: 2em; padding: 2px 10px; color: #fff; font-weight: 500; font-size: 13px; margin: 0 0 12px; }
.state.open { background: #1f883d; } .state.closed { background: #8250df; }
.comment { border: 1px solid #d1d9e0; border-radius: 6px; }
.comment-head { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 12px; color: #59636e; border-radius: 6px 6px 0 0; }
.comment-body { padding: 12px; overflow-wrap: break-word; }
.comment-body > :first-child { margin-top: 0; }
p, ul, table, pre, details { margin: 0 0 12px; }
h3 { font-size: 16px; font-weight: 600; margin: 20px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #d1d9e0b3; }
h4 { font-size: 14px; font-weight: 600; margin: 16px 0 6px; }
ul { padding-left: 2em; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #818b981f; padding: 0.2em 0.4em; border-radius: 6px; }
pre { background: #f6f8fa; padding: 12px; border-radius: 6px; overflow: auto; }
pre code { background: none; padding: 0; }
table { border-collapse: collapse; display: block; overflow: auto; max-width: 100%; }
th, td { border: 1px solid #d1d9e0; padding: 4px 10px; text-align: left; }
th { font-weight: 600; } tr:nth-child(2n) { background: #f6f8fa; }
summary { cursor: pointer; }
`;

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The issue as GitHub shows it: the title, open or closed, and the body hitl wrote. */
function issuePage(request: ApprovalRequest, now: Date): string {
  return githubIssue(renderIssueTitle(request, now), renderRequestBody(request, { now, recent: [], markerKey: "example" }), request.status === "pending");
}

function githubIssue(title: string, markdown: string, open: boolean): string {
  // GitHub shows the raw HTML it allows (details, summary) and hides comments; micromark does the same with this option.
  const body = micromark(markdown, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });
  return `<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style><div class="page"><h1 class="title">${escape(title)}</h1><span class="state ${open ? "open" : "closed"}">${open ? "Open" : "Closed"}</span><div class="comment"><div class="comment-head"><b>hitl</b> bot opened this issue</div><div class="comment-body">${body}</div></div></div>`;
}

const refund = PRESENTATION_EXAMPLES.multiple_choice;
const pending: ApprovalRequest = { ...refund, deadline: "2026-11-25T12:00:00.000Z" };
const approved: ApprovalRequest = {
  ...pending,
  status: "approved",
  updatedAt: "2026-11-24T10:42:00.000Z",
  decision: {
    action: "approve",
    status: "approved",
    decidedBy: { type: "human", login: "alice" },
    justification: "customer is a regular",
    decidedAt: "2026-11-24T10:42:00.000Z",
    via: "comment",
  },
};
const escalated: ApprovalRequest = {
  ...pending,
  escalation: { ladder: [{ afterMs: 4 * 3_600_000, approvers: ["bob"], message: null, notify: [] }], warningBeforeMs: null, level: 1, warned: false, nextAt: null },
};

const batchRows: ApprovalRequest[] = [
  ["Refund order #1240 for Globex", { order: "1240", amount: 35, currency: "USD" }],
  ["Refund order #1251 for Initech", { order: "1251", amount: 60, currency: "USD" }],
  ["Refund order #1262 for Umbrella", { order: "1262", amount: 18, currency: "USD" }],
  ["Refund order #1275 for Hooli", { order: "1275", amount: 90, currency: "USD" }],
].map(([task, data], i) => ({
  ...refund,
  id: `req_batch${i + 1}`,
  taskDescription: task as string,
  decisionData: data as Record<string, unknown>,
  availableActions: [
    { id: "approve", label: "Refund", kind: "approve", impact: "The customer gets the money back today" },
    { id: "reject", label: "Deny", kind: "reject" },
  ],
  presentation: "binary",
  requestType: "refund",
  deadline: "2026-11-24T18:00:00.000Z",
  batch: { id: "bat_0d5f", row: i + 1, postAt: "2026-11-24T10:10:00.000Z", counter: "example", first: 1, maxSize: 20 },
}));
batchRows[1] = {
  ...batchRows[1]!,
  status: "approved",
  decision: { action: "approve", status: "approved", decidedBy: { type: "human", login: "alice" }, justification: "known customer", decidedAt: "2026-11-24T10:20:00.000Z", via: "comment" },
};

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
});
try {
  const page = await browser.newPage({ viewport: PHONE, deviceScaleFactor: 2 });
  // Nothing may load from anywhere: every page is self-contained.
  await page.route("**/*", (route) => (route.request().url().startsWith("data:") ? route.continue() : route.abort()));
  const shoot = async (html: string, name: string, fullPage: boolean) => {
    await page.setContent(html, { waitUntil: "load" });
    const path = join(OUT, name);
    await page.screenshot({ path, fullPage });
    console.log(path);
  };
  await shoot(issuePage(pending, NOW), "issue-pending.png", false);
  await shoot(issuePage(approved, new Date("2026-11-24T10:42:00.000Z")), "issue-approved.png", false);
  await shoot(issuePage(escalated, new Date("2026-11-24T14:00:00.000Z")), "issue-escalated.png", false);
  for (const [name, request] of Object.entries(PRESENTATION_EXAMPLES)) await shoot(issuePage(request, NOW), `presentation-${name.replace(/_/g, "-")}.png`, true);
  // A table is read on a wide screen: GitHub scrolls it sideways on a phone.
  await page.setViewportSize({ width: 900, height: 600 });
  await shoot(githubIssue(renderBatchTitle(batchRows), renderBatchBody("bat_0d5f", batchRows), true), "issue-batch.png", true);
  await page.setViewportSize(PHONE);
  const home = renderHomePage(
    { version: "0.1.0", appId: 123456, agents: ["refund-agent", "deploy-bot"], store: "embedded", webhookProxy: true, docs: ["README.md", "agents.md", "architecture.md", "configuration.md", "security.md"] },
    { count: 3, atLeast: false },
  );
  await shoot(home, "home-page.png", false);
} finally {
  await browser.close();
}
