import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import { WEBHOOK_SECRET } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import { waitFor, within } from "../support/wait.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const TOKEN = "stop-agent-token-0123456789";

/** An agent endpoint that takes callbacks and never answers them, so a callback job stays in hand. */
async function startSilentReceiver(): Promise<{ url: string; arrived: IncomingMessage[]; close(): Promise<void> }> {
  const arrived: IncomingMessage[] = [];
  const server: Server = createServer((req) => void arrived.push(req));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/hitl`,
    arrived,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/**
 * The real server stopped by SIGTERM or SIGINT: long-polls answer at once, jobs in hand are
 * handed back to the store, the store is closed (its lock released) and the process exits 0,
 * all within 10 s.
 */
describe("stopping on a signal", () => {
  let github: GitHubStandIn;
  let server: ServerProcess;
  let dataDir: string;

  beforeEach(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" } } } });
    dataDir = await mkdtemp(join(tmpdir(), "hitl-stop-"));
    server = await startServerProcess({
      githubHost: github.host,
      env: { HITL_AGENT_TOKENS: `stop-agent:${TOKEN}`, HITL_DATA_DIR: dataDir, HITL_ALLOWED_PRIVATE_TARGETS: "127.0.0.1", LOG_LEVEL: "info" },
    });
  }, 120_000);

  afterEach(async () => {
    await server?.stop();
    await github?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${server.base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const open = async (extra: Record<string, unknown> = {}) => {
    const response = await call("POST", "/requests", { repo: REPO, task_description: "Refund order 1234", approval_reason: "Refunds need a human", approvers: ["alice"], ...extra });
    expect(response.status).toBe(201);
    return (await response.json()) as { id: string; surface_number: number };
  };

  it("SIGTERM: answers the long-poll now, hands the stuck callback back, releases the store and exits 0 within 10 s", async () => {
    const receiver = await startSilentReceiver();
    try {
      const decided = await open({ callback_url: receiver.url });
      const waiting = await open();
      const delivery = await deliver(`${server.base}/api/github/webhooks`, {
        event: "issue_comment",
        payload: issueCommentPayload({ repo: REPO, issueNumber: decided.surface_number, body: "/approve", login: "alice" }),
        secret: WEBHOOK_SECRET,
      });
      expect(delivery.status).toBe(200);
      await waitFor("the callback to be in hand", () => (receiver.arrived.length > 0 ? true : undefined));

      const longPoll = call("GET", `/requests/${waiting.id}/decision?wait=60`);
      // The long-poll is open on the server before the signal.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const signalledAt = Date.now();
      process.kill(-server.pid, "SIGTERM");

      const answer = await within("the long-poll to answer", longPoll, 3_000);
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ id: waiting.id, status: "pending", decision: null });

      await waitFor("the server to exit", () => (server.exited() ? true : undefined), 10_000, 50);
      expect(Date.now() - signalledAt).toBeLessThan(10_000);
      expect(server.exitCode(), server.output()).toBe(0);
      expect(server.output()).toContain("handed unfinished jobs back to the store");

      // The lock is released (the store opens at once) and the callback is due now, not after its lease.
      const store = await createEmbeddedStore({ dir: dataDir });
      try {
        const jobs = await store.pendingJobs();
        const callback = jobs.find((job) => job.kind === "callback" && job.requestId === decided.id);
        expect(callback).toMatchObject({ lastError: "handed back: the process stopped before it finished" });
        expect(Date.parse(callback!.runAt)).toBeLessThanOrEqual(Date.now());
      } finally {
        await store.close();
      }
    } finally {
      await receiver.close();
    }
  }, 60_000);

  it("SIGINT: stops the same way, and the next start finds the store free", async () => {
    await open();
    process.kill(-server.pid, "SIGINT");
    await waitFor("the server to exit", () => (server.exited() ? true : undefined), 10_000, 50);
    expect(server.exitCode(), server.output()).toBe(0);
    expect(server.output()).toContain("SIGINT: stopped");
    const store = await createEmbeddedStore({ dir: dataDir });
    await store.close();
  }, 60_000);
});
