import { promises as fs } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { exists } from "./legacy-journal.js";
import { DATABASE_FILE } from "./sqlite-schema.js";

export interface BackupResult {
  source: string;
  target: string;
  pages: number;
  requests: number;
  ms: number;
}

/**
 * Copies the embedded store under `dir` to `target` with SQLite's online backup API. It may run
 * in another process while hitl runs: in WAL mode the copy reads one consistent state (every
 * page in a single step, so a write meanwhile cannot mix two states) while hitl keeps writing.
 * The copy is checked (`integrity_check`) before this resolves.
 */
export async function backupStore(dir: string, target: string): Promise<BackupResult> {
  const source = path.join(path.resolve(dir), DATABASE_FILE);
  const resolvedTarget = path.resolve(target);
  if (!(await exists(source))) throw new Error(`There is no embedded store at ${source}: give the data directory (HITL_DATA_DIR).`);
  if (await exists(resolvedTarget)) throw new Error(`${resolvedTarget} already exists; give a new file to back up to.`);
  const started = performance.now();
  const db = new Database(source, { readonly: true, fileMustExist: true });
  let pages: number;
  try {
    db.pragma("busy_timeout = 5000");
    ({ totalPages: pages } = await db.backup(resolvedTarget, { progress: () => 0x7fffffff }));
  } finally {
    db.close();
  }
  const copy = new Database(resolvedTarget);
  try {
    const check = copy.pragma("integrity_check", { simple: true });
    if (check !== "ok") {
      await fs.rm(resolvedTarget, { force: true });
      throw new Error(`The copy of ${source} failed its integrity check (${String(check)}); it was removed.`);
    }
    const requests = copy.prepare("SELECT count(*) FROM requests").pluck().get() as number;
    return { source, target: resolvedTarget, pages, requests, ms: performance.now() - started };
  } finally {
    copy.close();
  }
}
