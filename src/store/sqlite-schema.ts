import Database from "better-sqlite3";
import { AUDIT_CHAIN_SCHEMA, chainLegacyRows } from "./sqlite-audit.js";

/** The embedded store's database file, inside HITL_DATA_DIR. */
export const DATABASE_FILE = "hitl.db";

const SCHEMA_VERSION = 3;
/** The version SCHEMA creates; a new database then takes the migrations after it. */
const BASE_VERSION = 2;

const WORKFLOW_INDEX = "CREATE INDEX requests_workflow_created ON requests (workflow_id, created_at, id) WHERE workflow_id IS NOT NULL;";

/** What each schema version adds to the one before, run in order on an older database. */
const MIGRATIONS: Record<number, string> = {
  // 2: requests are listed by the agent's workflow id; existing rows take it from their JSON.
  2: `ALTER TABLE requests ADD COLUMN workflow_id TEXT;
UPDATE requests SET workflow_id = json_extract(body, '$.workflowId') WHERE json_extract(body, '$.workflowId') IS NOT NULL;
${WORKFLOW_INDEX}`,
  // 3: the audit becomes a hash chain per repository, and ended requests are indexed for retention.
  3: AUDIT_CHAIN_SCHEMA,
};

/** What a migration computes in JavaScript after its SQL (hashes SQLite cannot). */
const MIGRATION_STEPS: Record<number, (db: Database.Database) => void> = {
  3: chainLegacyRows,
};

/**
 * One row per request: the whole request as JSON in `body`, and beside it the columns the
 * queries of the Store port filter and order by, each served by an index (see sqlite-queries.ts).
 * Times are epoch milliseconds. `next_at` is set only while the request is pending and waits on
 * the sweep, so the due index holds exactly what the sweep may have to do.
 */
const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE requests (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  repo TEXT NOT NULL,
  status TEXT NOT NULL,
  urgency INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  next_at INTEGER,
  request_type TEXT,
  requested_by TEXT NOT NULL,
  surface_number INTEGER,
  idempotency_key TEXT,
  version INTEGER NOT NULL,
  body TEXT NOT NULL,
  workflow_id TEXT
);
CREATE INDEX requests_due ON requests (next_at, id) WHERE next_at IS NOT NULL;
CREATE INDEX requests_pending ON requests (urgency, created_at, id) WHERE status = 'pending';
CREATE INDEX requests_repo_pending ON requests (repo, urgency, created_at, id) WHERE status = 'pending';
CREATE INDEX requests_created ON requests (created_at, id);
CREATE INDEX requests_repo_created ON requests (repo, created_at, id);
CREATE INDEX requests_repo_status_created ON requests (repo, status, created_at, id);
CREATE INDEX requests_status_created ON requests (status, created_at, id);
CREATE INDEX requests_type_created ON requests (request_type, created_at, id);
CREATE INDEX requests_agent_created ON requests (requested_by, created_at, id);
CREATE INDEX requests_surface ON requests (repo, surface_number) WHERE surface_number IS NOT NULL;
CREATE INDEX requests_idempotency ON requests (requested_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
${WORKFLOW_INDEX}

CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  repo TEXT NOT NULL,
  requested_by TEXT,
  body TEXT NOT NULL
);
CREATE INDEX audit_repo ON audit (repo, seq);
CREATE INDEX audit_repo_agent ON audit (repo, requested_by, seq);

CREATE TABLE jobs (id TEXT PRIMARY KEY, run_at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX jobs_run_at ON jobs (run_at, id);

CREATE TABLE deliveries (id TEXT PRIMARY KEY, state TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX deliveries_expiry ON deliveries (expires_at);

CREATE TABLE uses (key TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
`;

export interface OpenOptions {
  /** fsync each commit (`synchronous=FULL`); false (`OFF`) only for tests. */
  fsync: boolean;
  readonly?: boolean;
}

/**
 * Opens (and on first use creates) the database in WAL mode: readers, such as a backup from
 * another process, never block the writer. Page cache and memory-mapping are bounded, so the
 * process's memory does not grow with the history on disk.
 */
export function openDatabase(file: string, options: OpenOptions): Database.Database {
  const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  try {
    db.pragma("busy_timeout = 5000");
    if (options.readonly) return db;
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.fsync ? "FULL" : "OFF"}`);
    db.pragma("cache_size = -16000");
    db.pragma("temp_store = MEMORY");
    // Checkpoints run on a thread of their own (checkpointer.ts), not in the commit of a write.
    db.pragma("wal_autocheckpoint = 0");
    db.pragma("journal_size_limit = 67108864");
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`The database ${file} was written by a newer hitl (schema ${version}; this one knows ${SCHEMA_VERSION}).`);
    }
    if (version < SCHEMA_VERSION) {
      db.transaction(() => {
        const from = version === 0 ? BASE_VERSION : version;
        if (version === 0) db.exec(SCHEMA);
        for (let next = from + 1; next <= SCHEMA_VERSION; next++) {
          db.exec(MIGRATIONS[next]!);
          MIGRATION_STEPS[next]?.(db);
        }
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
