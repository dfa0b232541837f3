import type { Logger } from "../engine/ports.js";
import type { Store } from "../store/store.js";

/**
 * How long a delivery may be in hand before a redelivery may try again. Above Probot's 9 s
 * webhook timeout, so a slow handler is not run twice; short, so a claim whose release was lost
 * (the store went away mid-handler) blocks a redelivery only briefly.
 */
const CLAIM_TTL_MS = 60_000;
const RELEASE_RETRY_MS = [1_000, 2_000, 5_000, 10_000, 20_000];

export class DeliveryInHandError extends Error {
  constructor(deliveryId: string) {
    super(`delivery ${deliveryId} is being handled right now; redeliver it if that fails`);
    this.name = "DeliveryInHandError";
  }
}

/**
 * Runs a webhook handler once per `X-GitHub-Delivery`. A handler that throws releases the
 * delivery (GitHub then sees a 500, and a redelivery is handled); one that succeeds is
 * remembered, so redeliveries are acknowledged and ignored. A delivery that arrives while
 * another copy is in hand is not acknowledged, so it is never lost to that copy failing.
 */
export function oncePerDelivery<C extends { id: string; name: string }>(store: Store, log: Logger, handler: (context: C) => Promise<void>) {
  return async (context: C): Promise<void> => {
    const claim = await store.claimDelivery(context.id, CLAIM_TTL_MS).catch((error: unknown) => {
      // A stalled store may still take the claim when it wakes: give it back, so a redelivery
      // is not mistaken for a copy in hand.
      void releaseLater(store, log, context.id);
      throw error;
    });
    if (claim === "done") {
      log.info({ delivery: context.id, event: context.name }, "delivery already handled; ignored");
      return;
    }
    if (claim === "in_hand") {
      // Not acknowledged: if the other handler fails, this delivery can be redelivered.
      throw new DeliveryInHandError(context.id);
    }
    try {
      await handler(context);
    } catch (error) {
      await store.finishDelivery(context.id, false).catch(() => void releaseLater(store, log, context.id));
      throw error;
    }
    await store.finishDelivery(context.id, true);
  };
}

/** Releases a failed delivery when the store itself was what failed, trying for a while. */
async function releaseLater(store: Store, log: Logger, deliveryId: string): Promise<void> {
  for (const delay of RELEASE_RETRY_MS) {
    await new Promise((resolve) => setTimeout(resolve, delay).unref());
    try {
      await store.finishDelivery(deliveryId, false);
      return;
    } catch (error) {
      log.warn({ err: error, delivery: deliveryId }, "could not release a failed delivery yet");
    }
  }
  log.error({ delivery: deliveryId }, `could not release a failed delivery; a redelivery is ignored until its claim lapses in ${CLAIM_TTL_MS / 1000} s`);
}
