import type { Person } from "../../config/schema.js";
import type { ApprovalRequest, NotificationEvent, Priority } from "../../core/types.js";
import type { Outbound } from "../../notify/post-json.js";
import { postForm } from "../../notify/post-form.js";
import { PermanentSendError, type Notification, type Recipient, type SendResult } from "../channel.js";
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

/** `+` and 7 to 15 digits, the first not 0: what Twilio accepts as `To`. */
export const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * The `sms` channel, through a Twilio-compatible API: for urgent requests (`priorities`, default
 * critical and high) and the events that ask for a decision, the short summary and one link to
 * the page where the person picks an action and confirms. Other requests and events are not
 * planned for SMS at all (`wants`), so the person hears of them on the entry's other channels.
 * Throws when the API refuses, so the dispatcher retries.
 */
export function createSmsSender(deps: { settings: TwilioSettings; outbound: Outbound; publicUrl: string; linkKey: Buffer; priorities?: readonly Priority[] }) {
  const { settings } = deps;
  const endpoint = `${settings.apiUrl.replace(/\/+$/, "")}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString("base64")}`;
  const base = deps.publicUrl.replace(/\/+$/, "");
  const priorities = deps.priorities ?? SMS_PRIORITIES;

  return {
    kind: "sms" as const,

    addressOf(person: Person): string | null {
      return person.phone && E164.test(person.phone) ? person.phone : null;
    },

    wants(request: Pick<ApprovalRequest, "priority">, event: NotificationEvent): boolean {
      return (event === "opened" || event === "escalated" || event === "warning") && priorities.includes(request.priority);
    },

    async send(notification: Notification, recipient: Recipient): Promise<SendResult & { ref: { sid: string } }> {
      const { request, event, now } = notification;
      if (recipient.login === null) throw new PermanentSendError("SMS goes to people (people: entries), not to a fixed destination");
      if (event !== "opened" && event !== "escalated" && event !== "warning") throw new PermanentSendError(`SMS is not sent for ${event}`);
      if (!E164.test(recipient.address)) throw new PermanentSendError(`${recipient.login} has no E.164 phone number in people:`);
      const token = signLink(deps.linkKey, { requestId: request.id, binding: linkBinding(request), login: recipient.login, action: null, expiresAt: linkExpiry(request, now), nonce: newNonce(), via: "sms" });
      const answer = await postForm(deps.outbound, endpoint, { To: recipient.address, From: settings.from, Body: smsBody(request, event, `${base}${LINK_PATH}${token}`) }, { authorization, accept: "application/json" });
      let parsed: { sid?: unknown; message?: unknown; code?: unknown } = {};
      try {
        parsed = JSON.parse(answer.body) as typeof parsed;
      } catch {
        // described below by the status alone
      }
      if (answer.status < 200 || answer.status >= 300 || typeof parsed.sid !== "string") {
        const detail = typeof parsed.message === "string" ? `: ${parsed.message.slice(0, 200)}${typeof parsed.code === "number" ? ` (code ${parsed.code})` : ""}` : "";
        const error = `the SMS API answered HTTP ${answer.status}${detail}`;
        // A refused number or bad credentials fail the same way next time; a 429 or 5xx may not.
        throw answer.status >= 400 && answer.status < 500 && answer.status !== 429 ? new PermanentSendError(error) : new Error(error);
      }
      return { ok: true, ref: { sid: parsed.sid } };
    },
  };
}

export type SmsSender = ReturnType<typeof createSmsSender>;
