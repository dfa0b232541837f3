import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, startApp, type AppHarness } from "../support/app-harness.js";
import { oauthFor } from "../support/desk-client.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

/**
 * The desk in a real headless Chromium: sign in through the stand-in's OAuth pages, the queue,
 * one decision, a batch of three, a request decided elsewhere leaving the open page, and a
 * phone-sized screen. `DESK_SCREENSHOTS=docs/images` writes the README's screenshots there.
 */

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const REPO = "octo-org/payments";
const OPS = "octo-org/infra";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const SHOTS = process.env.DESK_SCREENSHOTS ?? null;

const REQUESTS = [
  { task_description: "Refund order #1234 for ACME Corp", request_type: "refund", priority: "high", decision_data: { order: "1234", amount: 120, currency: "USD" }, available_actions: [{ id: "approve", label: "Refund", impact: "The customer gets $120 back today" }, { id: "reject", label: "Deny", impact: "The ticket goes back to support" }], editable_fields: { amount: { type: "number", minimum: 0, maximum: 120 } }, deadline: "2026-11-24T15:00:00Z" },
  { task_description: "Refund order #1240 for Globex", request_type: "refund", decision_data: { order: "1240", amount: 64, currency: "USD" }, deadline: "2026-11-24T18:00:00Z" },
  { task_description: "Refund order #1251 for Initech", request_type: "refund", decision_data: { order: "1251", amount: 80, currency: "EUR" }, deadline: "2026-11-24T20:00:00Z" },
  { task_description: "Refund order #1262 for Umbrella", request_type: "refund", decision_data: { order: "1262", amount: 55, currency: "USD" }, priority: "low" },
  { task_description: "Scale the checkout service to 12 replicas", repo: OPS, request_type: "scale", priority: "critical", decision_data: { service: "checkout", from: 6, to: 12 }, deadline: "2026-11-24T10:30:00Z" },
  { task_description: "Pay invoice INV-2291 to Hooli", request_type: "payment", decision_data: { invoice: "INV-2291", amount: 4800, currency: "USD" }, approvers: ["@octo-org/finance"] },
];

describe("the approver's desk in a browser", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  let browser: Browser;
  const ids: string[] = [];

  beforeAll(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write", bob: "write" } }, [OPS]: { collaborators: { alice: "admin", bob: "write" } } },
      teams: { "octo-org/finance": ["alice", "bob"] },
      installations: [{ id: 1, account: "octo-org" }],
      oauth: { clientId: "Iv1.desk0123456789ab", clientSecret: "desk-client-secret-0123456789abcdef" },
    });
    app = await startApp({ githubUrl: github.url, now: T0, desk: { oauth: oauthFor(github), recheckMs: 200 } });
    github.state.oauth!.signedIn = "alice";
    for (const request of REQUESTS) {
      const response = await api(app, "POST", "/requests", { repo: REPO, approval_reason: "Over the limit an agent may act on alone", deadline: "2026-11-25T09:00:00Z", approvers: [], ...request });
      expect(response.status, JSON.stringify(response.json)).toBe(201);
      ids.push((response.json as { id: string }).id);
    }
    await app.runtime.jobs.run();
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await github?.close();
  });

  /** Until the page's event stream watches the request (the engine's emitter has its listener). */
  const listening = async (id: string) => {
    while (app.runtime.engine.internals.decided.listenerCount(id) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  const shoot = async (page: Page, name: string) => {
    if (SHOTS) await page.screenshot({ path: join(SHOTS, `desk-${name}.png`), fullPage: true });
  };
  // Agent text is made inert as on GitHub (a zero-width joiner keeps `#1234` from linking): read without it.
  const rows = async (page: Page) => (await page.locator("li.row h3").allTextContents()).map((text) => text.replaceAll("\u200D", ""));

  it("signs in, decides one request, batch-approves three, and sees a request decided elsewhere leave the queue", { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    const problems: string[] = [];
    // Script errors and Content-Security-Policy violations show here; the browser's own favicon request does not count.
    page.on("console", (message) => void (message.type() === "error" && !message.location().url.endsWith("/favicon.ico") && problems.push(`${message.text()} ${message.location().url}`)));

    await page.goto(`${app.url}/desk`);
    expect(await page.locator("h1").textContent()).toBe("The approver's desk");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.getByRole("link", { name: "Sign in with GitHub" }).click();
    await page.waitForURL(`${app.url}/desk`);
    expect(await page.locator("h1").textContent()).toBe("6 requests wait for you");
    expect(await rows(page)).toEqual([
      "Scale the checkout service to 12 replicas",
      "Refund order #1234 for ACME Corp",
      "Refund order #1240 for Globex",
      "Refund order #1251 for Initech",
      "Pay invoice INV-2291 to Hooli",
      "Refund order #1262 for Umbrella",
    ]);
    await shoot(page, "queue");

    await page.locator("li.row h3 a", { hasText: "ACME Corp" }).click();
    expect((await page.locator("h1").textContent())!.replaceAll("\u200D", "")).toBe("Refund order #1234 for ACME Corp");
    await page.getByLabel(/^Change amount/).fill("100");
    await page.getByLabel(/^Justification/).fill("Customer asked twice; partial refund agreed on the phone");
    await shoot(page, "request");
    await page.getByRole("button", { name: "Approve: Refund" }).click();
    expect(await page.locator("h1").textContent()).toBe("Approved");
    expect((await app.store.get(ids[0]!))!.decision).toMatchObject({ via: "desk", editedFields: { amount: 100 }, decidedBy: { login: "alice" } });

    await page.getByRole("link", { name: "Back to the queue" }).click();
    await page.locator("nav.filters a", { hasText: "refund" }).click();
    expect(await rows(page)).toEqual(["Refund order #1240 for Globex", "Refund order #1251 for Initech", "Refund order #1262 for Umbrella"]);
    await page.getByLabel("Select every request shown").check();
    await page.getByLabel("Justification for the selected requests").fill("Routine refunds under $100");
    await page.getByRole("button", { name: "Approve selected" }).click();
    expect(await page.locator("h1").textContent()).toBe("Approved 3 of 3");
    await shoot(page, "batch");
    for (const id of ids.slice(1, 4)) expect((await app.store.get(id))!.status).toBe("approved");

    await page.goto(`${app.url}/desk`);
    expect(await rows(page)).toEqual(["Scale the checkout service to 12 replicas", "Pay invoice INV-2291 to Hooli"]);
    // The page listens before the other decision is made.
    await listening(ids[4]!);
    await app.runtime.engine.decideFromChannel({ requestId: ids[4]!, login: "bob", action: "approve", via: "slack", justification: "scaling for the sale" });
    await page.locator("li.row", { hasText: "checkout service" }).waitFor({ state: "detached" });
    expect(await page.locator("#live").textContent()).toBe("Decided elsewhere: Approved by bob on Slack on 24 Nov 2026 09:00 UTC.");
    expect(await rows(page)).toEqual(["Pay invoice INV-2291 to Hooli"]);

    // An open request page whose request is decided elsewhere: its controls stop working and it says why.
    await page.goto(`${app.url}/desk/r/${ids[5]}`);
    await listening(ids[5]!);
    await app.runtime.engine.decideFromChannel({ requestId: ids[5]!, login: "bob", action: "reject", via: "desk", justification: "not this month" });
    await page.locator("[data-live]").waitFor({ state: "visible" });
    expect(await page.locator("[data-live]").textContent()).toBe("Decided elsewhere: Rejected by bob on the approver's desk on 24 Nov 2026 09:00 UTC.");
    expect(await page.getByRole("button", { name: "Approve: Approve" }).isDisabled()).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("fits a phone: one column, no sideways scrolling, large targets", async () => {
    // New requests to show.
    for (const request of REQUESTS.slice(1, 4)) {
      const response = await api(app, "POST", "/requests", { repo: REPO, approval_reason: "Over the limit an agent may act on alone", deadline: "2026-11-25T09:00:00Z", approvers: [], ...request });
      expect(response.status).toBe(201);
    }
    await app.runtime.jobs.run();
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`${app.url}/desk/login`);
    await page.waitForURL(`${app.url}/desk`);
    expect(await page.locator("h1").textContent()).toBe("3 requests wait for you");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const rowBox = (await page.locator("li.row").first().boundingBox())!;
    const filterBox = (await page.locator("nav.filters").boundingBox())!;
    expect(filterBox.y).toBeGreaterThan(rowBox.y);
    expect(rowBox.width).toBeGreaterThan(330);
    const button = (await page.getByRole("button", { name: "Approve selected" }).boundingBox())!;
    expect(button.height).toBeGreaterThanOrEqual(44);
    await shoot(page, "phone");
    await context.close();
  });
});
