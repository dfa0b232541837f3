import { execFileSync, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testPrivateKey, WEBHOOK_SECRET } from "../support/app-harness.js";
import { startCallbackReceiver, type Callback, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { freePort } from "../support/ports.js";
import { REPO_ROOT, startServerProcess, type ServerProcess } from "../support/server-process.js";
import { waitFor } from "../support/wait.js";
import { parseExposition } from "../support/prometheus-text.js";
import { deliver, issueCommentPayload, pullRequestReviewPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const TOKEN = "e2e-agent-token-0123456789";
const METRICS_TOKEN = "e2e-metrics-token-0123456789abcdef0123";
const HEAD = "a".repeat(40);

/**
 * The whole loop against the real server process, started the way the README starts it
 * (`npm start`), with GHE_HOST pointing at a local stand-in of GitHub's API.
 */
describe("end to end: npm start, a request, a decision on GitHub, a signed callback", () => {
  let github: GitHubStandIn;
  let server: ServerProcess;
  let base: string;
  let dataDir: string;
  let receiver: CallbackReceiver;
  let callbackUrl: string;

  beforeAll(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write" }, pulls: [{ number: 42, headSha: HEAD, user: "deploy-agent" }] } },
    });
    receiver = await startCallbackReceiver();
    callbackUrl = receiver.url;

    dataDir = await mkdtemp(join(tmpdir(), "hitl-e2e-"));
    server = await startServerProcess({
      command: ["npm", "start", "--silent"],
      // As a shell that runs the README's command would: npm needs the environment it runs in.
      inheritEnv: true,
      githubHost: github.host,
      env: { HITL_AGENT_TOKENS: `e2e-agent:${TOKEN}`, HITL_DATA_DIR: dataDir, HITL_SWEEP_CRON: "*/2 * * * * *", LOG_LEVEL: "info", HITL_METRICS_TOKEN: METRICS_TOKEN },
      startTimeoutMs: 90_000,
    });
    base = server.base;
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await github?.close();
    await receiver?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  // The server runs in a process group of its own, so a signal reaches npm and the node process it started.
  const signal = (name: NodeJS.Signals) => process.kill(-server.pid, name);

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  };

  const verify = (callback: Callback) =>
    expect(String(callback.headers["x-hitl-signature-256"])).toBe(`sha256=${createHmac("sha256", TOKEN).update(callback.body).digest("hex")}`);

  it("GET / says what runs here: the app registered, the agents by name (never their tokens), the store, the pending count", async () => {
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("Registered, app id 1.");
    expect(html).toContain("1 configured.");
    expect(html).not.toContain("e2e-agent");
    expect(html).toContain("embedded (SQLite, one process)");
    expect(html).toMatch(/\d+ requests? waits? for a decision\./);
    expect(html).not.toContain(TOKEN);
  });

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

    const callback = await waitFor("the callback", () => receiver.received.find((c) => JSON.parse(c.body).request.id === created.json.id));
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
    const callback = await waitFor("the callback", () => receiver.received.find((c) => JSON.parse(c.body).request.id === created.json.id));
    verify(callback);
    await waitFor("the check run to complete", () => (github.callsTo("PATCH", /\/check-runs\/\d+$/).some((c) => (c.body as { conclusion?: string }).conclusion === "success") ? true : undefined));
  }, 60_000);

  it("serves /metrics behind HITL_METRICS_TOKEN, counting every request it opened, with the process's own figures", async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(401);
    const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    const metrics = parseExposition(await response.text());
    const opened = metrics.samples.filter((sample) => sample.name === "hitl_requests_opened_total");
    const listed = (await call("GET", `/requests?repo=${REPO}`)).json.requests as unknown[];
    expect(listed.length).toBeGreaterThan(0);
    expect(opened.reduce((sum, sample) => sum + sample.value, 0)).toBe(listed.length);
    expect(new Set(opened.map((sample) => sample.labels.repository))).toEqual(new Set([REPO]));
    expect(metrics.types.get("process_cpu_seconds_total")).toBe("counter");
  });

  it("stops cleanly on SIGTERM", async () => {
    signal("SIGTERM");
    await waitFor("the server to exit", () => (server.exited() ? true : undefined), 15_000);
    expect(server.output()).toContain("SIGTERM: stopping");
    expect(server.output()).toContain("SIGTERM: stopped");
    expect(server.output()).not.toContain("error while stopping");
    expect((await fetch(`${base}/healthz`).catch(() => null))?.status).toBeUndefined();
  }, 20_000);
});

/**
 * After Probot's setup page, the app's credentials live in `.env` in the working directory, and
 * `npm start` must pick them up (so must hitl's own settings there). Runs the build the test above
 * made with `npm start`.
 */
describe("end to end: settings from .env", () => {
  beforeAll(() => {
    // `npm start` above builds dist/; run alone, this builds it the same way.
    if (!existsSync(join(REPO_ROOT, "dist", "main.js"))) execFileSync("npm", ["run", "build", "--silent"], { cwd: REPO_ROOT, stdio: "ignore" });
  }, 120_000);

  it("starts as a configured app, not the setup page, with nothing but .env", async () => {
    const github = await startGitHubStandIn();
    const dir = await mkdtemp(join(tmpdir(), "hitl-dotenv-"));
    const port = await freePort();
    const token = "dotenv-agent-token-0123456789";
    const quoted = (value: string) => `"${value.replace(/\n/g, "\\n")}"`;
    await writeFile(
      join(dir, ".env"),
      [
        "APP_ID=1",
        `PRIVATE_KEY=${quoted(testPrivateKey())}`,
        `WEBHOOK_SECRET=${WEBHOOK_SECRET}`,
        `PORT=${port}`,
        "HOST=127.0.0.1",
        `GHE_HOST=${github.host}`,
        "GHE_PROTOCOL=http",
        `HITL_AGENT_TOKENS=dotenv-agent:${token}`,
        "LOG_LEVEL=warn",
      ].join("\n") + "\n",
    );
    let output = "";
    const child = spawn(process.execPath, [join(REPO_ROOT, "dist", "main.js")], { cwd: dir, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      const status = await waitFor(
        "the server to answer",
        async () => {
          if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}:\n${output}`);
          const response = await fetch(`http://127.0.0.1:${port}/api/v1/requests`, { headers: { authorization: `Bearer ${token}` } }).catch(() => null);
          return response?.status;
        },
        30_000,
      );
      // The setup page has no agent API: a 200 means the app was loaded with its credentials and the agent's token.
      expect(status, output).toBe(200);
      expect(output).not.toContain("setup");
    } finally {
      child.kill("SIGKILL");
      await github.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
