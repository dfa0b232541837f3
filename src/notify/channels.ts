import { humanizeDuration } from "../core/duration.js";
import { inertChatText, slackText } from "../core/render/inert.js";
import type { ApprovalRequest } from "../core/types.js";
import { targetRefusal, type AllowedTargets } from "./private-targets.js";

/** Where an escalation level's `notify:` names send word: a Slack incoming webhook or any URL. */
export interface Channel {
  name: string;
  url: string;
  kind: "slack" | "webhook";
  /** `HITL_CHANNEL_<NAME>_SECRET`: a webhook channel's posts are signed with it, as callbacks are. */
  secret?: string;
  /** `HITL_CHANNEL_<NAME>_HEADERS`: extra headers a webhook channel's receiver wants (an API key), from the environment only. */
  headers?: Record<string, string>;
}

const CHANNEL_VARIABLE = /^HITL_CHANNEL_([A-Z0-9_]+)$/;
const SECRET_SUFFIX = "_SECRET";
const HEADERS_SUFFIX = "_HEADERS";
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
/** Headers hitl sets itself, which a channel's own may not replace. */
const OWN_HEADERS = new Set(["content-type", "content-length", "host", "user-agent", "x-hitl-delivery", "x-hitl-signature-256", "transfer-encoding", "connection"]);

/** `{"Authorization": "Bearer …"}`: a JSON object of header names to values; each problem named, values never echoed. */
export function parseChannelHeaders(key: string, value: string): { headers: Record<string, string> } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { error: `${key}: must be a JSON object of header names to values, e.g. {"Authorization": "Bearer …"}` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { error: `${key}: must be a JSON object of header names to values` };
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(parsed)) {
    if (!HEADER_NAME.test(name)) return { error: `${key}: ${JSON.stringify(name.slice(0, 100))} is not a header name` };
    if (OWN_HEADERS.has(name.toLowerCase())) return { error: `${key}: ${name} is set by hitl itself` };
    if (typeof headerValue !== "string" || /[\r\n\0]/.test(headerValue) || headerValue.length > 8192) return { error: `${key}: the value of ${name} must be a string of one line` };
    headers[name] = headerValue;
  }
  return { headers };
}

/**
 * Channels come from `HITL_CHANNEL_<NAME>=<https url>` and, for a webhook channel,
 * `HITL_CHANNEL_<NAME>_SECRET`; `.hitl.yml` names them in lower case (`HITL_CHANNEL_ONCALL` is
 * `oncall`). Slack incoming webhooks get Slack's message shape. Private hosts and `http` only when
 * `allowed` lists them.
 */
export function readChannels(env: NodeJS.ProcessEnv, allowed: AllowedTargets): { channels: Channel[]; errors: string[] } {
  const channels: Channel[] = [];
  const errors: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    const match = CHANNEL_VARIABLE.exec(key);
    if (!match || !value || key.endsWith(SECRET_SUFFIX) || key.endsWith(HEADERS_SUFFIX)) continue;
    const refusal = targetRefusal(value, allowed);
    if (refusal) {
      errors.push(`${key}: ${refusal}`);
      continue;
    }
    const kind = new URL(value).hostname === "hooks.slack.com" ? "slack" : "webhook";
    const secret = env[`${key}${SECRET_SUFFIX}`];
    if (secret && kind === "slack") errors.push(`${key}${SECRET_SUFFIX}: Slack incoming webhooks are not signed (their URL is the secret); leave it out`);
    else if (secret !== undefined && secret !== "" && secret.length < 16) errors.push(`${key}${SECRET_SUFFIX}: must be at least 16 characters`);
    const headerText = env[`${key}${HEADERS_SUFFIX}`];
    const headers = headerText ? parseChannelHeaders(`${key}${HEADERS_SUFFIX}`, headerText) : { headers: {} };
    if ("error" in headers) errors.push(headers.error);
    else if (kind === "slack" && Object.keys(headers.headers).length > 0) errors.push(`${key}${HEADERS_SUFFIX}: Slack incoming webhooks take no headers; leave it out`);
    const extra = "headers" in headers && Object.keys(headers.headers).length > 0 ? { headers: headers.headers } : {};
    channels.push({ name: match[1]!.toLowerCase(), url: value, kind, ...(secret ? { secret } : {}), ...extra });
  }
  for (const key of Object.keys(env)) {
    const channel = key.slice(0, -SECRET_SUFFIX.length);
    if (CHANNEL_VARIABLE.test(key) && key.endsWith(SECRET_SUFFIX) && env[key] && !env[channel]) errors.push(`${key}: there is no ${channel} to sign for`);
    const headed = key.slice(0, -HEADERS_SUFFIX.length);
    if (CHANNEL_VARIABLE.test(key) && key.endsWith(HEADERS_SUFFIX) && env[key] && !env[headed]) errors.push(`${key}: there is no ${headed} to send them to`);
  }
  return { channels, errors };
}

/** What start-up warns of: a webhook channel whose posts nobody can verify. */
export function unsignedChannelWarnings(channels: Channel[]): string[] {
  return channels
    .filter((channel) => channel.kind === "webhook" && !channel.secret)
    .map((channel) => `HITL_CHANNEL_${channel.name.toUpperCase()} has no HITL_CHANNEL_${channel.name.toUpperCase()}_SECRET: its posts are not signed, so its receiver cannot tell them from forgeries.`);
}

/**
 * The body a channel receives when a request reaches an escalation level. The task is agent
 * text, so it is made inert (no mention, link or Slack control sequence survives); Slack's
 * text is then escaped as Slack asks. `request` is the API's JSON, data for programs.
 */
export function escalationMessage(channel: Channel, request: ApprovalRequest, now: Date, agentJson: unknown): { text: string } | { event: string; [field: string]: unknown } {
  const level = request.escalation.level;
  const approvers = request.escalation.ladder[level - 1]?.approvers ?? request.approvers;
  const waited = humanizeDuration(now.getTime() - new Date(request.createdAt).getTime());
  const where = request.surfaceRef?.url ?? `request ${request.id}`;
  const text = `Approval needed (${request.priority}): ${inertChatText(request.taskDescription)} — waiting ${waited}, now with ${approvers.join(", ") || "anyone with write access"}. Deadline ${request.deadline}. ${where}`;
  if (channel.kind === "slack") return { text: slackText(text) };
  return { event: "request.escalated", level, approvers, text, request: agentJson };
}
