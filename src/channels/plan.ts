import type { Person } from "../config/schema.js";
import type { ApprovalRequest, AuditEvent, NotificationEvent, NotificationRecord, NotifyRoute } from "../core/types.js";
import type { ChannelSender } from "./channel.js";
import { quietUntil } from "./quiet-hours.js";

/** A request keeps at most this many notification records; past it, nobody more is told of it. */
export const MAX_RECORDS = 200;

/** The notification event a state change is, with its key (one per escalation rung); null when people are not told of it. */
export function notificationEventOf(reason: AuditEvent, request: ApprovalRequest): { event: NotificationEvent; eventKey: string } | null {
  switch (reason) {
    case "surface_opened":
    case "created":
      return request.status === "pending" ? { event: "opened", eventKey: "opened" } : null;
    case "warned":
      return { event: "warning", eventKey: "warning" };
    case "escalated":
      return { event: "escalated", eventKey: `escalated:${request.escalation.level}` };
    case "decided":
      return request.status === "approved" || request.status === "rejected" ? { event: "decided", eventKey: "decided" } : null;
    case "expired":
      return { event: "expired", eventKey: "expired" };
    default:
      return null;
  }
}

export const recordKey = (eventKey: string, channel: string, recipient: string) => `${eventKey}|${channel}|${recipient}`;
export const personRecipient = (login: string) => `@${login}`;

export interface PlanInput {
  request: ApprovalRequest;
  event: NotificationEvent;
  eventKey: string;
  /** The `notify:` entries that apply, in order (an escalation level's own first). */
  routes: NotifyRoute[];
  people: Record<string, Person>;
  /** The logins (keys of `people`) the event concerns: who may decide, and for an end, who was told. */
  audience: string[];
  senders: ReadonlyMap<string, Pick<ChannelSender, "addressOf" | "wants">>;
  now: Date;
}

export interface Plan {
  records: NotificationRecord[];
  /** Channel kinds the entries name that no sender is configured for. */
  unconfigured: string[];
}

/**
 * Who hears an event, on which channels: pure. A fixed destination hears it once per entry naming
 * it; a person hears it from the first entry that reaches them (on every channel that entry lists
 * and can reach them on), and never again for the same event key, whatever other entries say or
 * what was recorded before. Outside a critical request, a person's quiet hours hold the message
 * until they end, unless the request's deadline comes first.
 */
export function planNotifications(input: PlanInput): Plan {
  const { request, event, eventKey, now } = input;
  const existing = request.notifications ?? [];
  const keys = new Set(existing.map((record) => record.key));
  const told = new Set(existing.filter((record) => record.eventKey === eventKey).map((record) => record.recipient));
  const records: NotificationRecord[] = [];
  const unconfigured = new Set<string>();
  const add = (channel: string, recipient: string, heldUntil: Date | null) => {
    const key = recordKey(eventKey, channel, recipient);
    if (keys.has(key) || existing.length + records.length >= MAX_RECORDS) return;
    keys.add(key);
    records.push({
      key,
      event,
      eventKey,
      channel,
      recipient,
      state: heldUntil ? "held" : "queued",
      attempts: 0,
      lastError: null,
      ...(heldUntil ? { heldUntil: heldUntil.toISOString() } : {}),
      at: now.toISOString(),
    });
  };

  for (const route of input.routes) {
    if (!route.events.includes(event)) continue;
    const personKinds: string[] = [];
    for (const target of route.channels) {
      if (!input.senders.has(target.kind)) {
        unconfigured.add(target.kind);
        continue;
      }
      if ("destination" in target) add(target.kind, target.destination, null);
      else personKinds.push(target.kind);
    }
    if (personKinds.length === 0) continue;
    for (const login of input.audience) {
      const recipient = personRecipient(login);
      if (told.has(recipient)) continue;
      const person = input.people[login];
      if (!person) continue;
      const reachable = personKinds.filter((kind) => {
        const sender = input.senders.get(kind)!;
        return sender.addressOf(person) !== null && (sender.wants?.(request, event) ?? true);
      });
      if (reachable.length === 0) continue;
      told.add(recipient);
      const quiet = request.priority === "critical" ? null : quietUntil(now, person.quiet_hours, person.timezone);
      // A hold that outlasts the deadline would tell the person only once the fallback applied.
      const held = quiet && quiet.getTime() < Date.parse(request.deadline) ? quiet : null;
      for (const kind of reachable) add(kind, recipient, held);
    }
  }
  return { records, unconfigured: [...unconfigured] };
}
