import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { ApprovalRequest, AuditEntry, Job } from "../../src/core/types.js";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import { makeJob, makeRequest } from "../support/fixtures.js";

/** test/fixtures/legacy-store: a data directory the journal-and-snapshot store wrote, and what it read back from it. */
const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "legacy-store");
const dirs: string[] = [];

interface Expected {
  requests: ApprovalRequest[];
  audit: Record<string, AuditEntry[]>;
  pendingJobs: Job[];
  uses: Record<string, number>;
}

afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function legacyDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), "hitl-legacy-"));
  dirs.push(dir);
  await fs.cp(path.join(fixture, "data"), dir, { recursive: true });
  return dir;
}

/** The fixture's time, when its claimed delivery had not lapsed yet. */
const now = () => new Date("2026-11-24T10:05:00.000Z");

function open(dir: string, logs: string[] = []) {
  return createEmbeddedStore({ dir, now, log: (message) => logs.push(message) });
}

async function journalLines(dir: string): Promise<string[]> {
  return (await fs.readFile(path.join(dir, "journal.jsonl"), "utf8")).split("\n").filter(Boolean);
}

describe("moving a journal-store data directory to SQLite", () => {
  it("imports everything the journal store held, once, and keeps its files renamed", async () => {
    const dir = await legacyDir();
    const expected = JSON.parse(await fs.readFile(path.join(fixture, "expected.json"), "utf8")) as Expected;
    const logs: string[] = [];
    const store = await open(dir, logs);

    for (const request of expected.requests) expect(await store.get(request.id)).toEqual(request);
    for (const [repo, trail] of Object.entries(expected.audit)) expect(await store.audit(repo)).toEqual(trail);
    expect(await store.pendingJobs()).toEqual(expected.pendingJobs);
    expect(await store.uses("rule:octo-org/payments:small")).toBe(expected.uses["rule:octo-org/payments:small"]);
    expect(await store.claimDelivery("delivery-done", 60_000)).toBe("done");
    expect(await store.claimDelivery("delivery-claimed", 60_000)).toBe("in_hand");
    // Derived indexes: idempotency keys, surfaces, the due index, and the agent of old audit entries.
    const again = await store.create(makeRequest({ idempotencyKey: "refund-1", requestedBy: "refund-agent" }));
    expect(again).toEqual({ request: expected.requests.find((r) => r.id === "req_legacy_a1"), created: false });
    expect((await store.findBySurface("octo-org/payments", 7)).map((r) => r.id)).toEqual(["req_legacy_a3"]);
    expect((await store.findBySurface("octo-org/deploys", 42)).map((r) => r.id)).toEqual(["req_legacy_a4"]);
    expect((await store.due(new Date("2026-11-24T11:03:00.000Z"), 10)).map((r) => r.id)).toEqual(["req_legacy_a1", "req_legacy_a2", "req_legacy_a3"]);
    expect((await store.audit("octo-org/payments", 1000, "deploy-bot")).map((e) => e.id)).toEqual(["aud_legacy_a3", "aud_legacy_a3_opened"]);

    expect(logs).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Moved the embedded store in ${dir} from its journal to SQLite: 7 requests, 10 audit entries and 6 jobs ` +
            String.raw`\(snapshot up to change 12, then 7 journal lines, up to change 19\) in [\d.]+ s\. ` +
            String.raw`The old files are kept as snapshot\.jsonl\.migrated-\S+ and journal\.jsonl\.migrated-\S+; delete them once you no longer need them\.$`,
        ),
      ),
    ]);
    const files = (await fs.readdir(dir)).sort();
    expect(files.filter((name) => name.includes("jsonl"))).toEqual([
      expect.stringMatching(/^journal\.jsonl\.migrated-/),
      expect.stringMatching(/^snapshot\.jsonl\.migrated-/),
    ]);
    const kept = files.find((name) => name.startsWith("journal.jsonl.migrated-"))!;
    expect(await fs.readFile(path.join(dir, kept), "utf8")).toBe(await fs.readFile(path.join(fixture, "data", "journal.jsonl"), "utf8"));
    await store.close();

    const reopenLogs: string[] = [];
    const reopened = await open(dir, reopenLogs);
    expect(reopenLogs).toEqual([]);
    expect(await reopened.audit("octo-org/payments")).toEqual(expected.audit["octo-org/payments"]);
    expect(reopened.stats()).toMatchObject({ requests: 7, jobs: 6 });
    await reopened.close();
  });

  it("renames the old files without importing them again when a crash came after the import", async () => {
    const dir = await legacyDir();
    const saved = path.join(dir, "..", `${path.basename(dir)}-files`);
    dirs.push(saved);
    await fs.cp(dir, saved, { recursive: true });
    await (await open(dir)).close();
    // As if the process died between the commit and the renames.
    for (const name of ["snapshot.jsonl", "journal.jsonl"]) await fs.copyFile(path.join(saved, name), path.join(dir, name));
    const logs: string[] = [];
    const store = await open(dir, logs);
    expect(logs).toEqual([expect.stringMatching(/: already imported \(.*7 requests, 10 audit entries/)]);
    expect(await store.audit("octo-org/payments")).toHaveLength(6);
    expect(await fs.readdir(dir)).not.toContain("journal.jsonl");
    await store.close();
  });

  it("ignores a torn last journal line, as the journal store did", async () => {
    const dir = await legacyDir();
    const torn = JSON.stringify({ seq: 20, requests: [makeRequest({ id: "req_torn" })] });
    await fs.appendFile(path.join(dir, "journal.jsonl"), torn.slice(0, -20));
    const store = await open(dir);
    expect(await store.get("req_torn")).toBeNull();
    expect(store.stats().requests).toBe(7);
    await store.close();
  });

  it("imports requests and jobs holding a time that does not parse, parking those requests instead of refusing to start", async () => {
    const dir = await legacyDir();
    const healthy = makeRequest({ id: "req_healthy" });
    // What a version that did not check times could have written.
    const unreadable = makeRequest({ id: "req_unreadable", createdAt: "yesterday", updatedAt: "2026-11-24T12:00:00.000Z" });
    const overdue = makeRequest({ id: "req_overdue", escalation: { ...healthy.escalation, nextAt: "soon" } });
    const { escalation: _missing, ...shapeless } = makeRequest({ id: "req_shapeless" });
    const job = { ...makeJob(healthy), runAt: "whenever" };
    const lines = [JSON.stringify({ seq: 20, requests: [healthy, unreadable] }), JSON.stringify({ seq: 21, requests: [overdue, shapeless], jobs: [job] })];
    await fs.appendFile(path.join(dir, "journal.jsonl"), `${lines.join("\n")}\n`);

    const logs: string[] = [];
    const store = await open(dir, logs);
    const at = now().toISOString();
    expect(await store.get(unreadable.id)).toEqual({
      ...unreadable,
      createdAt: unreadable.updatedAt,
      escalation: { ...unreadable.escalation, nextAt: null },
      error: { at, message: 'parked when the store was loaded: createdAt "yesterday" is not a time' },
    });
    expect((await store.get(overdue.id))?.error?.message).toBe('parked when the store was loaded: escalation.nextAt "soon" is not a time');
    expect(await store.get(shapeless.id)).toMatchObject({
      escalation: { ladder: [], warningBeforeMs: null, level: 0, warned: false, nextAt: null },
      error: { message: "parked when the store was loaded: escalation is missing" },
    });
    // Parked requests are out of the due index; the healthy one and the job carry on.
    const due = (await store.due(new Date("2099-01-01T00:00:00.000Z"), 100)).map((request) => request.id);
    expect(due).toContain(healthy.id);
    expect(due).not.toEqual(expect.arrayContaining([unreadable.id]));
    expect(due.filter((id) => [unreadable.id, overdue.id, shapeless.id].includes(id))).toEqual([]);
    expect((await store.pendingJobs()).find((pending) => pending.id === job.id)).toEqual({ ...job, runAt: at });
    expect(logs[0]).toMatch(
      / in [\d.]+ s; 3 requests holding a time that does not parse were parked, out of the sweep's reach until a person decides them \(req_unreadable, req_overdue, req_shapeless\)\. The old files/,
    );
    await store.close();
  });

  it("refuses a journal damaged before its end, naming the line, and changes nothing", async () => {
    const dir = await legacyDir();
    const lines = await journalLines(dir);
    lines[1] = "{not json";
    await fs.writeFile(path.join(dir, "journal.jsonl"), `${lines.join("\n")}\n`);
    await expect(open(dir)).rejects.toThrow(/journal\.jsonl is corrupt at line 2; restore the data directory from a backup/);
    await expectUntouched(dir);
  });

  it("refuses a journal that does not continue its snapshot's sequence, naming the missing changes", async () => {
    const dir = await legacyDir();
    // The snapshot ends at change 12; a journal from change 15 on lost changes 13 and 14.
    const lines = (await journalLines(dir)).map((line, i) => line.replace(/^\{"seq":\d+/, `{"seq":${15 + i}`));
    await fs.writeFile(path.join(dir, "journal.jsonl"), `${lines.join("\n")}\n`);
    await expect(open(dir)).rejects.toThrow(
      "journal.jsonl does not continue from change 12: its next line is change 15, so changes 13 to 14 are missing. Restore the data directory from a backup",
    );
    await expectUntouched(dir);
  });

  it("refuses a journal with a gap inside it", async () => {
    const dir = await legacyDir();
    const lines = (await journalLines(dir)).filter((_, i) => i !== 3);
    await fs.writeFile(path.join(dir, "journal.jsonl"), `${lines.join("\n")}\n`);
    await expect(open(dir)).rejects.toThrow("does not continue from change 15: its next line is change 17, so change 16 is missing");
    await expectUntouched(dir);
  });
});

/** A refused import leaves the old files where they were and nothing in the database. */
async function expectUntouched(dir: string): Promise<void> {
  const files = await fs.readdir(dir);
  expect(files).toEqual(expect.arrayContaining(["snapshot.jsonl", "journal.jsonl"]));
  expect(files).not.toContain("LOCK");
  const db = new Database(path.join(dir, "hitl.db"), { readonly: true });
  expect(db.prepare("SELECT count(*) FROM requests").pluck().get()).toBe(0);
  db.close();
}
