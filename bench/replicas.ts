import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { testPrivateKey } from "../test/support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../test/support/github-stand-in.js";
import { deleteKeys, fmt, formatTable, POLICY, postJson, refundBody, REDIS_URL, REPO, size } from "./support.js";

/**
 * Replicas and GitHub's write limits: N replicas (processes) on one Redis, each sent a burst of
 * requests that open issues, against the GitHub stand-in with its secondary rate limit on (a
 * bucket of 3 writes refilling at one a second, and one of 3 notifying writes refilling at one
 * every three seconds, per installation). Counted at the stand-in over a fixed window: the
 * installation's writes a second, and the 403 secondary-rate-limit answers, with Octokit's write
 * spacing per process (how hitl spaced writes before) and shared through the store.
 */

export type Spacing = "per-process" | "shared";

export interface ReplicasRow {
  spacing: Spacing;
  replicas: number;
  windowS: number;
  /** Requests sent, all at once before the window. */
  requests: number;
  /** Writes that reached the stand-in within the window (from the first one), answered or refused. */
  writes: number;
  /** Of those, refused with 403 secondary rate limit. */
  limited: number;
  /** Installation tokens the replicas asked for. */
  tokenRequests: number;
}

const here = fileURLToPath(new URL(".", import.meta.url));

export async function runReplicasBench(): Promise<ReplicasRow[]> {
  const windowS = size("BENCH_REPLICAS_WINDOW_S", 15, 6);
  // More requests than a replica can post in the window on its own, so no replica runs dry.
  const perReplica = size("BENCH_REPLICAS_REQUESTS", Math.ceil(windowS / 3) + 4, Math.ceil(windowS / 3) + 2);
  const rows: ReplicasRow[] = [];
  for (const spacing of ["per-process", "shared"] as const) {
    for (const replicas of [1, 2, 4]) rows.push(await measure(spacing, replicas, windowS, perReplica));
  }
  return rows;
}

async function measure(spacing: Spacing, replicas: number, windowS: number, perReplica: number): Promise<ReplicasRow> {
  const github = await startGitHubStandIn({
    repos: { [REPO]: { files: { main: { ".hitl.yml": POLICY } }, collaborators: { alice: "write", carol: "write" } } },
    teams: { "octo-org/finance": ["carol"] },
    installations: [{ id: 1, account: "octo-org", repos: [REPO] }],
    secondaryLimit: {},
  });
  const prefix = `hitl-bench:replicas:${randomBytes(6).toString("hex")}:`;
  const children: ChildProcess[] = [];
  try {
    const urls = await Promise.all(Array.from({ length: replicas }, () => startReplica(github, prefix, spacing, children)));
    const sends = urls.flatMap((url, replica) =>
      Array.from({ length: perReplica }, (_, i) => postJson(`${url}/api/v1/requests`, refundBody(120 + replica * 1000 + i))),
    );
    await Promise.all(sends);
    // The window opens with the installation's first write (the replicas' cold start aside).
    const ours = () => github.writes.filter((w) => w.installationId === 1);
    while (ours().length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const opened = ours()[0]!.at;
    await new Promise((resolve) => setTimeout(resolve, opened + windowS * 1000 - Date.now()));
    const inWindow = ours().filter((w) => w.at < opened + windowS * 1000);
    return {
      spacing,
      replicas,
      windowS,
      requests: sends.length,
      writes: inWindow.length,
      limited: inWindow.filter((w) => w.limited).length,
      tokenRequests: github.callsTo("POST", "/app/installations/1/access_tokens").length,
    };
  } finally {
    for (const child of children) child.kill("SIGKILL");
    await github.close();
    await deleteKeys(prefix);
  }
}

/** Starts one replica process and resolves with its URL. */
function startReplica(github: GitHubStandIn, prefix: string, spacing: Spacing, children: ChildProcess[]): Promise<string> {
  const child = spawn(process.execPath, ["--import", "tsx", `${here}replica-child.ts`], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: { ...process.env, REDIS_URL, BENCH_GITHUB_URL: github.url, BENCH_REDIS_PREFIX: prefix, BENCH_SPACING: spacing, BENCH_PRIVATE_KEY: testPrivateKey() },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("a replica did not start within 60 s")), 60_000);
    child.once("exit", (code) => reject(new Error(`a replica exited (${code}) before it started`)));
    createInterface({ input: child.stdout! }).once("line", (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
  });
}

/** Writes a second per installation, as the stand-in counted them. */
export const writesPerSecond = (row: ReplicasRow): number => row.writes / row.windowS;

/** A row's writes a second beside one replica's with the same spacing, measured in the same run. */
export function writeRatio(rows: ReplicasRow[], row: ReplicasRow): number {
  const single = rows.find((r) => r.spacing === row.spacing && r.replicas === 1);
  return single ? writesPerSecond(row) / writesPerSecond(single) : Number.NaN;
}

export function formatReplicaRows(rows: ReplicasRow[]): string {
  return formatTable(
    ["spacing", "replicas", "requests", "writes in window", "writes/s", "÷ one replica", "403 secondary limit", "token requests"],
    rows.map((row) => [
      row.spacing,
      String(row.replicas),
      fmt.int(row.requests),
      `${fmt.int(row.writes)} in ${row.windowS} s`,
      writesPerSecond(row).toFixed(2),
      fmt.ratio(writeRatio(rows, row)),
      fmt.int(row.limited),
      fmt.int(row.tokenRequests),
    ]),
  );
}
