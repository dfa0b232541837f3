import nodemailer, { type Transporter } from "nodemailer";
import { offeredActions } from "../../core/render/request-markdown.js";
import type { ApprovalRequest } from "../../core/types.js";
import { LINK_PATH } from "../links/link-handler.js";
import { linkBinding, linkExpiry, newNonce, replyBinding, signLink, signReply } from "../links/link-token.js";
import { actionFact } from "../request-facts.js";
import { decisionEmail, outcomeEmail, threadHeaders, type EmailEvent } from "./email-message.js";

/** A person as `people:` maps them, for the channels that reach them outside GitHub. */
export interface Recipient {
  login: string;
  email?: string;
  phone?: string;
}

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
 * Sends a person the email for one event of a request: for `opened`, `escalated` and `warning`
 * one signed, single-use link per action (and a reply address); for `decided` and `expired` the
 * outcome. Throws when the server refuses, so the dispatcher retries.
 */
export function createEmailSender(deps: EmailSenderDeps) {
  const { settings } = deps;
  const transport = deps.transport ?? nodemailer.createTransport(settings.smtpUrl);
  const base = deps.publicUrl.replace(/\/+$/, "");
  const threadDomain = fromDomain(settings.from) ?? "hitl.invalid";

  return {
    kind: "email" as const,

    async send(input: { request: ApprovalRequest; event: EmailEvent; recipient: Recipient; now: Date }): Promise<{ messageId: string }> {
      const { request, event, recipient, now } = input;
      if (!recipient.email || !isEmailAddress(recipient.email)) throw new Error(`${recipient.login} has no usable email address in people:`);
      let content;
      if (event === "decided" || event === "expired") {
        content = outcomeEmail(request, { login: recipient.login, now });
      } else {
        const expiresAt = linkExpiry(request, now);
        const binding = linkBinding(request);
        const links = offeredActions(request).map((action) => ({
          action: actionFact(request, action),
          url: `${base}${LINK_PATH}${signLink(deps.linkKey, { requestId: request.id, binding, login: recipient.login, action: action.id, expiresAt, nonce: newNonce() })}`,
        }));
        const replyAddress = settings.replyDomain ? `reply+${signReply(deps.linkKey, { requestId: request.id, login: recipient.login, binding: replyBinding(request), expiresAt })}@${settings.replyDomain}` : null;
        content = { ...decisionEmail(request, { event, login: recipient.login, links, replyAddress, linksExpireAt: expiresAt, now }), replyAddress };
      }
      const thread = threadHeaders(request, recipient.login, event, threadDomain, newNonce());
      const info = (await transport.sendMail({
        from: settings.from,
        to: recipient.email,
        subject: content.subject,
        text: content.text,
        html: content.html,
        ...("replyAddress" in content && content.replyAddress ? { replyTo: content.replyAddress } : {}),
        messageId: thread.messageId,
        ...(thread.inReplyTo ? { inReplyTo: thread.inReplyTo, references: thread.references } : {}),
        headers: { "Auto-Submitted": "auto-generated", "X-Hitl-Request": request.id },
      })) as { messageId: string };
      return { messageId: info.messageId };
    },

    close(): void {
      transport.close();
    },
  };
}

export type EmailSender = ReturnType<typeof createEmailSender>;
