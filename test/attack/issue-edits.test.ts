import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload, issueEditedPayload } from "../support/webhooks.js";

/**
 * Anyone with write access may edit any issue, hitl's included, and an agent's own GitHub
 * account often has write access. hitl edits a request's body only to keep its status line and
 * tally true, so an edit by anyone else means people no longer read what the agent asked: the
 * request is cancelled, and an approval of the edited text decides nothing.
 */
const REPO = "octo-org/payments";
const AGENT_LOGIN = "ci-user";

describe("an edited request issue", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", [AGENT_LOGIN]: "write" } } } });
    app = await startApp({ githubUrl: github.url, agents: [{ name: "refund-agent", token: "refund-agent-token-0123456789", githubLogins: [AGENT_LOGIN] }] });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const send = (event: string, payload: unknown) => deliver(`${app.url}/api/github/webhooks`, { event, payload, secret: WEBHOOK_SECRET });

  it("cancels the pending request when someone else edits its body, so /approve of the edited text decides nothing", async () => {
    const created = await api(app, "POST", "/requests", { repo: REPO, task_description: "Drop the production database", approval_reason: "Cleanup", deadline: "2099-01-01T00:00:00Z" });
    expect(created.status).toBe(201);
    const number = created.json.surface_number as number;
    const original = (github.callsTo("POST", "/repos/octo-org/payments/issues")[0]!.body as { body: string }).body;
    const edited = original.replace("Drop the production database", "Fix a typo in the README");
    expect((await send("issues", issueEditedPayload({ repo: REPO, issueNumber: number, login: AGENT_LOGIN, body: edited, previousBody: original }))).status).toBe(200);
    await app.runtime.jobs.run();
    expect((await api(app, "GET", `/requests/${created.json.id}`)).json).toMatchObject({
      status: "cancelled",
      decision: { via: "issue_edited", decided_by: { type: "system" } },
    });
    const comments = github.callsTo("POST", `/repos/octo-org/payments/issues/${number}/comments`).map((call) => (call.body as { body: string }).body);
    expect(comments).toHaveLength(1);
    expect(comments[0]).toMatch(/^Cancelled on \d+ \w+ \d{4} \d\d:\d\d UTC: Its title or description was edited on GitHub by ci-user, so it no longer shows what the agent asked\. No decision is needed any more\.\n\n<!-- hitl:outcome:/);

    await send("issue_comment", issueCommentPayload({ repo: REPO, issueNumber: number, body: "/approve", login: "alice" }));
    expect((await api(app, "GET", `/requests/${created.json.id}`)).json.status).toBe("cancelled");
  });

  it("leaves a request alone when hitl itself edits the body (its tally of votes), and cancels it when another bot does", async () => {
    const created = await api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 1234", approval_reason: "Refunds need a human", deadline: "2099-01-01T00:00:00Z" });
    const number = created.json.surface_number as number;
    const original = (github.callsTo("POST", "/repos/octo-org/payments/issues")[0]!.body as { body: string }).body;
    const tallied = `${original}\n\n1 of 2 approvals`;
    await send("issues", issueEditedPayload({ repo: REPO, issueNumber: number, login: "hitl[bot]", userType: "Bot", body: tallied, previousBody: original }));
    expect((await api(app, "GET", `/requests/${created.json.id}`)).json.status).toBe("pending");
    expect(github.callsTo("GET", "/app")).toHaveLength(1);
    await send("issues", issueEditedPayload({ repo: REPO, issueNumber: number, login: "helper-app[bot]", userType: "Bot", body: tallied, previousBody: original }));
    expect((await api(app, "GET", `/requests/${created.json.id}`)).json.status).toBe("cancelled");
    expect(github.callsTo("GET", "/app")).toHaveLength(1);
  });

  it("leaves a request alone when its issue's labels or assignees change (no title or body change)", async () => {
    const created = await api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 1234", approval_reason: "Refunds need a human", deadline: "2099-01-01T00:00:00Z" });
    const number = created.json.surface_number as number;
    await send("issues", issueEditedPayload({ repo: REPO, issueNumber: number, login: "alice", body: "unchanged" }));
    expect((await api(app, "GET", `/requests/${created.json.id}`)).json.status).toBe("pending");
  });
});
