import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_REPO, startClientHarness, type ClientHarness } from "../support/client-harness.js";
import { REPO_ROOT } from "../support/server-process.js";
import { waitFor } from "../support/wait.js";

/** The fenced block that follows `<!-- tested: ...` naming `marker` in docs/agents.md. */
async function documented(marker: string, fence: string): Promise<string> {
  const text = await readFile(join(REPO_ROOT, "docs", "agents.md"), "utf8");
  const at = text.indexOf(`<!-- tested: test/clients/agents-doc.test.ts ${marker}`);
  expect(at, `docs/agents.md has no block marked "${marker}"`).toBeGreaterThan(-1);
  const start = text.indexOf("```" + fence + "\n", at) + fence.length + 4;
  return text.slice(start, text.indexOf("\n```", start) + 1);
}

interface StepRun {
  code: number | null;
  output: string;
}

/** The snippets of docs/agents.md marked as tested, run against the real server and the GitHub stand-in. */
describe("docs/agents.md", () => {
  let harness: ClientHarness;

  beforeAll(async () => {
    harness = await startClientHarness("docs-agent");
  }, 120_000);

  afterAll(async () => {
    await harness?.close();
  });

  /** The GitHub Actions step's script, as GitHub runs a `run:` step, with the step's env pointed at the server. */
  async function runStep(runId: string): Promise<StepRun> {
    const workflow = load(await documented("runs this step's script", "yaml")) as { jobs: Record<string, { steps: Array<{ run?: string; env?: Record<string, string> }> }> };
    const step = Object.values(workflow.jobs)[0]!.steps[0]!;
    expect(Object.keys(step.env ?? {}).sort()).toEqual(["HITL_TOKEN", "HITL_URL"]);
    return new Promise((resolve, reject) => {
      const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run!], {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          HITL_URL: harness.server.base,
          HITL_TOKEN: harness.token,
          GITHUB_REPOSITORY: CLIENT_REPO,
          GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
          GITHUB_RUN_ID: runId,
          GITHUB_RUN_ATTEMPT: "1",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, output }));
    });
  }

  const requestsOfRun = async (runId: string) =>
    ((await harness.api("/requests?limit=500")).requests as Array<{ id: string; status: string; decision_data: { run?: string } }>).filter((request) => request.decision_data.run === runId);

  /** Runs the step, and once its request is pending, comments `comment` on it as alice. */
  async function decideStep(runId: string, comment: string): Promise<StepRun> {
    const running = runStep(runId);
    const pending = await waitFor("the step's request", async () => (await requestsOfRun(runId)).find((request) => request.status === "pending"), 20_000);
    expect((await harness.personComments(pending.id, comment)).status).toBe(200);
    return running;
  }

  it("GitHub Actions step: passes when approved, and a re-run of the attempt finds the same request", async () => {
    const runId = String(Date.now());
    const approved = await decideStep(runId, "/approve ship it");
    expect(approved.output).toContain("Waiting for a decision on http");
    expect(approved.output).toContain("hitl: approved by alice: ship it");
    expect(approved.code, approved.output).toBe(0);

    const issues = harness.github.callsTo("POST", `/repos/${CLIENT_REPO}/issues`).length;
    const again = await runStep(runId);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain("hitl: approved by alice: ship it");
    expect((await requestsOfRun(runId)).map((request) => request.status)).toEqual(["approved"]);
    expect(harness.github.callsTo("POST", `/repos/${CLIENT_REPO}/issues`)).toHaveLength(issues);
  }, 60_000);

  it("GitHub Actions step: fails when rejected, and when the request is refused, with the server's reason", async () => {
    const rejected = await decideStep(`${Date.now()}-r`, "/reject not on a Friday");
    expect(rejected.output).toContain("hitl: rejected by alice: not on a Friday");
    expect(rejected.code).toBe(1);

    const workflow = await documented("runs this step's script", "yaml");
    expect(workflow).toContain("$HITL_URL/api/v1/requests");
    const refused = await new Promise<StepRun>((resolve) => {
      const child = spawn("bash", ["-c", (load(workflow) as { jobs: Record<string, { steps: Array<{ run: string }> }> }).jobs.deploy!.steps[0]!.run], {
        env: { PATH: process.env.PATH ?? "", HITL_URL: harness.server.base, HITL_TOKEN: harness.token, GITHUB_REPOSITORY: "not a repository", GITHUB_SHA: "abc", GITHUB_RUN_ID: "1", GITHUB_RUN_ATTEMPT: "1" },
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.on("close", (code) => resolve({ code, output }));
    });
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('"path":"repo"');
  }, 60_000);

  it("TypeScript hitlDecision helper: asks, long-polls and returns the decision; the same key finds the same request", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hitl-doc-"));
    const file = join(dir, "hitl-decision.ts");
    await writeFile(file, await documented("imports this block", "ts"));
    const saved = { url: process.env.HITL_URL, token: process.env.HITL_TOKEN };
    process.env.HITL_URL = harness.server.base;
    process.env.HITL_TOKEN = harness.token;
    try {
      const { hitlDecision } = (await import(file)) as { hitlDecision: (request: Record<string, unknown>, key: string) => Promise<{ id: string; status: string; decision: { justification: string | null } }> };
      const key = randomUUID();
      const task = `Refund order ${key}`;
      const asked = { repo: CLIENT_REPO, task_description: task, approval_reason: "Refunds need a human", decision_data: { amount: 120 } };
      const deciding = waitFor("the helper's request", async () => ((await harness.api("/requests?status=pending")).requests as Array<{ id: string; task_description: string }>).find((r) => r.task_description === task)).then((request) =>
        harness.personComments(request.id, "/reject too much"),
      );
      const decided = await hitlDecision(asked, key);
      await deciding;
      expect(decided).toMatchObject({ status: "rejected", decision: { justification: "too much", decided_by: { login: "alice" } } });
      expect(await hitlDecision(asked, key)).toMatchObject({ id: decided.id, status: "rejected" });
      await expect(hitlDecision({ ...asked, repo: "nope" }, randomUUID())).rejects.toThrow(/hitl 400 invalid_request: .*repo/);
    } finally {
      process.env.HITL_URL = saved.url;
      process.env.HITL_TOKEN = saved.token;
      if (saved.url === undefined) delete process.env.HITL_URL;
      if (saved.token === undefined) delete process.env.HITL_TOKEN;
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  type McpEntry = { command?: string; args?: string[]; env?: Record<string, string>; type?: string; url?: string; headers?: Record<string, string> };
  const mcpEntry = async (marker: string) => (JSON.parse(await documented(marker, "json")) as { mcpServers: { hitl: McpEntry } }).mcpServers.hitl;

  /** Asks through the tools as the doc's entry connects, and checks the request is the token's agent's. */
  async function asksThrough(client: Client, task: string): Promise<void> {
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(["cancel_approval", "get_approval", "list_my_requests", "request_approval", "wait_for_approval"]);
    const asked = (await client.callTool({ name: "request_approval", arguments: { repo: CLIENT_REPO, task_description: task, approval_reason: "Deploys need a human" } })) as { structuredContent?: { id: string; status: string } };
    expect(asked.structuredContent).toMatchObject({ status: "pending" });
    expect(await harness.api(`/requests/${asked.structuredContent!.id}`)).toMatchObject({ task_description: task, requested_by: "docs-agent" });
    await client.callTool({ name: "cancel_approval", arguments: { id: asked.structuredContent!.id } });
  }

  it("MCP stdio entry: `hitl mcp` with HITL_URL and HITL_TOKEN serves the tools as the token's agent", async () => {
    const entry = await mcpEntry("starts this stdio entry");
    expect(entry.command).toBe("npx");
    expect(entry.args?.[0]).toBe("hitl");
    expect(Object.keys(entry.env ?? {}).sort()).toEqual(["HITL_TOKEN", "HITL_URL"]);
    const client = new Client({ name: "docs", version: "1.0.0" });
    // `npx hitl` is the package's bin, src/cli/main.ts built; the arguments and the variables are the doc's.
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ["--import", "tsx", "src/cli/main.ts", ...entry.args!.slice(1)],
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", HITL_URL: harness.server.base, HITL_TOKEN: harness.token },
        stderr: "pipe",
      }),
    );
    try {
      await asksThrough(client, `Deploy over stdio ${randomUUID()}`);
    } finally {
      await client.close();
    }
  }, 60_000);

  it("MCP HTTP entry: /mcp with the bearer header serves the tools as the token's agent; without it, 401", async () => {
    const entry = await mcpEntry("connects to this HTTP entry");
    expect(entry.type).toBe("http");
    const url = new URL(new URL(entry.url!).pathname, harness.server.base);
    const headers = Object.fromEntries(Object.entries(entry.headers!).map(([name, value]) => [name, value.replace("<agent token>", harness.token)]));
    expect(headers).toEqual({ Authorization: `Bearer ${harness.token}` });
    const client = new Client({ name: "docs", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
    try {
      await asksThrough(client, `Deploy over HTTP ${randomUUID()}`);
    } finally {
      await client.close();
    }
    const anonymous = await fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
    expect(anonymous.status).toBe(401);
  }, 60_000);
});
