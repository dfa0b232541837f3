import type { ChainedAuditEntry, ChainHead } from "../core/audit-chain.js";
import type { ApprovalRequest, AuditEntry, Job, Priority, RequestStatus } from "../core/types.js";

/** What a state change writes besides the request, in the same atomic step. */
export interface Effects {
  audit?: AuditEntry[];
  jobs?: Job[];
}

export type DeliveryClaim = "claimed" | "in_hand" | "done";

export interface ListQuery {
  repo?: string;
  status?: RequestStatus;
  requestType?: string;
  /** Only requests opened by this agent (`requestedBy`). */
  requestedBy?: string;
  /** Only requests with this `workflowId`. */
  workflowId?: string;
  /** At most this many; default 100. */
  limit?: number;
}

/** A page of the audit, oldest first (see `Store.auditPage`). */
export interface AuditPageQuery {
  /** One repository's entries; absent: every repository's. */
  repo?: string;
  /** Only the entries of requests this agent opened. */
  requestedBy?: string;
  /** Entries written at or after this time. */
  since?: Date;
  /** Entries written before this time. */
  until?: Date;
  /** Where the previous page ended (its `nextCursor`); absent: from the oldest entry. */
  cursor?: string;
  limit: number;
}

export interface AuditPage {
  entries: ChainedAuditEntry[];
  /** Pass it as `cursor` for the next page; null: nothing more now. */
  nextCursor: string | null;
}

export interface AuditPurgeResult {
  /** Entries removed, and the repositories whose chains got a new checkpoint. */
  removed: number;
  repos: string[];
}

/** A cursor as both stores write it: the entry's position in the store's append order. */
export const AUDIT_CURSOR = /^\d{1,15}$/;

/**
 * An optional expiry for `takeUse` and `createSetting`, so the store's memory follows pending
 * work, not history. A key written with `ttlMs` is kept at least `ttlMs` after that write (a
 * later write with a longer `ttlMs` keeps it longer; none shortens it); then the store may forget
 * it, after which it reads as never written. The Redis store does, with a key expiry: set when it
 * creates the key, lengthened by a later write asking for longer. A key first written without
 * `ttlMs` (or with one not above 0) is kept forever, whatever later writes ask. The embedded
 * store keeps every key on disk, where history belongs.
 */
export interface ExpiryOptions {
  ttlMs?: number;
}

/** The store could not be reached or failed; the API answers 503 for it. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/**
 * The one port to persistence. Every write is atomic: the request, its audit entries and its
 * jobs land together or not at all, and a write that returned has been made durable.
 * Secondary indexes (by repo, by status, by surface, by due time, by idempotency key) are
 * derived by the adapter from the request itself.
 */
export interface Store {
  /**
   * Stores a new request (version 1) with its effects. When `request.idempotencyKey` is set
   * and the same agent (`requestedBy`) already used that key, nothing is written and the first
   * request is returned with `created: false`.
   */
  create(request: ApprovalRequest, effects?: Effects): Promise<{ request: ApprovalRequest; created: boolean }>;

  get(id: string): Promise<ApprovalRequest | null>;

  /**
   * Compare-and-set: writes `next` (with version `expectedVersion + 1`) and its effects only if
   * the stored version is still `expectedVersion`. Returns the stored request, or null when
   * another write came first (the caller re-reads and decides again).
   */
  update(next: ApprovalRequest, expectedVersion: number, effects?: Effects): Promise<ApprovalRequest | null>;

  /** The requests shown on issue or pull request `number` of `repo`, newest first. */
  findBySurface(repo: string, number: number): Promise<ApprovalRequest[]>;

  /**
   * Requests matching the query. With `status: "pending"`: by priority (critical first), then
   * oldest first. Otherwise newest first.
   */
  list(query: ListQuery): Promise<ApprovalRequest[]>;

  /**
   * The audit trail of a repository, oldest first, at most `limit` (default 1000) of the newest;
   * with `requestedBy`, only the entries of requests that agent opened.
   */
  audit(repo: string, limit?: number, requestedBy?: string): Promise<AuditEntry[]>;

  /**
   * Audit entries with their chain links, oldest first (in the order they were written), filtered
   * and paged: a cursor walks forward, so entries written meanwhile come on a later page and none
   * comes twice. `since` and `until` compare each entry's `at`.
   */
  auditPage(query: AuditPageQuery): Promise<AuditPage>;

  /** A repository's chain head and anchor; null when it has no chain yet. */
  auditHead(repo: string): Promise<ChainHead | null>;

  /**
   * Ended requests whose context is due for removal: those whose own retention ran out by `now`
   * (`retention.contextMs` after they ended), and, with `maxContextMs` (the environment's), those
   * that ended longer ago than that; at most `limit`, from an index (never a scan).
   */
  contextExpired(now: Date, maxContextMs: number | null, limit: number): Promise<ApprovalRequest[]>;

  /**
   * Removes expired audit entries: from the start of each chain, while each entry's retention
   * (its request's `retention.auditMs` when written) has run out by `now` or, with
   * `maxAuditMs`, it is older than that; at most `limit` entries. Each chain's anchor moves to
   * the last entry removed (a checkpoint), in the same atomic step, so the chain still verifies.
   */
  purgeAudit(now: Date, maxAuditMs: number | null, limit: number): Promise<AuditPurgeResult>;

  /**
   * How many requests are pending, by priority, counted from the pending index (never by
   * reading the requests), so a metrics scrape may ask at every scrape.
   */
  countPending(): Promise<Record<Priority, number>>;

  /**
   * Pending requests whose `escalation.nextAt` is at or before `now`, from an index ordered by
   * that time (never a scan of all pending requests); at most `limit`.
   */
  due(now: Date, limit: number): Promise<ApprovalRequest[]>;

  /**
   * Takes up to `limit` jobs whose `runAt` is at or before `now` and leases them: their `runAt`
   * moves to `now + leaseMs` and `attempts` goes up by one, so a worker that dies leaves them to
   * be taken again. Two callers never take the same job in one lease.
   */
  claimJobs(now: Date, limit: number, leaseMs: number): Promise<Job[]>;

  /** The job is done; forget it. */
  completeJob(id: string): Promise<void>;

  /** The job failed; run it again at `runAt`. */
  retryJob(id: string, runAt: Date, error: string): Promise<void>;

  /** Jobs not yet completed (for status pages and tests). */
  pendingJobs(): Promise<Job[]>;

  /**
   * Marks a webhook delivery as being handled: `claimed` the first time for an id; `in_hand`
   * while someone else handles it; `done` after it was handled. A claim not finished within
   * `ttlMs` lapses.
   */
  claimDelivery(deliveryId: string, ttlMs: number): Promise<DeliveryClaim>;

  /** `ok`: remember the delivery for a week, so redeliveries are ignored; else release it. */
  finishDelivery(deliveryId: string, ok: boolean): Promise<void>;

  /**
   * Takes one use of a counted thing (a rule's `max_uses`) if fewer than `max` were taken.
   * Returns the count after taking, or null when none is left. Atomic across replicas.
   * With `options.ttlMs` the counter may be forgotten later (see `ExpiryOptions`).
   */
  takeUse(key: string, max: number, options?: ExpiryOptions): Promise<number | null>;

  /** How many uses of `key` were taken. */
  uses(key: string): Promise<number>;

  /** A lease-based lock held by `owner` for `ttlMs`; true if taken (or renewed by the owner). */
  acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean>;

  releaseLock(name: string, owner: string): Promise<void>;

  /**
   * Takes the next slot of a spacing shared by every replica: the earliest time at or after
   * `now` that is at least `spacingMs` after the slot last taken under `key` (GitHub writes of
   * one installation). The caller waits until the slot before it acts. Atomic across replicas.
   */
  takeSlot(key: string, now: Date, spacingMs: number): Promise<Date>;

  /**
   * A value cached for every replica (installation tokens, sealed), or null when there is none
   * or it expired. The embedded store keeps these in memory only, never on disk.
   */
  getCached(key: string): Promise<string | null>;

  /** Caches `value` under `key` for `ttlMs`, replacing what was there. */
  putCached(key: string, value: string, ttlMs: number): Promise<void>;

  /** Forgets the cached value of `key`. */
  dropCached(key: string): Promise<void>;

  /** A small named setting hitl keeps for itself (e.g. its generated signing key); null when none is stored. */
  setting(name: string): Promise<string | null>;

  /**
   * Stores `value` under `name` unless a value is stored there already, and returns the stored
   * one: the first writer's, whoever it was. Atomic across replicas, so two replicas starting at
   * once agree on one value. A setting, once stored, never changes.
   * With `options.ttlMs` it may be forgotten later (see `ExpiryOptions`).
   */
  createSetting(name: string, value: string, options?: ExpiryOptions): Promise<string>;

  /** Throws StoreUnavailableError when the store cannot be used. */
  ping(): Promise<void>;

  /**
   * The store's own clock. Replicas set their clocks by it, so job leases and due times are
   * measured on one clock whatever their machines' clocks say.
   */
  time(): Promise<Date>;

  close(): Promise<void>;
}
