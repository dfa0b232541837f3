import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lockDir } from "../../src/store/dir-lock.js";

const dirs: string[] = [];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), "hitl-lock-"));
  dirs.push(dir);
  return dir;
}

/** Puts another holder's lock file in place, as a process taking over a stale lock does. */
async function takeOver(lockPath: string, touchedAt: Date): Promise<void> {
  const other = `${lockPath}.other`;
  await fs.writeFile(other, JSON.stringify({ pid: 1, host: "other-host", processStart: 1, token: "other", since: touchedAt.toISOString() }));
  await fs.utimes(other, touchedAt, touchedAt);
  await fs.rename(other, lockPath);
}

describe("lockDir heartbeat", () => {
  it("renews its own lock", async () => {
    const dir = await tempDir();
    const lock = await lockDir(dir, { heartbeatMs: 20 });
    const old = new Date(Date.now() - 120_000);
    await fs.utimes(lock.path, old, old);
    await sleep(120);
    expect((await fs.stat(lock.path)).mtimeMs).toBeGreaterThan(Date.now() - 10_000);
    expect(lock.lost).toBe(false);
    await lock.release();
  });

  it("never renews a lock another process took over, and reports it lost once", async () => {
    const dir = await tempDir();
    const reasons: string[] = [];
    const lock = await lockDir(dir, { heartbeatMs: 20, onLost: (reason) => reasons.push(reason) });
    // The other holder's file looks stale: were it renewed, a third process could not take it
    // over, and the first holder would go on beside the second.
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await takeOver(lock.path, twoMinutesAgo);
    await sleep(150);
    expect(Math.round((await fs.stat(lock.path)).mtimeMs)).toBe(twoMinutesAgo.getTime());
    expect(lock.lost).toBe(true);
    expect(reasons).toEqual([`the lock file ${lock.path} now names process 1 on other-host`]);
    await lock.release();
    // Releasing leaves the other holder's lock alone.
    expect(JSON.parse(await fs.readFile(lock.path, "utf8"))).toMatchObject({ token: "other" });
  });

  it("reports a lock whose file was removed as lost, and does not recreate it", async () => {
    const dir = await tempDir();
    const lock = await lockDir(dir, { heartbeatMs: 20 });
    await fs.rm(lock.path);
    await sleep(120);
    expect(lock.lost).toBe(true);
    await expect(fs.access(lock.path)).rejects.toThrow();
    await lock.release();
  });
});
