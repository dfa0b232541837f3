import { createReadStream, promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import type { ChangeBody } from "./embedded-state.js";

/**
 * The embedded store's files:
 *
 * - `snapshot.jsonl`: a header line `{"snapshot":1,"seq":N}`, then change lines that rebuild
 *   the state as of change N. Replaced atomically (temporary file, fsync, rename, fsync dir).
 * - `journal.jsonl`: one line per atomic write, `{"seq":N, ...ChangeBody}`, appended and
 *   fdatasync'd before the write is acknowledged. Lines at or below the snapshot's seq are
 *   skipped on replay, so a crash between a new snapshot and the journal's truncation is harmless.
 *   A torn last line (the process died mid-write) is ignored.
 */
export const SNAPSHOT_FILE = "snapshot.jsonl";
export const JOURNAL_FILE = "journal.jsonl";

export interface JournalOptions {
  dir: string;
  /** fdatasync every group of writes before acknowledging them. */
  fsync: boolean;
  /** Write a new snapshot and empty the journal once it is this large. */
  compactBytes: number;
  /** Applies a change to the state: every loaded line, and every new one as it is committed. */
  apply(change: ChangeBody): void;
  /** The current state as changes. */
  snapshot(): Iterable<ChangeBody>;
}

export interface JournalStats {
  seq: number;
  durableSeq: number;
  journalBytes: number;
  flushes: number;
  compactions: number;
  /** Journal lines replayed when the store was opened. */
  replayed: number;
}

export interface Journal {
  /**
   * Applies the change at once, so the next caller sees it, and resolves once it is on disk.
   * Writes that arrive while a flush is running go out together in the next one.
   */
  commit(change: ChangeBody): Promise<void>;
  /** Resolves once every change committed so far is on disk. */
  settled(): Promise<void>;
  /** Set once a write failed: memory is then ahead of the disk and nothing more is accepted. */
  readonly failure: Error | null;
  stats(): JournalStats;
  close(): Promise<void>;
}

interface Waiter {
  seq: number;
  resolve(): void;
  reject(error: Error): void;
}

export async function openJournal(options: JournalOptions): Promise<Journal> {
  const snapshotPath = path.join(options.dir, SNAPSHOT_FILE);
  const journalPath = path.join(options.dir, JOURNAL_FILE);

  const loadedSeq = await loadSnapshot(snapshotPath, options.apply);
  const { seq: replayedSeq, replayed } = await replayJournal(journalPath, loadedSeq, options.apply);
  await writeSnapshot(options.dir, snapshotPath, replayedSeq, options.snapshot(), options.fsync);
  const handle = await fs.open(journalPath, "w");
  await handle.close();
  const appender = await fs.open(journalPath, "a");
  if (options.fsync) await syncDir(options.dir);

  let seq = replayedSeq;
  let durableSeq = replayedSeq;
  let buffer: Array<{ seq: number; line: string }> = [];
  let waiters: Waiter[] = [];
  let flushing: Promise<void> | null = null;
  let failure: Error | null = null;
  let closed = false;
  let journalBytes = 0;
  let flushes = 0;
  let compactions = 0;

  function markDurable(upTo: number): void {
    if (upTo <= durableSeq) return;
    durableSeq = upTo;
    const ready = waiters.filter((w) => w.seq <= upTo);
    waiters = waiters.filter((w) => w.seq > upTo);
    for (const waiter of ready) waiter.resolve();
  }

  function fail(error: unknown): void {
    failure = error instanceof Error ? error : new Error(String(error));
    buffer = [];
    const failed = waiters;
    waiters = [];
    for (const waiter of failed) waiter.reject(failure);
  }

  function waitFor(target: number): Promise<void> {
    if (durableSeq >= target) return Promise.resolve();
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => waiters.push({ seq: target, resolve, reject }));
  }

  async function flush(): Promise<void> {
    // Let every write of this tick join the group.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (buffer.length > 0 && !failure) {
        const batch = buffer;
        buffer = [];
        const data = Buffer.from(batch.map((entry) => entry.line).join(""));
        await writeAll(appender, data);
        if (options.fsync) await appender.datasync();
        journalBytes += data.length;
        flushes += 1;
        markDurable(batch[batch.length - 1]!.seq);
        if (journalBytes >= options.compactBytes) await compact();
      }
    } catch (error) {
      fail(error);
    } finally {
      flushing = null;
    }
  }

  async function compact(): Promise<void> {
    const upTo = seq;
    await writeSnapshot(options.dir, snapshotPath, upTo, options.snapshot(), options.fsync);
    await appender.truncate(0);
    if (options.fsync) await appender.datasync();
    journalBytes = 0;
    compactions += 1;
    // The snapshot holds every change up to `upTo`, so their lines need not be written.
    buffer = buffer.filter((entry) => entry.seq > upTo);
    markDurable(upTo);
  }

  return {
    commit(change) {
      if (failure) return Promise.reject(failure);
      if (closed) return Promise.reject(new Error("the journal is closed"));
      const line = `${JSON.stringify({ seq: seq + 1, ...change })}\n`;
      // Apply exactly what a replay will read back. A change apply() refuses is not journaled.
      options.apply(JSON.parse(line) as ChangeBody);
      seq += 1;
      buffer.push({ seq, line });
      flushing ??= flush();
      return waitFor(seq);
    },
    settled() {
      return waitFor(seq);
    },
    get failure() {
      return failure;
    },
    stats() {
      return { seq, durableSeq, journalBytes, flushes, compactions, replayed };
    },
    async close() {
      if (closed) return;
      closed = true;
      while (flushing) await flushing;
      await appender.close();
    },
  };
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

async function writeSnapshot(
  dir: string,
  snapshotPath: string,
  seq: number,
  changes: Iterable<ChangeBody>,
  fsync: boolean,
): Promise<void> {
  // Serialised before the first await, so it is one consistent picture of the state.
  const lines = [`${JSON.stringify({ snapshot: 1, seq })}\n`];
  for (const change of changes) lines.push(`${JSON.stringify(change)}\n`);
  const temporary = `${snapshotPath}.tmp`;
  const handle = await fs.open(temporary, "w");
  try {
    let chunk: string[] = [];
    let size = 0;
    for (const line of lines) {
      chunk.push(line);
      size += line.length;
      if (size >= 1 << 20) {
        await writeAll(handle, Buffer.from(chunk.join("")));
        chunk = [];
        size = 0;
      }
    }
    if (chunk.length > 0) await writeAll(handle, Buffer.from(chunk.join("")));
    if (fsync) await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, snapshotPath);
  if (fsync) await syncDir(dir);
}

async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
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
