import { promises as fs } from "node:fs";
import path from "node:path";
import type Database from "better-sqlite3";
import { exists, JOURNAL_FILE, readLegacyStore, SNAPSHOT_FILE, type ChangeBody } from "./legacy-journal.js";
import { mendStoredJob, mendStoredRequest } from "./mend-stored.js";
import type { Queries } from "./sqlite-queries.js";

const MIGRATED_KEY = "migrated_from_journal";

/**
 * Moves a data directory written by the journal-and-snapshot store into the database, once:
 * replays it in one transaction, records that it did, then renames the old files (they are
 * never deleted). A crash before the commit leaves the old files to be replayed again; a crash
 * between the commit and the renames only leaves the renames to do.
 */
export async function migrateLegacyFiles(dir: string, db: Database.Database, queries: Queries, log: (message: string) => void, now: Date): Promise<void> {
  const present: string[] = [];
  for (const name of [SNAPSHOT_FILE, JOURNAL_FILE]) if (await exists(path.join(dir, name))) present.push(name);
  if (present.length === 0) return;

  const done = queries.meta(MIGRATED_KEY);
  let summary: string;
  if (done) {
    summary = `already imported (${done})`;
  } else {
    const started = Date.now();
    const counts = { requests: new Set<string>(), audit: 0, jobs: 0, parked: new Set<string>() };
    const at = now.toISOString();
    db.exec("BEGIN IMMEDIATE");
    try {
      const replay = await readLegacyStore(dir, (change) => {
        const requests = (change.requests ?? []).map((request) => mendStoredRequest(request, at));
        for (const { request, parked } of requests) if (parked) counts.parked.add(request.id);
        applyChange(queries, { ...change, requests: requests.map((mended) => mended.request), jobs: change.jobs?.map((job) => mendStoredJob(job, at)) });
        for (const request of change.requests ?? []) counts.requests.add(request.id);
        counts.audit += change.audit?.length ?? 0;
      });
      counts.jobs = queries.pendingJobs().length;
      summary =
        `${counts.requests.size} requests, ${counts.audit} audit entries and ${counts.jobs} jobs ` +
        `(snapshot up to change ${replay.snapshotSeq}, then ${replay.replayed} journal lines, up to change ${replay.seq})`;
      queries.putMeta(MIGRATED_KEY, `${new Date().toISOString()}: ${summary}`);
      db.exec("COMMIT");
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw error;
    }
    summary += ` in ${((Date.now() - started) / 1000).toFixed(1)} s`;
    if (counts.parked.size > 0) {
      summary += `; ${counts.parked.size} requests holding a time that does not parse were parked, out of the sweep's reach until a person decides them (${[...counts.parked].join(", ")})`;
    }
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const kept: string[] = [];
  for (const name of present) {
    const target = `${name}.migrated-${stamp}`;
    await fs.rename(path.join(dir, name), path.join(dir, target));
    kept.push(target);
  }
  log(`Moved the embedded store in ${dir} from its journal to SQLite: ${summary}. The old files are kept as ${kept.join(" and ")}; delete them once you no longer need them.`);
}

/** One legacy change, as the journal store applied it. */
export function applyChange(queries: Queries, change: ChangeBody): void {
  for (const request of change.requests ?? []) queries.putRequest(request);
  if (change.audit?.length) queries.addAudit(change.audit);
  for (const job of change.jobs ?? []) queries.putJob(job);
  for (const id of change.jobsDone ?? []) queries.deleteJob(id);
  for (const mark of change.deliveries ?? []) queries.putDelivery(mark.id, mark.state, mark.expiresAt);
  for (const id of change.deliveriesReleased ?? []) queries.deleteDelivery(id);
  for (const [key, count] of change.uses ?? []) queries.putUses(key, count);
}
