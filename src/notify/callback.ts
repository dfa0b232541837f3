import { createHmac } from "node:crypto";

export const SIGNATURE_HEADER = "X-Hitl-Signature-256";

/** `sha256=<hex HMAC-SHA256 of the raw body>`, keyed by the agent's token (or a channel's secret). */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** A job's delivery id: the same on every retry of the job, so a receiver acts on it once. */
export const deliveryIdOf = (jobId: string) => `dlv_${jobId.replace(/^job_/, "")}`;

export interface SignedPost {
  body: string;
  headers: Record<string, string>;
}

/**
 * The JSON body of a callback or channel event, `{"event", "delivery_id", "sent_at", …fields}`:
 * the delivery id and the time of this attempt are inside the signed body, so a receiver can
 * refuse a replay (an old `sent_at`) and a repeat (a `delivery_id` it has seen). Unsigned only
 * when there is no secret (a channel without `HITL_CHANNEL_<NAME>_SECRET`).
 */
export function signedPost(message: { event: string } & Record<string, unknown>, deliveryId: string, sentAt: Date, secret: string | null): SignedPost {
  const { event, ...fields } = message;
  const body = JSON.stringify({ event, delivery_id: deliveryId, sent_at: sentAt.toISOString(), ...fields });
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "hitl", "x-hitl-delivery": deliveryId };
  if (secret) headers[SIGNATURE_HEADER] = signBody(secret, body);
  return { body, headers };
}
