import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Hitl } from "../../src/client/index.js";
import { WEBHOOK_SECRET } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { REPO_ROOT, startServerProcess, type ServerProcess } from "../support/server-process.js";
import { waitFor } from "../support/wait.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const TOKEN = "mcp-agent-token-0123456789";
const OTHER_TOKEN = "other-agent-token-0123456789";
const TOOLS = ["cancel_approval", "get_approval", "list_my_requests", "request_approval", "wait_for_approval"];

type ToolAnswer = { structuredContent?: Record<string, unknown>; isError?: boolean; content: { type: string; text?: string }[] };

/** The MCP server through the SDK's own client, over stdio (`hitl mcp`) and Streamable HTTP (`/mcp`). */
describe("the hitl MCP server end to end", () => {
  let github: GitHubStandIn;
  let server: ServerProcess;
  let dataDir: string;
  let hitl: Hitl;

  beforeAll(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" } } } });
    dataDir = await mkdtemp(join(tmpdir(), "hitl-mcp-"));
    server = await startServerProcess({ githubHost: github.host, env: { HITL_AGENT_TOKENS: `mcp-agent:${TOKEN},other-agent:${OTHER_TOKEN}`, HITL_DATA_DIR: dataDir } });
    hitl = new Hitl({ url: server.base, token: TOKEN });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await github?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const approveOnGitHub = async (id: string, body: string) => {
    const request = await waitFor(`the issue of ${id}`, async () => {
      const found = await hitl.get(id);
      return found.surface_number === null ? undefined : found;
    });
    // GitHub's timestamps are whole seconds, and a comment from before the request does not count: a person takes longer.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const delivery = await deliver(`${server.base}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: request.surface_number!, body, login: "alice" }), secret: WEBHOOK_SECRET });
    expect(delivery.status).toBe(200);
  };

  const call = async (client: Client, name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as ToolAnswer;

  it("over Streamable HTTP at /mcp with the agent's token: ask (pending at once), decide on GitHub, wait, list", async () => {
    const client = new Client({ name: "test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
      const ask = tools.find((t) => t.name === "request_approval")!;
      expect(ask.description).toContain("do other work and check back");
      expect(ask.inputSchema.properties).toHaveProperty("wait_seconds");

      const asked = await call(client, "request_approval", { repo: REPO, task_description: "Restart the payments service", approval_reason: "Production restarts need a human", decision_data: { service: "payments" }, context: { summary: "Restart payments after the config change", full: { diff: ["-a", "+b"] } } });
      expect(asked.isError).toBeFalsy();
      expect(asked.structuredContent).toMatchObject({ status: "pending", next: expect.stringContaining("Do not perform the action") });
      const id = asked.structuredContent!.id as string;
      expect((await hitl.get(id)).requested_by).toBe("mcp-agent");
      expect(await hitl.context(id)).toMatchObject({ summary: "Restart payments after the config change", detail: null, full: { diff: ["-a", "+b"] } });

      const [waited] = await Promise.all([call(client, "wait_for_approval", { id, wait_seconds: 20 }), approveOnGitHub(id, "/approve ok")]);
      expect(waited.structuredContent).toMatchObject({ id, status: "approved", decision: { justification: "ok", decided_by: { login: "alice" } } });
      expect((await call(client, "get_approval", { id })).structuredContent).toMatchObject({ status: "approved" });
      const listed = await call(client, "list_my_requests", { status: "approved" });
      expect((listed.structuredContent!.requests as { id: string }[]).map((r) => r.id)).toContain(id);

      // Tools answer API errors as tool errors, in words.
      const invalid = await call(client, "request_approval", { repo: "nope", task_description: "x", approval_reason: "y" });
      expect(invalid.isError).toBe(true);
      expect(invalid.content[0]!.text).toContain("repo: must be owner/name");
      expect((await call(client, "wait_for_approval", { id, wait_seconds: 51 })).isError).toBe(true);
    } finally {
      await client.close();
    }
  }, 60_000);

  it("refuses /mcp without a valid token, and a token reaches only its own agent's requests", async () => {
    const initialize = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } };
    const refused = await fetch(`${server.base}/mcp`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: JSON.stringify(initialize) });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="hitl"');

    const mine = await hitl.create({ repo: REPO, task_description: "Mine", approval_reason: "Test" });
    const other = new Client({ name: "other", version: "1.0.0" });
    await other.connect(new StreamableHTTPClientTransport(new URL(`${server.base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${OTHER_TOKEN}` } } }));
    try {
      const answer = await call(other, "get_approval", { id: mine.id });
      expect(answer.isError).toBe(true);
      expect(answer.content[0]!.text).toContain("not_found");
      expect((await call(other, "cancel_approval", { id: mine.id })).isError).toBe(true);
    } finally {
      await other.close();
    }
    expect((await hitl.get(mine.id)).status).toBe("pending");
    await hitl.cancel(mine.id);
  }, 30_000);

  it("over stdio (hitl mcp): request_approval waits up to wait_seconds and returns the decision", async () => {
    const client = new Client({ name: "test", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ["--import", "tsx", "src/cli/main.ts", "mcp"],
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", HITL_URL: server.base, HITL_TOKEN: TOKEN },
        stderr: "pipe",
      }),
    );
    try {
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(TOOLS);
      const task = "Rotate the database password";
      const approving = (async () => {
        const request = await waitFor("the request", async () => (await hitl.list({ status: "pending" })).find((r) => r.task_description === task));
        await approveOnGitHub(request.id, "/approve rotate it");
      })();
      const [answer] = await Promise.all([call(client, "request_approval", { repo: REPO, task_description: task, approval_reason: "Secrets need a human", wait_seconds: 30 }), approving]);
      expect(answer.structuredContent).toMatchObject({ status: "approved", decision: { justification: "rotate it" } });

      const cancelled = await call(client, "request_approval", { repo: REPO, task_description: "Drop the cache", approval_reason: "Test" });
      expect(cancelled.structuredContent).toMatchObject({ status: "pending" });
      expect((await call(client, "cancel_approval", { id: cancelled.structuredContent!.id, reason: "plan changed" })).structuredContent).toMatchObject({ status: "cancelled" });
    } finally {
      await client.close();
    }
  }, 60_000);
});
