import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmailSender } from "../../src/channels/email/email-sender.js";
import { linkKeyFrom, readLink, readReply } from "../../src/channels/links/link-token.js";
import type { Notification, Recipient } from "../../src/channels/channel.js";
import type { ApprovalRequest } from "../../src/core/types.js";
import { makeRequest } from "../support/fixtures.js";
import { startSmtpStandIn, type SmtpStandIn } from "../support/smtp-stand-in.js";

const KEY = linkKeyFrom("link-secret-for-tests-0123456789abcdef");
const NOW = new Date("2026-11-24T10:00:00.000Z");
const PUBLIC_URL = "https://hitl.example.com";

/** The notification the dispatcher hands a sender. */
const note = (request: ApprovalRequest, event: Notification["event"], thread?: Record<string, string>): Notification => ({
  event,
  eventKey: event === "escalated" ? "escalated:1" : event,
  request,
  requestJson: {},
  now: NOW,
  deliveryId: "dlv_test",
  ...(thread ? { thread } : {}),
});
const to = (login: string, address: string): Recipient => ({ login, person: { email: address }, address });

describe("email sender (a real SMTP server)", () => {
  let smtp: SmtpStandIn;
  let sender: ReturnType<typeof createEmailSender>;

  beforeAll(async () => {
    smtp = await startSmtpStandIn();
    sender = createEmailSender({ settings: { smtpUrl: smtp.url, from: "hitl <hitl@example.com>", replyDomain: "reply.example.com" }, publicUrl: PUBLIC_URL, linkKey: KEY });
  });
  afterAll(async () => {
    sender.close();
    await smtp.close();
  });

  const last = () => smtp.received.at(-1)!;

  it("sends a decision mail a person can act on: links per action, reply address, subject with priority and deadline", async () => {
    const request = makeRequest({ id: "req_mail1", surfaceRef: { type: "issue", number: 7, url: "https://github.com/octo-org/payments/issues/7" } });
    const sent = await sender.send(note(request, "opened"), to("alice", "alice@example.com"));
    const mail = last();
    expect(sent).toEqual({ ok: true, ref: { messageId: mail.parsed.messageId, thread: mail.parsed.messageId } });
    expect(mail.to).toEqual(["alice@example.com"]);
    expect(mail.from).toBe("hitl@example.com");
    expect(mail.parsed.subject).toBe("Decision needed (high priority) by 27 Nov 2026 10:00 UTC: Refund order 1234");
    expect(mail.parsed.messageId).toMatch(/^<hitl\.req_mail1\.alice\.opened\.[A-Za-z0-9_-]{12}@example\.com>$/);
    expect(mail.parsed.inReplyTo).toBeUndefined();
    expect(mail.parsed.headers.get("auto-submitted")).toBe("auto-generated");

    const replyTo = mail.parsed.replyTo!.value[0]!.address!;
    const token = /^reply\+(.+)@reply\.example\.com$/.exec(replyTo)![1]!;
    expect(readReply(KEY, token, NOW)).toMatchObject({ ok: true, claims: { requestId: "req_mail1", login: "alice", expiresAt: Date.parse("2026-11-25T10:00:00.000Z") } });

    const links = [...mail.parsed.text!.matchAll(/^https:\/\/hitl\.example\.com\/l\/(\S+)$/gm)].map((match) => match[1]!);
    expect(links.map((link) => readLink(KEY, link, NOW))).toMatchObject([
      { ok: true, claims: { requestId: "req_mail1", login: "alice", action: "approve" } },
      { ok: true, claims: { requestId: "req_mail1", login: "alice", action: "reject" } },
    ]);
    expect(mail.parsed.text!.replace(/\/l\/\S+/g, "/l/<token>")).toBe(`A decision is needed from you.

Refund order 1234

refund-agent asks for approval. Why: Refunds over $50 need a human
Priority: high
Deadline: 27 Nov 2026 10:00 UTC (in 3 days)
If nobody decides by then: the request is aborted: nobody answered

Decision data:
  amount: 120
  currency: "USD"

Decide (each link opens a page to confirm on; it works once, until 25 Nov 2026 10:00 UTC):

Approve: Refund — Customer gets $120 back
https://hitl.example.com/l/<token>

Reject: Deny — Ticket goes back to support
https://hitl.example.com/l/<token>

Or reply to this email with approve or reject on the first line; the rest of your reply is your reason.

Sent to alice; deciding here counts as alice's decision.
On GitHub: https://github.com/octo-org/payments/issues/7
`);
    const html = mail.parsed.html as string;
    expect(html).toContain(`<a href="https://hitl.example.com/l/${links[0]}"`);
    expect(html).toContain(">Approve: Refund</a>");
    expect(html).toContain(">Reject: Deny</a>");
  });

  it("threads later mails of a request on the first, and sends the outcome without links", async () => {
    const request = makeRequest({ id: "req_mail2" });
    const first = await sender.send(note(request, "opened"), to("Bob", "bob@example.com"));
    const root = first.ref!.thread!;
    const escalated = await sender.send(note(request, "escalated", first.ref), to("Bob", "bob@example.com"));
    const mail = last().parsed;
    expect(mail.subject).toBe("Re: Decision needed (high priority) by 27 Nov 2026 10:00 UTC: Refund order 1234");
    expect(mail.messageId).toMatch(/^<hitl\.req_mail2\.bob\.escalated_1\.[A-Za-z0-9_-]{12}@example\.com>$/);
    expect(mail.inReplyTo).toBe(root);
    expect(mail.references).toBe(root);
    expect(escalated.ref).toEqual({ messageId: mail.messageId, thread: root });
    expect(mail.text).toMatch(/^Nobody has decided yet, so this request now comes to you\.\n/);

    const decided = { ...request, status: "approved" as const, decision: { action: "approve", status: "approved" as const, decidedBy: { type: "human" as const, login: "alice" }, justification: "Looks right", decidedAt: "2026-11-24T11:00:00.000Z", via: "link" as const } };
    await sender.send(note(decided, "decided", escalated.ref), to("Bob", "bob@example.com"));
    const outcome = last().parsed;
    expect(outcome.inReplyTo).toBe(root);
    expect(outcome.replyTo).toBeUndefined();
    expect(outcome.text).toBe("Approved by alice with a one-click link on 24 Nov 2026 11:00 UTC.\nReason: Looks right\n\nRefund order 1234\n\nThe links in earlier emails no longer work.\n");
  });

  it("keeps agent text out of the headers and inert in the body", async () => {
    const request = makeRequest({
      id: "req_mail3",
      taskDescription: "Refund\r\nBcc: mallory@example.com\r\n\r\n<script>alert(1)</script> see https://evil.example @alice",
      decisionData: { "<b>note</b>": "<img src=x onerror=alert(1)>" },
    });
    const sent = await sender.send(note(request, "opened"), to("alice", "alice@example.com"));
    const mail = last();
    expect(sent).toEqual({ ok: true, ref: { messageId: mail.parsed.messageId, thread: mail.parsed.messageId } });
    expect(mail.to).toEqual(["alice@example.com"]);
    expect(mail.parsed.bcc).toBeUndefined();
    expect(mail.parsed.headers.has("bcc")).toBe(false);
    expect(mail.parsed.subject).toBe("Decision needed (high priority) by 27 Nov 2026 10:00 UTC: Refund Bcc: mallory@\u200Dexample.com <script>alert(1)</script> see https:\u200D//evil.example @\u200Dalice");
    const html = mail.parsed.html as string;
    expect(html).not.toMatch(/<script|<img|<b>/);
    expect(html).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(html).toContain("&#60;img src&#61;x onerror&#61;alert(1)&#62;");
  });

  it("refuses a recipient address that could carry headers, and throws when the server refuses", async () => {
    const request = makeRequest();
    await expect(sender.send(note(request, "opened"), to("eve", "eve@example.com\r\nBcc: x@example.com"))).rejects.toThrow("eve has no usable email address in people:");
    smtp.refuseNext([451]);
    await expect(sender.send(note(request, "opened"), to("alice", "alice@example.com"))).rejects.toThrow(/451/);
  });
});
