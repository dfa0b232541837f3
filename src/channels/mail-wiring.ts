import type { Outbound } from "../notify/post-json.js";
import type { ChannelSender } from "./channel.js";
import { createEmailSender } from "./email/email-sender.js";
import type { MailChannelSettings } from "./mail-env.js";
import { createSmsSender } from "./sms/sms-sender.js";

/** The email and SMS senders, and the link and reply endpoints, that the environment configures. */
export function mailChannelWiring(settings: MailChannelSettings, outbound: Outbound): { senders: ChannelSender[]; links: { publicUrl: string; key: Buffer; inbound?: { secret: string; replyDomain: string } } | null } {
  const { publicUrl, linkKey } = settings;
  // readMailChannels refuses email or SMS without a public URL and a key.
  if (!publicUrl || !linkKey) return { senders: [], links: null };
  const senders: ChannelSender[] = [];
  if (settings.email) senders.push(createEmailSender({ settings: settings.email, publicUrl, linkKey }));
  if (settings.twilio) senders.push(createSmsSender({ settings: settings.twilio, outbound, publicUrl, linkKey }));
  const replyDomain = settings.email?.replyDomain;
  return {
    senders,
    links: { publicUrl, key: linkKey, ...(settings.inboundSecret && replyDomain ? { inbound: { secret: settings.inboundSecret, replyDomain } } : {}) },
  };
}
