import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEBHOOK_SECRET } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { REPO_ROOT, startServerProcess, type ServerProcess } from "../support/server-process.js";
import { waitFor } from "../support/wait.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const TOKEN = "python-agent-token-0123456789";
const PYTHON = process.env.PYTHON ?? "python3";

/**
 * The Python client's unittest suite (clients/python/tests) against the real server process and
 * the GitHub stand-in. The suite plays the agent; this side plays GitHub: the control endpoint's
 * `POST /comment {request_id, login, body}` comments on the request's issue and delivers the
 * `issue_comment` webhook, as github.com would.
 */
describe("Python client (unittest) against the real server", () => {
  let github: GitHubStandIn;
  let server: ServerProcess;
  let control: Server;
  let controlUrl: string;
  let dataDir: string;

  const api = async (path: string) => {
    const response = await fetch(`${server.base}/api/v1${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return (await response.json()) as Record<string, unknown>;
  };

  async function personComments(input: { request_id: string; login: string; body: string }): Promise<{ status: number }> {
    const issue = await waitFor("the request's issue", async () => ((await api(`/requests/${encodeURIComponent(input.request_id)}`)).surface_number as number | null) ?? undefined, 15_000);
    const posted = github.comment(REPO, issue, { login: input.login, body: input.body });
    const delivery = await deliver(`${server.base}/api/github/webhooks`, {
      event: "issue_comment",
      payload: issueCommentPayload({ repo: REPO, issueNumber: issue, commentId: posted.id, body: input.body, login: input.login }),
      secret: WEBHOOK_SECRET,
    });
    return { status: delivery.status };
  }

  beforeAll(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" } } } });
    dataDir = await mkdtemp(join(tmpdir(), "hitl-python-"));
    server = await startServerProcess({ githubHost: github.host, env: { HITL_AGENT_TOKENS: `python-agent:${TOKEN}`, HITL_DATA_DIR: dataDir } });
    control = createServer((req, res) => {
      let text = "";
      req.on("data", (chunk: Buffer) => (text += chunk.toString()));
      req.on("end", () => {
        const answer = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
        if (req.method !== "POST" || req.url !== "/comment") return answer(404, { error: "POST /comment only" });
        personComments(JSON.parse(text)).then(
          (result) => answer(200, result),
          (error: unknown) => answer(500, { error: String(error) }),
        );
      });
    });
    await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
    controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await github?.close();
    await new Promise((resolve) => control?.close(resolve));
    await rm(dataDir, { recursive: true, force: true });
  });

  it("passes python3 -m unittest with no test skipped", async () => {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(PYTHON, ["-m", "unittest", "-v"], {
        cwd: join(REPO_ROOT, "clients", "python"),
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", HITL_URL: server.base, HITL_TOKEN: TOKEN, HITL_CONTROL_URL: controlUrl, HITL_REPO: REPO, PYTHONDONTWRITEBYTECODE: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, output }));
    });
    expect(code, output).toBe(0);
    expect(output).toMatch(/^OK$/m);
    expect(output).not.toMatch(/skipped/);
    expect(Number(/^Ran (\d+) tests?/m.exec(output)?.[1])).toBeGreaterThanOrEqual(15);
  }, 180_000);
});
