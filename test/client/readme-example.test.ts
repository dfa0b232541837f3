import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { afterEach, describe, expect, it } from "vitest";
import { AGENT, api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { REPO_ROOT } from "../support/server-process.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

describe("the README's five-line integration", () => {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const example = /<!-- five-line integration -->\n```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";

  it("is five lines", () => {
    expect(example.split("\n").filter((line) => line.trim() !== "")).toHaveLength(5);
  });

  it("compiles against hitl/client as written", async () => {
    const dir = await mkdtemp(join(REPO_ROOT, "test", "client", ".readme-"));
    try {
      const file = join(dir, "example.ts");
      await writeFile(file, example.replace('from "hitl/client"', `from ${JSON.stringify(join(REPO_ROOT, "src", "client", "index.js"))}`) + "\nexport {};\n");
      const program = ts.createProgram([file], { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: ["node"], skipLibCheck: true });
      expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

/**
 * The README's example requests, run as written (with `bash` and `curl`) against the app on the
 * GitHub stand-in, on a day a year from now: an example with a fixed date would have stopped
 * working by then.
 */
describe("the README's example requests keep working on any day", () => {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  /** The shell block after `<!-- readme-example: NAME -->`, its list indentation removed. */
  const block = (name: string) => {
    const match = new RegExp(`<!-- readme-example: ${name} -->\\n( *)\`\`\`sh\\n([\\s\\S]*?)\\n\\1\`\`\``).exec(readme);
    if (!match) throw new Error(`README.md has no "${name}" example`);
    const indent = match[1]!.length;
    return match[2]!.split("\n").map((line) => line.slice(indent)).join("\n");
  };
  const inAYear = () => new Date(Date.now() + 365 * 86_400_000);

  let github: GitHubStandIn | undefined;
  let app: AppHarness | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await app?.close();
    await github?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    app = github = dir = undefined;
  });

  /** Runs a README shell block with the app's URL in place of localhost:3000. */
  function runShell(script: string, env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn("bash", ["-euo", "pipefail", "-c", script.replaceAll("http://localhost:3000", app!.url)], { cwd, env: { PATH: process.env.PATH ?? "", ...env } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  }

  it("the request under Asking for approval, a relative deadline counted from when it arrives", async () => {
    github = await startGitHubStandIn({
      repos: { "octo-org/payments": { collaborators: { alice: "write" } } },
      teams: { "octo-org/finance": ["carol"] },
    });
    app = await startApp({ githubUrl: github.url });
    const now = inAYear();
    app.setNow(now);
    dir = await mkdtemp(join(tmpdir(), "hitl-readme-"));
    const { code, stdout, stderr } = await runShell(block("ask"), { TOKEN: AGENT.token }, dir);
    expect(code, stderr).toBe(0);
    const created = JSON.parse(stdout) as { status: string; deadline: string; surface_url: string | null };
    expect(created).toMatchObject({ status: "pending", deadline: new Date(now.getTime() + 48 * 3_600_000).toISOString(), surface_url: "https://github.com/octo-org/payments/issues/1" });
  });

  it("the first request of the step-by-step path, read from .env, then approved on its issue", async () => {
    github = await startGitHubStandIn({ repos: { "you/hitl-sandbox": { collaborators: { you: "write" } } }, installations: [{ id: 1, account: "you", repos: ["you/hitl-sandbox"] }] });
    const token = "0123456789abcdef0123456789abcdef";
    app = await startApp({ githubUrl: github.url, agents: [{ name: "first-agent", token }] });
    const now = inAYear();
    app.setNow(now);
    dir = await mkdtemp(join(tmpdir(), "hitl-readme-"));
    await writeFile(join(dir, ".env"), `WEBHOOK_PROXY_URL=https://smee.io/example\nHITL_AGENT_TOKENS=first-agent:${token}\n`);
    const { code, stdout, stderr } = await runShell(block("first request"), {}, dir);
    expect(code, stderr).toBe(0);
    const created = JSON.parse(stdout) as { id: string; status: string; deadline: string };
    expect(created).toMatchObject({ status: "pending", deadline: new Date(now.getTime() + 48 * 3_600_000).toISOString() });
    const [issue] = github.repo("you/hitl-sandbox").issues;
    expect(issue!.title).toMatch(/^Approval needed: My first request — by (Sun|Mon|Tue|Wed|Thu|Fri|Sat) \d\d:\d\d UTC$/);

    // You comment on the issue, and GitHub sends the webhook.
    const comment = github.comment("you/hitl-sandbox", issue!.number, { login: "you", body: "/approve looks good" });
    const at = new Date(now.getTime() + 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const delivery = await deliver(`${app.url}/api/github/webhooks`, {
      event: "issue_comment",
      payload: issueCommentPayload({ repo: "you/hitl-sandbox", issueNumber: issue!.number, body: comment.body, login: "you", commentId: comment.id, at }),
      secret: WEBHOOK_SECRET,
    });
    expect(delivery.status).toBe(200);
    const decision = await api(app, "GET", `/requests/${created.id}/decision`, undefined, { token });
    expect(decision.json).toMatchObject({ status: "approved", decision: { decided_by: { login: "you" }, justification: "looks good" } });
    await app.runtime.jobs.run();
    expect(issue!.state).toBe("closed");
    expect(comment.reactions.map((reaction) => [reaction.content, reaction.user])).toEqual([["+1", "hitl[bot]"]]);
  });
});
