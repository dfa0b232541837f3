import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Hitl } from "../../src/client/index.js";
import { WEBHOOK_SECRET } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { REPO_ROOT, startServerProcess, type ServerProcess } from "../support/server-process.js";
import { waitFor } from "../support/wait.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const TOKEN = "cli-agent-token-0123456789";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The `hitl` command (package.json `bin`) against the real server process and the GitHub stand-in. */
describe("the hitl CLI end to end", () => {
  let github: GitHubStandIn;
  let server: ServerProcess;
  let dataDir: string;
  let hitl: Hitl;

  beforeAll(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" } } } });
    dataDir = await mkdtemp(join(tmpdir(), "hitl-cli-"));
    server = await startServerProcess({ githubHost: github.host, env: { HITL_AGENT_TOKENS: `cli-agent:${TOKEN}`, HITL_DATA_DIR: dataDir } });
    hitl = new Hitl({ url: server.base, token: TOKEN });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await github?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const cli = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", HITL_URL: server.base, HITL_TOKEN: TOKEN, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });

  /** A person comments on the issue of the pending request for `task`, once it is posted. */
  const decide = async (task: string, body: string) => {
    const request = await waitFor(`the request "${task}"`, async () => (await hitl.list({ status: "pending" })).find((r) => r.task_description === task && r.surface_number !== null), 30_000);
    // GitHub's timestamps are whole seconds, and a comment from before the request does not count: a person takes longer.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const delivery = await deliver(`${server.base}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: request.surface_number!, body, login: "alice" }), secret: WEBHOOK_SECRET });
    expect(delivery.status).toBe(200);
    return request;
  };

  it("request --wait exits 0 when a person approves on GitHub, with the decision as JSON", async () => {
    const task = "Deploy v2 to production";
    const [run] = await Promise.all([cli(["request", "--repo", REPO, "--task", task, "--reason", "Production deploys need a human", "--data", '{"version":"2.0.0"}', "--approver", "alice", "--wait", "--json"]), decide(task, "/approve ship it")]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: "approved", approved: true, decision: { justification: "ship it", decided_by: { login: "alice" } } });
  }, 60_000);

  it("request --wait exits 1 when a person rejects, and says who and why", async () => {
    const task = "Delete the old backups";
    const [run] = await Promise.all([cli(["request", "--repo", REPO, "--task", task, "--reason", "Deletes need a human", "--wait"]), decide(task, "/reject we still need them")]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^req_\S+ rejected \(reject\) by alice: we still need them\n$/);
  }, 60_000);

  it("request, status, cancel, then wait exits 2; list and audit print JSON", async () => {
    const opened = await cli(["request", "--repo", REPO, "--task", "Resize the database", "--reason", "Cost", "--json"]);
    expect(opened.code).toBe(0);
    const { id } = JSON.parse(opened.stdout) as { id: string };
    const status = await cli(["status", id, "--json"]);
    expect([status.code, JSON.parse(status.stdout).status]).toEqual([0, "pending"]);
    expect((await cli(["cancel", id, "--reason", "not needed"])).code).toBe(0);
    const waited = await cli(["wait", id]);
    expect(waited.code).toBe(2);
    expect(waited.stdout).toContain(`${id} cancelled (cancel) by agent cli-agent: not needed`);
    const listed = await cli(["list", "--status", "cancelled", "--json"]);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((r) => r.id)).toContain(id);
    const audit = await cli(["audit", "--repo", REPO, "--json"]);
    expect(audit.code).toBe(0);
    const events = audit.stdout.trim().split("\n").map((line) => JSON.parse(line) as { request_id: string; event: string }).filter((e) => e.request_id === id);
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(["created", "cancelled"]));
  }, 60_000);

  it("wait exits 3 when --timeout runs out with the request still pending", async () => {
    const request = await hitl.create({ repo: REPO, task_description: "Rotate the keys", approval_reason: "Secrets" });
    const started = Date.now();
    const run = await cli(["wait", request.id, "--timeout", "2s"]);
    expect(run.code).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(run.stdout).toBe(`${request.id} still pending after 2s\n`);
    await hitl.cancel(request.id);
  }, 30_000);

  it("exits 3 on errors, naming what is wrong", async () => {
    const badToken = await cli(["list"], { HITL_TOKEN: "not-a-token-0123456789" });
    expect(badToken.code).toBe(3);
    expect(badToken.stderr).toContain("HTTP 401 unauthorized");
    const invalid = await cli(["request", "--repo", "not a repo", "--task", "x", "--reason", "y"]);
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toContain("repo: must be owner/name");
    const missing = await cli(["status", "req_missing"]);
    expect([missing.code, missing.stderr]).toEqual([3, expect.stringContaining("HTTP 404 not_found")]);
    const noEnv = await cli(["list"], { HITL_URL: "" });
    expect([noEnv.code, noEnv.stderr]).toEqual([3, expect.stringContaining("Set HITL_URL and HITL_TOKEN")]);
    expect((await cli(["frobnicate"])).code).toBe(3);
  }, 30_000);
});
