import { PERSON_CHANNELS, type HitlConfig, type NotifyEntry } from "../config/schema.js";
import type { ChannelTarget, EscalationStep, NotifyRoute, Priority } from "../core/types.js";

function target(channel: NotifyEntry["channels"][number]): ChannelTarget {
  if (typeof channel === "string") return { kind: channel };
  if ("slack" in channel) return { kind: "slack", destination: channel.slack.channel };
  return { kind: "webhook", destination: channel.webhook };
}

/** `.hitl.yml` `notify:` entries that apply to a request of `priority`, as the request keeps them. */
export function notifyRoutesFor(config: HitlConfig | null, priority: Priority): NotifyRoute[] {
  return (config?.notify ?? [])
    .filter((entry) => !entry.priority || entry.priority.includes(priority))
    .map((entry) => ({ events: [...entry.events], channels: entry.channels.map(target) }));
}

/**
 * An escalation level's `notify` names, as an entry for its `escalated` event: the names that
 * are person channels (`slack`, `email`, `sms`) and not a channel of the environment
 * (`HITL_CHANNEL_<NAME>`, which the level's `notify` job posts to as it always did).
 */
export function levelRoute(step: EscalationStep | undefined, environmentChannels: ReadonlySet<string>): NotifyRoute | null {
  const kinds = (step?.notify ?? []).filter((name) => (PERSON_CHANNELS as readonly string[]).includes(name) && !environmentChannels.has(name));
  return kinds.length > 0 ? { events: ["escalated"], channels: kinds.map((kind) => ({ kind })) } : null;
}
