import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { AGENT, api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const POLICY = `approvers: [alice]
deadline: 8h
fallback: {type: abort, reason: "Nobody answered"}
escalation:
  - after: 1h
    approvers: [bob]
rules:
  - id: small-refunds
    when: {field: amount, lt: 50}
    action: approve
`;

describe("state changes in the log", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  afterEach(async () => {
    await app?.close();
    await github?.close();
  });

  it("writes one info line per state change, with the request id, repository, event, status, decider kind and via, and no agent text or token", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": POLICY } } } } });
    app = await startApp({ githubUrl: github.url, now: T0, log });
    const open = async (amount: number) =>
      (await api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 77 SECRET-TEXT", approval_reason: "Refunds need a decision", decision_data: { amount } })).json as { id: string; surface_number: number };

    const byRule = await open(20);
    const byPerson = await open(120);
    const expiring = await open(300);
    await app.runtime.jobs.run();
    app.setNow(new Date(T0.getTime() + 10 * 60_000));
    await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: byPerson.surface_number, body: "/approve fine", login: "alice" }), secret: WEBHOOK_SECRET });
    app.setNow(new Date(T0.getTime() + 60 * 60_000));
    await app.runtime.sweep();
    app.setNow(new Date(T0.getTime() + 8 * 60 * 60_000));
    await app.runtime.sweep();
    await app.runtime.jobs.run();

    const changes = lines.filter((line) => typeof line.msg === "string" && line.msg.startsWith("request ")).map(({ level, requestId, repo, event, status, decider, via, msg }) => ({ level, requestId, repo, event, status, decider, via, msg }));
    const line = (requestId: string, event: string, status: string, decider: string, via: string | null) => ({ level: 30, requestId, repo: REPO, event, status, decider, via, msg: `request ${event}` });
    expect(changes).toEqual([
      line(byRule.id, "created", "pending", "agent", null),
      line(byRule.id, "decided", "approved", "rule", "rule"),
      // The issue is opened inline, before the agent gets its answer.
      line(byPerson.id, "created", "pending", "agent", null),
      line(byPerson.id, "surface_opened", "pending", "system", null),
      line(expiring.id, "created", "pending", "agent", null),
      line(expiring.id, "surface_opened", "pending", "system", null),
      line(byPerson.id, "decided", "approved", "person", "comment"),
      line(expiring.id, "escalated", "pending", "system", null),
      line(expiring.id, "expired", "expired", "fallback", "fallback"),
    ]);
    const text = lines.map((entry) => JSON.stringify(entry)).join("\n");
    expect(text).not.toContain("SECRET-TEXT");
    expect(text).not.toContain(AGENT.token);
  });
});
