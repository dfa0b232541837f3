import { formatTime } from "../core/render/format.js";
import { inertChatText, slackText } from "../core/render/inert.js";
import { signedPost } from "../notify/callback.js";
import type { Channel } from "../notify/channels.js";
import { postJson, type Outbound } from "../notify/post-json.js";
import { PermanentSendError, type ChannelSender, type Notification, type Recipient, type SendResult } from "./channel.js";

/**
 * `{webhook: name}` in `notify:`: the environment's `HITL_CHANNEL_<NAME>` (a URL, `_SECRET`,
 * `_HEADERS`; the repository names the channel, never its URL or credentials). A plain webhook
 * gets `{"event": "request.<event>", "delivery_id", "sent_at", "request": {…}}` signed like the
 * agent callbacks; a Slack incoming webhook gets one line of text. Through the outbound guard.
 */
export function createWebhookSender(channels: Channel[], outbound: Outbound): ChannelSender {
  const byName = new Map(channels.map((channel) => [channel.name, channel]));
  return {
    kind: "webhook",
    addressOf: () => null,

    async send(notification: Notification, recipient: Recipient): Promise<SendResult> {
      const channel = byName.get(recipient.address);
      if (!channel) throw new PermanentSendError(`no HITL_CHANNEL_${recipient.address.toUpperCase()} is configured`);
      const { request } = notification;
      const post =
        channel.kind === "slack"
          ? {
              body: JSON.stringify({ text: slackText(`${notification.event} (${request.priority}): ${inertChatText(request.taskDescription)}. Deadline ${formatTime(request.deadline)}. ${request.surfaceRef?.url ?? `request ${request.id}`}`) }),
              headers: { "content-type": "application/json", "user-agent": "hitl" },
            }
          : signedPost({ event: `request.${notification.event}`, request: notification.requestJson }, notification.deliveryId, notification.now, channel.secret ?? null);
      try {
        await postJson(outbound, channel.url, post.body, { ...(channel.headers ?? {}), ...post.headers });
      } catch (error) {
        throw new Error(`channel ${channel.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
      return { ok: true };
    },
  };
}
