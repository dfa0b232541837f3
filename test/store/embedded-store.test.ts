import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createEmbeddedStore, type EmbeddedStore } from "../../src/store/embedded-store.js";
import { listStatement } from "../../src/store/sqlite-queries.js";
import { openDatabase } from "../../src/store/sqlite-schema.js";
import { StoreUnavailableError } from "../../src/store/store.js";
import { makeAudit, makeJob, makeRequest } from "../support/fixtures.js";
import { downgradeToSchema2 } from "./support/schema-2.js";
import { describeStoreContract } from "./store-contract.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

  it("stops writing once another process took its data directory over, and leaves that process's lock alone", async () => {
    const dir = await tempDir();
    // No heartbeat during the test: the first process is as if frozen past the lock's staleness.
    const first = await open(dir, { lock: { heartbeatMs: 3_600_000 } });
    const before = makeRequest();
    await first.create(before);
    await sleep(120);
    const second = await open(dir, { lock: { staleMs: 50 } });
    const late = makeRequest();
    const refused = await first.create(late).then(() => null, (error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as Error).message).toBe(
      `The embedded store at ${dir} is no longer this process's: another process opened the data directory and took its lock over. Restart hitl.`,
    );
    await expect(first.get(before.id)).rejects.toBeInstanceOf(StoreUnavailableError);
    await first.close();
    const after = makeRequest();
    await second.create(after);
    expect(await second.get(late.id)).toBeNull();
    expect(await second.get(before.id)).toEqual(before);
    expect(await second.get(after.id)).toEqual(after);
    expect(JSON.parse(await fs.readFile(path.join(dir, "LOCK"), "utf8"))).toMatchObject({ pid: process.pid });
    await second.close();
  });

  it("becomes unavailable when its heartbeat finds the lock no longer its own", async () => {
    const dir = await tempDir();
    const store = await open(dir, { lock: { heartbeatMs: 20 } });
    await fs.writeFile(path.join(dir, "LOCK.other"), JSON.stringify({ pid: 1, host: "other-host", processStart: 1, token: "x", since: "2026-01-01T00:00:00.000Z" }));
    await fs.rename(path.join(dir, "LOCK.other"), path.join(dir, "LOCK"));
    await sleep(150);
    await expect(store.get("req_x")).rejects.toThrow(
      `The embedded store at ${dir} is no longer this process's: the lock file ${path.join(dir, "LOCK")} now names process 1 on other-host. Restart hitl.`,
    );
    await store.close();
  });

  it("lists and audits the requests of one agent", async () => {
    const store = await open(await tempDir());
    const a = makeRequest({ requestedBy: "agent-a", createdAt: "2026-11-24T10:00:00.000Z" });
    const b = makeRequest({ requestedBy: "agent-b", createdAt: "2026-11-24T10:01:00.000Z" });
    const c = makeRequest({ requestedBy: "agent-a", createdAt: "2026-11-24T10:02:00.000Z", repo: "octo-org/other" });
    // An entry without `requestedBy` (written before the field existed) counts for its request's agent.
    const auditA = makeAudit(a);
    const auditB = { ...makeAudit(b), requestedBy: "agent-b" };
    await store.create(a, { audit: [auditA] });
    await store.create(b, { audit: [auditB] });
    await store.create(c, { audit: [makeAudit(c)] });
    await store.update({ ...c, status: "approved", escalation: { ...c.escalation, nextAt: null } }, 1);
    const ids = async (query: Parameters<EmbeddedStore["list"]>[0]) => (await store.list(query)).map((r) => r.id);
    expect(await ids({ requestedBy: "agent-a" })).toEqual([c.id, a.id]);
    expect(await ids({ requestedBy: "agent-a", repo: a.repo })).toEqual([a.id]);
    expect(await ids({ requestedBy: "agent-a", status: "pending" })).toEqual([a.id]);
    expect(await ids({ requestedBy: "agent-a", status: "approved" })).toEqual([c.id]);
    expect(await ids({ requestedBy: "agent-c" })).toEqual([]);
    expect(await store.audit(a.repo, 1000, "agent-a")).toEqual([auditA]);
    expect(await store.audit(a.repo, 1000, "agent-b")).toEqual([auditB]);
    expect(await store.audit(a.repo)).toEqual([auditA, auditB]);
    await store.close();
  });

  it("answers every list query from an index walked in order, never sorting what it found", async () => {
    const db = openDatabase(path.join(await tempDir(), "plans.db"), { fsync: false });
    const plans: string[] = [];
    for (const repo of [undefined, "octo-org/payments"])
      for (const status of [undefined, "pending", "approved"] as const)
        for (const requestType of [undefined, "refund"])
          for (const requestedBy of [undefined, "agent-a"]) {
            const { sql, params } = listStatement({ repo, status, requestType, requestedBy });
            const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((row) => row.detail).join("; ");
            plans.push(plan);
            expect(plan, sql).toMatch(/^(SCAN|SEARCH) requests USING INDEX requests_\w+( \([^)]*\))?$/);
          }
    expect(plans).toHaveLength(24);
    db.close();
  });

  it("looks a workflow's requests up by its index, with any other filter", async () => {
    const db = openDatabase(path.join(await tempDir(), "plans.db"), { fsync: false });
    for (const status of [undefined, "pending", "approved"] as const)
      for (const repo of [undefined, "octo-org/payments"]) {
        const { sql, params } = listStatement({ workflowId: "run-7", status, repo, requestedBy: "agent-a" });
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((row) => row.detail).join("; ");
        expect(plan, sql).toMatch(/^SEARCH requests USING INDEX requests_workflow_created \(workflow_id=\?\)/);
      }
    db.close();
  });

  it("migrates a database of schema 1: the workflow id column is added and filled from each request's JSON", async () => {
    const dir = await tempDir();
    const flowing = makeRequest({ workflowId: "run-7" });
    const plain = makeRequest({});
    const store = await open(dir);
    await store.create(flowing);
    await store.create(plain);
    await store.close();
    // Back to schema 1 as an earlier hitl left it: no column, no index.
    const db = openDatabase(path.join(dir, "hitl.db"), { fsync: false });
    downgradeToSchema2(db);
    db.exec("DROP INDEX requests_workflow_created; ALTER TABLE requests DROP COLUMN workflow_id;");
    db.pragma("user_version = 1");
    db.close();

    const reopened = await open(dir);
    expect((await reopened.list({ workflowId: "run-7" })).map((r) => r.id)).toEqual([flowing.id]);
    expect(await reopened.get(plain.id)).toEqual(plain);
    await reopened.close();
    const check = openDatabase(path.join(dir, "hitl.db"), { fsync: false, readonly: true });
    expect(check.pragma("user_version", { simple: true })).toBe(3);
    expect(check.prepare("SELECT id, workflow_id FROM requests ORDER BY seq").all()).toEqual([
      { id: flowing.id, workflow_id: "run-7" },
      { id: plain.id, workflow_id: null },
    ]);
    check.close();
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

  it("checkpoints on a thread of its own, so the WAL does not grow with the writes", { timeout: 30_000 }, async () => {
    const dir = await tempDir();
    const store = await open(dir);
    const sizes: number[] = [];
    for (let round = 0; round < 4; round++) {
      await Promise.all(Array.from({ length: 300 }, () => store.create(makeRequest({ taskDescription: "x".repeat(2000) }))));
      sizes.push((await fs.stat(path.join(dir, "hitl.db-wal"))).size);
      await sleep(1200);
    }
    // Each round appends about a megabyte; the WAL starts over once a checkpoint copied it all.
    expect(sizes[0]).toBeGreaterThan(500_000);
    expect(sizes[3]).toBeLessThan(sizes[0]! * 2);
    await store.close();
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
