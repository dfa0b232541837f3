import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import { waitFor } from "../support/wait.js";

/**
 * The real server as a serverless deployment runs it: no in-process sweep (`HITL_SWEEP_CRON=off`),
 * an external scheduler calling `POST /api/v1/sweep` with `HITL_SWEEP_TOKEN`, listening on
 * 0.0.0.0 as the image does.
 */

const REPO = "octo-org/payments";
const ISSUE = `/repos/${REPO}/issues/1`;
const AGENT_TOKEN = "sweep-e2e-agent-token-0123456789";
const SWEEP_TOKEN = "sweep-e2e-scheduler-token-0123456789abcdef";

describe("a server with HITL_SWEEP_CRON=off, swept from outside", () => {
  let github: GitHubStandIn;
  let server: ServerProcess;
  let dataDir: string;

  beforeAll(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": "approvers: [alice]\nescalation:\n  - after: 1s\n    approvers: [bob]\n" } } } },
    });
    dataDir = await mkdtemp(join(tmpdir(), "hitl-e2e-sweep-"));
    server = await startServerProcess({
      githubHost: github.host,
      env: { HOST: "0.0.0.0", HITL_AGENT_TOKENS: `refund-agent:${AGENT_TOKEN}`, HITL_DATA_DIR: dataDir, HITL_SWEEP_CRON: "off", HITL_SWEEP_TOKEN: SWEEP_TOKEN, LOG_LEVEL: "info" },
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await github?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const sweep = (token: string) => fetch(`${server.base}/api/v1/sweep`, { method: "POST", headers: { authorization: `Bearer ${token}` } });

  it("escalates a due request when the scheduler calls, and refuses the agent's token", async () => {
    expect((await fetch(`${server.base}/readyz`)).status).toBe(200);
    const created = await fetch(`${server.base}/api/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ repo: REPO, task_description: "Refund order 77", approval_reason: "Large refund", decision_data: { amount: 900 } }),
    });
    const request = (await created.json()) as { id: string; escalation: { next: { type: string; at: string } } };
    expect({ status: created.status, next: request.escalation.next.type }).toEqual({ status: 201, next: "escalate" });
    await waitFor("the escalation to come due", () => (Date.now() > Date.parse(request.escalation.next.at) + 200 ? true : undefined), 10_000, 50);

    const refused = await sweep(AGENT_TOKEN);
    expect({ status: refused.status, body: await refused.json() }).toEqual({ status: 403, body: { error: { code: "agent_token_refused", message: "An agent token cannot run the sweep: use HITL_SWEEP_TOKEN." } } });
    github.clearCalls();
    const swept = await sweep(SWEEP_TOKEN);
    expect({ status: swept.status, body: await swept.json() }).toMatchObject({ status: 200, body: { sweep: { ran: true, escalated: 1 }, jobs: { ran: 1 } } });
    expect(github.callsTo("PATCH", ISSUE).map((call) => call.body)).toEqual([{ assignees: ["bob"], body: expect.stringContaining("⏫ **Escalated** to @\u200dbob (level 1") }]);
    // With a token set, nothing warns that no sweep runs; the token itself is never logged.
    expect(server.output()).not.toContain("HITL_SWEEP_CRON is off");
    expect(server.output()).not.toContain(SWEEP_TOKEN);
  }, 60_000);

  it("warns at start-up when nothing would run the sweep (cron off, no token), and answers 403 sweep_disabled", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hitl-e2e-nosweep-"));
    const idle = await startServerProcess({ githubHost: github.host, env: { HITL_AGENT_TOKENS: `refund-agent:${AGENT_TOKEN}`, HITL_DATA_DIR: dir, HITL_SWEEP_CRON: "off", LOG_LEVEL: "info" } });
    try {
      const answer = await fetch(`${idle.base}/api/v1/sweep`, { method: "POST", headers: { authorization: `Bearer ${SWEEP_TOKEN}` } });
      expect({ status: answer.status, body: await answer.json() }).toEqual({
        status: 403,
        body: { error: { code: "sweep_disabled", message: "/api/v1/sweep is off on this server: set HITL_SWEEP_TOKEN to let an external scheduler run the sweep." } },
      });
      expect(idle.output()).toContain(
        "HITL_SWEEP_CRON is off and HITL_SWEEP_TOKEN is not set: nothing runs the sweep here, so escalations, deadlines and fallbacks wait for another replica's cron.",
      );
    } finally {
      await idle.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
