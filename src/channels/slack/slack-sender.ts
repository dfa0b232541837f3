import type { Person } from "../../config/schema.js";
import type { Outbound } from "../../notify/post-json.js";
import { ACTIONABLE_EVENTS, type ChannelSender, type Notification, type Recipient, type SendResult } from "../channel.js";
import { outcomeMessage, requestMessage } from "./blocks.js";
import { slackApi, type SlackCall, type SlackSettings } from "./slack-api.js";

/**
 * Slack: `chat.postMessage` with Block Kit to a person (a direct message to their `slack` id) or
 * a channel; escalations and ends go in the thread of the first message; once the request ends,
 * `chat.update` turns each message that asked for a decision into its outcome, without buttons.
 */
export function createSlackSender(settings: SlackSettings, outbound: Outbound, call: SlackCall = slackApi(settings, outbound)): ChannelSender & { call: SlackCall } {
  const message = (notification: Notification) =>
    ACTIONABLE_EVENTS.has(notification.event) && notification.request.status === "pending"
      ? requestMessage(notification.request, notification.event, settings.signingSecret)
      : outcomeMessage(notification.request);

  return {
    kind: "slack",
    call,
    addressOf: (person: Person) => person.slack ?? null,

    async send(notification: Notification, recipient: Recipient): Promise<SendResult> {
      const thread = notification.thread;
      const answer = await call("chat.postMessage", {
        channel: thread?.channel ?? recipient.address,
        ...message(notification),
        ...(thread?.ts ? { thread_ts: thread.ts } : {}),
        unfurl_links: false,
        unfurl_media: false,
      });
      const channel = typeof answer.channel === "string" ? answer.channel : recipient.address;
      return { ok: true, ref: { channel, ts: String(answer.ts) } };
    },

    async update(notification: Notification, _recipient: Recipient, ref: Record<string, string>): Promise<void> {
      await call("chat.update", { channel: ref.channel, ts: ref.ts, ...outcomeMessage(notification.request) });
    },
  };
}
