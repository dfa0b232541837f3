import type { Person } from "../config/schema.js";
import type { ApprovalRequest, NotificationEvent } from "../core/types.js";

/**
 * # Channels: telling people outside GitHub, and letting them decide there
 *
 * `.hitl.yml` `people:` says how to reach each GitHub login; `notify:` (and an escalation
 * level's `notify`) says which channels hear which events (`opened`, `warning`, `escalated`,
 * `decided`, `expired`) for which priorities. The engine writes a `channel_event` job with every
 * such event; the dispatcher (`dispatcher.ts`) works out who hears it (the people who may decide,
 * through `people:`), records one `NotificationRecord` per channel and recipient on the request
 * (a person hears each event once: the first `notify:` entry that reaches them wins, on every
 * channel it lists), holds messages in a person's quiet hours unless the request is critical,
 * and queues one `channel_send` job per record. The job runner retries a failed send with
 * backoff; the record's `state`, `attempts` and `last_error` show in the request's `GET`.
 *
 * A channel is a `ChannelSender`, registered by `kind` (`slack`, `webhook`, `email`, `sms`):
 *
 * - `addressOf(person)`: where the channel reaches a person (their `slack` id, `email`,
 *   `phone`), or null when it cannot; the person is then left to a later `notify:` entry.
 * - `send(notification, recipient)`: send one message; resolve `{ ref }` with what `update`
 *   needs later (a Slack channel and `ts`), throw to be retried (a `PermanentSendError` is
 *   not retried). Everything from the agent in `notification.request` is untrusted: render it
 *   inert (`core/render/inert.ts`). Outbound HTTP goes through `notify/post-json.ts` only.
 * - `update(notification, recipient, ref)`: after the request ended, make the message show the
 *   outcome with nothing left to press (Slack: `chat.update` without buttons).
 * - `withdraw(notification, recipient, ref)`: where a message cannot be changed, make what it
 *   offers dead instead (one-click links). The dispatcher calls `update`, else `withdraw`.
 *
 * Deciding from a channel never decides by itself: the channel works out which GitHub login
 * the person is (Slack user id → `people:` of the request's repository; a signed token bound
 * to the recipient for links) and calls `engine.decideFromChannel`, which authorizes exactly
 * as that login's `/approve` comment would and makes the GitHub surface say "via Slack".
 */

/** Who a message goes to: a person (by login, with their `people:` entry) or a fixed destination. */
export interface Recipient {
  /** The person's GitHub login; null for a destination (a Slack channel, a webhook). */
  login: string | null;
  person: Person | null;
  /** What the channel sends to: a Slack user or channel id, an email address, a phone number, a webhook's name. */
  address: string;
}

/** One event about one request, as a channel renders it. */
export interface Notification {
  event: NotificationEvent;
  /** `escalated:2` for the second rung; the event otherwise. */
  eventKey: string;
  /** The request as it is now (for `update`: as it ended). */
  request: ApprovalRequest;
  /** The request as JSON for programs (the API's shape without the agent's checkpoint). */
  requestJson: unknown;
  now: Date;
  /** The same for every retry of this message: receivers drop repeats by it. */
  deliveryId: string;
  /** The first message this channel sent this recipient about the request, to thread on (Slack). */
  thread?: Record<string, string>;
}

export interface SendResult {
  ok: true;
  /** What `update` and threading need later; stored on the request's notification record. */
  ref?: Record<string, string>;
}

export interface ChannelSender {
  readonly kind: string;
  addressOf(person: Person): string | null;
  send(notification: Notification, recipient: Recipient): Promise<SendResult>;
  /**
   * Whether the channel takes this event of this request at all (SMS: urgent requests only). Absent:
   * every event. A person it does not want is left to the entry's other channels, or a later entry.
   */
  wants?(request: ApprovalRequest, event: NotificationEvent): boolean;
  update?(notification: Notification, recipient: Recipient, ref: Record<string, string>): Promise<void>;
  withdraw?(notification: Notification, recipient: Recipient, ref: Record<string, string>): Promise<void>;
}

/** A send that will fail the same way every time (a bad token, an unknown channel): not retried. */
export class PermanentSendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentSendError";
  }
}

/** Events that ask someone to act; their messages are withdrawn or updated once the request ends. */
export const ACTIONABLE_EVENTS: ReadonlySet<NotificationEvent> = new Set(["opened", "warning", "escalated"]);
