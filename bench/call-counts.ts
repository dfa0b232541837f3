import type { RecordedCall } from "../test/support/github-stand-in.js";
import { startApp, WEBHOOK_SECRET } from "../test/support/app-harness.js";
import { startGitHubStandIn } from "../test/support/github-stand-in.js";
import { deliver, issueCommentPayload, pullRequestReviewPayload } from "../test/support/webhooks.js";
import { formatTable, openRedis, POLICY, postJson, refundBody, REPO, startCallbackReceiver } from "./support.js";

/**
 * What one request costs in GitHub API calls (counted by the stand-in) and Redis commands
 * (counted on the requester the store talks through), phase by phase: open (the API call),
 * decide (the webhook), close (the jobs the decision queued: surface update and callback).
 *
 * The decision's jobs normally start inside the webhook handler; here they are held back until
 * the close phase (the runner's `kick` is a no-op until then), so each phase counts only its
 * own calls. The jobs, and so the counts, are the same either way.
 */

export type Path = "issue" | "pull_request" | "rule";
export type Phase = "open" | "decide" | "close";

export interface PhaseCounts {
  path: Path;
  phase: Phase;
  /** First request on a fresh app (no token, installation or `.hitl.yml` cached). */
  cold: { github: string[]; redis: Map<string, number> };
  /** The next request, with those caches warm. */
  warm: { github: string[]; redis: Map<string, number> };
}

const AUTHOR = "deploy-agent";
const HEADS = ["a".repeat(40), "b".repeat(40)];
const PULLS = [42, 43];

/** `POST /issues/:n/comments`: the repository and the numbers left out, so rounds compare. */
const callName = (call: RecordedCall) =>
  `${call.method} ${call.path
    .replace(`/repos/${REPO}`, "")
    .replace(/\/(issues|pulls)\/\d+/, "/$1/:n")
    .replace(/\/check-runs\/\d+/, "/check-runs/:id")}`;
const total = (tally: Map<string, number>) => [...tally.values()].reduce((sum, n) => sum + n, 0);

async function countPath(path: Path): Promise<PhaseCounts[]> {
  const github = await startGitHubStandIn({
    repos: {
      [REPO]: {
        files: { main: { ".hitl.yml": POLICY } },
        collaborators: { alice: "write", bob: "write", [AUTHOR]: "write" },
        pulls: PULLS.map((number, i) => ({ number, headSha: HEADS[i]!, user: AUTHOR, files: [{ filename: "deploy/payments.yml", additions: 3, deletions: 1 }] })),
      },
    },
    teams: { "octo-org/finance": ["carol"], "octo-org/leads": ["bob"] },
  });
  const redis = await openRedis();
  const app = await startApp({ githubUrl: github.url, store: redis.store });
  const agent = await startCallbackReceiver();
  const counter = redis.counter!;
  const jobs = app.runtime.jobs;
  jobs.kick = () => undefined;
  const webhook = (event: string, payload: unknown) => deliver(`${app.url}/api/github/webhooks`, { event, payload, secret: WEBHOOK_SECRET });

  const phases: Array<{ phase: Phase; counts: Array<{ github: string[]; redis: Map<string, number> }> }> = [
    { phase: "open", counts: [] },
    { phase: "decide", counts: [] },
    { phase: "close", counts: [] },
  ];

  async function measure(phase: Phase, run: () => Promise<void>): Promise<void> {
    const before = github.calls.length;
    counter.reset();
    await run();
    phases.find((entry) => entry.phase === phase)!.counts.push({ github: github.calls.slice(before).map(callName), redis: new Map(counter.byName) });
  }

  try {
    for (const round of [0, 1]) {
      let created: Record<string, unknown> = {};
      const body =
        path === "pull_request"
          ? {
              repo: REPO,
              task_description: "Deploy payments v2 to production",
              approval_reason: "Production deploys need a human",
              decision_data: { service: "payments", version: "2.0.0" },
              surface: { type: "pull_request", number: PULLS[round] },
              approvers: ["alice", "@octo-org/finance"],
              deadline: "2099-01-01T00:00:00Z",
              callback_url: agent.url,
            }
          : refundBody(path === "rule" ? 20 : 120, { callback_url: agent.url });
      await measure("open", async () => {
        created = await postJson(`${app.url}/api/v1/requests`, body);
      });
      const id = String(created.id);
      await measure("decide", async () => {
        if (path === "rule") return;
        const response =
          path === "issue"
            ? await webhook("issue_comment", issueCommentPayload({ repo: REPO, issueNumber: Number(created.surface_number), body: "/approve looks right", login: "alice" }))
            : await webhook("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: PULLS[round]!, state: "approved", body: "ship it", login: "alice", headSha: HEADS[round]!, author: AUTHOR }));
        if (response.status !== 200) throw new Error(`the webhook answered ${response.status}: ${response.text}`);
      });
      await measure("close", async () => {
        await jobs.run();
        await agent.arrival(id);
      });
    }
  } finally {
    await agent.close();
    await app.close();
    await github.close();
    await redis.dispose();
  }
  return phases.map(({ phase, counts }) => ({ path, phase, cold: counts[0]!, warm: counts[1]! }));
}

export async function runCallCountsBench(): Promise<PhaseCounts[]> {
  const rows: PhaseCounts[] = [];
  for (const path of ["issue", "pull_request", "rule"] as const) rows.push(...(await countPath(path)));
  return rows;
}

const PATH_LABELS: Record<Path, string> = { issue: "issue", pull_request: "pull request", rule: "decided by rule" };

export function formatCallCounts(rows: PhaseCounts[]): string {
  const lines: string[][] = [];
  for (const path of ["issue", "pull_request", "rule"] as const) {
    const mine = rows.filter((row) => row.path === path);
    if (mine.length === 0) continue;
    for (const row of mine) {
      lines.push([`${PATH_LABELS[path]}: ${row.phase}`, String(row.cold.github.length), String(row.warm.github.length), String(total(row.cold.redis)), String(total(row.warm.redis))]);
    }
    const sum = (pick: (row: PhaseCounts) => number) => String(mine.reduce((acc, row) => acc + pick(row), 0));
    lines.push([`${PATH_LABELS[path]}: whole lifecycle`, sum((r) => r.cold.github.length), sum((r) => r.warm.github.length), sum((r) => total(r.cold.redis)), sum((r) => total(r.warm.redis))]);
  }
  return formatTable(["path: phase", "GitHub cold", "GitHub warm", "Redis cold", "Redis warm"], lines);
}

/** What each warm phase sent, call by call. */
export function formatCallDetails(rows: PhaseCounts[]): string {
  const tally = (names: string[]) => {
    const counts = new Map<string, number>();
    for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
    return counts;
  };
  const show = (counts: Map<string, number>) => [...counts].map(([name, n]) => (n > 1 ? `${name} ×${n}` : name)).join(", ") || "none";
  return rows
    .map((row) => `${PATH_LABELS[row.path]}: ${row.phase} (warm)\n  GitHub: ${show(tally(row.warm.github))}\n  Redis:  ${show(row.warm.redis)}`)
    .join("\n");
}
