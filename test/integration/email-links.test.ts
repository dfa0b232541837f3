import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEmailSender } from "../../src/channels/email/email-sender.js";
import { linkKeyFrom, signLink, linkBinding, linkUseKey, readLink } from "../../src/channels/links/link-token.js";
import { api, startApp, type AppHarness } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { startSmtpStandIn, type ReceivedMail, type SmtpStandIn } from "../support/smtp-stand-in.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const KEY = linkKeyFrom("link-secret-for-tests-0123456789abcdef");
/** Links name the public URL; the tests send them to the app's own port, as a proxy would. */
const PUBLIC_URL = "https://hitl.example.com";

const POLICY = `approvers: [alice, bob]
people:
  alice: {email: alice@example.com}
  bob: {email: bob@example.com}
notify:
  - events: [opened]
    channels: [email]
`;

/** A browser, as far as the link pages care: one cookie jar, forms posted as forms. */
class Browser {
  private cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  async open(link: string, init: { method?: string; form?: Record<string, string>; cookies?: boolean } = {}) {
    const path = link.replace(PUBLIC_URL, "");
    const headers: Record<string, string> = {};
    if (init.cookies !== false && this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    if (init.form) headers["content-type"] = "application/x-www-form-urlencoded";
    const response = await fetch(`${this.base}${path}`, { method: init.method ?? (init.form ? "POST" : "GET"), headers, ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}), redirect: "manual" });
    const setCookie = response.headers.get("set-cookie");
    if (setCookie) {
      const [pair] = setCookie.split(";");
      const [name, value] = pair!.split("=");
      this.cookies.set(name!, value!);
    }
    return { status: response.status, headers: response.headers, html: await response.text(), setCookie };
  }
}

/** The text of a page without its markup, as a person reads it. */
const words = (html: string) =>
  html
    .replace(/<style>[\s\S]*?<\/style>/g, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/\s+/g, " ")
    .trim();

const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;

describe("email and one-click links, end to end", () => {
  let github: GitHubStandIn;
  let smtp: SmtpStandIn;
  let receiver: CallbackReceiver;
  let app: AppHarness;
  let sender: ReturnType<typeof createEmailSender>;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write", bob: "write", carol: "write" }, files: { main: { ".hitl.yml": POLICY } } } },
    });
    smtp = await startSmtpStandIn();
    receiver = await startCallbackReceiver();
    sender = createEmailSender({ settings: { smtpUrl: smtp.url, from: "hitl <hitl@example.com>", replyDomain: null }, publicUrl: PUBLIC_URL, linkKey: KEY });
    app = await startApp({ githubUrl: github.url, now: T0, senders: [sender], links: { publicUrl: PUBLIC_URL, key: KEY } });
  });

  afterEach(async () => {
    await app.close();
    sender.close();
    await Promise.all([github.close(), smtp.close(), receiver.close()]);
  });

  async function open(overrides: Record<string, unknown> = {}): Promise<string> {
    const response = await api(app, "POST", "/requests", {
      repo: REPO,
      task_description: "Refund order 1234",
      approval_reason: "Refunds over $50 need a human",
      decision_data: { amount: 120 },
      available_actions: [
        { id: "approve", label: "Refund", impact: "Customer gets $120 back" },
        { id: "reject", label: "Deny", impact: "Ticket goes back to support" },
      ],
      priority: "high",
      deadline: "2026-11-25T09:00:00Z",
      callback_url: `${receiver.base}/cb`,
      ...overrides,
    });
    expect(response.status).toBe(201);
    await app.runtime.jobs.run();
    await app.runtime.jobs.run();
    return (response.json as { id: string }).id;
  }

  const mailTo = (address: string): ReceivedMail => {
    const found = smtp.received.filter((mail) => mail.to.includes(address));
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  const linkFor = (mail: ReceivedMail, label: string) => new RegExp(`^${label}.*\\n(https://hitl\\.example\\.com/l/\\S+)$`, "m").exec(mail.parsed.text!)![1]!;
  const status = async (id: string) => (await api(app, "GET", `/requests/${id}`)).json as { status: string; decision: { decided_by: unknown; via: string; justification: string | null } | null };

  it("reaches a person by email; the link's page decides nothing until confirmed, then the agent hears who decided and how; the link is dead after", async () => {
    const id = await open();
    const alice = mailTo("alice@example.com");
    mailTo("bob@example.com");
    expect(alice.parsed.subject).toBe("Decision needed (high priority) by 25 Nov 2026 09:00 UTC: Refund order 1234");
    const approve = linkFor(alice, "Approve: Refund");
    const browser = new Browser(app.url);

    // A mail scanner, or the person, opens the link: a page, and nothing decided.
    const page = await browser.open(approve);
    expect(page.status).toBe(200);
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    expect(page.setCookie).toMatch(/^hitl_csrf=[A-Za-z0-9_-]{22}; Path=\/l\/[A-Za-z0-9_.-]+; Max-Age=86400; HttpOnly; SameSite=Strict; Secure$/);
    expect(words(page.html)).toContain("What confirming does Approve: Refund Customer gets $120 back");
    expect(words(page.html)).toContain("This link was sent to alice. Confirming decides as alice, exactly as their comment on GitHub would. It works once, until 25 Nov 2026 09:00 UTC.");
    expect((await status(id)).status).toBe("pending");

    await app.runtime.jobs.run();
    receiver.received.length = 0;
    const confirmed = await browser.open(approve, { form: { csrf: csrfOf(page.html), justification: "Customer has been waiting" } });
    expect(confirmed.status).toBe(200);
    expect(words(confirmed.html)).toMatch(/^Approved · hitl Approved alice decided Approve: Refund\. The agent is told now\./);
    expect((await status(id)).decision).toMatchObject({ decided_by: { type: "human", login: "alice" }, via: "link", justification: "Customer has been waiting" });

    await app.runtime.jobs.run();
    const callback = receiver.received.find((call) => call.path === "/cb")!;
    expect(callback.event).toBe("request.approved");
    expect(JSON.parse(callback.body).request.decision).toMatchObject({ action: "approve", decided_by: { type: "human", login: "alice" }, via: "link" });

    // The same link again, by GET or POST: nothing more.
    const again = await browser.open(approve);
    expect(again.status).toBe(410);
    expect(words(again.html)).toBe("This request is already decided · hitl This request is already decided Nothing more was decided. Approved by alice with a one-click link on 24 Nov 2026 09:00 UTC.");
    const replay = await browser.open(approve, { form: { csrf: csrfOf(page.html) } });
    expect(replay.status).toBe(410);

    // Bob's link of a request decided elsewhere (here: by alice) decides nothing either.
    const bobs = await browser.open(linkFor(mailTo("bob@example.com"), "Reject: Deny"));
    expect(bobs.status).toBe(410);
    expect((await status(id)).decision).toMatchObject({ decided_by: { type: "human", login: "alice" } });
  });

  it("refuses a confirmation without the page's CSRF token or cookie, and spends nothing", async () => {
    const id = await open();
    const approve = linkFor(mailTo("alice@example.com"), "Approve: Refund");
    const browser = new Browser(app.url);
    const page = await browser.open(approve);
    const csrf = csrfOf(page.html);

    const noToken = await browser.open(approve, { form: { justification: "x" } });
    expect(noToken.status).toBe(403);
    expect(words(noToken.html)).toBe(
      "This confirmation could not be checked · hitl This confirmation could not be checked The form did not come from the page this link opens (or cookies are off). Nothing was decided. Open the link again and confirm from that page.",
    );
    expect((await browser.open(approve, { form: { csrf: "A".repeat(22) } })).status).toBe(403);
    // A form posted from elsewhere carries no cookie (SameSite=Strict).
    expect((await browser.open(approve, { form: { csrf }, cookies: false })).status).toBe(403);
    // Another link's CSRF token does not fit this link.
    const reject = linkFor(mailTo("alice@example.com"), "Reject: Deny");
    expect((await browser.open(reject, { form: { csrf } })).status).toBe(403);

    expect((await status(id)).status).toBe("pending");
    const read = readLink(KEY, approve.split("/l/")[1]!, T0);
    if (!read.ok) throw new Error("the mail's link does not verify");
    expect(await app.store.uses(linkUseKey(read.claims))).toBe(0);
    expect((await browser.open(approve, { form: { csrf } })).status).toBe(200);
    expect((await status(id)).status).toBe("approved");
  });

  it("refuses tampered, expired and stale links, and links sent to someone who may not decide", async () => {
    const id = await open();
    const approve = linkFor(mailTo("alice@example.com"), "Approve: Refund");
    const token = approve.split("/l/")[1]!;
    const browser = new Browser(app.url);

    const tampered = await browser.open(approve.replace(token, token.slice(0, 10) + (token[10] === "x" ? "y" : "x") + token.slice(11)));
    expect(tampered.status).toBe(400);
    expect(words(tampered.html)).toBe(
      "This link is not valid · hitl This link is not valid The link is incomplete or was changed after it was sent. Nothing was decided. Open the link from the message again, or decide on GitHub.",
    );

    // A link for carol, who is not among the approvers, signed with the right key: the engine refuses her.
    const request = await app.store.get(id);
    const carol = signLink(KEY, { requestId: id, binding: linkBinding(request!), login: "carol", action: "approve", expiresAt: Date.parse("2026-11-25T09:00:00Z"), nonce: "carol-nonce", via: "link" });
    const carolPage = await browser.open(`${PUBLIC_URL}/l/${carol}`);
    expect(carolPage.status).toBe(200);
    const refused = await browser.open(`${PUBLIC_URL}/l/${carol}`, { form: { csrf: csrfOf(carolPage.html) } });
    expect(refused.status).toBe(403);
    expect(words(refused.html)).toBe("You may not decide this request · hitl You may not decide this request Nothing was decided. carol is not among those who may: alice, bob.");

    // A link made for another version of what was shown is stale.
    const stale = signLink(KEY, { requestId: id, binding: "not-this-one", login: "alice", action: "approve", expiresAt: Date.parse("2026-11-25T09:00:00Z"), nonce: "stale-nonce", via: "link" });
    const stalePage = await browser.open(`${PUBLIC_URL}/l/${stale}`);
    expect(stalePage.status).toBe(409);
    expect(words(stalePage.html)).toBe(
      "This request changed since the link was sent · hitl This request changed since the link was sent What you would have approved is no longer what the request shows, so nothing was decided. Look at the request again before deciding.",
    );

    app.setNow(new Date("2026-11-25T09:00:00.000Z"));
    const expired = await browser.open(approve);
    expect(expired.status).toBe(410);
    expect(words(expired.html)).toBe(
      "This link has expired · hitl This link has expired Links work until the request's deadline, and for 24 hours at most. Nothing was decided. A newer message may carry a fresh link, or decide on GitHub.",
    );
    expect((await status(id)).status).toBe("pending");
  });

  it("asks again, without spending the link, when what came with the decision is not enough", async () => {
    const id = await open({ feedback: { require_justification: { min_length: 10 } } });
    const approve = linkFor(mailTo("alice@example.com"), "Approve: Refund");
    const browser = new Browser(app.url);
    const page = await browser.open(approve);
    const short = await browser.open(approve, { form: { csrf: csrfOf(page.html), justification: "ok" } });
    expect(short.status).toBe(422);
    expect(words(short.html)).toContain("Not decided yet A justification of at least 10 characters is needed.");
    expect((await status(id)).status).toBe("pending");
    const done = await browser.open(approve, { form: { csrf: csrfOf(page.html), justification: "Checked the order history" } });
    expect(done.status).toBe(200);
    expect((await status(id)).decision).toMatchObject({ via: "link", justification: "Checked the order history" });
  });
});

describe("one-click links on a request that needs two approvals", () => {
  let github: GitHubStandIn;
  let smtp: SmtpStandIn;
  let app: AppHarness;
  let sender: ReturnType<typeof createEmailSender>;

  beforeEach(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": POLICY } } } } });
    smtp = await startSmtpStandIn();
    sender = createEmailSender({ settings: { smtpUrl: smtp.url, from: "hitl <hitl@example.com>", replyDomain: null }, publicUrl: PUBLIC_URL, linkKey: KEY });
    app = await startApp({ githubUrl: github.url, now: T0, senders: [sender], links: { publicUrl: PUBLIC_URL, key: KEY } });
  });
  afterEach(async () => {
    await app.close();
    sender.close();
    await Promise.all([github.close(), smtp.close()]);
  });

  it("counts a vote once: the same link again is used up, and the second person's link decides", async () => {
    const response = await api(app, "POST", "/requests", { repo: REPO, task_description: "Rotate the signing key", approval_reason: "Production secret", decision_data: {}, required_approvals: 2 });
    expect(response.status).toBe(201);
    await app.runtime.jobs.run();
    await app.runtime.jobs.run();
    const id = (response.json as { id: string }).id;
    const link = (address: string) => /^Approve: Approve\n(https:\/\/hitl\.example\.com\/l\/\S+)$/m.exec(smtp.received.find((mail) => mail.to.includes(address))!.parsed.text!)![1]!;
    const browser = new Browser(app.url);

    const alice = link("alice@example.com");
    const page = await browser.open(alice);
    const voted = await browser.open(alice, { form: { csrf: csrfOf(page.html) } });
    expect(voted.status).toBe(200);
    expect(words(voted.html)).toMatch(/^Your vote counts · hitl Your vote counts alice voted Approve: Approve\. The request waits for more approvals\./);

    const used = await browser.open(alice);
    expect(used.status).toBe(410);
    expect(words(used.html)).toBe("This link was already used · hitl This link was already used Each link works once. Nothing more was decided. The request shows what was decided.");
    expect((await browser.open(alice, { form: { csrf: csrfOf(page.html) } })).status).toBe(410);
    expect(((await api(app, "GET", `/requests/${id}`)).json as { status: string }).status).toBe("pending");

    const bob = link("bob@example.com");
    const bobBrowser = new Browser(app.url);
    const bobPage = await bobBrowser.open(bob);
    expect(bobPage.status).toBe(200);
    expect((await bobBrowser.open(bob, { form: { csrf: csrfOf(bobPage.html) } })).status).toBe(200);
    expect(((await api(app, "GET", `/requests/${id}`)).json as { status: string }).status).toBe("approved");
  });
});
