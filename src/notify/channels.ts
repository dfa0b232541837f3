import { humanizeDuration } from "../core/duration.js";
import { inertChatText, slackText } from "../core/render/inert.js";
import type { ApprovalRequest } from "../core/types.js";

/** Where an escalation level's `notify:` names send word: a Slack incoming webhook or any URL. */
export interface Channel {
  name: string;
  url: string;
  kind: "slack" | "webhook";
}

const CHANNEL_VARIABLE = /^HITL_CHANNEL_([A-Z0-9_]+)$/;

/**
 * Channels come from `HITL_CHANNEL_<NAME>=<https url>`; `.hitl.yml` names them in lower case
 * (`HITL_CHANNEL_ONCALL` is `oncall`). Slack incoming webhooks get Slack's message shape.
 */
export function readChannels(env: NodeJS.ProcessEnv): { channels: Channel[]; errors: string[] } {
  const channels: Channel[] = [];
  const errors: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    const match = CHANNEL_VARIABLE.exec(key);
    if (!match || !value) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      errors.push(`${key}: must be an http(s) URL`);
      continue;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      errors.push(`${key}: must be an http(s) URL`);
      continue;
    }
    channels.push({ name: match[1]!.toLowerCase(), url: value, kind: url.hostname === "hooks.slack.com" ? "slack" : "webhook" });
  }
  return { channels, errors };
}

/**
 * The body a channel receives when a request reaches an escalation level. The task is agent
 * text, so it is made inert (no mention, link or Slack control sequence survives); Slack's
 * text is then escaped as Slack asks. `request` is the API's JSON, data for programs.
 */
export function escalationMessage(channel: Channel, request: ApprovalRequest, now: Date, agentJson: unknown): unknown {
  const level = request.escalation.level;
  const approvers = request.escalation.ladder[level - 1]?.approvers ?? request.approvers;
  const waited = humanizeDuration(now.getTime() - new Date(request.createdAt).getTime());
  const where = request.surfaceRef?.url ?? `request ${request.id}`;
  const text = `Approval needed (${request.priority}): ${inertChatText(request.taskDescription)} — waiting ${waited}, now with ${approvers.join(", ") || "anyone with write access"}. Deadline ${request.deadline}. ${where}`;
  if (channel.kind === "slack") return { text: slackText(text) };
  return { event: "request.escalated", level, approvers, text, request: agentJson };
}
