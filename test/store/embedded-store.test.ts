import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createEmbeddedStore, type EmbeddedStore } from "../../src/store/embedded-store.js";
import { StoreUnavailableError } from "../../src/store/store.js";
import { makeAudit, makeJob, makeRequest } from "../support/fixtures.js";
import { describeStoreContract } from "./store-contract.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), "hitl-embedded-"));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

describeStoreContract("embedded", async () => {
  const dir = await tempDir();
  const store = await createEmbeddedStore({ dir, log: () => undefined });
  return { store, cleanup: () => store.close() };
});

describe("embedded store on disk", () => {
  const open = (dir: string, extra: Partial<Parameters<typeof createEmbeddedStore>[0]> = {}): Promise<EmbeddedStore> =>
    createEmbeddedStore({ dir, log: () => undefined, ...extra });

  /** Writes one of everything the store keeps, and returns what to expect back. */
  async function fill(store: EmbeddedStore) {
    const pull = makeRequest({ surface: { type: "pull_request", number: 42 }, priority: "critical", idempotencyKey: "k1" });
    const issue = makeRequest({ createdAt: "2026-11-24T11:00:00.000Z" });
    const created = [makeAudit(pull), makeAudit(issue)];
    const job = makeJob(issue);
    await store.create(pull, { audit: [created[0]!] });
    await store.create(issue, { audit: [created[1]!], jobs: [job] });
    const decided = { ...pull, status: "approved" as const, escalation: { ...pull.escalation, nextAt: null } };
    const decidedAudit = makeAudit(decided, { event: "decided" });
    await store.update(decided, 1, { audit: [decidedAudit] });
    await store.takeUse("rule:a", 3);
    await store.claimDelivery("handled", 60_000);
    await store.finishDelivery("handled", true);
    return { pull: { ...decided, version: 2 }, issue, audit: [...created, decidedAudit], job };
  }

  async function expectFilled(store: EmbeddedStore, expected: Awaited<ReturnType<typeof fill>>) {
    expect(await store.get(expected.pull.id)).toEqual(expected.pull);
    expect(await store.get(expected.issue.id)).toEqual(expected.issue);
    expect(await store.findBySurface(expected.pull.repo, 42)).toEqual([expected.pull]);
    expect(await store.list({ status: "pending", repo: expected.issue.repo })).toEqual([expected.issue]);
    expect(await store.due(new Date("2030-01-01T00:00:00.000Z"), 10)).toEqual([expected.issue]);
    expect(await store.audit(expected.pull.repo)).toEqual(expected.audit);
    expect(await store.pendingJobs()).toEqual([expected.job]);
    expect(await store.uses("rule:a")).toBe(1);
    expect(await store.claimDelivery("handled", 60_000)).toBe("done");
    expect((await store.create(makeRequest({ idempotencyKey: "k1" }))).request.id).toBe(expected.pull.id);
  }

  it("keeps everything across a close and reopen", async () => {
    const dir = await tempDir();
    const first = await open(dir);
    const expected = await fill(first);
    await first.close();
    const second = await open(dir);
    await expectFilled(second, expected);
    expect(second.stats()).toMatchObject({ requests: 2, pending: 1, jobs: 1 });
    await second.close();
  });

  it("refuses a second open of the same directory, and allows it after close", async () => {
    const dir = await tempDir();
    const first = await open(dir);
    await expect(open(dir)).rejects.toThrow(/already in use by process \d+.*Only one hitl process/);
    await first.close();
    const second = await open(dir);
    await second.close();
  });

  it("takes over the lock of a process that is gone", async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ["-e", ""]);
    const pid = child.pid!;
    await new Promise((resolve) => child.on("exit", resolve));
    const { hostname } = await import("node:os");
    await fs.writeFile(
      path.join(dir, "LOCK"),
      JSON.stringify({ pid, host: hostname(), processStart: 1, token: "x", since: "2026-01-01T00:00:00.000Z" }),
    );
    const store = await open(dir);
    await store.close();
  });

  it("takes over a lock from another host only once its heartbeat stopped", async () => {
    const dir = await tempDir();
    const lock = path.join(dir, "LOCK");
    await fs.writeFile(lock, JSON.stringify({ pid: 1, host: "other-host", processStart: 1, token: "x", since: "2026-01-01T00:00:00.000Z" }));
    await expect(open(dir)).rejects.toThrow(/in use by process 1 on other-host/);
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await fs.utimes(lock, twoMinutesAgo, twoMinutesAgo);
    const store = await open(dir);
    expect(JSON.parse(await fs.readFile(lock, "utf8"))).toMatchObject({ pid: process.pid });
    await store.close();
    await expect(fs.access(lock)).rejects.toThrow();
  });

  it("lets deliveries and locks lapse by the injected clock", async () => {
    let time = Date.parse("2026-11-24T10:00:00.000Z");
    const store = await open(await tempDir(), { now: () => new Date(time) });
    expect(await store.claimDelivery("d", 60_000)).toBe("claimed");
    expect(await store.acquireLock("sweep", "a", 60_000)).toBe(true);
    time += 59_999;
    expect(await store.claimDelivery("d", 60_000)).toBe("in_hand");
    expect(await store.acquireLock("sweep", "b", 60_000)).toBe(false);
    time += 1;
    expect(await store.claimDelivery("d", 60_000)).toBe("claimed");
    expect(await store.acquireLock("sweep", "b", 60_000)).toBe(true);
    await store.finishDelivery("d", true);
    time += 6 * 24 * 60 * 60 * 1000;
    expect(await store.claimDelivery("d", 60_000)).toBe("done");
    time += 24 * 60 * 60 * 1000;
    expect(await store.claimDelivery("d", 60_000)).toBe("claimed");
    await store.close();
  });

  it("answers StoreUnavailableError once closed", async () => {
    const store = await open(await tempDir());
    await store.close();
    await expect(store.get("req_x")).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it("groups concurrent writes into few commits", async () => {
    const store = await open(await tempDir());
    const before = store.stats().commits;
    await Promise.all(Array.from({ length: 200 }, () => store.create(makeRequest())));
    expect(store.stats().commits - before).toBeLessThan(20);
    expect(store.stats().requests).toBe(200);
    await store.close();
  });

  it("loses no acknowledged write when the process is killed with SIGKILL", { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "support", "embedded-writer.ts"), dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let errors = "";
    child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        // Kill mid-burst, well past the first WAL checkpoint.
        if (output.split("\n").length > 3000) resolve();
      });
      child.on("exit", () => reject(new Error(`the writer stopped by itself: ${errors}`)));
    });
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");

    const lines = output.split("\n").slice(0, -1);
    const created = lines.filter((l) => l.startsWith("created ")).map((l) => l.slice(8));
    const decided = new Set(lines.filter((l) => l.startsWith("decided ")).map((l) => l.slice(8)));
    expect(decided.size).toBeGreaterThan(1000);

    const store = await open(dir);
    const trail = await store.audit("octo-org/payments", 1_000_000);
    const events = new Map<string, string[]>();
    for (const entry of trail) events.set(entry.requestId, [...(events.get(entry.requestId) ?? []), entry.event]);
    for (const id of created) {
      const request = await store.get(id);
      expect(request, id).not.toBeNull();
      if (decided.has(id)) {
        expect(request).toMatchObject({ status: "approved", version: 2 });
        expect(events.get(id)).toEqual(["created", "decided"]);
      } else {
        expect(events.get(id)?.[0]).toBe("created");
      }
    }
    await store.close();
  });
});
