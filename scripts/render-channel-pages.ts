/**
 * Renders what a person sees outside GitHub, at a phone's width (390 px), in headless Chromium:
 * the decision email's HTML, the one-click link's confirmation page, a page with a problem to
 * fix, and a refused link. Screenshots go to docs/images/channel-<name>.png.
 *
 *   npx tsx scripts/render-channel-pages.ts [path-to-chromium]
 */
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import { decisionEmail } from "../src/channels/email/email-message.js";
import { confirmPage, refusalPage, renderDocument } from "../src/channels/links/link-pages.js";
import { actionFact } from "../src/channels/request-facts.js";
import type { ApprovalRequest } from "../src/core/types.js";

const CHROMIUM = process.argv[2] ?? "/usr/bin/chromium";
const NOW = new Date("2026-11-24T10:00:00.000Z");
const LINK = "https://hitl.example.com/l/eyJyIjoicmVxXzEyMyJ9.c2lnbmF0dXJl";

const request: ApprovalRequest = {
  id: "req_example",
  version: 3,
  repo: "octo-org/payments",
  installationId: 1,
  status: "pending",
  taskDescription: "Refund order 1234 for <b>ACME</b> Corp",
  approvalReason: "Refunds over $50 need a human; this customer asked twice",
  decisionData: { order: "1234", amount: 120, currency: "USD", customer: { name: "ACME Corp", since: "2019-04-01" }, note: "<script>alert(1)</script>" },
  availableActions: [
    { id: "approve", label: "Refund", impact: "The customer gets $120 back today" },
    { id: "refund-half", label: "Refund half", impact: "The customer gets $60 back", kind: "approve" },
    { id: "reject", label: "Deny", impact: "The ticket goes back to support" },
  ],
  priority: "high",
  deadline: "2026-11-24T16:00:00.000Z",
  fallback: { type: "abort", reason: "nobody answered" },
  surface: { type: "issue" },
  surfaceRef: { type: "issue", number: 42, url: "https://github.com/octo-org/payments/issues/42" },
  approvers: ["alice"],
  requestType: "refund",
  riskScore: null,
  confidence: null,
  callbackUrl: null,
  requestedBy: "refund-agent",
  agentLogins: [],
  onBehalfOf: null,
  idempotencyKey: null,
  contextHash: "0".repeat(64),
  editableFields: { amount: { type: "number", minimum: 0, maximum: 120 } },
  feedback: { minLength: 0, reasons: ["too_high", "fraud"] },
  invalidateOnPush: false,
  createdAt: "2026-11-24T09:00:00.000Z",
  updatedAt: "2026-11-24T09:00:00.000Z",
  escalation: { ladder: [], warningBeforeMs: null, level: 0, warned: false, nextAt: null },
  evaluation: null,
  decision: null,
};

const expiresAt = Date.parse(request.deadline);
const pages: Record<string, string> = {
  email: decisionEmail(request, {
    event: "opened",
    login: "alice",
    links: request.availableActions.map((action) => ({ action: actionFact(request, action), url: LINK })),
    replyAddress: "reply+token@reply.example.com",
    linksExpireAt: expiresAt,
    now: NOW,
  }).html,
  confirm: renderDocument(confirmPage({ request, action: "approve", login: "alice", csrf: "csrf", expiresAt, now: NOW })),
  "confirm-reject": renderDocument(confirmPage({ request, action: "reject", login: "alice", csrf: "csrf", expiresAt, now: NOW, problem: "Rejecting needs a reason code." })),
  "pick-action": renderDocument(confirmPage({ request, action: null, login: "alice", csrf: "csrf", expiresAt, now: NOW })),
  used: renderDocument(refusalPage("used")),
};

mkdirSync("docs/images", { recursive: true });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
});
try {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, javaScriptEnabled: false });
  // Nothing may be loaded from elsewhere: any request other than the document fails the run.
  const outside: string[] = [];
  page.on("request", (req) => {
    if (!req.url().startsWith("data:") && req.url() !== "about:blank") outside.push(req.url());
  });
  for (const [name, document] of Object.entries(pages)) {
    await page.setContent(document, { waitUntil: "load" });
    await page.screenshot({ path: `docs/images/channel-${name}.png`, fullPage: true });
    console.log(`docs/images/channel-${name}.png`);
  }
  if (outside.length > 0) throw new Error(`the pages loaded ${outside.join(", ")}`);
} finally {
  await browser.close();
}
