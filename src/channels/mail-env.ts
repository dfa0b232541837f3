import { z } from "zod";
import { targetRefusal, type AllowedTargets } from "../notify/private-targets.js";
import { fromDomain, type EmailSettings } from "./email/email-sender.js";
import { linkKeyFrom } from "./links/link-token.js";
import { E164, type TwilioSettings } from "./sms/sms-sender.js";

/** What the email, link, reply and SMS channels need from the environment. */
export interface MailChannelSettings {
  /** `HITL_PUBLIC_URL`: where people's browsers reach hitl; links are `<it>/l/<token>`. */
  publicUrl: string | null;
  /** Signs links and reply addresses: from `HITL_LINK_SECRET`, else `HITL_MARKER_SECRET` or `WEBHOOK_SECRET`. */
  linkKey: Buffer | null;
  email: EmailSettings | null;
  /** `HITL_INBOUND_EMAIL_SECRET`; null: `POST /api/v1/inbound/email` is not served. */
  inboundSecret: string | null;
  twilio: TwilioSettings | null;
}

const schema = z.object({
  HITL_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  HITL_LINK_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  HITL_SMTP_URL: z.url({ protocol: /^smtps?$/, error: "must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587" }).optional(),
  HITL_EMAIL_FROM: z.string().max(200).optional(),
  HITL_INBOUND_EMAIL_DOMAIN: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i, "must be a domain name such as reply.example.com").optional(),
  HITL_INBOUND_EMAIL_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  HITL_TWILIO_ACCOUNT_SID: z.string().regex(/^[A-Za-z0-9]{8,64}$/, "must be the account's SID (letters and digits, e.g. AC…)").optional(),
  HITL_TWILIO_AUTH_TOKEN: z.string().min(8, "must be at least 8 characters").optional(),
  HITL_TWILIO_FROM: z.string().optional(),
  HITL_TWILIO_API_URL: z.string().default("https://api.twilio.com"),
});

/** Reads the channels' variables, or names every bad one (values are never echoed). */
export function readMailChannels(env: NodeJS.ProcessEnv, allowed: AllowedTargets): { settings: MailChannelSettings; errors: string[] } {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([key, value]) => key in schema.shape && value !== ""));
  const parsed = schema.safeParse(cleaned);
  const empty: MailChannelSettings = { publicUrl: null, linkKey: null, email: null, inboundSecret: null, twilio: null };
  if (!parsed.success) return { settings: empty, errors: parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) };
  const v = parsed.data;
  const errors: string[] = [];
  const needsPublicUrl = (what: string, variable: string) => {
    if (!v.HITL_PUBLIC_URL) errors.push(`HITL_PUBLIC_URL: must be set when ${variable} is: ${what} carry one-click links that start with it (e.g. https://hitl.example.com)`);
  };

  let email: EmailSettings | null = null;
  if (v.HITL_SMTP_URL) {
    needsPublicUrl("emails", "HITL_SMTP_URL");
    const domain = v.HITL_EMAIL_FROM ? fromDomain(v.HITL_EMAIL_FROM) : null;
    if (!v.HITL_EMAIL_FROM) errors.push("HITL_EMAIL_FROM: must be set when HITL_SMTP_URL is, e.g. hitl <hitl@example.com>");
    else if (!domain || /[\r\n]/.test(v.HITL_EMAIL_FROM)) errors.push("HITL_EMAIL_FROM: must be an address, or a name and an address in angle brackets, e.g. hitl <hitl@example.com>");
    email = { smtpUrl: v.HITL_SMTP_URL, from: v.HITL_EMAIL_FROM ?? "", replyDomain: v.HITL_INBOUND_EMAIL_SECRET ? (v.HITL_INBOUND_EMAIL_DOMAIN?.toLowerCase() ?? domain) : null };
  } else if (v.HITL_EMAIL_FROM) {
    errors.push("HITL_EMAIL_FROM: set HITL_SMTP_URL too, or leave it out");
  }
  if (v.HITL_INBOUND_EMAIL_SECRET && !v.HITL_SMTP_URL) errors.push("HITL_INBOUND_EMAIL_SECRET: replies answer hitl's emails; set HITL_SMTP_URL and HITL_EMAIL_FROM too");
  if (v.HITL_INBOUND_EMAIL_DOMAIN && !v.HITL_INBOUND_EMAIL_SECRET) errors.push("HITL_INBOUND_EMAIL_DOMAIN: set HITL_INBOUND_EMAIL_SECRET too (replies are only taken with it), or leave it out");

  let twilio: TwilioSettings | null = null;
  const twilioSet = [v.HITL_TWILIO_ACCOUNT_SID, v.HITL_TWILIO_AUTH_TOKEN, v.HITL_TWILIO_FROM].filter(Boolean).length;
  if (twilioSet > 0) {
    if (twilioSet < 3) errors.push("HITL_TWILIO_ACCOUNT_SID, HITL_TWILIO_AUTH_TOKEN and HITL_TWILIO_FROM must be set together");
    else if (!E164.test(v.HITL_TWILIO_FROM!) && !/^MG[0-9a-f]{32}$/i.test(v.HITL_TWILIO_FROM!)) errors.push("HITL_TWILIO_FROM: must be an E.164 phone number such as +14155550100 (or a messaging service SID, MG…)");
    const refusal = targetRefusal(v.HITL_TWILIO_API_URL, allowed);
    if (refusal) errors.push(`HITL_TWILIO_API_URL: ${refusal}`);
    needsPublicUrl("text messages", "HITL_TWILIO_ACCOUNT_SID");
    twilio = { accountSid: v.HITL_TWILIO_ACCOUNT_SID ?? "", authToken: v.HITL_TWILIO_AUTH_TOKEN ?? "", from: v.HITL_TWILIO_FROM ?? "", apiUrl: v.HITL_TWILIO_API_URL };
  }

  const secret = v.HITL_LINK_SECRET ?? env.HITL_MARKER_SECRET ?? env.WEBHOOK_SECRET;
  if ((email || twilio) && !secret) errors.push("HITL_LINK_SECRET: set it (at least 32 characters), or HITL_MARKER_SECRET or WEBHOOK_SECRET, to sign one-click links");
  return {
    settings: { publicUrl: v.HITL_PUBLIC_URL ?? null, linkKey: secret ? linkKeyFrom(secret) : null, email, inboundSecret: email ? (v.HITL_INBOUND_EMAIL_SECRET ?? null) : null, twilio },
    errors,
  };
}

