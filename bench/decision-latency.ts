import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AGENT, startApp, WEBHOOK_SECRET } from "../test/support/app-harness.js";
import { startGitHubStandIn } from "../test/support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../test/support/webhooks.js";
import {
  fmt,
  formatTable,
  now,
  openEmbedded,
  openRedis,
  POLICY,
  postJson,
  refundBody,
  REPO,
  runConcurrently,
  size,
  startCallbackReceiver,
  summarize,
  type BenchStore,
  type CallbackReceiver,
  type Summary,
} from "./support.js";

/**
 * From a decision webhook (an `/approve` comment) leaving GitHub to the agent's callback
 * arriving: POST start → callback received, one decision at a time. Beside it, a bare relay that
 * verifies the same signed delivery, parses it and POSTs a signed callback: the floor of two
 * local HTTP hops on this machine.
 */

export interface LatencyRow {
  store: "embedded" | "redis" | "bare relay";
  decisions: number;
  /** Webhook POST start → its response. */
  answered: Summary;
  /** Webhook POST start → the callback fully received. */
  callback: Summary;
}

function sizes() {
  return { decisions: size("BENCH_DECISIONS", 200, 30), warmup: size("BENCH_DECISIONS_WARMUP", 10, 3) };
}

async function decideAll(
  targets: Array<{ id: string; number: number }>,
  warmup: number,
  send: (number: number) => Promise<{ status: number; text: string }>,
  agent: CallbackReceiver,
  settle: () => Promise<unknown>,
): Promise<{ answered: number[]; callback: number[] }> {
  const answered: number[] = [];
  const callback: number[] = [];
  for (const [index, target] of targets.entries()) {
    const arrival = agent.arrival(target.id);
    const start = now();
    const response = await send(target.number);
    const answeredAt = now();
    if (response.status !== 200) throw new Error(`the webhook answered ${response.status}: ${response.text}`);
    const arrivedAt = await arrival;
    // Let the rest of the decision's work (the issue update) finish before the next one.
    await settle();
    if (index < warmup) continue;
    answered.push(answeredAt - start);
    callback.push(arrivedAt - start);
  }
  return { answered, callback };
}

async function benchStore(open: () => Promise<BenchStore>): Promise<LatencyRow> {
  const { decisions, warmup } = sizes();
  const github = await startGitHubStandIn({ repos: { [REPO]: { files: { main: { ".hitl.yml": POLICY } }, collaborators: { alice: "write" } } } });
  const store = await open();
  const app = await startApp({ githubUrl: github.url, store: store.store });
  const agent = await startCallbackReceiver();
  try {
    const targets: Array<{ id: string; number: number }> = [];
    const body = JSON.stringify(refundBody(120, { callback_url: agent.url }));
    await runConcurrently(warmup + decisions, 8, async () => {
      const created = await postJson(`${app.url}/api/v1/requests`, body);
      targets.push({ id: String(created.id), number: Number(created.surface_number) });
    });
    github.clearCalls();
    const samples = await decideAll(
      targets,
      warmup,
      (number) => deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: number, body: "/approve looks right", login: "alice" }), secret: WEBHOOK_SECRET }),
      agent,
      () => app.runtime.jobs.run(),
    );
    return { store: store.kind, decisions: samples.callback.length, answered: summarize(samples.answered), callback: summarize(samples.callback) };
  } finally {
    await agent.close();
    await app.close();
    await github.close();
    await store.dispose();
  }
}

/** Verifies the delivery as Probot does, answers it, then POSTs a signed callback. */
async function startRelay(callbackUrl: string, idsByNumber: Map<number, string>): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const expected = Buffer.from(`sha256=${createHmac("sha256", WEBHOOK_SECRET).update(raw).digest("hex")}`);
      const given = Buffer.from(String(req.headers["x-hub-signature-256"] ?? ""));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res.writeHead(400).end();
        return;
      }
      const payload = JSON.parse(raw.toString("utf8")) as { issue: { number: number } };
      res.writeHead(200).end("ok");
      const id = idsByNumber.get(payload.issue.number);
      const body = JSON.stringify({ event: "request.approved", request: { id, status: "approved" } });
      const signature = `sha256=${createHmac("sha256", AGENT.token).update(body).digest("hex")}`;
      void fetch(callbackUrl, { method: "POST", headers: { "content-type": "application/json", "x-hitl-signature-256": signature }, body })
        .then((response) => response.body?.cancel())
        .catch(() => undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function benchRelay(): Promise<LatencyRow> {
  const { decisions, warmup } = sizes();
  const agent = await startCallbackReceiver();
  const ids = new Map<number, string>();
  const relay = await startRelay(agent.url, ids);
  try {
    const targets = Array.from({ length: warmup + decisions }, (_, i) => ({ id: `req_relay${i}`, number: i + 1 }));
    for (const target of targets) ids.set(target.number, target.id);
    const samples = await decideAll(
      targets,
      warmup,
      (number) => deliver(relay.url, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: number, body: "/approve looks right", login: "alice" }), secret: WEBHOOK_SECRET }),
      agent,
      async () => undefined,
    );
    return { store: "bare relay", decisions: samples.callback.length, answered: summarize(samples.answered), callback: summarize(samples.callback) };
  } finally {
    await relay.close();
    await agent.close();
  }
}

export async function runDecisionLatencyBench(options: { redis: boolean }): Promise<LatencyRow[]> {
  const rows = [await benchRelay(), await benchStore(() => openEmbedded())];
  if (options.redis) rows.push(await benchStore(() => openRedis()));
  return rows;
}

export function formatLatencyRows(rows: LatencyRow[]): string {
  const relay = rows.find((row) => row.store === "bare relay");
  return formatTable(
    ["store", "decisions", "answered p50 ms", "p99 ms", "callback p50 ms", "p99 ms", "callback p50 ÷ relay"],
    rows.map((row) => [
      row.store,
      fmt.int(row.decisions),
      fmt.ms(row.answered.p50),
      fmt.ms(row.answered.p99),
      fmt.ms(row.callback.p50),
      fmt.ms(row.callback.p99),
      relay ? fmt.ratio(row.callback.p50 / relay.callback.p50) : "–",
    ]),
  );
}
