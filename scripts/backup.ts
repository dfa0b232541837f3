/**
 * `npm run backup -- DIR [FILE]`: a consistent copy of the embedded store in DIR (HITL_DATA_DIR),
 * taken while hitl runs, to FILE (default `hitl-backup-<time>.db` here).
 */
import { backupStore } from "../src/store/backup.js";

const [dir, file] = process.argv.slice(2);
if (!dir) {
  console.error("usage: npm run backup -- DATA_DIR [BACKUP_FILE]");
  process.exit(2);
}
const target = file ?? `hitl-backup-${new Date().toISOString().replace(/[:.]/g, "-")}.db`;
try {
  const result = await backupStore(dir, target);
  console.log(`Backed up ${result.source} (${result.requests} requests, ${result.pages} pages) to ${result.target} in ${(result.ms / 1000).toFixed(1)} s.`);
  console.log("To restore: stop hitl, delete hitl.db, hitl.db-wal and hitl.db-shm in the data directory, copy the backup there as hitl.db, start hitl.");
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
