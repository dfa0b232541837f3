import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testPrivateKey, WEBHOOK_SECRET } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload, pullRequestReviewPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const TOKEN = "e2e-agent-token-0123456789";
const HEAD = "a".repeat(40);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The whole loop against the real server process, started the way the README starts it
 * (`npm start`), with GHE_HOST pointing at a local stand-in of GitHub's API.
 */
describe("end to end: npm start, a request, a decision on GitHub, a signed callback", () => {
  let github: GitHubStandIn;
  let server: ChildProcess;
  let output = "";
  let base: string;
  let dataDir: string;
  const callbacks: { signature: string; body: string }[] = [];
  let receiver: Server;
  let callbackUrl: string;

  beforeAll(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write" }, pulls: [{ number: 42, headSha: HEAD, user: "deploy-agent" }] } },
    });
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        callbacks.push({ signature: String(req.headers["x-hitl-signature-256"]), body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/hitl`;

    dataDir = await mkdtemp(join(tmpdir(), "hitl-e2e-"));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn("npm", ["start", "--silent"], {
      env: {
        ...process.env,
        NODE_ENV: "production",
        APP_ID: "1",
        PRIVATE_KEY: testPrivateKey(),
        WEBHOOK_SECRET,
        PORT: String(port),
        HOST: "127.0.0.1",
        GHE_HOST: github.host,
        GHE_PROTOCOL: "http",
        HITL_AGENT_TOKENS: `e2e-agent:${TOKEN}`,
        HITL_DATA_DIR: dataDir,
        HITL_SWEEP_CRON: "*/2 * * * * *",
        LOG_LEVEL: "warn",
        REDIS_URL: "",
        UPSTASH_REDIS_REST_URL: "",
        UPSTASH_REDIS_REST_TOKEN: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so a signal reaches npm and the node process it started.
      detached: true,
    });
    server.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await waitFor("the server to answer /healthz", async () => {
      if (exited()) throw new Error(`server exited (${server.exitCode ?? server.signalCode}):\n${output}`);
      const response = await fetch(`${base}/healthz`).catch(() => null);
      return response?.status === 200 ? true : undefined;
    }, 90_000);
  }, 120_000);

  afterAll(async () => {
    if (server && !exited()) {
      signal("SIGTERM");
      await waitFor("the server to stop", () => (exited() ? true : undefined), 15_000).catch(() => signal("SIGKILL"));
    }
    await github?.close();
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
    await rm(dataDir, { recursive: true, force: true });
  });

  const signal = (name: NodeJS.Signals) => process.kill(-server.pid!, name);
  // npm itself may end by the signal (signalCode) while the app exits 0.
  const exited = () => server.exitCode !== null || server.signalCode !== null;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  };

  const verify = (callback: { signature: string; body: string }) =>
    expect(callback.signature).toBe(`sha256=${createHmac("sha256", TOKEN).update(callback.body).digest("hex")}`);

  it("issue: request → issue → /approve webhook → decision → signed callback", async () => {
    const created = await call("POST", "/requests", {
      repo: REPO,
      task_description: "Refund order 1234",
      approval_reason: "Refunds over $50 need a human",
      decision_data: { amount: 120 },
      approvers: ["alice"],
      callback_url: callbackUrl,
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ status: "pending", requested_by: "e2e-agent" });
    const issue = created.json.surface_number as number;
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues")).toHaveLength(1);

    const delivery = await deliver(`${base}/api/github/webhooks`, {
      event: "issue_comment",
      payload: issueCommentPayload({ repo: REPO, issueNumber: issue, body: "/approve go ahead", login: "alice" }),
      secret: WEBHOOK_SECRET,
    });
    expect(delivery.status).toBe(200);

    const callback = await waitFor("the callback", () => callbacks.find((c) => JSON.parse(c.body).request.id === created.json.id));
    verify(callback);
    expect(JSON.parse(callback.body)).toMatchObject({ event: "request.approved", request: { status: "approved", decision: { decided_by: { login: "alice" }, justification: "go ahead" } } });
    expect((await call("GET", `/requests/${created.json.id}`)).json.status).toBe("approved");
    await waitFor("the issue to close", () => (github.callsTo("PATCH", `/repos/octo-org/payments/issues/${issue}`).length ? true : undefined));
  }, 60_000);

  it("pull request: request → check run → approving review → check run success → signed callback", async () => {
    const created = await call("POST", "/requests", {
      repo: REPO,
      task_description: "Merge the dependency update",
      approval_reason: "Merges need a human",
      surface: { type: "pull_request", number: 42 },
      approvers: ["alice"],
      callback_url: callbackUrl,
    });
    expect(created.status).toBe(201);
    const [checkRun] = github.callsTo("POST", "/repos/octo-org/payments/check-runs");
    expect(checkRun!.body).toMatchObject({ name: "hitl/approval", head_sha: HEAD, status: "in_progress" });

    const delivery = await deliver(`${base}/api/github/webhooks`, {
      event: "pull_request_review",
      payload: pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", body: "LGTM", login: "alice", headSha: HEAD, author: "deploy-agent" }),
      secret: WEBHOOK_SECRET,
    });
    expect(delivery.status).toBe(200);
    const callback = await waitFor("the callback", () => callbacks.find((c) => JSON.parse(c.body).request.id === created.json.id));
    verify(callback);
    await waitFor("the check run to complete", () => (github.callsTo("PATCH", /\/check-runs\/\d+$/).some((c) => (c.body as { conclusion?: string }).conclusion === "success") ? true : undefined));
  }, 60_000);

  it("stops cleanly on SIGTERM", async () => {
    signal("SIGTERM");
    await waitFor("the server to exit", () => (exited() ? true : undefined), 15_000);
    expect(output).toContain("SIGTERM: stopping");
    expect(output).not.toContain("error while stopping");
    expect((await fetch(`${base}/healthz`).catch(() => null))?.status).toBeUndefined();
  }, 20_000);
});
