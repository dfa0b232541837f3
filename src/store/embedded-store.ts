import { promises as fs } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { PRIORITIES, type ApprovalRequest, type Job, type Priority } from "../core/types.js";
import { startCheckpointer } from "./checkpointer.js";
import { lockDir, type DirLockOptions } from "./dir-lock.js";
import { groupCommit } from "./group-commit.js";
import { migrateLegacyFiles } from "./legacy-migration.js";
import { toMs, urgencyRank } from "./order.js";
import { DATABASE_FILE, openDatabase } from "./sqlite-schema.js";
import { prepareQueries, requestRow } from "./sqlite-queries.js";
import { StoreUnavailableError, type Effects, type Store } from "./store.js";

export interface EmbeddedStoreOptions {
  /** Where the database and the lock live; created if missing. */
  dir: string;
  /** fsync each commit before acknowledging it (`synchronous=FULL`). Default true; false only for tests. */
  fsync?: boolean;
  /** The clock for delivery and lock expiry. */
  now?: () => Date;
  /** Where to say what happened on opening (a migration). */
  log?: (message: string) => void;
  /** The data directory lock's timing (tests). */
  lock?: Pick<DirLockOptions, "heartbeatMs" | "staleMs">;
}

export interface EmbeddedStoreStats {
  dir: string;
  file: string;
  requests: number;
  pending: number;
  jobs: number;
  deliveries: number;
  /** Transactions committed since opening; each holds every write of one event-loop turn. */
  commits: number;
}

export type EmbeddedStore = Store & { stats(): EmbeddedStoreStats };

const DELIVERY_MEMORY_MS = 7 * 24 * 60 * 60 * 1000;
const HOLDER_KEY = "holder";
/** Settings share the `meta` table, each under this prefix. */
const SETTING_PREFIX = "setting:";

/**
 * The default store: SQLite (better-sqlite3) in `dir/hitl.db`, WAL mode, each write one atomic
 * step with its audit entries and jobs, fsynced before it resolves (writes of one event-loop turn
 * share a commit; see group-commit.ts). Only what pending work needs is read back, through
 * indexes, so memory follows the work in hand, not the history on disk.
 *
 * One process per directory: a `LOCK` file keeps a second hitl out, and the lock's token is
 * written into the database, checked by every write transaction, so a process that lost its
 * lock (it froze past the lock's staleness and another took over) can no longer write.
 */
export async function createEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  const dir = path.resolve(options.dir);
  const file = path.join(dir, DATABASE_FILE);
  const now = options.now ?? (() => new Date());
  const log = options.log ?? ((message: string) => console.info(message));
  await fs.mkdir(dir, { recursive: true });
  let lostReason: string | null = null;
  // The lock's heartbeat is wall-clock time on purpose: an injected clock may be a test's fiction.
  const lock = await lockDir(dir, { ...options.lock, onLost: (reason) => (lostReason ??= reason) });
  const { db, queries } = await openAndMigrate(dir, file, options.fsync ?? true, log, now()).catch(async (error: unknown) => {
    await lock.release();
    throw error;
  });
  queries.putMeta(HOLDER_KEY, lock.token);

  const checkpointer = startCheckpointer(file, {
    fsync: options.fsync ?? true,
    onFailure(reason) {
      log(`The embedded store's checkpoint thread failed (${reason}); checkpointing on commits instead.`);
      if (!closed) db.pragma("wal_autocheckpoint = 1000");
    },
  });
  const commit = groupCommit(db, () => {
    const holder = queries.meta(HOLDER_KEY);
    if (holder !== lock.token) {
      lostReason ??= "another process opened the data directory and took its lock over";
      throw unavailable();
    }
  });
  // Locks live in memory: with one process per directory they cannot outlive their holder, and a
  // process restarted after a crash need not wait out the lease of the one it replaces.
  const locks = new Map<string, { owner: string; expiresAt: number }>();
  // Write slots and cached values (installation tokens) live in memory too: one process uses
  // the directory, and tokens are never written to disk.
  const slots = new Map<string, { slot: number; spacingMs: number }>();
  const cached = new Map<string, { value: string; expiresAt: number }>();
  let closed = false;

  function unavailable(cause?: unknown): StoreUnavailableError {
    if (closed) return new StoreUnavailableError(`The embedded store at ${dir} is closed.`);
    if (lostReason) {
      return new StoreUnavailableError(`The embedded store at ${dir} is no longer this process's: ${lostReason}. Restart hitl.`, { cause });
    }
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new StoreUnavailableError(`The embedded store at ${file} failed: ${reason}.`, { cause });
  }

  function usable(): void {
    if (closed || lostReason) throw unavailable();
  }

  /** SQLite's own failures (disk full, I/O errors, busy) make the store unavailable; the store's refusals pass as they are. */
  async function guard<T>(run: () => Promise<T>): Promise<T> {
    usable();
    try {
      return await run();
    } catch (error) {
      throw error instanceof Database.SqliteError ? unavailable(error) : error;
    }
  }

  const write = <T>(work: () => T): Promise<T> => guard(() => commit.write(work));
  const read = <T>(query: () => T): Promise<T> => guard(() => commit.read(query));

  function writeEffects(effects: Effects, request: ApprovalRequest): void {
    if (effects.audit?.length) queries.addAudit(effects.audit, request.retention?.auditMs ?? null);
    for (const job of effects.jobs ?? []) queries.putJob(job);
  }

  /** The request as it will be stored, its JSON, and its row; throws before anything is written when a time does not parse. */
  function prepare(request: ApprovalRequest, version: number, effects: Effects) {
    const body = JSON.stringify({ ...request, version });
    const stored = JSON.parse(body) as ApprovalRequest;
    requestRow(stored, body);
    for (const job of effects.jobs ?? []) toMs(job.runAt);
    return { stored, body };
  }

  return {
    create(request, effects = {}) {
      return write(() => {
        if (request.idempotencyKey !== null) {
          const first = queries.idempotent(request.requestedBy, request.idempotencyKey);
          if (first) return { request: first, created: false };
        }
        const { stored, body } = prepare(request, 1, effects);
        if (queries.request(request.id)) throw new Error(`A request with id ${request.id} already exists.`);
        queries.insertRequest(stored, body);
        writeEffects(effects, stored);
        return { request: stored, created: true };
      });
    },

    get: (id) => read(() => queries.request(id)),

    update(next, expectedVersion, effects = {}) {
      return write(() => {
        const { stored, body } = prepare(next, expectedVersion + 1, effects);
        if (!queries.casRequest(stored, body, expectedVersion)) return null;
        writeEffects(effects, stored);
        return stored;
      });
    },

    findBySurface: (repo, number) => read(() => queries.findBySurface(repo, number)),

    list: (query) => read(() => queries.list(query)),

    audit: (repo, limit = 1000, requestedBy) => read(() => queries.audit(repo, limit, requestedBy)),

    auditPage: (query) => read(() => queries.auditChain.page(query)),

    auditHead: (repo) => read(() => queries.auditChain.head(repo)),

    contextExpired: (at, maxContextMs, limit) => read(() => queries.auditChain.contextExpired(at.getTime(), maxContextMs, limit)),

    purgeAudit: (at, maxAuditMs, limit) => write(() => queries.auditChain.purge(at.getTime(), maxAuditMs, limit, at.toISOString())),

    countPending: () =>
      read(() => {
        const rows = queries.pendingByUrgency();
        return Object.fromEntries(PRIORITIES.map((priority) => [priority, rows.find((row) => row.urgency === urgencyRank(priority))?.count ?? 0])) as Record<Priority, number>;
      }),

    due: (at, limit) => read(() => queries.due(at.getTime(), limit)),

    claimJobs(at, limit, leaseMs) {
      const runAt = new Date(at.getTime() + leaseMs).toISOString();
      return write(() => {
        const leased: Job[] = queries.jobsDue(at.getTime(), limit).map((job) => ({ ...job, runAt, attempts: job.attempts + 1 }));
        for (const job of leased) queries.putJob(job);
        return leased;
      });
    },

    async completeJob(id) {
      await write(() => queries.deleteJob(id));
    },

    async retryJob(id, runAt, error) {
      await write(() => {
        const job = queries.job(id);
        if (job) queries.putJob({ ...job, runAt: runAt.toISOString(), lastError: error });
      });
    },

    pendingJobs: () => read(() => queries.pendingJobs()),

    claimDelivery(deliveryId, ttlMs) {
      return write(() => {
        const at = now().getTime();
        const state = queries.delivery(deliveryId, at);
        if (state) return state === "done" ? "done" : "in_hand";
        queries.putDelivery(deliveryId, "claimed", at + ttlMs);
        return "claimed";
      });
    },

    async finishDelivery(deliveryId, ok) {
      await write(() => {
        if (ok) queries.putDelivery(deliveryId, "done", now().getTime() + DELIVERY_MEMORY_MS);
        else queries.deleteDelivery(deliveryId);
      });
    },

    // An expiry (`options.ttlMs`) is not acted on: the embedded store keeps these on disk.
    takeUse(key, max) {
      return write(() => {
        const taken = queries.uses(key);
        if (taken >= max) return null;
        queries.putUses(key, taken + 1);
        return taken + 1;
      });
    },

    uses: (key) => read(() => queries.uses(key)),

    setting: (name) => read(() => queries.meta(SETTING_PREFIX + name) ?? null),

    createSetting(name, value) {
      return write(() => {
        const stored = queries.meta(SETTING_PREFIX + name);
        if (stored !== undefined) return stored;
        queries.putMeta(SETTING_PREFIX + name, value);
        return value;
      });
    },

    async acquireLock(name, owner, ttlMs) {
      usable();
      const at = now().getTime();
      const held = locks.get(name);
      if (held && held.expiresAt > at && held.owner !== owner) return false;
      locks.set(name, { owner, expiresAt: at + ttlMs });
      return true;
    },

    async releaseLock(name, owner) {
      usable();
      if (locks.get(name)?.owner === owner) locks.delete(name);
    },

    async takeSlot(key, at, spacingMs) {
      usable();
      const nowMs = at.getTime();
      const last = slots.get(key)?.slot;
      const slot = last !== undefined && last + spacingMs > nowMs ? last + spacingMs : nowMs;
      if (slots.size > 10_000) for (const [name, taken] of slots) if (taken.slot + taken.spacingMs <= nowMs) slots.delete(name);
      slots.set(key, { slot, spacingMs });
      return new Date(slot);
    },

    async getCached(key) {
      usable();
      const entry = cached.get(key);
      if (!entry) return null;
      if (entry.expiresAt > now().getTime()) return entry.value;
      cached.delete(key);
      return null;
    },

    async putCached(key, value, ttlMs) {
      usable();
      cached.set(key, { value, expiresAt: now().getTime() + ttlMs });
    },

    async dropCached(key) {
      usable();
      cached.delete(key);
    },

    ping: () => read(() => void queries.meta(HOLDER_KEY)),

    /** One process holds the store, so its clock is the store's. */
    async time() {
      usable();
      return new Date();
    },

    async close() {
      if (closed) return;
      await commit.settled().catch(() => undefined);
      closed = true;
      try {
        await checkpointer.stop();
        db.close();
      } finally {
        await lock.release();
      }
    },

    stats() {
      return { dir, file, ...queries.counts(), commits: commit.commits };
    },
  };
}

/** Opens the database and imports a journal store's files found beside it; closes it again if that fails. */
async function openAndMigrate(dir: string, file: string, fsync: boolean, log: (message: string) => void, now: Date) {
  const db = openDatabase(file, { fsync });
  try {
    const queries = prepareQueries(db);
    await migrateLegacyFiles(dir, db, queries, log, now);
    return { db, queries };
  } catch (error) {
    db.close();
    throw error;
  }
}
