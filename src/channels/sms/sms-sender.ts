import type { ApprovalRequest } from "../../core/types.js";
import type { Outbound } from "../../notify/post-json.js";
import { postForm } from "../../notify/post-form.js";
import type { Recipient } from "../email/email-sender.js";
import { LINK_PATH } from "../links/link-handler.js";
import { linkBinding, linkExpiry, newNonce, signLink } from "../links/link-token.js";
import { SMS_PRIORITIES, smsBody } from "./sms-message.js";

export interface TwilioSettings {
  /** `HITL_TWILIO_ACCOUNT_SID` */
  accountSid: string;
  /** `HITL_TWILIO_AUTH_TOKEN` */
  authToken: string;
  /** `HITL_TWILIO_FROM`: an E.164 number or a messaging service's sender. */
  from: string;
  /** `HITL_TWILIO_API_URL`, default `https://api.twilio.com`. */
  apiUrl: string;
}

/** `+` and 8 to 15 digits, the first not 0: what Twilio accepts as `To`. */
export const E164 = /^\+[1-9]\d{7,14}$/;

/**
 * Sends urgent requests (`SMS_PRIORITIES`) to a person's phone through a Twilio-compatible API:
 * the short summary and one link to the page where they pick an action and confirm. Other
 * events and priorities are skipped. Throws when the API refuses, so the dispatcher retries.
 */
export function createSmsSender(deps: { settings: TwilioSettings; outbound: Outbound; publicUrl: string; linkKey: Buffer }) {
  const { settings } = deps;
  const endpoint = `${settings.apiUrl.replace(/\/+$/, "")}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString("base64")}`;
  const base = deps.publicUrl.replace(/\/+$/, "");

  return {
    kind: "sms" as const,

    async send(input: { request: ApprovalRequest; event: string; recipient: Recipient; now: Date }): Promise<{ sid: string } | { skipped: string }> {
      const { request, event, recipient, now } = input;
      if (event !== "opened" && event !== "escalated" && event !== "warning") return { skipped: `SMS is not sent for ${event}` };
      if (!SMS_PRIORITIES.includes(request.priority)) return { skipped: `SMS is sent for ${SMS_PRIORITIES.join(" and ")} requests only` };
      if (!recipient.phone || !E164.test(recipient.phone)) throw new Error(`${recipient.login} has no E.164 phone number in people:`);
      const token = signLink(deps.linkKey, { requestId: request.id, binding: linkBinding(request), login: recipient.login, action: null, expiresAt: linkExpiry(request, now), nonce: newNonce() });
      const answer = await postForm(deps.outbound, endpoint, { To: recipient.phone, From: settings.from, Body: smsBody(request, event, `${base}${LINK_PATH}${token}`) }, { authorization, accept: "application/json" });
      let parsed: { sid?: unknown; message?: unknown; code?: unknown } = {};
      try {
        parsed = JSON.parse(answer.body) as typeof parsed;
      } catch {
        // described below by the status alone
      }
      if (answer.status < 200 || answer.status >= 300 || typeof parsed.sid !== "string") {
        const detail = typeof parsed.message === "string" ? `: ${parsed.message.slice(0, 200)}${typeof parsed.code === "number" ? ` (code ${parsed.code})` : ""}` : "";
        throw new Error(`the SMS API answered HTTP ${answer.status}${detail}`);
      }
      return { sid: parsed.sid };
    },
  };
}

export type SmsSender = ReturnType<typeof createSmsSender>;
