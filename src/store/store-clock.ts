import type { Logger } from "../engine/ports.js";

/** A reading whose round trip took longer than this says little about the offset; it is skipped. */
const MAX_ROUND_TRIP_MS = 1_000;
/** How often the offset is measured again: machine clocks drift, and NTP steps them. */
export const CLOCK_SYNC_MS = 60_000;

export interface StoreClock {
  /** The store's time now, as this process best knows it. */
  now: () => Date;
  /** Measures the offset to the store's clock again; keeps the last one when the store does not answer. */
  sync: () => Promise<void>;
  /** How far the store's clock is ahead of this machine's, in milliseconds. */
  offsetMs: () => number;
  /** Re-measures every `CLOCK_SYNC_MS` until stopped. */
  start: () => void;
  stop: () => void;
}

/**
 * This machine's clock, set by the store's. Every replica stamps leases, due times and
 * deadlines from it, so a replica whose machine clock runs fast neither takes a job another
 * still holds (a second callback) nor expires a request early.
 */
export function createStoreClock(options: { storeTime: () => Promise<Date>; base?: () => Date; log: Logger }): StoreClock {
  const base = options.base ?? (() => new Date());
  let offset = 0;
  let timer: NodeJS.Timeout | null = null;

  async function sync(): Promise<void> {
    const sent = base().getTime();
    let storeAt: number;
    try {
      storeAt = (await options.storeTime()).getTime();
    } catch (error) {
      options.log.warn({ err: error }, "could not read the store's clock; keeping the last offset");
      return;
    }
    const received = base().getTime();
    if (!Number.isFinite(storeAt) || received - sent > MAX_ROUND_TRIP_MS) return;
    const next = storeAt - (sent + (received - sent) / 2);
    if (Math.abs(next - offset) > 1_000) options.log.info({ offsetMs: Math.round(next) }, "clock set by the store's");
    offset = next;
  }

  return {
    now: () => new Date(base().getTime() + offset),
    sync,
    offsetMs: () => offset,
    start() {
      timer ??= setInterval(() => void sync(), CLOCK_SYNC_MS).unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
