import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Plain JavaScript, so it runs the same from `dist/` and under tsx. It opens its own connection
 * to the database and, every `intervalMs`, copies what the WAL holds into the database file
 * (a PASSIVE checkpoint: it never waits for, or holds up, the writer).
 */
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma("busy_timeout = 5000");
db.pragma("synchronous = " + workerData.synchronous);
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (error) {
    parentPort.postMessage({ failed: String(error && error.message) });
  }
}, workerData.intervalMs);
parentPort.on("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Moves SQLite's checkpoints off the event loop. A checkpoint writes the WAL's pages into the
 * database file and fsyncs it; on a large database that takes long enough (about 190 ms at
 * 100,000 requests on a shared VM) that the write whose commit triggered it would stall. The
 * connection given to `onFailure` should checkpoint by itself again (`wal_autocheckpoint`) if the
 * thread fails.
 */
export function startCheckpointer(file: string, options: { fsync: boolean; intervalMs?: number; onFailure(reason: string): void }): Checkpointer {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      module: createRequire(import.meta.url).resolve("better-sqlite3"),
      file,
      synchronous: options.fsync ? "FULL" : "OFF",
      intervalMs: options.intervalMs ?? 500,
    },
  });
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  worker.on("message", (message: { failed?: string }) => {
    if (message.failed) options.onFailure(message.failed);
  });
  worker.on("error", (error) => options.onFailure(error.message));
  worker.on("exit", () => {
    if (!stopping) options.onFailure("the checkpoint thread stopped");
  });
  worker.unref();
  return {
    async stop() {
      stopping = true;
      // Keep the process alive until the thread has closed its connection.
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}
