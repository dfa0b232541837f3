import type { Redis } from "@upstash/redis";
import { PRIORITIES, type ApprovalRequest, type AuditEntry, type Job, type Priority } from "../core/types.js";
import { contextExpiresAtMs, endedAtMs } from "../core/retention.js";
import { compareIds, dueMs, idempotencyIndexKey, pendingScore, surfaceNumber, toMs, urgencyRank } from "./order.js";
import { createRedisAudit, type ChainedWrite } from "./redis-audit.js";
import * as scripts from "./redis-scripts.js";
import { StoreUnavailableError, type Effects, type ExpiryOptions, type ListQuery, type Store } from "./store.js";

export interface RedisStoreOptions {
  /**
   * The client. Build it with `automaticDeserialization: false` (`new Redis({ url, token,
   * automaticDeserialization: false })`); a client that deserialises works too, because every
   * value this store reads is either JSON or a number, but the raw strings are cheaper.
   */
  redis: Redis;
  /** Prepended to every key, so several deployments can share one database. Default `hitl:`. */
  prefix?: string;
  /** Names the backend in error messages, e.g. `Redis at redis://cache:6379`; never a secret. */
  label?: string;
  /** Called by close(), e.g. to close the connection the client uses. */
  onClose?: () => Promise<void>;
}

const DELIVERY_MEMORY_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The store on Redis, through `@upstash/redis` (Upstash over REST, or any Redis through a RESP
 * requester). Key layout, under the prefix:
 *
 * | key | type | what |
 * |---|---|---|
 * | `req:<id>` | hash | the request's JSON and its index fields (see redis-scripts.ts) |
 * | `idem:<agent>:<key>` | string | the id of the first request of an idempotency key (both parts URI-encoded) |
 * | `idx:all`, `idx:repo:<repo>` | zset | ids by creation time |
 * | `idx:status:<status>`, `idx:repo-status:<status>:<repo>` | zset | ids by creation time; pending ones by urgency, then creation time |
 * | `idx:surface:<repo>#<number>` | zset | ids by creation time |
 * | `idx:workflow:<workflow id>` | zset | ids by creation time |
 * | `idx:due` | zset | pending ids by `escalation.nextAt` |
 * | `idx:ended`, `idx:purge` | zset | ended requests whose context is kept, by when they ended and by when their own retention lets it go |
 * | `audit-…` | | the audit chain: see redis-audit-scripts.ts |
 * | `job:<id>` | hash | the job's JSON, `attempts`, `error` |
 * | `jobs` | zset | job ids by `runAt` |
 * | `delivery:<id>` | string | `claimed` (for the claim's ttl) or `done` (for a week) |
 * | `use:<key>` | string | uses taken |
 * | `lock:<name>` | string | the owner, with a ttl |
 * | `slot:<key>` | string | the last slot taken (ms), until its spacing has passed |
 * | `cache:<key>` | string | `{"v": value}`, with a ttl |
 * | `setting:<name>` | string | a setting, as JSON `{"value": …}`, written once |
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const { redis } = options;
  const prefix = options.prefix ?? "hitl:";
  const label = options.label ?? "Redis";

  /** Runs one call to Redis; any failure there means the store is unavailable. */
  async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new StoreUnavailableError(`${label} could not ${what}: ${reason(error)}`, { cause: error });
    }
  }

  function evaluate(what: string, script: string, args: Array<string | number>, keys: string[] = []): Promise<unknown> {
    return call(what, () => redis.eval(script, keys, args.map(String)));
  }

  const chain = createRedisAudit({
    prefix,
    evaluate: (what, script, args) => evaluate(what, script, args),
    acquireLock: (name, owner, ttlMs) => store.acquireLock(name, owner, ttlMs),
    releaseLock: (name, owner) => store.releaseLock(name, owner),
    get: (key) => call("read a key", () => redis.get(key)),
    set: (key, value) => call("write a key", () => redis.set(key, value)),
    del: (key) => call("delete a key", () => redis.del(key)),
  });

  /** A write with its audit entries linked into their chains (retried when another replica moved a head). */
  function chained(request: ApprovalRequest, effects: Effects, write: (audit: ChainedWrite) => Promise<unknown>): Promise<unknown> {
    const entries = effects.audit ?? [];
    const agentOf = (entry: AuditEntry) => entry.requestedBy ?? (entry.requestId === request.id ? request.requestedBy : "");
    if (entries.length === 0) return write({ heads: ["0"], entries: ["0"] });
    return chain.chainedWrite(entries, agentOf, request.retention?.auditMs ?? null, write);
  }

  const store: Store = {
    async create(request, effects = {}) {
      const stored = { ...request, version: 1 };
      const idem = request.idempotencyKey === null ? "" : idempotencyIndexKey(request.requestedBy, request.idempotencyKey);
      const result = (await chained(stored, effects, (audit) => evaluate("store a request", scripts.CREATE, [
        prefix,
        request.id,
        idem,
        ...audit.heads,
        ...requestArgs(stored),
        ...audit.entries,
        ...jobsArgs(effects),
      ]))) as unknown[];
      const outcome = Number(result[0]);
      if (outcome === -1) throw new Error(`A request with id ${request.id} already exists.`);
      if (outcome === 0) return { request: json<ApprovalRequest>(result[1]), created: false };
      return { request: json<ApprovalRequest>(JSON.stringify(stored)), created: true };
    },

    async get(id) {
      const value = await call("read a request", () => redis.hget(`${prefix}req:${id}`, "json"));
      return value === null || value === undefined ? null : json<ApprovalRequest>(value);
    },

    async update(next, expectedVersion, effects = {}) {
      const stored = { ...next, version: expectedVersion + 1 };
      const written = await chained(stored, effects, (audit) => evaluate("update a request", scripts.UPDATE, [
        prefix,
        next.id,
        expectedVersion,
        ...audit.heads,
        ...requestArgs(stored),
        ...audit.entries,
        ...jobsArgs(effects),
      ]));
      return Number(written) === 1 ? json<ApprovalRequest>(JSON.stringify(stored)) : null;
    },

    async findBySurface(repo, number) {
      return listFrom(`idx:surface:${repo}#${number}`, true, Number.MAX_SAFE_INTEGER);
    },

    async list(query) {
      const limit = query.limit ?? 100;
      if (query.workflowId === undefined) return listFrom(listKey(query), query.status !== "pending", limit, { requestType: query.requestType, requestedBy: query.requestedBy });
      // A workflow's index holds every status and repository, by creation time; pending ones are
      // ordered by urgency here, as the status index would have them.
      const filters = { requestType: query.requestType, requestedBy: query.requestedBy, repo: query.repo, status: query.status };
      if (query.status !== "pending") return listFrom(`idx:workflow:${query.workflowId}`, true, limit, filters);
      const all = await listFrom(`idx:workflow:${query.workflowId}`, false, Number.MAX_SAFE_INTEGER, filters);
      return all.sort((a, b) => pendingScore(a) - pendingScore(b) || compareIds(a.id, b.id)).slice(0, Math.max(0, limit));
    },

    async audit(repo, limit = 1000, requestedBy) {
      if (limit <= 0) return [];
      return chain.newest(repo, limit, requestedBy);
    },

    auditPage: (query) => chain.auditPage(query),

    auditHead: (repo) => chain.auditHead(repo),

    contextExpired: (now, maxContextMs, limit) => chain.contextExpired(now, maxContextMs, limit),

    purgeAudit: (now, maxAuditMs, limit) => chain.purgeAudit(now, maxAuditMs, limit),

    async countPending() {
      // Pending scores are urgency rank × 1e13 + creation time: one score range per priority.
      const counts = await call("count pending requests", () =>
        Promise.all(PRIORITIES.map((priority) => redis.zcount(`${prefix}idx:status:pending`, urgencyRank(priority) * 1e13, `(${(urgencyRank(priority) + 1) * 1e13}`))),
      );
      return Object.fromEntries(PRIORITIES.map((priority, i) => [priority, Number(counts[i])])) as Record<Priority, number>;
    },

    async due(now, limit) {
      if (limit <= 0) return [];
      const found = (await evaluate("find due escalations", scripts.DUE, [prefix, now.getTime(), limit])) as unknown[];
      return found.map((value) => json<ApprovalRequest>(value));
    },

    async claimJobs(now, limit, leaseMs) {
      if (limit <= 0) return [];
      const runAt = now.getTime() + leaseMs;
      const flat = (await evaluate("claim jobs", scripts.CLAIM_JOBS, [prefix, now.getTime(), limit, runAt])) as unknown[];
      const jobs: Job[] = [];
      for (let i = 0; i < flat.length; i += 4) jobs.push(jobFrom(flat[i + 1], runAt, flat[i + 2], flat[i + 3]));
      return jobs;
    },

    async completeJob(id) {
      await evaluate("complete a job", scripts.COMPLETE_JOB, [prefix, id]);
    },

    async retryJob(id, runAt, error) {
      await evaluate("reschedule a job", scripts.RETRY_JOB, [prefix, id, runAt.getTime(), error]);
    },

    async pendingJobs() {
      const flat = (await evaluate("list jobs", scripts.PENDING_JOBS, [prefix])) as unknown[];
      const jobs: Job[] = [];
      for (let i = 0; i < flat.length; i += 5) jobs.push(jobFrom(flat[i + 2], Number(flat[i + 1]), flat[i + 3], flat[i + 4]));
      return jobs;
    },

    async claimDelivery(deliveryId, ttlMs) {
      const key = `${prefix}delivery:${deliveryId}`;
      const claimed = await evaluate("claim a delivery", scripts.CLAIM_DELIVERY, [ttlMs], [key]);
      return claimed === "claimed" || claimed === "done" ? claimed : "in_hand";
    },

    async finishDelivery(deliveryId, ok) {
      const key = `${prefix}delivery:${deliveryId}`;
      if (ok) await call("finish a delivery", () => redis.set(key, "done", { px: DELIVERY_MEMORY_MS }));
      else await call("release a delivery", () => redis.del(key));
    },

    async takeUse(key, max, options) {
      const taken = Number(await evaluate("count a use", scripts.TAKE_USE, [max, ttlArgument(options)], [`${prefix}use:${key}`]));
      return taken < 0 ? null : taken;
    },

    async uses(key) {
      const value = await call("read a use count", () => redis.get(`${prefix}use:${key}`));
      return value === null || value === undefined ? 0 : Number(value);
    },

    async acquireLock(name, owner, ttlMs) {
      const held = await evaluate("take a lock", scripts.ACQUIRE_LOCK, [owner, ttlMs], [`${prefix}lock:${name}`]);
      return Number(held) === 1;
    },

    async releaseLock(name, owner) {
      await evaluate("release a lock", scripts.RELEASE_LOCK, [owner], [`${prefix}lock:${name}`]);
    },

    async takeSlot(key, now, spacingMs) {
      const slot = await evaluate("take a write slot", scripts.TAKE_SLOT, [now.getTime(), Math.max(0, Math.round(spacingMs))], [`${prefix}slot:${key}`]);
      return new Date(Number(slot));
    },

    async getCached(key) {
      const value = await call("read a cached value", () => redis.get(`${prefix}cache:${key}`));
      if (value === null || value === undefined) return null;
      const { v } = json<{ v?: unknown }>(value);
      return typeof v === "string" ? v : null;
    },

    async putCached(key, value, ttlMs) {
      // Wrapped in an object: a deserialising client would otherwise turn a value that looks
      // like JSON (a number) into something else.
      await call("cache a value", () => redis.set(`${prefix}cache:${key}`, JSON.stringify({ v: value }), { px: Math.max(1, Math.round(ttlMs)) }));
    },

    async dropCached(key) {
      await call("forget a cached value", () => redis.del(`${prefix}cache:${key}`));
    },

    async setting(name) {
      const stored = await call("read a setting", () => redis.get(`${prefix}setting:${name}`));
      return stored === null || stored === undefined ? null : json<{ value: string }>(stored).value;
    },

    async createSetting(name, value, options) {
      // Wrapped, so a client that deserialises JSON hands the string back as it was written.
      const stored = await evaluate("store a setting", scripts.CREATE_SETTING, [JSON.stringify({ value }), ttlArgument(options)], [`${prefix}setting:${name}`]);
      return json<{ value: string }>(stored).value;
    },

    async time() {
      const [seconds, micros] = await call("read its clock", () => redis.time());
      return new Date(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000));
    },

    async ping() {
      await call("answer a ping", () => redis.ping());
    },

    async close() {
      await options.onClose?.();
    },
  };
  return store;

  interface ListFilters {
    requestType?: string;
    requestedBy?: string;
    repo?: string;
    status?: string;
  }

  async function listFrom(key: string, newestFirst: boolean, limit: number, filters: ListFilters = {}): Promise<ApprovalRequest[]> {
    const { requestType, requestedBy, repo, status } = filters;
    if (limit <= 0) return [];
    const found = (await evaluate("list requests", scripts.LIST, [
      prefix,
      key,
      newestFirst ? "1" : "0",
      Math.min(limit, 1_000_000),
      requestType === undefined ? "0" : "1",
      JSON.stringify(requestType ?? null),
      requestedBy === undefined ? "0" : "1",
      requestedBy ?? "",
      repo === undefined ? "0" : "1",
      repo ?? "",
      status === undefined ? "0" : "1",
      status ?? "",
    ])) as unknown[];
    return found.map((value) => json<ApprovalRequest>(value));
  }
}

/** The sorted set that answers a list query with the fewest entries to skip. */
/** The ttl as the scripts take it: whole milliseconds, 0 for none. */
function ttlArgument(options: ExpiryOptions | undefined): number {
  const ttl = options?.ttlMs;
  return ttl !== undefined && Number.isFinite(ttl) && ttl > 0 ? Math.max(1, Math.ceil(ttl)) : 0;
}

function listKey(query: ListQuery): string {
  if (query.status && query.repo) return `idx:repo-status:${query.status}:${query.repo}`;
  if (query.status) return `idx:status:${query.status}`;
  if (query.repo) return `idx:repo:${query.repo}`;
  return "idx:all";
}

/** The sixteen fields the scripts store a request with (scripts.REQUEST_FIELDS), in their order. */
function requestArgs(request: ApprovalRequest): string[] {
  const created = toMs(request.createdAt);
  const number = surfaceNumber(request);
  const due = dueMs(request);
  const ended = endedAtMs(request);
  const purge = contextExpiresAtMs(request);
  const purged = request.contextPurgedAt !== undefined;
  const keepFor = request.retention?.auditMs;
  return [
    JSON.stringify(request),
    String(request.version),
    request.repo,
    request.status,
    number === null ? "" : String(number),
    String(created),
    String(request.status === "pending" ? pendingScore(request) : created),
    due === null ? "" : String(due),
    JSON.stringify(request.requestType),
    request.requestedBy,
    request.workflowId ?? "",
    ended === null ? "" : String(ended),
    purge === null ? "" : String(purge),
    purged && keepFor !== null && keepFor !== undefined ? String(keepFor) : "",
    purged ? "1" : "",
    purged && request.idempotencyKey !== null ? idempotencyIndexKey(request.requestedBy, request.idempotencyKey) : "",
  ];
}

function jobsArgs(effects: Effects): string[] {
  const jobs = effects.jobs ?? [];
  return [
    String(jobs.length),
    ...jobs.flatMap((job) => [
      job.id,
      JSON.stringify(job),
      String(toMs(job.runAt)),
      String(job.attempts),
      job.lastError === null ? "0" : "1",
      job.lastError ?? "",
    ]),
  ];
}

/** A job from its stored JSON, with the fields that change kept outside it. */
function jobFrom(value: unknown, runAtMs: number, attempts: unknown, error: unknown): Job {
  return {
    ...json<Job>(value),
    runAt: new Date(runAtMs).toISOString(),
    attempts: Number(attempts),
    lastError: error === null || error === undefined || error === false ? null : String(error),
  };
}

/** A stored JSON document, whether the client handed it over raw or already parsed. */
function json<T>(value: unknown): T {
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}

/** The cause of a failure, short and without what the client echoes of the command or any credentials. */
function reason(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  // fetch() says only "fetch failed"; what failed is in its cause.
  if (error instanceof Error && error.cause instanceof Error) message += ` (${error.cause.message})`;
  return message
    .split(", command was:")[0]!
    .replace(/\/\/[^/@\s]*@/g, "//")
    .slice(0, 300);
}
