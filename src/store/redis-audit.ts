import { randomBytes } from "node:crypto";
import { GENESIS_HASH, linkEntries, type ChainedAuditEntry, type ChainHead, type ChainPoint } from "../core/audit-chain.js";
import { contextExpiresAtMs, endedAtMs } from "../core/retention.js";
import { STATUSES, type ApprovalRequest, type AuditEntry } from "../core/types.js";
import * as scripts from "./redis-audit-scripts.js";
import { CLOCK_STEP_MS } from "./sqlite-audit.js";
import { StoreUnavailableError, type AuditPage, type AuditPageQuery, type AuditPurgeResult } from "./store.js";

type Evaluate = (what: string, script: string, args: Array<string | number>) => Promise<unknown>;

/** A head as the store last saw it; `exp`: the newest entry's expiry, null for ever, 0 when the chain is empty. */
interface KnownHead extends ChainPoint {
  exp: number | null;
}

/** The audit arguments of one write, and how to retry it when another replica moved a head. */
export interface ChainedWrite {
  heads: string[];
  entries: string[];
}

const HEAD_ATTEMPTS = 50;
const MIGRATION_LOCK = "audit-chain-migration";
const MIGRATION_LOCK_MS = 60_000;
const MIGRATION_WAIT_MS = 5 * 60_000;
const MIGRATION_CHUNK = 500;
const KNOWN_HEADS = 10_000;

const json = <T>(value: unknown): T => (typeof value === "string" ? JSON.parse(value) : value) as T;
const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, "\\$&");

export interface RedisAuditOptions {
  prefix: string;
  evaluate: Evaluate;
  acquireLock: (name: string, owner: string, ttlMs: number) => Promise<boolean>;
  releaseLock: (name: string, owner: string) => Promise<void>;
  get: (key: string) => Promise<unknown>;
  set: (key: string, value: string) => Promise<unknown>;
  del: (key: string) => Promise<unknown>;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The Redis store's side of the audit chain (see redis-audit-scripts.ts for the keys and why
 * hashes are computed here): linking entries after the heads this process last saw, paging,
 * retention, and chaining the lists written before the chain once, under a lock, before the
 * first chained write or read of this process.
 */
export function createRedisAudit(options: RedisAuditOptions) {
  const { prefix, evaluate } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const heads = new Map<string, KnownHead>();
  let migrated: Promise<void> | null = null;

  function remember(repo: string, head: KnownHead): void {
    if (heads.size >= KNOWN_HEADS && !heads.has(repo)) heads.clear();
    heads.set(repo, head);
  }

  const parseExp = (value: unknown): number | null => (value === "" || value === null ? null : Number(value ?? 0));

  async function readHead(repo: string): Promise<KnownHead> {
    const known = heads.get(repo);
    if (known) return known;
    const found = (await evaluate("read an audit head", `return redis.call('HMGET', ARGV[1] .. 'audit-head:' .. ARGV[2], 'seq', 'hash', 'exp')`, [prefix, repo])) as unknown[];
    const head = { seq: Number(found[0] ?? 0), hash: typeof found[1] === "string" ? found[1] : GENESIS_HASH, exp: found[0] ? parseExp(found[2] ?? "0") : 0 };
    remember(repo, head);
    return head;
  }

  /** Links the entries after the heads this process knows; the arguments for the write script and the heads it will leave. */
  async function link(entries: AuditEntry[], agentOf: (entry: AuditEntry) => string, auditMs: number | null) {
    const byRepo = new Map<string, AuditEntry[]>();
    for (const entry of entries) byRepo.set(entry.repo, [...(byRepo.get(entry.repo) ?? []), entry]);
    const headArgs: string[] = [String(byRepo.size)];
    const entryArgs: string[] = [String(entries.length)];
    const next = new Map<string, KnownHead>();
    for (const [repo, own] of byRepo) {
      const head = await readHead(repo);
      const { linked, head: after } = linkEntries(head, own);
      let exp = head.exp;
      for (const entry of linked) {
        const at = Date.parse(entry.at);
        const atMs = Number.isFinite(at) ? at : 0;
        exp = auditMs === null || exp === null ? null : Math.max(exp, atMs + auditMs);
        entryArgs.push(repo, agentOf(entry), JSON.stringify(entry), String(atMs), exp === null ? "" : String(exp));
      }
      headArgs.push(repo, String(head.seq), head.hash, String(after.seq), after.hash, exp === null ? "" : String(exp));
      next.set(repo, { ...after, exp });
    }
    return { heads: headArgs, entries: entryArgs, next };
  }

  /**
   * Runs a write whose effects carry audit entries: links them, runs `write` with the heads and
   * entries arguments, and, when the script answers that a head moved (another replica wrote
   * first), links them again after the head it answered.
   */
  async function chainedWrite(entries: AuditEntry[], agentOf: (entry: AuditEntry) => string, auditMs: number | null, write: (args: ChainedWrite) => Promise<unknown>): Promise<unknown> {
    await ensureMigrated();
    for (let attempt = 1; ; attempt++) {
      const { heads: headArgs, entries: entryArgs, next } = await link(entries, agentOf, auditMs);
      const result = await write({ heads: headArgs, entries: entryArgs });
      if (Array.isArray(result) && Number(result[0]) === -2) {
        remember(String(result[1]), { seq: Number(result[2]), hash: String(result[3]), exp: parseExp(result[4]) });
        if (attempt >= HEAD_ATTEMPTS) throw new StoreUnavailableError(`The audit chain of ${String(result[1])} kept moving; nothing was written. Retry.`);
        // Many replicas on one repository: spread the retries out a little.
        if (attempt > 3) await sleep(Math.random() * 5 * attempt);
        continue;
      }
      const written = Array.isArray(result) ? Number(result[0]) === 1 : Number(result) === 1;
      if (written) for (const [repo, head] of next) remember(repo, head);
      return result;
    }
  }

  async function seek(ms: number): Promise<number | null> {
    const found = Number(await evaluate("seek the audit by time", scripts.AUDIT_SEEK, [prefix, ms]));
    return found < 0 ? null : found;
  }

  interface Ranged {
    pos: number;
    entry: ChainedAuditEntry | null;
    text: string;
    exp: number | null;
    at: number;
  }

  async function range(key: string, after: number, before: number | null, count: number): Promise<Ranged[]> {
    const flat = (await evaluate("read the audit trail", scripts.AUDIT_RANGE, [prefix, key, after, before === null ? "+inf" : before, count])) as unknown[];
    const out: Ranged[] = [];
    for (let i = 0; i < flat.length; i += 4) {
      const text = typeof flat[i + 1] === "string" ? (flat[i + 1] as string) : JSON.stringify(flat[i + 1]);
      let entry: ChainedAuditEntry | null = null;
      try {
        entry = json<ChainedAuditEntry>(text);
      } catch {
        entry = null;
      }
      out.push({ pos: Number(flat[i]), entry, text, exp: flat[i + 2] === "" || flat[i + 2] === null ? null : Number(flat[i + 2]), at: Number(flat[i + 3]) });
    }
    return out;
  }

  const pageKey = (query: { repo?: string; requestedBy?: string }) =>
    query.repo !== undefined
      ? query.requestedBy !== undefined
        ? `audit-p:by:${query.requestedBy}:${query.repo}`
        : `audit-p:repo:${query.repo}`
      : query.requestedBy !== undefined
        ? `audit-p:agent:${query.requestedBy}`
        : "audit-p:all";

  /** An entry whose stored JSON no longer parses is shown as it is, and fails verification. */
  const unreadable = (text: string, repo: string): ChainedAuditEntry => ({
    id: "(unreadable)", at: "", repo, requestId: "", event: "error", actor: { type: "system", reason: "unreadable" }, status: "pending",
    action: null, justification: text, contextHash: "", seq: 0, prevHash: "", hash: "",
  });

  async function auditPage(query: AuditPageQuery): Promise<AuditPage> {
    await ensureMigrated();
    if (query.limit <= 0) return { entries: [], nextCursor: query.cursor ?? null };
    let after = query.cursor === undefined ? 0 : Number(query.cursor);
    let before: number | null = null;
    if (query.since) {
      const first = await seek(query.since.getTime() - CLOCK_STEP_MS);
      if (first === null) return { entries: [], nextCursor: null };
      after = Math.max(after, first - 1);
    }
    if (query.until) before = await seek(query.until.getTime() + CLOCK_STEP_MS);
    const since = query.since?.getTime() ?? -Infinity;
    const until = query.until?.getTime() ?? Infinity;
    const key = pageKey(query);
    const entries: ChainedAuditEntry[] = [];
    let last = after;
    for (;;) {
      const batch = await range(key, after, before, Math.max(query.limit - entries.length, 100));
      if (batch.length === 0) return { entries, nextCursor: null };
      for (const item of batch) {
        after = item.pos;
        if (item.at < since || item.at >= until) continue;
        entries.push(item.entry ?? unreadable(item.text, query.repo ?? ""));
        last = item.pos;
        if (entries.length === query.limit) return { entries, nextCursor: String(last) };
      }
    }
  }

  async function auditHead(repo: string): Promise<ChainHead | null> {
    await ensureMigrated();
    const found = (await evaluate("read an audit head", `return redis.call('HMGET', ARGV[1] .. 'audit-head:' .. ARGV[2], 'seq', 'hash', 'aseq', 'ahash', 'removed')`, [prefix, repo])) as unknown[];
    if (found[0] === null || found[0] === undefined || found[0] === false) return null;
    const removed = found[4];
    return {
      repo,
      seq: Number(found[0]),
      hash: String(found[1]),
      anchor: { seq: Number(found[2] ?? 0), hash: typeof found[3] === "string" ? found[3] : GENESIS_HASH, removedAt: typeof removed === "string" && removed !== "" ? removed : null },
    };
  }

  /** The newest `limit` entries of a repository (or of an agent's requests in it), oldest first, without their chain links. */
  async function newest(repo: string, limit: number, requestedBy?: string): Promise<AuditEntry[]> {
    await ensureMigrated();
    const key = pageKey({ repo, requestedBy });
    const found = (await evaluate(
      "read the audit trail",
      `local out = {}
for _, pos in ipairs(redis.call('ZRANGE', ARGV[1] .. ARGV[2], -tonumber(ARGV[3]), -1)) do out[#out + 1] = redis.call('HGET', ARGV[1] .. 'audit-e', pos) or '' end
return out`,
      [prefix, key, limit],
    )) as unknown[];
    return found.map((value) => {
      const { seq: _s, prevHash: _p, hash: _h, ...entry } = json<ChainedAuditEntry>(value);
      return entry;
    });
  }

  async function purgeAudit(now: Date, maxAuditMs: number | null, limit: number): Promise<AuditPurgeResult> {
    await ensureMigrated();
    const nowMs = now.getTime();
    const cutoff = maxAuditMs === null ? null : nowMs - maxAuditMs;
    const candidates = (await evaluate("find expired audit entries", scripts.AUDIT_CANDIDATES, [prefix, nowMs, cutoff ?? ""])) as unknown[];
    const repos = new Set<string>();
    for (const value of candidates) {
      try {
        repos.add(json<AuditEntry>(value).repo);
      } catch {
        // An entry that does not parse names no repository; its chain's verification shows it.
      }
    }
    let budget = limit;
    const result: AuditPurgeResult = { removed: 0, repos: [] };
    for (const repo of repos) {
      if (budget <= 0) break;
      const first = await range(`audit-p:repo:${repo}`, 0, null, budget);
      const expired: Ranged[] = [];
      for (const item of first) {
        const due = (item.exp !== null && item.exp <= nowMs) || (cutoff !== null && item.at <= cutoff);
        if (!due || !item.entry) break;
        expired.push(item);
      }
      const last = expired[expired.length - 1];
      if (!last) continue;
      const removed = Number(
        await evaluate("remove expired audit entries", scripts.AUDIT_PURGE, [prefix, repo, expired.length, ...expired.map((item) => item.pos), last.entry!.seq, last.entry!.hash, now.toISOString()]),
      );
      budget -= removed;
      result.removed += removed;
      if (removed > 0) result.repos.push(repo);
    }
    return result;
  }

  async function contextExpired(now: Date, maxContextMs: number | null, limit: number): Promise<ApprovalRequest[]> {
    if (limit <= 0) return [];
    await ensureMigrated();
    const found = (await evaluate("find requests whose context expired", scripts.CONTEXT_EXPIRED, [prefix, now.getTime(), maxContextMs === null ? "" : now.getTime() - maxContextMs, limit])) as unknown[];
    return found.map((value) => json<ApprovalRequest>(value));
  }

  function ensureMigrated(): Promise<void> {
    return (migrated ??= migrate().catch((error: unknown) => {
      migrated = null;
      throw error;
    }));
  }

  /**
   * Entries written before the chain are in lists `audit:<repo>` (and copies per agent in
   * `audit-by:<agent>:<repo>`), and requests that ended before retention are in no index of it.
   * One replica, holding a lock, appends each list to its repository's
   * chain in order (a chunk at a time, each chunk dropped from the list in the same step) and
   * indexes the ended requests by when they ended, then marks the store migrated; the others
   * wait for the mark. Until then no replica writes or
   * reads the chain, so the old entries always come first.
   */
  async function migrate(): Promise<void> {
    const marker = `${prefix}audit-chain-migrated`;
    if (await options.get(marker)) return;
    const owner = randomBytes(8).toString("hex");
    const deadline = Date.now() + MIGRATION_WAIT_MS;
    while (!(await options.acquireLock(MIGRATION_LOCK, owner, MIGRATION_LOCK_MS))) {
      if (Date.now() > deadline) throw new StoreUnavailableError("Another replica has been chaining the audit written before the chain for five minutes; nothing was written. Retry.");
      await sleep(200);
      if (await options.get(marker)) return;
    }
    try {
      if (await options.get(marker)) return;
      for (const key of await scan(`${escapeGlob(prefix)}audit:*`)) {
        const repo = key.slice(`${prefix}audit:`.length);
        for (;;) {
          await options.acquireLock(MIGRATION_LOCK, owner, MIGRATION_LOCK_MS);
          const chunk = (await evaluate("read the audit written before the chain", `return redis.call('LRANGE', ARGV[1], 0, ${MIGRATION_CHUNK - 1})`, [key])) as unknown[];
          if (chunk.length === 0) break;
          const entries = chunk.map((value) => ({ ...json<AuditEntry>(value), repo }));
          const { heads: headArgs, entries: entryArgs, next } = await link(entries, (entry) => entry.requestedBy ?? "", null);
          const result = (await evaluate("chain the audit written before the chain", scripts.AUDIT_MIGRATE, [prefix, key.slice(prefix.length), chunk.length, ...headArgs, ...entryArgs])) as unknown[];
          if (Number(result[0]) === -2) {
            heads.delete(repo);
            continue;
          }
          for (const [name, head] of next) remember(name, head);
        }
        await options.del(key);
      }
      for (const key of await scan(`${escapeGlob(prefix)}audit-by:*`)) await options.del(key);
      await indexEndedRequests();
      await options.set(marker, new Date().toISOString());
    } finally {
      await options.releaseLock(MIGRATION_LOCK, owner);
    }
  }

  /** Requests that ended before retention existed are indexed by when they ended, so the environment's retention reaches them. */
  async function indexEndedRequests(): Promise<void> {
    for (const status of STATUSES.filter((value) => value !== "pending")) {
      for (let start = 0; ; start += MIGRATION_CHUNK) {
        const flat = (await evaluate("read ended requests", scripts.ENDED_SLICE, [prefix, `idx:status:${status}`, start, MIGRATION_CHUNK])) as unknown[];
        if (flat.length === 0) break;
        const args: string[] = [];
        for (let i = 0; i < flat.length; i += 2) {
          if (flat[i + 1] === "" || flat[i + 1] === null) continue;
          const request = json<ApprovalRequest>(flat[i + 1]);
          const ended = endedAtMs(request);
          const purge = contextExpiresAtMs(request);
          if (ended !== null) args.push(String(flat[i]), String(ended), purge === null ? "" : String(purge));
        }
        if (args.length) await evaluate("index ended requests for retention", scripts.INDEX_ENDED, [prefix, ...args]);
      }
    }
  }

  async function scan(pattern: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, ...found] = (await evaluate("list keys", scripts.SCAN, [cursor, pattern])) as unknown[];
      cursor = String(next);
      keys.push(...found.map(String));
    } while (cursor !== "0");
    return keys;
  }

  return { chainedWrite, auditPage, auditHead, newest, purgeAudit, contextExpired, ensureMigrated };
}
