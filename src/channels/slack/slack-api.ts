import { postForAnswer, type Outbound } from "../../notify/post-json.js";
import { PermanentSendError } from "../channel.js";

export const DEFAULT_SLACK_API_URL = "https://slack.com/api";

/** `HITL_SLACK_*`: the bot token posts, the signing secret checks what Slack sends back. */
export interface SlackSettings {
  botToken: string;
  signingSecret: string;
  /** Default https://slack.com/api. */
  apiUrl?: string;
}

/** Errors Slack answers that no retry will mend. */
const PERMANENT = new Set(["invalid_auth", "not_authed", "account_inactive", "token_revoked", "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "msg_too_long", "user_not_found", "missing_scope", "no_permission", "invalid_arguments"]);

export type SlackCall = (method: string, body: Record<string, unknown>, timeoutMs?: number) => Promise<Record<string, unknown>>;

/**
 * Calls one Web API method with the bot token, as JSON, through the outbound guard. Slack answers
 * HTTP 200 with `ok: false` and an error code for most failures; those throw, and the ones a retry
 * cannot mend throw a `PermanentSendError`. The token is in a header only, never in an error.
 */
export function slackApi(settings: SlackSettings, outbound: Outbound): SlackCall {
  const base = (settings.apiUrl ?? DEFAULT_SLACK_API_URL).replace(/\/+$/, "");
  return async (method, body, timeoutMs) => {
    const text = await postForAnswer(
      outbound,
      `${base}/${method}`,
      JSON.stringify(body),
      { "content-type": "application/json; charset=utf-8", authorization: `Bearer ${settings.botToken}`, "user-agent": "hitl" },
      timeoutMs,
    ).catch((error: unknown) => {
      throw new Error(`Slack ${method}: ${error instanceof Error ? error.message : String(error)}`);
    });
    let answer: Record<string, unknown>;
    try {
      answer = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new Error(`Slack ${method}: the answer is not JSON`);
    }
    if (answer.ok !== true) {
      const code = typeof answer.error === "string" ? answer.error.slice(0, 100) : "unknown_error";
      const message = `Slack ${method}: ${code}`;
      throw PERMANENT.has(code) ? new PermanentSendError(message) : new Error(message);
    }
    return answer;
  };
}
