import { createHmac, timingSafeEqual } from "node:crypto";

/** Slack signs each request it sends; one older than this is refused as a possible replay. */
export const SLACK_TIMESTAMP_WINDOW_S = 5 * 60;

export type SignatureProblem = "missing" | "stale" | "mismatch";

/** `v0=<hex HMAC-SHA256 of "v0:<timestamp>:<raw body>">`, keyed by the signing secret. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${rawBody}`).digest("hex")}`;
}

/**
 * Checks `X-Slack-Signature` and `X-Slack-Request-Timestamp` as Slack asks: the timestamp within
 * five minutes of `now` (either way), the signature compared in constant time. Null when it holds.
 */
export function verifySlackRequest(signingSecret: string, headers: { timestamp?: string; signature?: string }, rawBody: string, now: Date): SignatureProblem | null {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return "missing";
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SLACK_TIMESTAMP_WINDOW_S) return "stale";
  const expected = Buffer.from(slackSignature(signingSecret, timestamp, rawBody));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected) ? null : "mismatch";
}
