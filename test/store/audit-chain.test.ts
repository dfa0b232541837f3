import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GENESIS_HASH, recordHash, chainedRecord, type ChainedAuditEntry } from "../../src/core/audit-chain.js";
import type { ApprovalRequest, AuditEntry } from "../../src/core/types.js";
import { createAuditTrail } from "../../src/engine/audit-trail.js";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import { createRedisStore } from "../../src/store/redis-store.js";
import { createRespRequester } from "../../src/store/resp-requester.js";
import { openDatabase } from "../../src/store/sqlite-schema.js";
import type { Store } from "../../src/store/store.js";
import { makeAudit, makeRequest } from "../support/fixtures.js";
import { deleteKeys, REDIS_URL, scanKeys } from "../support/redis-keys.js";
import { purgeContext } from "../../src/core/retention.js";
import { idempotencyIndexKey } from "../../src/store/order.js";
import { downgradeToSchema2 } from "./support/schema-2.js";

const REPO = "octo-org/payments";
const auditor = { name: "auditor", readAll: true };

/** Changes made behind the store's back, as someone holding its data could. */
interface Tamper {
  edit(repo: string, seq: number): Promise<void>;
  remove(repo: string, seq: number): Promise<void>;
  swap(repo: string, a: number, b: number): Promise<void>;
  truncate(repo: string, count: number): Promise<void>;
}

interface Harness {
  store: Store;
  tamper: Tamper;
  /** A second store on the same data (another replica); Redis only. */
  replica?: () => Promise<Store>;
  cleanup(): Promise<void>;
}

async function embeddedHarness(): Promise<Harness> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), "hitl-chain-"));
  let store = await createEmbeddedStore({ dir, fsync: false, log: () => undefined });
  const harness: Harness = {
    store,
    tamper: {
      edit: (repo, seq) => offline(`UPDATE audit SET body = json_set(body, '$.action', 'approve') WHERE repo = ? AND chain_seq = ?`, [repo, seq]),
      remove: (repo, seq) => offline("DELETE FROM audit WHERE repo = ? AND chain_seq = ?", [repo, seq]),
      swap: (repo, a, b) =>
        offline((db) => {
          const read = db.prepare("SELECT seq, body, chain_seq, prev_hash, hash, at_ms FROM audit WHERE repo = ? AND chain_seq = ?");
          const first = read.get(repo, a) as Record<string, unknown>;
          const second = read.get(repo, b) as Record<string, unknown>;
          const put = db.prepare("UPDATE audit SET body = @body, chain_seq = @chain_seq, prev_hash = @prev_hash, hash = @hash, at_ms = @at_ms WHERE seq = @at");
          put.run({ ...second, at: first.seq });
          put.run({ ...first, at: second.seq });
        }),
      truncate: (repo, count) => offline("DELETE FROM audit WHERE seq IN (SELECT seq FROM audit WHERE repo = ? ORDER BY seq DESC LIMIT ?)", [repo, count]),
    },
    cleanup: async () => {
      await harness.store.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
  /** Closes the store, changes its database directly, and opens it again. */
  async function offline(change: string | ((db: ReturnType<typeof openDatabase>) => void), params: unknown[] = []): Promise<void> {
    await harness.store.close();
    const db = openDatabase(path.join(dir, "hitl.db"), { fsync: false });
    if (typeof change === "string") db.prepare(change).run(...params);
    else change(db);
    db.close();
    store = await createEmbeddedStore({ dir, fsync: false, log: () => undefined });
    harness.store = store;
  }
  return harness;
}

/** A Redis store; `raw`: a client that hands values over as strings, as production builds it. */
function redisStore(prefix: string, raw = false): Store {
  const requester = createRespRequester(REDIS_URL);
  const redis = new Redis(requester);
  if (raw) Object.assign(redis, { opts: { automaticDeserialization: false } });
  return createRedisStore({ redis, prefix, onClose: () => requester.close() });
}

async function redisHarness(raw = false): Promise<Harness> {
  const prefix = `hitl-test:chain:${randomBytes(6).toString("hex")}:`;
  const admin = new IORedis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const opened: Store[] = [];
  const open = () => {
    const store = redisStore(prefix, raw);
    opened.push(store);
    return store;
  };
  /** The position of a repository's entry `seq`, and its JSON. */
  async function find(repo: string, seq: number): Promise<{ pos: string; text: string }> {
    for (const pos of await admin.zrange(`${prefix}audit-p:repo:${repo}`, "0", "-1")) {
      const text = (await admin.hget(`${prefix}audit-e`, String(pos)))!;
      if ((JSON.parse(text) as ChainedAuditEntry).seq === seq) return { pos: String(pos), text };
    }
    throw new Error(`no entry ${seq}`);
  }
  async function drop(repo: string, pos: string): Promise<void> {
    await admin.hdel(`${prefix}audit-e`, pos);
    await admin.zrem(`${prefix}audit-p:repo:${repo}`, pos);
    await admin.zrem(`${prefix}audit-p:all`, pos);
  }
  return {
    store: open(),
    replica: async () => open(),
    tamper: {
      async edit(repo, seq) {
        const { pos, text } = await find(repo, seq);
        await admin.hset(`${prefix}audit-e`, pos, JSON.stringify({ ...JSON.parse(text), action: "approve" }));
      },
      async remove(repo, seq) {
        await drop(repo, (await find(repo, seq)).pos);
      },
      async swap(repo, a, b) {
        const first = await find(repo, a);
        const second = await find(repo, b);
        await admin.hset(`${prefix}audit-e`, first.pos, second.text, second.pos, first.text);
      },
      async truncate(repo, count) {
        for (const pos of await admin.zrange(`${prefix}audit-p:repo:${repo}`, String(-count), "-1")) await drop(repo, String(pos));
      },
    },
    async cleanup() {
      for (const store of opened) await store.close();
      admin.disconnect();
      await deleteKeys(REDIS_URL, `${prefix}*`);
    },
  };
}

/** Writes a request with `count` audit entries, one per write, each a minute after the one before. */
async function history(store: Store, count: number, overrides: Partial<ApprovalRequest> = {}, start = Date.parse("2026-11-24T10:00:00.000Z")): Promise<AuditEntry[]> {
  const request = makeRequest({ ...overrides, createdAt: new Date(start).toISOString(), updatedAt: new Date(start).toISOString() });
  const entries: AuditEntry[] = [];
  let version = 0;
  for (let i = 0; i < count; i++) {
    const at = new Date(start + i * 60_000).toISOString();
    const entry = makeAudit(request, { at, event: i === 0 ? "created" : "escalated" });
    entries.push(entry);
    if (i === 0) await store.create(request, { audit: [entry] });
    else await store.update({ ...request, updatedAt: at }, version, { audit: [entry] });
    version += 1;
  }
  return entries;
}

async function allPages(store: Store, query: { repo?: string; requestedBy?: string; since?: Date; until?: Date }, limit: number): Promise<ChainedAuditEntry[]> {
  const out: ChainedAuditEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.auditPage({ ...query, cursor, limit });
    out.push(...page.entries);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

for (const [name, make] of [
  ["embedded", embeddedHarness],
  ["redis", () => redisHarness()],
  ["redis (raw strings)", () => redisHarness(true)],
] as const) {
  describe(`${name} store: audit chain`, () => {
    let h: Harness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.cleanup();
    });
    const verify = (repo = REPO) => createAuditTrail(h.store).verifyAudit(repo, auditor);

    it("links every entry to the one before it in its repository, with the head at the newest", async () => {
      const entries = await history(h.store, 3);
      await history(h.store, 2, { repo: "octo-org/other" });
      const chain = await allPages(h.store, { repo: REPO }, 100);
      expect(chain.map(({ seq, prevHash, hash, ...entry }) => entry)).toEqual(entries);
      expect(chain.map((entry) => entry.seq)).toEqual([1, 2, 3]);
      expect(chain[0]!.prevHash).toBe(GENESIS_HASH);
      expect(chain[1]!.prevHash).toBe(chain[0]!.hash);
      expect(chain[2]!.prevHash).toBe(chain[1]!.hash);
      for (const entry of chain) expect(recordHash(chainedRecord(entry))).toBe(entry.hash);
      expect(await h.store.auditHead(REPO)).toEqual({ repo: REPO, seq: 3, hash: chain[2]!.hash, anchor: { seq: 0, hash: GENESIS_HASH, removedAt: null } });
      expect((await allPages(h.store, { repo: "octo-org/other" }, 100)).map((entry) => entry.seq)).toEqual([1, 2]);
      // The entries as the store gave them before the chain: no links.
      expect(await h.store.audit(REPO)).toEqual(entries);
      const result = await verify();
      expect(result.verdict.ok).toBe(true);
      expect(result.message).toBe("octo-org/payments: 3 entries verified, seq 1 to 3, from its start.");
    });

    it("names an altered entry", async () => {
      const entries = await history(h.store, 6);
      await h.tamper.edit(REPO, 3);
      const { verdict } = await verify();
      expect(verdict.fault).toEqual({
        kind: "altered",
        repo: REPO,
        seq: 3,
        requestId: entries[2]!.requestId,
        entryId: entries[2]!.id,
        message: `Entry seq 3 (request ${entries[2]!.requestId}, entry ${entries[2]!.id}) of ${REPO} was altered: its content does not match its hash.`,
      });
    });

    it("names a removed entry", async () => {
      const entries = await history(h.store, 6);
      await h.tamper.remove(REPO, 3);
      const { verdict } = await verify();
      expect(verdict.fault).toMatchObject({ kind: "removed", seq: 3, requestId: entries[3]!.requestId, entryId: entries[3]!.id });
      expect(verdict.fault!.message).toBe(`Entries of ${REPO}: seq 3 is missing (removed); entry seq 4 (request ${entries[3]!.requestId}, entry ${entries[3]!.id}) follows seq 2.`);
    });

    it("names reordered entries", async () => {
      const entries = await history(h.store, 6);
      await h.tamper.swap(REPO, 3, 4);
      const { verdict } = await verify();
      expect(verdict.fault).toMatchObject({ kind: "reordered", seq: 4, entryId: entries[3]!.id });
      expect(verdict.fault!.message).toBe(`Entry seq 4 (request ${entries[3]!.requestId}, entry ${entries[3]!.id}) comes before entry seq 3: the entries of ${REPO} were reordered.`);
    });

    it("names a chain cut off at its end", async () => {
      await history(h.store, 6);
      await h.tamper.truncate(REPO, 2);
      const { verdict } = await verify();
      expect(verdict.fault).toEqual({
        kind: "truncated",
        repo: REPO,
        seq: 5,
        requestId: null,
        entryId: null,
        message: `The audit of ${REPO} ends at seq 4, but its head is seq 6: the newest entries were removed.`,
      });
    });

    it("pages every entry exactly once, in write order, while entries are written between pages", async () => {
      await history(h.store, 5);
      await history(h.store, 4, { repo: "octo-org/other", requestedBy: "deploy-bot" });
      const seen: ChainedAuditEntry[] = [];
      let cursor: string | undefined;
      let written = 0;
      do {
        const page = await h.store.auditPage({ cursor, limit: 3 });
        seen.push(...page.entries);
        cursor = page.nextCursor ?? undefined;
        if (written < 3) {
          await history(h.store, 2, { repo: written % 2 ? REPO : "octo-org/other" }, Date.parse("2026-11-25T10:00:00.000Z") + written * 600_000);
          written += 1;
        }
      } while (cursor);
      const ids = seen.map((entry) => entry.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(5 + 4 + 3 * 2);
      expect(ids).toEqual((await allPages(h.store, {}, 1000)).map((entry) => entry.id));
      // Scoped to an agent, and to times.
      expect((await allPages(h.store, { requestedBy: "deploy-bot" }, 2)).map((entry) => entry.repo)).toEqual(Array(4).fill("octo-org/other"));
      const window = await allPages(h.store, { repo: REPO, since: new Date("2026-11-24T10:01:00.000Z"), until: new Date("2026-11-24T10:04:00.000Z") }, 2);
      expect(window.map((entry) => [entry.seq, entry.at])).toEqual([
        [2, "2026-11-24T10:01:00.000Z"],
        [3, "2026-11-24T10:02:00.000Z"],
        [4, "2026-11-24T10:03:00.000Z"],
      ]);
    });

    it("removes expired entries from the start of a chain, leaving a checkpoint it verifies from", async () => {
      const day = 86_400_000;
      const start = Date.parse("2026-01-01T00:00:00.000Z");
      // Kept 30 days by their request's retention, then entries kept 400 days.
      const short = await history(h.store, 3, { retention: { contextMs: null, auditMs: 30 * day } }, start);
      await history(h.store, 2, { retention: { contextMs: null, auditMs: 400 * day } }, start + 10 * day);
      const keptForever = await history(h.store, 2, { repo: "octo-org/other" }, start);
      const before = await allPages(h.store, { repo: REPO }, 100);

      expect(await h.store.purgeAudit(new Date(start + 30 * day - 1), null, 500)).toEqual({ removed: 0, repos: [] });
      expect(await h.store.purgeAudit(new Date(start + 30 * day), null, 500)).toEqual({ removed: 1, repos: [REPO] });
      expect(await h.store.purgeAudit(new Date(start + 30 * day + 2 * 60_000), null, 1)).toEqual({ removed: 1, repos: [REPO] });
      const at = new Date(start + 31 * day);
      expect(await h.store.purgeAudit(at, null, 500)).toEqual({ removed: 1, repos: [REPO] });
      expect(await h.store.purgeAudit(at, null, 500)).toEqual({ removed: 0, repos: [] });
      const after = await allPages(h.store, { repo: REPO }, 100);
      expect(after.map((entry) => entry.seq)).toEqual([4, 5]);
      expect(await h.store.auditHead(REPO)).toEqual({ repo: REPO, seq: 5, hash: before[4]!.hash, anchor: { seq: 3, hash: before[2]!.hash, removedAt: at.toISOString() } });
      const result = await verify();
      expect(result.verdict.ok).toBe(true);
      expect(result.message).toBe("octo-org/payments: 2 entries verified, seq 4 to 5, from the retention checkpoint after seq 3.");
      expect(short.map((entry) => entry.id)).not.toContain(after[0]!.id);

      // The environment's ceiling removes what the requests' own retention would keep.
      const later = new Date(start + 2 * 365 * day);
      expect(await h.store.purgeAudit(later, 365 * day, 500)).toEqual({ removed: 4, repos: expect.arrayContaining([REPO, "octo-org/other"]) });
      expect(await allPages(h.store, {}, 100)).toEqual([]);
      expect((await verify("octo-org/other")).message).toBe("octo-org/other: no entries to verify from the retention checkpoint after seq 2.");
      expect(keptForever).toHaveLength(2);
    });

    it("finds ended requests whose context is due for removal, from its index", async () => {
      const day = 86_400_000;
      const ended = (request: ApprovalRequest, at: string): ApprovalRequest => ({ ...request, status: "approved", updatedAt: at, escalation: { ...request.escalation, nextAt: null }, decision: { action: "approve", status: "approved", decidedBy: { type: "human", login: "alice" }, justification: "ok", decidedAt: at, via: "comment" } });
      const own = makeRequest({ retention: { contextMs: 10 * day, auditMs: null } });
      const plain = makeRequest({});
      const pending = makeRequest({ retention: { contextMs: day, auditMs: null } });
      for (const request of [own, plain, pending]) await h.store.create(request);
      await h.store.update(ended(own, "2026-11-25T00:00:00.000Z"), 1);
      await h.store.update(ended(plain, "2026-11-25T00:00:00.000Z"), 1);
      const ids = async (now: string, max: number | null) => (await h.store.contextExpired(new Date(now), max, 500)).map((request) => request.id).sort();
      expect(await ids("2026-12-04T23:59:59.999Z", null)).toEqual([]);
      expect(await ids("2026-12-05T00:00:00.000Z", null)).toEqual([own.id]);
      expect(await ids("2026-12-05T00:00:00.000Z", 30 * day)).toEqual([own.id]);
      expect(await ids("2026-12-25T00:00:00.000Z", 30 * day)).toEqual([own.id, plain.id].sort());
    });

    if (name !== "embedded") {
      it("keeps one chain when two replicas write the same repository at once", async () => {
        const other = await h.replica!();
        const writes = [];
        for (let i = 0; i < 20; i++) {
          const request = makeRequest({});
          writes.push((i % 2 ? other : h.store).create(request, { audit: [makeAudit(request)] }));
        }
        await Promise.all(writes);
        const chain = await allPages(h.store, { repo: REPO }, 7);
        expect(chain.map((entry) => entry.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        expect((await verify()).verdict.ok).toBe(true);
        expect((await h.store.auditHead(REPO))!.seq).toBe(20);
      });
    }
  });
}

describe("redis keys of ended requests and expired entries", () => {
  it("a request whose context was purged leaves every index, and expires with its audit retention; expired entries leave every index", async () => {
    const prefix = `hitl-test:chain-keys:${randomBytes(6).toString("hex")}:`;
    const admin = new IORedis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const store = redisStore(prefix);
    try {
      const day = 86_400_000;
      const request = makeRequest({ idempotencyKey: "k-1", workflowId: "run-1", retention: { contextMs: day, auditMs: 30 * day } });
      await store.create(request, { audit: [makeAudit(request, { at: "2026-11-24T10:00:00.000Z" })] });
      const ended: ApprovalRequest = { ...request, status: "cancelled", updatedAt: "2026-11-24T11:00:00.000Z", escalation: { ...request.escalation, nextAt: null } };
      await store.update(ended, 1, { audit: [makeAudit(ended, { event: "cancelled", at: "2026-11-24T11:00:00.000Z" })] });
      const [due] = await store.contextExpired(new Date("2026-11-25T11:00:00.000Z"), null, 10);
      expect(due!.id).toBe(request.id);
      const purged = purgeContext(due!, new Date("2026-11-25T11:00:00.000Z"));
      await store.update(purged, 2, { audit: [makeAudit(purged, { event: "context_purged", at: purged.contextPurgedAt! })] });

      const indexes = await scanKeys(REDIS_URL, `${prefix}idx:*`);
      for (const key of indexes) expect(await admin.zscore(key, request.id), key).toBeNull();
      expect(await admin.exists(`${prefix}idem:${idempotencyIndexKey(request.requestedBy, "k-1")}`)).toBe(0);
      const ttl = await admin.pttl(`${prefix}req:${request.id}`);
      expect(ttl).toBeGreaterThan(29 * day);
      expect(ttl).toBeLessThanOrEqual(30 * day);
      expect((await store.get(request.id))!.taskDescription).toBe("");
      expect(await store.contextExpired(new Date("2027-11-25T11:00:00.000Z"), day, 10)).toEqual([]);

      expect(await store.purgeAudit(new Date("2027-01-01T00:00:00.000Z"), null, 500)).toEqual({ removed: 3, repos: [REPO] });
      const left = [...(await scanKeys(REDIS_URL, `${prefix}audit*`))].sort();
      expect(left).toEqual([`${prefix}audit-chain-migrated`, `${prefix}audit-head:${REPO}`, `${prefix}audit-n`]);
    } finally {
      await store.close();
      admin.disconnect();
      await deleteKeys(REDIS_URL, `${prefix}*`);
    }
  });
});

describe("chaining an audit written before the chain", () => {
  it("embedded: a schema 2 database's entries are chained per repository, in the order written, on opening", async () => {
    const dir = await fs.mkdtemp(path.join(tmpdir(), "hitl-chain-migrate-"));
    let store = await createEmbeddedStore({ dir, fsync: false, log: () => undefined });
    const a = await history(store, 3);
    const b = await history(store, 2, { repo: "octo-org/other" });
    const ended = makeRequest({});
    await store.create(ended);
    await store.update({ ...ended, status: "cancelled", updatedAt: "2026-01-02T00:00:00.000Z", escalation: { ...ended.escalation, nextAt: null } }, 1);
    await store.close();
    const db = openDatabase(path.join(dir, "hitl.db"), { fsync: false });
    downgradeToSchema2(db);
    db.close();

    store = await createEmbeddedStore({ dir, fsync: false, log: () => undefined });
    const chain = await allPages(store, {}, 100);
    expect(chain.map((entry) => [entry.repo, entry.seq, entry.id])).toEqual([
      ...a.map((entry, i) => [REPO, i + 1, entry.id]),
      ...b.map((entry, i) => ["octo-org/other", i + 1, entry.id]),
    ]);
    expect((await createAuditTrail(store).verifyAudit(REPO, auditor)).verdict.ok).toBe(true);
    const next = await history(store, 1);
    expect((await allPages(store, { repo: REPO }, 100)).map((entry) => entry.id)).toEqual([...a, ...next].map((entry) => entry.id));
    expect((await createAuditTrail(store).verifyAudit(REPO, auditor)).message).toBe("octo-org/payments: 4 entries verified, seq 1 to 4, from its start.");
    // Requests that ended before are indexed for the environment's retention.
    expect((await store.contextExpired(new Date("2026-01-03T00:00:00.000Z"), 86_400_000, 10)).map((found) => found.id)).toEqual([ended.id]);
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("redis: the lists of entries are chained once, before the first chained write, and removed", async () => {
    const prefix = `hitl-test:chain-migrate:${randomBytes(6).toString("hex")}:`;
    const admin = new IORedis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const request = makeRequest({});
    const old = Array.from({ length: 1_200 }, (_, i) => makeAudit(request, { at: new Date(Date.parse("2026-01-01T00:00:00.000Z") + i * 1000).toISOString() }));
    for (let i = 0; i < old.length; i += 400) await admin.rpush(`${prefix}audit:${REPO}`, ...old.slice(i, i + 400).map((entry) => JSON.stringify(entry)));
    await admin.rpush(`${prefix}audit-by:${request.requestedBy}:${REPO}`, JSON.stringify(old[0]));
    const first = redisStore(prefix);
    const second = redisStore(prefix);
    try {
      // A request that ended before retention existed: in no retention index.
      const ended = makeRequest({});
      await first.create(ended);
      await first.update({ ...ended, status: "cancelled", updatedAt: "2026-01-02T00:00:00.000Z", escalation: { ...ended.escalation, nextAt: null } }, 1);
      await admin.hdel(`${prefix}req:${ended.id}`, "ended", "purge");
      await admin.zrem(`${prefix}idx:ended`, ended.id);

      const fresh = makeRequest({});
      const entry = makeAudit(fresh);
      // Two replicas start at once: one chains, the other waits for it.
      await Promise.all([first.create(fresh, { audit: [entry] }), second.auditPage({ limit: 1 })]);
      const chain = await allPages(second, { repo: REPO }, 500);
      expect(chain.map((linked) => linked.id)).toEqual([...old, entry].map((linked) => linked.id));
      expect(chain.map((linked) => linked.seq)).toEqual(Array.from({ length: 1_201 }, (_, i) => i + 1));
      expect((await createAuditTrail(first).verifyAudit(REPO, auditor)).verdict.ok).toBe(true);
      expect(await admin.exists(`${prefix}audit:${REPO}`, `${prefix}audit-by:${request.requestedBy}:${REPO}`)).toBe(0);
      expect((await first.audit(REPO, 2, request.requestedBy)).map((linked) => linked.id)).toEqual([old[old.length - 1]!.id, entry.id]);
      expect((await first.contextExpired(new Date("2026-01-03T00:00:00.000Z"), 86_400_000, 10)).map((found) => found.id)).toEqual([ended.id]);
    } finally {
      await first.close();
      await second.close();
      admin.disconnect();
      await deleteKeys(REDIS_URL, `${prefix}*`);
    }
  });
});
