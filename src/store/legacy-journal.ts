import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import readline from "node:readline";
import type { ApprovalRequest, AuditEntry, Job } from "../core/types.js";

/**
 * The reader of the data directories hitl wrote before its embedded store moved to SQLite, kept
 * only to migrate them (see legacy-migration.ts):
 *
 * - `snapshot.jsonl`: a header line `{"snapshot":1,"seq":N}`, then change lines that rebuild
 *   the state as of change N.
 * - `journal.jsonl`: one line per atomic write, `{"seq":N, ...ChangeBody}`. Lines at or below the
 *   snapshot's seq were already in it (a crash between a new snapshot and the journal's
 *   truncation); the others must follow it one by one. A torn last line (the process died
 *   mid-write) is ignored.
 */
export const SNAPSHOT_FILE = "snapshot.jsonl";
export const JOURNAL_FILE = "journal.jsonl";

export interface DeliveryMark {
  id: string;
  state: "claimed" | "done";
  /** Epoch milliseconds after which the mark no longer counts. */
  expiresAt: number;
}

/** Everything one atomic write changed: a journal line, or a unit of the snapshot. */
export interface ChangeBody {
  /** Written whole: the new version of each request. */
  requests?: ApprovalRequest[];
  /** Appended to the audit trail of their repositories. */
  audit?: AuditEntry[];
  /** Added, or replaced whole. */
  jobs?: Job[];
  jobsDone?: string[];
  deliveries?: DeliveryMark[];
  deliveriesReleased?: string[];
  /** [key, count taken so far]. */
  uses?: Array<[string, number]>;
}

export interface LegacyReplay {
  /** The change the snapshot ended at (0 without one). */
  snapshotSeq: number;
  /** The last change applied. */
  seq: number;
  /** Journal lines applied after the snapshot. */
  replayed: number;
}

/** Applies the snapshot, then the journal lines that follow it, in order. */
export async function readLegacyStore(dir: string, apply: (change: ChangeBody) => void): Promise<LegacyReplay> {
  const snapshotSeq = await loadSnapshot(path.join(dir, SNAPSHOT_FILE), apply);
  const { seq, replayed } = await replayJournal(path.join(dir, JOURNAL_FILE), snapshotSeq, apply);
  return { snapshotSeq, seq, replayed };
}

/** Streams the snapshot line by line: it holds the whole state and may be large. */
async function loadSnapshot(snapshotPath: string, apply: (change: ChangeBody) => void): Promise<number> {
  if (!(await exists(snapshotPath))) return 0;
  const lines = readline.createInterface({ input: createReadStream(snapshotPath), crlfDelay: Infinity });
  let seq: number | null = null;
  let number = 0;
  for await (const line of lines) {
    number += 1;
    if (line.length === 0) continue;
    const record = parseLine(line);
    if (seq === null) {
      if (!record || record.snapshot !== 1 || typeof record.seq !== "number") {
        throw new Error(`The snapshot ${snapshotPath} has no valid header; restore it from a backup or move it away.`);
      }
      seq = record.seq;
      continue;
    }
    if (!record) throw new Error(`The snapshot ${snapshotPath} is corrupt at line ${number}; restore it from a backup.`);
    apply(record as ChangeBody);
  }
  return seq ?? 0;
}

async function replayJournal(
  journalPath: string,
  afterSeq: number,
  apply: (change: ChangeBody) => void,
): Promise<{ seq: number; replayed: number }> {
  const text = await readIfExists(journalPath);
  let seq = afterSeq;
  let replayed = 0;
  if (text === null) return { seq, replayed };
  const lines = text.split("\n");
  const parsed = lines.map(parseLine);
  const firstBad = parsed.findIndex((change, i) => change === null && lines[i] !== "");
  // Only the tail may be torn: garbage followed by a good line means the file was damaged.
  if (firstBad !== -1 && parsed.slice(firstBad + 1).some((change) => change !== null)) {
    throw new Error(`The journal ${journalPath} is corrupt at line ${firstBad + 1}; restore the data directory from a backup.`);
  }
  for (const change of firstBad === -1 ? parsed : parsed.slice(0, firstBad)) {
    if (!change) continue;
    const { seq: lineSeq, ...body } = change as unknown as ChangeBody & { seq: unknown };
    if (typeof lineSeq !== "number") throw new Error(`The journal ${journalPath} has a line without a seq.`);
    if (lineSeq <= seq) continue;
    if (lineSeq !== seq + 1) {
      const missing = lineSeq === seq + 2 ? `change ${seq + 1} is` : `changes ${seq + 1} to ${lineSeq - 1} are`;
      throw new Error(
        `The journal ${journalPath} does not continue from change ${seq}: its next line is change ${lineSeq}, so ${missing} ` +
          "missing. Restore the data directory from a backup; do not start on it as it is.",
      );
    }
    apply(body);
    seq = lineSeq;
    replayed += 1;
  }
  return { seq, replayed };
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

function parseLine(line: string): Record<string, unknown> | null {
  if (line.length === 0) return null;
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
