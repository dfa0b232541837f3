import type { Logger } from "../engine/ports.js";
import type { Store } from "../store/store.js";

/** How long a delivery may be in hand before a redelivery is allowed to try again. */
const CLAIM_TTL_MS = 5 * 60_000;

/**
 * Runs a webhook handler once per `X-GitHub-Delivery`. A handler that throws releases the
 * delivery (GitHub then sees a 500, and a redelivery is handled); one that succeeds is
 * remembered, so redeliveries are acknowledged and ignored.
 */
export function oncePerDelivery<C extends { id: string; name: string }>(store: Store, log: Logger, handler: (context: C) => Promise<void>) {
  return async (context: C): Promise<void> => {
    if (!(await store.claimDelivery(context.id, CLAIM_TTL_MS))) {
      log.info({ delivery: context.id, event: context.name }, "delivery already handled or in hand; ignored");
      return;
    }
    try {
      await handler(context);
    } catch (error) {
      await store.finishDelivery(context.id, false);
      throw error;
    }
    await store.finishDelivery(context.id, true);
  };
}
