import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
});
