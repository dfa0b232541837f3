import { createHmac } from "node:crypto";

export const SIGNATURE_HEADER = "X-Hitl-Signature-256";

/** `sha256=<hex HMAC-SHA256 of the raw body>`, keyed by the agent's token. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface CallbackDelivery {
  url: string;
  body: string;
  secret: string;
  deliveryId: string;
  timeoutMs?: number;
}

/** POSTs a signed callback; throws with the reason unless the agent answers 2xx. */
export async function postCallback(fetchImpl: typeof fetch, delivery: CallbackDelivery): Promise<void> {
  const response = await fetchImpl(delivery.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "hitl-callback",
      "x-hitl-delivery": delivery.deliveryId,
      [SIGNATURE_HEADER]: signBody(delivery.secret, delivery.body),
    },
    body: delivery.body,
    redirect: "manual",
    signal: AbortSignal.timeout(delivery.timeoutMs ?? 10_000),
  });
  await response.body?.cancel();
  if (response.status < 200 || response.status >= 300) {
    throw new Error(`callback answered HTTP ${response.status}`);
  }
}
