import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "..", "..");
const dirs: string[] = [];

afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), "hitl-backup-"));
  dirs.push(dir);
  return dir;
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("npm run backup", () => {
  it("copies a store that is being written to, consistently, and the copy opens as a store", { timeout: 90_000 }, async () => {
    const dir = await tempDir();
    const target = path.join(await tempDir(), "copy.db");
    // Creates requests and decides them (request, audit entry and job in each write) until killed.
    const writer = spawn(process.execPath, ["--import", "tsx", path.join(here, "support", "embedded-writer.ts"), dir], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    writer.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => writer.on("exit", resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (output.split("\n").length > 2000) clearInterval(timer), resolve();
        }, 20);
        writer.on("exit", () => (clearInterval(timer), reject(new Error("the writer stopped by itself"))));
      });
      const acknowledgedBefore = output.split("\n").slice(0, -1);
      const backup = await run(["scripts/backup.ts", dir, target]);
      const writtenDuring = output.split("\n").length - 1 - acknowledgedBefore.length;
      expect(backup.stderr).toBe("");
      expect(backup.code).toBe(0);
      expect(backup.stdout).toMatch(new RegExp(`^Backed up ${path.join(dir, "hitl.db")} \\(\\d+ requests, \\d+ pages\\) to ${target} in [\\d.]+ s\\.\\n`));
      expect(backup.stdout).toContain("To restore: stop hitl, delete hitl.db, hitl.db-wal and hitl.db-shm in the data directory");
      // The writer went on while the copy was taken.
      expect(writtenDuring).toBeGreaterThan(0);

      const restored = await tempDir();
      await fs.copyFile(target, path.join(restored, "hitl.db"));
      const store = await createEmbeddedStore({ dir: restored, log: () => undefined });
      const decidedBefore = acknowledgedBefore.filter((line) => line.startsWith("decided ")).map((line) => line.slice(8));
      expect(decidedBefore.length).toBeGreaterThan(500);
      const trail = await store.audit("octo-org/payments", 10_000_000);
      const events = new Map<string, string[]>();
      for (const entry of trail) events.set(entry.requestId, [...(events.get(entry.requestId) ?? []), entry.event]);
      for (const id of decidedBefore) {
        expect(await store.get(id), id).toMatchObject({ status: "approved", version: 2 });
        expect(events.get(id), id).toEqual(["created", "decided"]);
      }
      // One state, never half a write: every request in the copy has exactly the audit entries of its version.
      const all = await store.list({ limit: 10_000_000 });
      expect(all.length).toBeGreaterThanOrEqual(decidedBefore.length);
      for (const request of all) {
        expect(events.get(request.id), request.id).toEqual(request.version === 2 ? ["created", "decided"] : ["created"]);
      }
      await store.close();
    } finally {
      writer.kill("SIGKILL");
      await exited;
    }
  });

  it("refuses a directory without a store, and a target that exists", async () => {
    const empty = await tempDir();
    const missing = await run(["scripts/backup.ts", empty, path.join(empty, "copy.db")]);
    expect(missing).toMatchObject({ code: 1, stderr: `There is no embedded store at ${path.join(empty, "hitl.db")}: give the data directory (HITL_DATA_DIR).\n` });
    const store = await createEmbeddedStore({ dir: empty, log: () => undefined });
    await store.close();
    const taken = path.join(empty, "taken.db");
    await fs.writeFile(taken, "");
    expect(await run(["scripts/backup.ts", empty, taken])).toMatchObject({ code: 1, stderr: `${taken} already exists; give a new file to back up to.\n` });
  });
});
