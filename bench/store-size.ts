import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, formatTable, now, QUICK, size } from "./support.js";

/**
 * The embedded store as its history grows: a store holding N requests, 99% of them decided (each
 * with two audit entries), written straight into the database in large transactions (untimed),
 * then in a fresh child process started with `--expose-gc`: the time to open it, the process's
 * resident memory (RSS) after a workload of writes and reads, and the workload's latencies:
 * writes (create, decide, complete the job; 8 lifecycles at a time, each write fsynced) and the
 * reads that must stay flat: the sweep's `due`, the pending `list`, a repository's newest
 * requests, its audit trail.
 *
 * Sizes: 1k, 10k, 100k by default; BENCH_STORE_SIZE=1000000 goes on to 1M (a few minutes to
 * build). BENCH_STORE_WRITES sets the lifecycles timed per size.
 */

export interface StoreSizeRow {
  requests: number;
  pending: number;
  diskBytes: number;
  buildS: number;
  /** Opening the store and reading one request. */
  reopenMs: number;
  rssBeforeOpen: number;
  rss: number;
  heap: number;
  writes: { count: number; p50: number; p99: number; p999: number; max: number };
  reads: Record<"due" | "pending" | "repo" | "audit" | "get", number>;
  fsync: boolean;
}

function inChild<T>(args: string[]): Promise<T> {
  const file = fileURLToPath(new URL("./store-size-child.ts", import.meta.url));
  args = ["--expose-gc", "--import", "tsx", file, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: fileURLToPath(new URL("..", import.meta.url)), stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`the store child (${args.slice(4).join(" ")}) exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").at(-1) ?? ""));
      } catch (error) {
        reject(new Error(`the store child answered ${JSON.stringify(out.slice(-300))}`, { cause: error }));
      }
    });
  });
}

function measure(dir: string, requests: number, pending: number, lifecycles: number, fsync: boolean): Promise<Omit<StoreSizeRow, "diskBytes" | "buildS">> {
  return inChild(["--measure", dir, String(requests), String(pending), String(lifecycles), String(fsync)]);
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

export async function runStoreSizeBench(): Promise<StoreSizeRow[]> {
  const largest = size("BENCH_STORE_SIZE", 100_000, 10_000);
  const lifecycles = size("BENCH_STORE_WRITES", 2_000, 300);
  const sizes: number[] = [];
  for (let n = 1_000; n <= largest; n *= 10) sizes.push(n);
  if (sizes.at(-1) !== largest) sizes.push(largest);
  const rows: StoreSizeRow[] = [];
  for (const requests of sizes) {
    const dir = await mkdtemp(join(tmpdir(), "hitl-bench-store-"));
    try {
      const began = now();
      const { pending } = await inChild<{ pending: number }>(["--build", dir, String(requests)]);
      const buildS = (now() - began) / 1000;
      const diskBytes = await dirBytes(dir);
      rows.push({ ...(await measure(dir, requests, pending, lifecycles, true)), diskBytes, buildS });
      if (requests === sizes.at(-1)) rows.push({ ...(await measure(dir, requests, pending, lifecycles, false)), diskBytes, buildS });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

export function formatStoreSizeRows(rows: StoreSizeRow[]): string {
  const table = formatTable(
    ["requests", "pending", "fsync", "on disk", "reopen ms", "RSS", "heap", "writes", "write p50 / p99 / p99.9 / max ms", "due ms", "pending list ms", "repo newest ms", "audit ms", "get ms"],
    rows.map((row) => [
      fmt.int(row.requests),
      fmt.int(row.pending),
      row.fsync ? "FULL" : "off",
      fmt.mb(row.diskBytes),
      fmt.ms(row.reopenMs),
      fmt.mb(row.rss),
      fmt.mb(row.heap),
      fmt.int(row.writes.count),
      [row.writes.p50, row.writes.p99, row.writes.p999, row.writes.max].map(fmt.ms).join(" / "),
      fmt.ms(row.reads.due),
      fmt.ms(row.reads.pending),
      fmt.ms(row.reads.repo),
      fmt.ms(row.reads.audit),
      fmt.ms(row.reads.get),
    ]),
  );
  const rssBase = rows[0] ? fmt.mb(rows[0].rssBeforeOpen) : "–";
  return (
    `${table}\n\nEach size is built untimed (99% decided, two audit entries each; the largest took ${fmt.ms(rows.at(-1)?.buildS ?? Number.NaN)} s), ` +
    `then opened in a fresh child process (its RSS before opening: ${rssBase}). Writes: create, decide (with a job), complete the job, 8 lifecycles at a time; ` +
    `reads: p50 of 200 each (due: limit 100, 10 are due; pending list: the 10 most urgent; repo newest: 10 of one repository and type; audit: 100 entries). ` +
    `The last row repeats the largest size without fsync (synchronous=OFF), for the cost of FULL.${QUICK ? " (BENCH_QUICK sizes)" : ""}`
  );
}

