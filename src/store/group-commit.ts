import type Database from "better-sqlite3";

export interface GroupCommit {
  /**
   * Runs `work` at once, in a savepoint of the open transaction (undone alone if it throws), so
   * the next caller sees its changes; resolves with its result once the transaction committed.
   * Every write of one event-loop turn shares that transaction and its one fsync.
   */
  write<T>(work: () => T): Promise<T>;
  /** Runs `read` at once; resolves once every write it could have seen has committed. */
  read<T>(read: () => T): Promise<T>;
  /** Resolves (or rejects) with the open transaction, if there is one. */
  settled(): Promise<void>;
  readonly commits: number;
}

/**
 * Group commit on one SQLite connection. A commit in FULL mode waits for the disk, and
 * better-sqlite3 waits on the event loop, so committing each write alone would cap the store at
 * one write per fsync; instead the first write of a turn opens a transaction, later ones join it,
 * and it commits once the turn is over. `begin` runs first in each transaction (it may throw to
 * refuse every write, e.g. when another process took over the data directory).
 */
export function groupCommit(db: Database.Database, begin: () => void): GroupCommit {
  const savepoint = db.transaction((work: () => unknown) => work());
  let open: Promise<void> | null = null;
  let commits = 0;

  function transaction(): Promise<void> {
    if (open) return open;
    db.exec("BEGIN IMMEDIATE");
    try {
      begin();
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
    const committed = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        open = null;
        try {
          db.exec("COMMIT");
          commits += 1;
          resolve();
        } catch (error) {
          if (db.inTransaction) db.exec("ROLLBACK");
          reject(error);
        }
      });
    });
    // Each writer and reader gets the outcome through its own `then`.
    committed.catch(() => undefined);
    return (open = committed);
  }

  return {
    write<T>(work: () => T): Promise<T> {
      try {
        const committed = transaction();
        const result = savepoint(work) as T;
        return committed.then(() => result);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    read<T>(read: () => T): Promise<T> {
      try {
        const result = read();
        return open ? open.then(() => result) : Promise.resolve(result);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    settled() {
      return open ?? Promise.resolve();
    },
    get commits() {
      return commits;
    },
  };
}
