import nodemailer, { type Transporter } from "nodemailer";
import type { Person } from "../../config/schema.js";
import { offeredActions } from "../../core/render/request-markdown.js";
import { PermanentSendError, type Notification, type Recipient, type SendResult } from "../channel.js";
import { LINK_PATH } from "../links/link-handler.js";
import { linkBinding, linkExpiry, newNonce, replyBinding, signLink, signReply } from "../links/link-token.js";
import { actionFact } from "../request-facts.js";
import { decisionEmail, outcomeEmail, type EmailContent } from "./email-message.js";

export interface EmailSettings {
  /** `HITL_SMTP_URL`, e.g. `smtp://user:pass@host:587` (`smtps://` for TLS from the start). */
  smtpUrl: string;
  /** `HITL_EMAIL_FROM`: `hitl <hitl@example.com>` or a bare address. */
  from: string;
  /** `HITL_INBOUND_EMAIL_DOMAIN`: the domain of the reply addresses; null: replies are not offered. */
  replyDomain: string | null;
}

export interface EmailSenderDeps {
  settings: EmailSettings;
  publicUrl: string;
  linkKey: Buffer;
  /** Tests hand in their own transport; otherwise one is made from `smtpUrl`. */
  transport?: Transporter;
}

/** A mailbox as hitl accepts it from `people:`: no spaces, quotes, angle brackets or line breaks. */
const ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function isEmailAddress(text: string): boolean {
  return text.length <= 254 && ADDRESS.test(text);
}

/** The domain part of `HITL_EMAIL_FROM` (`Name <a@b>` or `a@b`). */
export function fromDomain(from: string): string | null {
  const address = /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from.trim();
  return isEmailAddress(address) ? address.slice(address.lastIndexOf("@") + 1).toLowerCase() : null;
}

/**
 * The `email` channel: for `opened`, `escalated` and `warning`, one signed, single-use link per
 * action (and a reply address); for `decided` and `expired`, the outcome. Mails to one person
 * about one request thread on the first (`ref.thread`). Throws when the server refuses, so the
 * dispatcher retries. The links need no withdrawing: each page checks that the request is
 * still pending and unchanged.
 */
export function createEmailSender(deps: EmailSenderDeps) {
  const { settings } = deps;
  const transport = deps.transport ?? nodemailer.createTransport(settings.smtpUrl);
  const base = deps.publicUrl.replace(/\/+$/, "");
  const threadDomain = fromDomain(settings.from) ?? "hitl.invalid";

  return {
    kind: "email" as const,

    addressOf(person: Person): string | null {
      return person.email && isEmailAddress(person.email) ? person.email : null;
    },

    async send(notification: Notification, recipient: Recipient): Promise<SendResult> {
      const { request, event, now } = notification;
      const login = recipient.login;
      if (login === null) throw new PermanentSendError("email goes to people (people: entries), not to a fixed destination");
      if (!isEmailAddress(recipient.address)) throw new PermanentSendError(`${login} has no usable email address in people:`);
      let content: EmailContent;
      let replyAddress: string | null = null;
      if (event === "decided" || event === "expired") {
        content = outcomeEmail(request, { login, now });
      } else {
        const expiresAt = linkExpiry(request, now);
        const binding = linkBinding(request);
        const links = offeredActions(request).map((action) => ({
          action: actionFact(request, action),
          url: `${base}${LINK_PATH}${signLink(deps.linkKey, { requestId: request.id, binding, login, action: action.id, expiresAt, nonce: newNonce(), via: "link" })}`,
        }));
        replyAddress = settings.replyDomain ? `reply+${signReply(deps.linkKey, { requestId: request.id, login, binding: replyBinding(request), expiresAt })}@${settings.replyDomain}` : null;
        content = decisionEmail(request, { event, login, links, replyAddress, linksExpireAt: expiresAt, now });
      }
      const messageId = `<hitl.${idPart(request.id)}.${idPart(login.toLowerCase())}.${idPart(notification.eventKey)}.${newNonce()}@${threadDomain}>`;
      // The first mail to this person about the request starts the thread; later ones answer it.
      const root = notification.thread?.thread;
      const subject = root ? `Re: ${content.subject}` : content.subject;
      await transport.sendMail({
        from: settings.from,
        to: recipient.address,
        subject,
        text: content.text,
        html: content.html,
        ...(replyAddress ? { replyTo: replyAddress } : {}),
        messageId,
        ...(root ? { inReplyTo: root, references: root } : {}),
        headers: { "Auto-Submitted": "auto-generated", "X-Hitl-Request": request.id },
      });
      return { ok: true, ref: { messageId, thread: root ?? messageId } };
    },

    close(): void {
      transport.close();
    },
  };
}

/** Keeps a Message-ID part to the characters a msg-id's dot-atom allows. */
const idPart = (text: string) => text.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 100);

export type EmailSender = ReturnType<typeof createEmailSender>;
