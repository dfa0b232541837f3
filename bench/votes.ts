import { startApp, WEBHOOK_SECRET } from "../test/support/app-harness.js";
import { startGitHubStandIn } from "../test/support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../test/support/webhooks.js";
import { fmt, formatTable, now, openEmbedded, openRedis, postJson, refundBody, REPO, size, summarize, type BenchStore, type Summary } from "./support.js";

/**
 * The vote hot path: an `/approve` webhook POST start → its response, on a request that one
 * approval decides (the single-decision path), and on requests with `required_approvals: 3`: a
 * vote that leaves it pending (tally edited in place) and the vote that completes the quorum.
 * Each vote is one compare-and-set replaying the request's votes; the ratio is against the
 * single decision measured in the same run, on the same store.
 */

const POLICY = "approvers: [alice, bob, carol]\n";
const VOTERS = ["alice", "bob", "carol"];

export interface VoteRow {
  store: BenchStore["kind"];
  path: "single decision" | "vote (pending)" | "completing vote";
  samples: number;
  answered: Summary;
}

async function benchStore(open: () => Promise<BenchStore>): Promise<VoteRow[]> {
  const count = size("BENCH_VOTES", 150, 20);
  const github = await startGitHubStandIn({ repos: { [REPO]: { files: { main: { ".hitl.yml": POLICY } }, collaborators: { alice: "write", bob: "write", carol: "write" } } } });
  const store = await open();
  const app = await startApp({ githubUrl: github.url, store: store.store });
  const approve = async (number: number, login: string): Promise<number> => {
    const start = now();
    const response = await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: number, body: "/approve", login }), secret: WEBHOOK_SECRET });
    const took = now() - start;
    if (response.status !== 200) throw new Error(`the webhook answered ${response.status}: ${response.text}`);
    await app.runtime.jobs.run();
    return took;
  };
  try {
    const single: number[] = [];
    const pending: number[] = [];
    const completing: number[] = [];
    const body = (quorum: boolean) => refundBody(120, { approvers: VOTERS, ...(quorum ? { required_approvals: 3 } : {}) });
    // Interleaved, so drift on a shared machine falls on both paths alike.
    for (let i = 0; i < count; i++) {
      const plain = await postJson(`${app.url}/api/v1/requests`, body(false));
      const quorum = await postJson(`${app.url}/api/v1/requests`, body(true));
      // Which path goes first alternates, so neither always follows the requests' creation.
      if (i % 2 === 0) single.push(await approve(Number(plain.surface_number), "alice"));
      pending.push(await approve(Number(quorum.surface_number), "alice"));
      pending.push(await approve(Number(quorum.surface_number), "bob"));
      completing.push(await approve(Number(quorum.surface_number), "carol"));
      if (i % 2 === 1) single.push(await approve(Number(plain.surface_number), "alice"));
    }
    const warm = (samples: number[], skip: number) => summarize(samples.slice(skip));
    const skip = Math.min(5, Math.floor(count / 4));
    return [
      { store: store.kind, path: "single decision", samples: count - skip, answered: warm(single, skip) },
      { store: store.kind, path: "vote (pending)", samples: 2 * count - 2 * skip, answered: warm(pending, 2 * skip) },
      { store: store.kind, path: "completing vote", samples: count - skip, answered: warm(completing, skip) },
    ];
  } finally {
    await app.close();
    await github.close();
    await store.dispose();
  }
}

export async function runVotesBench(options: { redis: boolean }): Promise<VoteRow[]> {
  const rows = await benchStore(() => openEmbedded());
  if (options.redis) rows.push(...(await benchStore(() => openRedis())));
  return rows;
}

/** p50 of a path ÷ p50 of the single decision on the same store. */
export function voteRatio(rows: VoteRow[], row: VoteRow): number {
  const single = rows.find((candidate) => candidate.store === row.store && candidate.path === "single decision")!;
  return row.answered.p50 / single.answered.p50;
}

export function formatVoteRows(rows: VoteRow[]): string {
  return formatTable(
    ["store", "path", "samples", "answered p50 ms", "p99 ms", "p50 ÷ single decision"],
    rows.map((row) => [row.store, row.path, fmt.int(row.samples), fmt.ms(row.answered.p50), fmt.ms(row.answered.p99), fmt.ratio(voteRatio(rows, row))]),
  );
}
