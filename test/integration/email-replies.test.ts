import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEmailSender } from "../../src/channels/email/email-sender.js";
import { linkKeyFrom, replyBinding, signReply } from "../../src/channels/links/link-token.js";
import { api, startApp, type AppHarness } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { startSmtpStandIn, type SmtpStandIn } from "../support/smtp-stand-in.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const KEY = linkKeyFrom("link-secret-for-tests-0123456789abcdef");
const SECRET = "inbound-email-secret-0123";
const DOMAIN = "reply.example.com";

const POLICY = `approvers: [alice, bob]
people:
  alice: {email: alice@example.com}
  bob: {email: Bob@Example.com}
  carol: {email: carol@example.com}
notify:
  - events: [opened]
    channels: [email]
`;

/** A reply as a mail client writes it, above the quoted original. */
function reply(options: { from: string; to: string; text: string; extraHeaders?: string }): string {
  return [
    `From: ${options.from}`,
    `To: ${options.to}`,
    "Subject: Re: Decision needed",
    "Message-ID: <reply-1@example.com>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    ...(options.extraHeaders ? [options.extraHeaders] : []),
    "",
    options.text,
    "",
    "On Tue, 24 Nov 2026 at 09:00, hitl <hitl@example.com> wrote:",
    "> reject",
    "",
  ].join("\r\n");
}

describe("email replies (POST /api/v1/inbound/email)", () => {
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
    sender = createEmailSender({ settings: { smtpUrl: smtp.url, from: "hitl <hitl@example.com>", replyDomain: DOMAIN }, publicUrl: "https://hitl.example.com", linkKey: KEY });
    app = await startApp({ githubUrl: github.url, now: T0, senders: [sender], links: { publicUrl: "https://hitl.example.com", key: KEY, inbound: { secret: SECRET, replyDomain: DOMAIN } }, maxBodyBytes: 4096 });
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
      on_behalf_of: "carol",
      callback_url: `${receiver.base}/cb`,
      ...overrides,
    });
    expect(response.status).toBe(201);
    await app.runtime.jobs.run();
    await app.runtime.jobs.run();
    return (response.json as { id: string }).id;
  }

  const replyAddressOf = (address: string) => {
    const mail = smtp.received.find((candidate) => candidate.to.some((to) => to.toLowerCase() === address.toLowerCase()))!;
    return mail.parsed.replyTo!.value[0]!.address!;
  };

  const post = async (body: string, headers: Record<string, string> = { authorization: `Bearer ${SECRET}` }) => {
    const response = await fetch(`${app.url}/api/v1/inbound/email`, { method: "POST", headers: { "content-type": "message/rfc822", ...headers }, body });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const status = async (id: string) => (await api(app, "GET", `/requests/${id}`)).json as { status: string; decision: unknown };

  it("decides as the reply address's recipient, and the agent hears it came by email; a second reply decides nothing", async () => {
    const id = await open();
    // carol is the person the agent acts for: she is not told. (Mail servers lowercase the domain.)
    expect(smtp.received.map((mail) => mail.to[0]).sort()).toEqual(["Bob@example.com", "alice@example.com"]);
    const to = replyAddressOf("Bob@Example.com");
    expect(to).toMatch(new RegExp(`^reply\\+${id}\\.bob\\.[A-Za-z0-9_-]{8}\\.[0-9a-z]+\\.[A-Za-z0-9_-]{16}@reply\\.example\\.com$`));

    await app.runtime.jobs.run();
    receiver.received.length = 0;
    const answer = await post(reply({ from: "Bob <bob@example.com>", to: `hitl <${to}>`, text: "approve\r\nThe order checks out." }), { "x-hitl-inbound-secret": SECRET });
    expect(answer).toEqual({ status: 200, json: { outcome: "decided", request_id: id, status: "approved", login: "bob", action: "approve" } });
    expect((await status(id)).decision).toMatchObject({ decided_by: { type: "human", login: "bob" }, via: "email", justification: "The order checks out." });
    await app.runtime.jobs.run();
    const callback = receiver.received.find((call) => call.path === "/cb")!;
    expect(JSON.parse(callback.body).request.decision).toMatchObject({ decided_by: { type: "human", login: "bob" }, via: "email" });

    const again = await post(reply({ from: "bob@example.com", to, text: "reject" }));
    expect(again).toEqual({
      status: 409,
      json: { outcome: "already_decided", request_id: id, status: "approved", login: "bob", action: "reject", error: { code: "already_decided", message: `Request ${id} is already approved; nothing more was decided.` } },
    });
  });

  it("never takes From as proof: a spoofed sender, the requester's own address, or a token only in From decide nothing", async () => {
    const id = await open();
    const to = replyAddressOf("Bob@Example.com");
    const mismatch = { status: 403, json: { error: { code: "from_mismatch", message: "The reply must come from the address the email was sent to (bob's); nothing was decided." } } };
    expect(await post(reply({ from: "mallory@example.com", to, text: "approve" }))).toEqual(mismatch);
    // The person the agent acts for, with bob's reply address.
    expect(await post(reply({ from: "carol@example.com", to, text: "approve" }))).toEqual(mismatch);
    // Two senders, one of them bob.
    expect(await post(reply({ from: "bob@example.com, mallory@example.com", to, text: "approve" }))).toEqual(mismatch);
    // The token in From, To elsewhere.
    expect(await post(reply({ from: to, to: "hitl@example.com", text: "approve" }))).toEqual({
      status: 400,
      json: { error: { code: "no_reply_address", message: "No recipient is a reply address (reply+<token>@reply.example.com): To, Cc, Delivered-To and X-Original-To were read." } },
    });
    // A valid token made out to carol herself (she is in people:): the engine refuses the requester.
    const request = await app.store.get(id);
    const carols = `reply+${signReply(KEY, { requestId: id, login: "carol", binding: replyBinding(request!), expiresAt: Date.parse("2026-11-25T09:00:00Z") })}@${DOMAIN}`;
    const own = await post(reply({ from: "carol@example.com", to: carols, text: "approve" }));
    expect(own).toEqual({ status: 403, json: { outcome: "refused", request_id: id, status: "pending", login: "carol", action: "approve", error: { code: "not_allowed", message: `carol may not decide request ${id} (requester); nothing was decided.` } } });
    expect((await status(id)).status).toBe("pending");
  });

  it("answers bad calls with the problem named", async () => {
    const id = await open();
    const to = replyAddressOf("alice@example.com");
    expect(await post(reply({ from: "alice@example.com", to, text: "approve" }), { authorization: "Bearer wrong-secret-0000000" })).toEqual({
      status: 401,
      json: { error: { code: "unauthorized", message: "The inbound email secret is required: Authorization: Bearer <HITL_INBOUND_EMAIL_SECRET> or X-Hitl-Inbound-Secret." } },
    });
    expect(await post(reply({ from: "alice@example.com", to, text: "Sure, go ahead" }))).toEqual({
      status: 422,
      json: { error: { code: "no_command", message: "Nothing was decided: the reply's first line must be approve, reject or choose <id>." } },
    });
    const tampered = to.replace(/\.([A-Za-z0-9_-])([A-Za-z0-9_-]{15})@/, (_, first: string, rest: string) => `.${first === "A" ? "B" : "A"}${rest}@`);
    expect(await post(reply({ from: "alice@example.com", to: tampered, text: "approve" }))).toEqual({
      status: 400,
      json: { error: { code: "invalid_reply_token", message: "The reply address's token is not valid; nothing was decided." } },
    });
    expect(await post(reply({ from: "alice@example.com", to, text: "approve", extraHeaders: `X-Padding: ${"x".repeat(5000)}` }))).toEqual({
      status: 413,
      json: { error: { code: "payload_too_large", message: "The body is larger than 4096 bytes." } },
    });
    app.setNow(new Date("2026-11-25T09:00:00.000Z"));
    expect(await post(reply({ from: "alice@example.com", to, text: "approve" }))).toEqual({
      status: 410,
      json: { error: { code: "reply_token_expired", message: "The reply address has expired (at the request's deadline, or 24 hours after the email); nothing was decided." } },
    });
    expect((await status(id)).status).toBe("pending");
  });

  it("takes changes to editable fields from a fenced block, within their bounds, as a comment would", async () => {
    const id = await open({ editable_fields: { amount: { type: "number", minimum: 0, maximum: 120 } } });
    const to = replyAddressOf("alice@example.com");
    const tooMuch = await post(reply({ from: "alice@example.com", to, text: "approve\r\n```yaml\r\namount: 500\r\n```" }));
    expect(tooMuch).toEqual({
      status: 422,
      json: { outcome: "needs_input", request_id: id, status: "pending", login: "alice", action: "approve", error: { code: "needs_input", message: "The changes were not applied, and neither was the decision: amount must be at most 120, not 500." } },
    });
    const half = await post(reply({ from: "alice@example.com", to, text: "approve half is enough\r\n```yaml\r\namount: 60\r\n```" }));
    expect(half.status).toBe(200);
    expect((await status(id)).decision).toMatchObject({ via: "email", justification: "half is enough", edited_fields: { amount: 60 } });
  });

  it("reads a reply that has only HTML, without the quoted original", async () => {
    const id = await open();
    const to = replyAddressOf("alice@example.com");
    const raw = [
      "From: alice@example.com",
      `To: ${to}`,
      "Subject: Re: Decision needed",
      "MIME-Version: 1.0",
      "Content-Type: text/html; charset=utf-8",
      "",
      "<div>reject</div><div>Not this quarter</div><blockquote><p>approve</p></blockquote>",
      "",
    ].join("\r\n");
    expect((await post(raw)).json).toEqual({ outcome: "decided", request_id: id, status: "rejected", login: "alice", action: "reject" });
    expect((await status(id)).decision).toMatchObject({ via: "email", justification: "Not this quarter" });
  });

  it("keeps the quoted original out of the reason when a client quotes it unmarked: no link or reply address reaches the issue, the API or the callback", async () => {
    const id = await open();
    const mail = smtp.received.find((candidate) => candidate.to.includes("alice@example.com"))!;
    const to = mail.parsed.replyTo!.value[0]!.address!;
    // Outlook in German quotes the original below a header block, with no `>` and no "From:".
    const quoted = ["Von: hitl <hitl@example.com>", "Gesendet: Dienstag, 24. November 2026 09:00", "An: alice@example.com", "", mail.parsed.text!.replace(/\r?\n/g, "\r\n")].join("\r\n");
    expect(quoted).toMatch(/https:\/\/hitl\.example\.com\/l\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/);
    const raw = [`From: alice@example.com`, `To: ${to}`, "Subject: AW: Decision needed", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", "reject", "Not this quarter", "", quoted, ""].join("\r\n");
    receiver.received.length = 0;
    expect((await post(raw)).json).toEqual({ outcome: "decided", request_id: id, status: "rejected", login: "alice", action: "reject" });
    expect((await status(id)).decision).toMatchObject({ via: "email", justification: "Not this quarter\n\nVon: hitl <hitl@example.com>\nGesendet: Dienstag, 24. November 2026 09:00\nAn: alice@example.com" });
    await app.runtime.jobs.run();
    const shown = [JSON.stringify((await status(id)).decision), ...receiver.received.map((call) => call.body), ...github.repo(REPO).issues.flatMap((issue) => [issue.body ?? "", ...issue.comments.map((comment) => comment.body)])].join("\n");
    expect(shown).not.toMatch(/\/l\/|reply\+/);
  });
});
