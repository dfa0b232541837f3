import type { Store } from "../store/store.js";

/**
 * GitHub's guidance for an app, per installation: a second between writes, and more between
 * writes that notify people (issues, comments); Octokit's throttling plugin spaces them so, with
 * three seconds for notifying writes.
 */
export const WRITE_SPACING_MS = 1_000;
export const NOTIFY_SPACING_MS = 3_000;

/**
 * The shape in which `@octokit/plugin-throttling` takes a limiter for one kind of call (its
 * `throttle.write` and `throttle.notifications` options): `group.key(installation).schedule(options, task)`.
 */
export interface ThrottleGroup {
  key(id: string): { schedule<T>(options: unknown, task: (...args: unknown[]) => T | Promise<T>, ...args: unknown[]): Promise<T> };
}

export interface WriteBudget {
  /** Spaces every write of an installation, across all replicas. */
  write: ThrottleGroup;
  /** Spaces the writes that notify people, across all replicas. */
  notifications: ThrottleGroup;
  /** GitHub answered a secondary rate limit: no replica writes for that installation for `ms`. */
  pause(installationId: string, ms: number): Promise<void>;
}

export interface WriteBudgetOptions {
  store: Pick<Store, "takeSlot">;
  /** The clock the replicas share (set by the store's), in which slots are given. */
  clock: () => Date;
  /** Waits until a slot; tests record the wait instead. */
  sleep?: (ms: number) => Promise<void>;
  spacing?: { writeMs: number; notifyMs: number };
}

export const writeSlotKey = (installationId: string): string => `github-write:${installationId}`;
export const notifySlotKey = (installationId: string): string => `github-notify:${installationId}`;

/**
 * One write budget per installation for every replica on one store: each write takes the next
 * slot from the store (one atomic step) and waits for it, so N replicas together write no
 * faster than one would. Octokit's own limiter spaces only the writes of its own process.
 */
export function createWriteBudget(options: WriteBudgetOptions): WriteBudget {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const { writeMs, notifyMs } = options.spacing ?? { writeMs: WRITE_SPACING_MS, notifyMs: NOTIFY_SPACING_MS };

  function group(slotKey: (id: string) => string, spacingMs: number): ThrottleGroup {
    return {
      key: (id) => ({
        async schedule(_options, task, ...args) {
          const slot = await options.store.takeSlot(slotKey(id), options.clock(), spacingMs);
          const wait = slot.getTime() - options.clock().getTime();
          if (wait > 0) await sleep(wait);
          return task(...args);
        },
      }),
    };
  }

  return {
    write: group(writeSlotKey, writeMs),
    notifications: group(notifySlotKey, notifyMs),
    async pause(installationId, ms) {
      // The next write's slot comes after now + ms: every replica waits it out.
      await options.store.takeSlot(writeSlotKey(installationId), new Date(options.clock().getTime() + ms), writeMs);
    },
  };
}
