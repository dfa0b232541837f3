import { promises as fs } from "node:fs";
import path from "node:path";
import type { ApprovalRequest, Job } from "../core/types.js";
import { lockDir } from "./dir-lock.js";
import { EmbeddedState, type ChangeBody } from "./embedded-state.js";
import { openJournal, type JournalStats } from "./journal.js";
import { StoreUnavailableError, type Effects, type Store } from "./store.js";

export interface EmbeddedStoreOptions {
  /** Where the snapshot, the journal and the lock live; created if missing. */
  dir: string;
  /** fdatasync each group of writes before acknowledging them. Default true; false only for tests. */
  fsync?: boolean;
  /** The clock for delivery and lock expiry. */
  now?: () => Date;
  /** Rewrite the snapshot and empty the journal once it is this large. Default 64 MiB. */
  compactBytes?: number;
}

export interface EmbeddedStoreStats extends JournalStats {
  dir: string;
  requests: number;
  pending: number;
  jobs: number;
  deliveries: number;
  /** Requests parked when the store was opened: a time they held did not parse, or their schedule was missing. */
  parkedOnLoad: number;
}

export type EmbeddedStore = Store & { stats(): EmbeddedStoreStats };

const DELIVERY_MEMORY_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The default store: all state in memory with its indexes, made durable by a journal with
 * group commit (see journal.ts). Checks and changes happen synchronously, so compare-and-set is
 * atomic within the process; only one process may open a directory. Reads wait until what they
 * saw is on disk, so nobody acts on a write that a crash could still take back. Locks live in
 * memory only: with one process per directory they cannot outlive their holder anyway.
 */
export async function createEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  const dir = path.resolve(options.dir);
  const now = options.now ?? (() => new Date());
  await fs.mkdir(dir, { recursive: true });
  // The lock's heartbeat is wall-clock time on purpose: an injected clock may be a test's fiction.
  const lock = await lockDir(dir);
  const state = new EmbeddedState();
  const journal = await openJournal({
    dir,
    fsync: options.fsync ?? true,
    compactBytes: options.compactBytes ?? 64 * 1024 * 1024,
    apply: (change) => state.apply(change),
    restore: (change) => state.restore(change, now()),
    snapshot: () => state.snapshot(now().getTime()),
  }).catch(async (error: unknown) => {
    await lock.release();
    throw error;
  });
  const locks = new Map<string, { owner: string; expiresAt: number }>();
  let closed = false;

  function usable(): void {
    if (closed) throw new StoreUnavailableError(`The embedded store at ${dir} is closed.`);
    if (journal.failure) throw unavailable(journal.failure);
  }

  function unavailable(error: unknown): StoreUnavailableError {
    const reason = error instanceof Error ? error.message : String(error);
    return new StoreUnavailableError(
      `The embedded store at ${dir} could not write its journal (${reason}); restart hitl to recover from disk.`,
      { cause: error },
    );
  }

  /** Applies the change now; resolves once it is durable. */
  function commit(change: ChangeBody): Promise<void> {
    usable();
    return journal.commit(change).catch((error: unknown) => {
      throw unavailable(error);
    });
  }

  /** Answers from memory as it is now, once that is durable. */
  async function read<T>(answer: T): Promise<T> {
    await journal.settled().catch((error: unknown) => {
      throw unavailable(error);
    });
    return answer;
  }

  function effectsChange(effects: Effects): ChangeBody {
    return {
      ...(effects.audit?.length ? { audit: effects.audit } : {}),
      ...(effects.jobs?.length ? { jobs: effects.jobs } : {}),
    };
  }

  function copy(request: ApprovalRequest): ApprovalRequest {
    return structuredClone(request);
  }

  return {
    async create(request, effects = {}) {
      usable();
      if (request.idempotencyKey !== null) {
        const first = state.idempotent(request.requestedBy, request.idempotencyKey);
        if (first) return read({ request: copy(first), created: false });
      }
      if (state.request(request.id)) throw new Error(`A request with id ${request.id} already exists.`);
      const written = commit({ requests: [{ ...request, version: 1 }], ...effectsChange(effects) });
      const stored = copy(state.request(request.id)!);
      await written;
      return { request: stored, created: true };
    },

    async get(id) {
      usable();
      const request = state.request(id);
      return read(request ? copy(request) : null);
    },

    async update(next, expectedVersion, effects = {}) {
      usable();
      const current = state.request(next.id);
      if (!current || current.version !== expectedVersion) return read(null);
      const written = commit({ requests: [{ ...next, version: expectedVersion + 1 }], ...effectsChange(effects) });
      const stored = copy(state.request(next.id)!);
      await written;
      return stored;
    },

    async findBySurface(repo, number) {
      usable();
      return read(state.findBySurface(repo, number).map(copy));
    },

    async list(query) {
      usable();
      return read(state.list(query).map(copy));
    },

    async audit(repo, limit = 1000, requestedBy) {
      usable();
      return read(state.audit(repo, limit, requestedBy).map((entry) => structuredClone(entry)));
    },

    async due(at, limit) {
      usable();
      return read(state.due(at.getTime(), limit).map(copy));
    },

    async claimJobs(at, limit, leaseMs) {
      usable();
      const runAt = new Date(at.getTime() + leaseMs).toISOString();
      const leased: Job[] = state.jobsDue(at.getTime(), limit).map((job) => ({ ...job, runAt, attempts: job.attempts + 1 }));
      if (leased.length === 0) return read([]);
      await commit({ jobs: leased });
      return leased;
    },

    async completeJob(id) {
      usable();
      if (!state.job(id)) return read(undefined);
      await commit({ jobsDone: [id] });
    },

    async retryJob(id, runAt, error) {
      usable();
      const job = state.job(id);
      if (!job) return read(undefined);
      await commit({ jobs: [{ ...job, runAt: runAt.toISOString(), lastError: error }] });
    },

    async pendingJobs() {
      usable();
      return read(state.pendingJobs().map((job) => ({ ...job })));
    },

    async claimDelivery(deliveryId, ttlMs) {
      usable();
      const at = now().getTime();
      const mark = state.delivery(deliveryId, at);
      if (mark) return read(mark.state === "done" ? "done" : "in_hand");
      await commit({ deliveries: [{ id: deliveryId, state: "claimed", expiresAt: at + ttlMs }] });
      return "claimed";
    },

    async finishDelivery(deliveryId, ok) {
      usable();
      const at = now().getTime();
      if (ok) return commit({ deliveries: [{ id: deliveryId, state: "done", expiresAt: at + DELIVERY_MEMORY_MS }] });
      if (!state.delivery(deliveryId, at)) return read(undefined);
      await commit({ deliveriesReleased: [deliveryId] });
    },

    async takeUse(key, max) {
      usable();
      const taken = state.uses(key);
      if (taken >= max) return read(null);
      await commit({ uses: [[key, taken + 1]] });
      return taken + 1;
    },

    async uses(key) {
      usable();
      return read(state.uses(key));
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

    async ping() {
      usable();
    },

    /** One process holds the store, so its clock is the store's. */
    async time() {
      usable();
      return new Date();
    },

    async close() {
      if (closed) return;
      closed = true;
      try {
        await journal.close();
      } finally {
        await lock.release();
      }
    },

    stats() {
      return { dir, ...journal.stats(), ...state.counts(), parkedOnLoad: state.parkedOnLoad.length };
    },
  };
}
