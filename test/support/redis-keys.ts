import { randomBytes } from "node:crypto";
import { Redis as IORedis } from "ioredis";

/** The shared Redis the tests use; every test works under a prefix of its own. */
export const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";

/** A prefix no other test uses. */
export function uniquePrefix(label: string): string {
  return `hitl-fault:${label}:${randomBytes(6).toString("hex")}:`;
}

/** `REDIS_URL` on logical database `db`. */
export function redisUrlForDb(db: number): string {
  const url = new URL(REDIS_URL);
  url.pathname = `/${db}`;
  return url.toString();
}

async function withAdmin<T>(url: string, use: (admin: IORedis) => Promise<T>): Promise<T> {
  const admin = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await admin.connect();
    return await use(admin);
  } finally {
    admin.disconnect();
  }
}

/** Every key matching `pattern` (SCAN, never KEYS on a shared server). */
export function scanKeys(url: string, pattern: string): Promise<string[]> {
  return withAdmin(url, async (admin) => {
    const keys: string[] = [];
    let cursor = "0";
    for (let round = 0; round < 10_000; round++) {
      const [next, found] = await admin.scan(cursor, "MATCH", pattern, "COUNT", 500);
      keys.push(...found);
      cursor = next;
      if (cursor === "0") break;
    }
    return keys;
  });
}

/** Deletes every key matching `pattern` (e.g. `${prefix}*`); returns how many. */
export async function deleteKeys(url: string, pattern: string): Promise<number> {
  const keys = await scanKeys(url, pattern);
  if (keys.length === 0) return 0;
  return withAdmin(url, async (admin) => {
    let deleted = 0;
    for (let i = 0; i < keys.length; i += 500) deleted += await admin.del(...keys.slice(i, i + 500));
    return deleted;
  });
}

/**
 * A logical database (1-15) holding no keys at all, for a server process of its own: besides
 * hitl's keys under its prefix, Probot keeps Octokit's throttling state in the Redis at
 * `REDIS_URL` under fixed names (`b_octokit-*`), which processes of other tests on the same
 * database would share.
 */
export async function emptyDatabase(): Promise<number> {
  const start = 1 + Math.floor(Math.random() * 15);
  for (let i = 0; i < 15; i++) {
    const db = 1 + ((start - 1 + i) % 15);
    const size = await withAdmin(redisUrlForDb(db), (admin) => admin.dbsize());
    if (size === 0) return db;
  }
  throw new Error("no empty Redis database (1-15) to run a server process on");
}
