import type Database from "better-sqlite3";

/** Takes a database back to schema 2, as a hitl before the audit chain left it (its audit rows keep their bodies). */
export function downgradeToSchema2(db: Database.Database): void {
  db.exec(`
DROP INDEX audit_agent; DROP INDEX audit_at; DROP INDEX audit_expires; DROP TABLE audit_heads;
ALTER TABLE audit DROP COLUMN chain_seq; ALTER TABLE audit DROP COLUMN prev_hash; ALTER TABLE audit DROP COLUMN hash;
ALTER TABLE audit DROP COLUMN at_ms; ALTER TABLE audit DROP COLUMN expires_at;
DROP INDEX requests_ended; DROP INDEX requests_purge;
ALTER TABLE requests DROP COLUMN ended_at; ALTER TABLE requests DROP COLUMN purge_at;`);
  db.pragma("user_version = 2");
}
