import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";

export interface DirLock {
  path: string;
  /** The holder's token, written in the lock file. */
  token: string;
  /** Set once a heartbeat found the lock file gone or naming another holder; it is not renewed then. */
  readonly lost: boolean;
  release(): Promise<void>;
}

export interface DirLockOptions {
  /** How often the holder touches the lock file. */
  heartbeatMs?: number;
  /** A lock not touched for this long is taken over, even from another host. */
  staleMs?: number;
  /** Time, for the staleness check. */
  now?: () => Date;
  /** Called once when a heartbeat finds that the lock is no longer this holder's. */
  onLost?: (reason: string) => void;
}

interface Holder {
  pid: number;
  host: string;
  /** When the holding process started; tells a reused pid from the holder. */
  processStart: number;
  token: string;
  since: string;
}

/**
 * Makes `dir` this process's alone: a `LOCK` file naming the holder. A lock left by a process
 * that is gone (same host, pid no longer running or reused) or that stopped touching the file
 * for `staleMs` (any host, e.g. a replaced container on a shared volume) is taken over.
 */
export async function lockDir(dir: string, options: DirLockOptions = {}): Promise<DirLock> {
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const staleMs = options.staleMs ?? 60_000;
  const now = options.now ?? (() => new Date());
  const lockPath = path.join(dir, "LOCK");
  const me: Holder = {
    pid: process.pid,
    host: hostname(),
    processStart: Math.round(performance.timeOrigin),
    token: randomBytes(8).toString("hex"),
    since: now().toISOString(),
  };

  for (let attempt = 0; ; attempt++) {
    if (await tryCreate(lockPath, me)) break;
    const found = await readHolder(lockPath);
    if (found === "gone") continue;
    const age = now().getTime() - found.mtimeMs;
    if (attempt < 2 && (age > staleMs || isDeadHere(found.holder, me))) {
      await fs.rm(lockPath, { force: true });
      continue;
    }
    throw new Error(inUseMessage(dir, lockPath, found.holder, age));
  }

  let lost: string | null = null;
  const heartbeat = setInterval(() => {
    void renew(lockPath, me.token, now()).then((reason) => {
      if (reason === null || lost !== null) return;
      lost = reason;
      clearInterval(heartbeat);
      options.onLost?.(reason);
    });
  }, heartbeatMs);
  heartbeat.unref();

  return {
    path: lockPath,
    token: me.token,
    get lost() {
      return lost !== null;
    },
    async release() {
      clearInterval(heartbeat);
      const found = await readHolder(lockPath);
      if (found !== "gone" && found.holder?.token === me.token) await fs.rm(lockPath, { force: true });
    },
  };
}

/**
 * Touches the lock file only if it still names this holder, and answers null; else says why not.
 * The check and the touch go through one open file, so a lock that another process put in place
 * meanwhile (a new file) is never kept alive by the process it replaced.
 */
async function renew(lockPath: string, token: string, time: Date): Promise<string | null> {
  let handle: FileHandle;
  try {
    handle = await fs.open(lockPath, "r+");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return `the lock file ${lockPath} was removed`;
    return null;
  }
  try {
    const holder = parseHolder(await handle.readFile("utf8"));
    if (holder?.token !== token) {
      const who = holder ? `process ${holder.pid} on ${holder.host}` : "an unreadable holder";
      return `the lock file ${lockPath} now names ${who}`;
    }
    await handle.utimes(time, time);
    return null;
  } catch {
    // A transient failure to touch the file; the next heartbeat tries again.
    return null;
  } finally {
    await handle.close();
  }
}

/**
 * Writes the holder to a temporary file and links it into place, so the lock never appears
 * half-written; where the file system has no hard links, creates it exclusively instead.
 */
async function tryCreate(lockPath: string, me: Holder): Promise<boolean> {
  const content = `${JSON.stringify(me)}\n`;
  const temporary = `${lockPath}.${me.pid}.${me.token}`;
  await fs.writeFile(temporary, content);
  try {
    await fs.link(temporary, lockPath);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw error;
  } finally {
    await fs.rm(temporary, { force: true });
  }
  try {
    await fs.writeFile(lockPath, content, { flag: "wx" });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

async function readHolder(lockPath: string): Promise<{ holder: Holder | null; mtimeMs: number } | "gone"> {
  try {
    const [text, stat] = await Promise.all([fs.readFile(lockPath, "utf8"), fs.stat(lockPath)]);
    return { holder: parseHolder(text), mtimeMs: stat.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw error;
  }
}

function parseHolder(text: string): Holder | null {
  try {
    const holder = JSON.parse(text) as Holder | null;
    return holder && typeof holder === "object" ? holder : null;
  } catch {
    return null;
  }
}

function isDeadHere(holder: Holder | null, me: Holder): boolean {
  if (!holder) return true;
  if (holder.host !== me.host) return false;
  if (holder.pid === me.pid) return holder.processStart !== me.processStart;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

function inUseMessage(dir: string, lockPath: string, holder: Holder | null, ageMs: number): string {
  const who = holder ? `process ${holder.pid} on ${holder.host} (since ${holder.since})` : "another process";
  return (
    `The data directory ${dir} is already in use by ${who}; its lock ${lockPath} was touched ` +
    `${Math.round(ageMs / 1000)}s ago. Only one hitl process may use an embedded store: stop the other ` +
    "one, or set REDIS_URL or UPSTASH_REDIS_REST_URL to run several replicas."
  );
}
