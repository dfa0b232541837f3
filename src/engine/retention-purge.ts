import { formatDuration } from "../core/duration.js";
import { KEEP_FOREVER, purgeContext, purgedFields } from "../core/retention.js";
import type { Engine, EngineDeps } from "./engine.js";

/** At most this many requests lose their context, and this many audit entries go, per pass. */
export const PURGE_PER_PASS = 500;
const LOCK_TTL_MS = 55_000;

export interface PurgeResult {
  /** False when another replica holds the retention lock. */
  ran: boolean;
  /** Ended requests whose context was removed (each with a `context_purged` audit entry). */
  contextPurged: number;
  /** Audit entries removed from the start of their chains (each chain keeps a checkpoint). */
  auditRemoved: number;
}

/**
 * One pass of retention, run on each scheduler tick after the sweep, with bounded work: ended
 * requests whose context is due lose it through a compare-and-set like any other change, with a
 * `context_purged` entry in their chain (removed, not silently gone); then expired audit entries
 * leave the start of their chains, whose anchors move to a checkpoint in the same step.
 */
export function createRetentionPurge(deps: EngineDeps, engine: Engine, owner: string) {
  const { store, clock, log } = deps;
  const limits = deps.retention ?? KEEP_FOREVER;
  const { audit, commit } = engine.internals;

  return async function purge(): Promise<PurgeResult> {
    const result: PurgeResult = { ran: false, contextPurged: 0, auditRemoved: 0 };
    if (!(await store.acquireLock("retention", owner, LOCK_TTL_MS))) return result;
    result.ran = true;
    try {
      const now = clock();
      for (const request of await store.contextExpired(now, limits.contextMs, PURGE_PER_PASS)) {
        try {
          const next = purgeContext(request, now);
          const kept = [request.retention?.contextMs ?? null, limits.contextMs].filter((ms): ms is number => ms !== null);
          const details = { removed: purgedFields(request), kept_for: kept.length ? formatDuration(Math.min(...kept)) : null };
          if (await commit(next, request.version, [audit(next, "context_purged", { type: "system", reason: "retention" }, details)], [])) result.contextPurged += 1;
        } catch (error) {
          log.error({ err: error, requestId: request.id }, "retention could not remove a request's context; it is tried again on the next pass");
        }
      }
      const removed = await store.purgeAudit(now, limits.auditMs, PURGE_PER_PASS);
      result.auditRemoved = removed.removed;
      if (result.contextPurged || removed.removed) {
        log.info({ contextPurged: result.contextPurged, auditRemoved: removed.removed, repos: removed.repos }, "retention removed expired context and audit entries; each chain keeps a checkpoint");
      }
    } finally {
      await store.releaseLock("retention", owner);
    }
    return result;
  };
}
