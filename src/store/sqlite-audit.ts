import type Database from "better-sqlite3";
import { GENESIS, linkEntries, type ChainedAuditEntry, type ChainHead } from "../core/audit-chain.js";
import { contextExpiresAtMs, endedAtMs } from "../core/retention.js";
import type { ApprovalRequest, AuditEntry } from "../core/types.js";
import type { AuditPage, AuditPageQuery, AuditPurgeResult } from "./store.js";

/**
 * The embedded store's audit chain (schema 3). Each `audit` row keeps the entry's JSON in `body`
 * as before, and beside it its place in the repository's chain (`chain_seq`, `prev_hash`,
 * `hash`), its time (`at_ms`) and when its retention lets it go (`expires_at`, null: for ever).
 * `audit_heads` holds each repository's newest link and its anchor (where the chain starts now:
 * seq 0 and the genesis hash, or the checkpoint retention left). Entries are linked in the
 * transaction that writes them, reading the head from the table, so the head and the entries
 * cannot disagree; one process writes the database, so nothing races it.
 */
export const AUDIT_CHAIN_SCHEMA = `
ALTER TABLE audit ADD COLUMN chain_seq INTEGER;
ALTER TABLE audit ADD COLUMN prev_hash TEXT;
ALTER TABLE audit ADD COLUMN hash TEXT;
ALTER TABLE audit ADD COLUMN at_ms INTEGER;
ALTER TABLE audit ADD COLUMN expires_at INTEGER;
CREATE INDEX audit_agent ON audit (requested_by, seq);
CREATE INDEX audit_at ON audit (at_ms);
CREATE INDEX audit_expires ON audit (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE audit_heads (
  repo TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  expires_at INTEGER,
  anchor_seq INTEGER NOT NULL,
  anchor_hash TEXT NOT NULL,
  removed_at TEXT
) WITHOUT ROWID;
ALTER TABLE requests ADD COLUMN ended_at INTEGER;
ALTER TABLE requests ADD COLUMN purge_at INTEGER;
CREATE INDEX requests_ended ON requests (ended_at, id) WHERE ended_at IS NOT NULL;
CREATE INDEX requests_purge ON requests (purge_at, id) WHERE purge_at IS NOT NULL;
`;

/**
 * A clock stepped back writes entries out of time order; `since` and `until` are sought through
 * the time index this much wider, then compared exactly, so a step back shorter than this loses
 * nothing from a page.
 */
export const CLOCK_STEP_MS = 10 * 60_000;

const BATCH = 1_000;

interface HeadRow {
  seq: number;
  hash: string;
  expires_at: number | null;
  anchor_seq: number;
  anchor_hash: string;
  removed_at: string | null;
}

interface AuditRow {
  seq: number;
  body: string;
  chain_seq: number;
  prev_hash: string;
  hash: string;
}

const atMs = (entry: AuditEntry): number => {
  const ms = Date.parse(entry.at);
  return Number.isFinite(ms) ? ms : 0;
};

/**
 * Schema 3's step: chains the entries written before the chain, per repository in the order they
 * were written (from the genesis, kept for ever by their own retention), and indexes ended
 * requests for retention. Runs in the migration's transaction, a thousand rows at a time.
 */
export function chainLegacyRows(db: Database.Database): void {
  const heads = new Map<string, { seq: number; hash: string }>();
  const next = db.prepare("SELECT seq, repo, body FROM audit WHERE seq > ? ORDER BY seq LIMIT ?");
  const link = db.prepare("UPDATE audit SET chain_seq = ?, prev_hash = ?, hash = ?, at_ms = ?, body = ? WHERE seq = ?");
  let after = 0;
  for (;;) {
    const rows = next.all(after, BATCH) as Array<{ seq: number; repo: string; body: string }>;
    if (rows.length === 0) break;
    for (const row of rows) {
      const entry = JSON.parse(row.body) as AuditEntry;
      const { linked, head } = linkEntries(heads.get(row.repo) ?? GENESIS, [{ ...entry, repo: row.repo }]);
      heads.set(row.repo, head);
      const chained = linked[0]!;
      link.run(chained.seq, chained.prevHash, chained.hash, atMs(entry), JSON.stringify(entry), row.seq);
    }
    after = rows[rows.length - 1]!.seq;
  }
  const putHead = db.prepare("INSERT INTO audit_heads (repo, seq, hash, expires_at, anchor_seq, anchor_hash, removed_at) VALUES (?, ?, ?, NULL, 0, ?, NULL)");
  for (const [repo, head] of heads) putHead.run(repo, head.seq, head.hash, GENESIS.hash);

  const ended = db.prepare("SELECT seq, body FROM requests WHERE seq > ? AND status <> 'pending' ORDER BY seq LIMIT ?");
  const index = db.prepare("UPDATE requests SET ended_at = ?, purge_at = ? WHERE seq = ?");
  after = 0;
  for (;;) {
    const rows = ended.all(after, BATCH) as Array<{ seq: number; body: string }>;
    if (rows.length === 0) break;
    for (const row of rows) {
      const request = JSON.parse(row.body) as ApprovalRequest;
      index.run(endedAtMs(request), contextExpiresAtMs(request), row.seq);
    }
    after = rows[rows.length - 1]!.seq;
  }
}

/** An entry from its row; a body that no longer parses is shown as it is, and fails verification. */
function chainedFrom(row: AuditRow, repo?: string): ChainedAuditEntry {
  let entry: AuditEntry;
  try {
    entry = JSON.parse(row.body) as AuditEntry;
  } catch {
    entry = { id: "(unreadable)", at: "", repo: repo ?? "", requestId: "", event: "error", actor: { type: "system", reason: "unreadable" }, status: "pending", action: null, justification: row.body, contextHash: "" };
  }
  return { ...entry, seq: row.chain_seq, prevHash: row.prev_hash, hash: row.hash };
}

export type AuditQueries = ReturnType<typeof prepareAuditQueries>;

export function prepareAuditQueries(db: Database.Database) {
  const s = {
    head: db.prepare("SELECT seq, hash, expires_at, anchor_seq, anchor_hash, removed_at FROM audit_heads WHERE repo = ?"),
    putHead: db.prepare(
      "INSERT INTO audit_heads (repo, seq, hash, expires_at, anchor_seq, anchor_hash, removed_at) VALUES (@repo, @seq, @hash, @expires_at, @anchor_seq, @anchor_hash, @removed_at) " +
        "ON CONFLICT (repo) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, expires_at = excluded.expires_at, anchor_seq = excluded.anchor_seq, anchor_hash = excluded.anchor_hash, removed_at = excluded.removed_at",
    ),
    insert: db.prepare(
      "INSERT INTO audit (repo, requested_by, body, chain_seq, prev_hash, hash, at_ms, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    lastSeq: db.prepare("SELECT max(seq) FROM audit").pluck(),
    seekAt: db.prepare("SELECT seq FROM audit INDEXED BY audit_at WHERE at_ms >= ? ORDER BY at_ms LIMIT 1").pluck(),
    contextDue: db.prepare("SELECT body FROM requests INDEXED BY requests_purge WHERE purge_at IS NOT NULL AND purge_at <= ? ORDER BY purge_at, id LIMIT ?"),
    endedBefore: db.prepare("SELECT body FROM requests INDEXED BY requests_ended WHERE ended_at IS NOT NULL AND ended_at <= ? ORDER BY ended_at, id LIMIT ?"),
    expiredRepos: db.prepare("SELECT DISTINCT repo FROM (SELECT repo FROM audit INDEXED BY audit_expires WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT 200)").pluck(),
    oldRepos: db.prepare("SELECT DISTINCT repo FROM (SELECT repo FROM audit INDEXED BY audit_at WHERE at_ms <= ? ORDER BY at_ms LIMIT 200)").pluck(),
    chainStart: db.prepare("SELECT seq, chain_seq, hash, at_ms, expires_at FROM audit INDEXED BY audit_repo WHERE repo = ? ORDER BY seq LIMIT ?"),
    removeUpTo: db.prepare("DELETE FROM audit WHERE seq IN (SELECT seq FROM audit INDEXED BY audit_repo WHERE repo = ? AND seq <= ?)"),
  };
  const pages = new Map<string, Database.Statement>();

  function head(repo: string): HeadRow | undefined {
    return s.head.get(repo) as HeadRow | undefined;
  }

  return {
    /**
     * Links and appends entries; `auditMs` is their request's audit retention (null: for ever).
     * An entry's expiry is never before the one before it in its chain, so what retention removes
     * is always the start of the chain.
     */
    append(entries: AuditEntry[], agentOf: (entry: AuditEntry) => string | null, auditMs: number | null): void {
      for (const entry of entries) {
        const current = head(entry.repo);
        const point = current ?? { seq: 0, hash: GENESIS.hash };
        const { linked, head: next } = linkEntries(point, [entry]);
        const chained = linked[0]!;
        const at = atMs(entry);
        const floor = current === undefined ? 0 : current.expires_at;
        const expires = auditMs === null || floor === null ? null : Math.max(floor, at + auditMs);
        const { seq: _s, prevHash: _p, hash: _h, ...plain } = chained;
        s.insert.run(entry.repo, agentOf(entry), JSON.stringify(plain), chained.seq, chained.prevHash, chained.hash, at, expires);
        s.putHead.run({
          repo: entry.repo,
          seq: next.seq,
          hash: next.hash,
          expires_at: expires,
          anchor_seq: current?.anchor_seq ?? 0,
          anchor_hash: current?.anchor_hash ?? GENESIS.hash,
          removed_at: current?.removed_at ?? null,
        });
      }
    },

    head(repo: string): ChainHead | null {
      const row = head(repo);
      if (!row) return null;
      return { repo, seq: row.seq, hash: row.hash, anchor: { seq: row.anchor_seq, hash: row.anchor_hash, removedAt: row.removed_at } };
    },

    page(query: AuditPageQuery): AuditPage {
      if (query.limit <= 0) return { entries: [], nextCursor: query.cursor ?? null };
      let after = query.cursor === undefined ? 0 : Number(query.cursor);
      let before: number | null = null;
      if (query.since) {
        const first = s.seekAt.get(query.since.getTime() - CLOCK_STEP_MS) as number | undefined;
        after = Math.max(after, first === undefined ? ((s.lastSeq.get() as number | null) ?? 0) : first - 1);
      }
      if (query.until) before = (s.seekAt.get(query.until.getTime() + CLOCK_STEP_MS) as number | undefined) ?? null;
      const where = ["seq > @after"];
      if (before !== null) where.push("seq < @before");
      if (query.repo !== undefined) where.push("repo = @repo");
      if (query.requestedBy !== undefined) where.push("requested_by = @agent");
      if (query.since) where.push("at_ms >= @since");
      if (query.until) where.push("at_ms < @until");
      const index = query.repo !== undefined ? (query.requestedBy !== undefined ? "INDEXED BY audit_repo_agent" : "INDEXED BY audit_repo") : query.requestedBy !== undefined ? "INDEXED BY audit_agent" : "";
      const sql = `SELECT seq, body, chain_seq, prev_hash, hash FROM audit ${index} WHERE ${where.join(" AND ")} ORDER BY seq LIMIT @limit`;
      let statement = pages.get(sql);
      if (!statement) pages.set(sql, (statement = db.prepare(sql)));
      const rows = statement.all({
        after,
        before,
        repo: query.repo,
        agent: query.requestedBy,
        since: query.since?.getTime(),
        until: query.until?.getTime(),
        limit: query.limit,
      }) as AuditRow[];
      const entries = rows.map((row) => chainedFrom(row, query.repo));
      return { entries, nextCursor: rows.length === query.limit ? String(rows[rows.length - 1]!.seq) : null };
    },

    contextExpired(nowMs: number, maxContextMs: number | null, limit: number): ApprovalRequest[] {
      const found = new Map<string, ApprovalRequest>();
      for (const row of s.contextDue.all(nowMs, limit) as Array<{ body: string }>) {
        const request = JSON.parse(row.body) as ApprovalRequest;
        found.set(request.id, request);
      }
      if (maxContextMs !== null && found.size < limit) {
        for (const row of s.endedBefore.all(nowMs - maxContextMs, limit - found.size) as Array<{ body: string }>) {
          const request = JSON.parse(row.body) as ApprovalRequest;
          found.set(request.id, request);
        }
      }
      return [...found.values()].slice(0, limit);
    },

    purge(nowMs: number, maxAuditMs: number | null, limit: number, removedAt: string): AuditPurgeResult {
      const repos = new Set<string>(s.expiredRepos.all(nowMs) as string[]);
      if (maxAuditMs !== null) for (const repo of s.oldRepos.all(nowMs - maxAuditMs) as string[]) repos.add(repo);
      let budget = limit;
      const result: AuditPurgeResult = { removed: 0, repos: [] };
      for (const repo of repos) {
        if (budget <= 0) break;
        const rows = s.chainStart.all(repo, budget) as Array<{ seq: number; chain_seq: number; hash: string; at_ms: number; expires_at: number | null }>;
        let last: (typeof rows)[number] | null = null;
        for (const row of rows) {
          const expired = (row.expires_at !== null && row.expires_at <= nowMs) || (maxAuditMs !== null && row.at_ms <= nowMs - maxAuditMs);
          if (!expired) break;
          last = row;
        }
        if (!last) continue;
        const removed = s.removeUpTo.run(repo, last.seq).changes;
        const current = head(repo)!;
        s.putHead.run({ repo, seq: current.seq, hash: current.hash, expires_at: current.expires_at, anchor_seq: last.chain_seq, anchor_hash: last.hash, removed_at: removedAt });
        budget -= removed;
        result.removed += removed;
        result.repos.push(repo);
      }
      return result;
    },
  };
}
