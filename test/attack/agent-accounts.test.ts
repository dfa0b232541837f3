import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AGENT, api, OTHER_AGENT, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, deploymentProtectionRulePayload, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const SHA = "47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54";
const T0 = new Date("2026-11-24T09:00:00.000Z");

/**
 * An account `HITL_AGENT_TOKENS` names with `github=` is an agent's, whichever agent asked: it is
 * never the person who approves. A deployment has no agent behind it that hitl knows (a person
 * may have merged the agent's change), and one agent's account must not approve another's request.
 */
describe("an agent's GitHub account never decides, whoever asked", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      now: () => T0,
      repos: {
        [REPO]: {
          // No approvers: anyone with write access decides; the agent's account has write access to push branches.
          collaborators: { alice: "write", carol: "write", "ci-user": "write" },
          files: { main: { ".hitl.yml": "environments:\n  production:\n    deadline: 2h\n" } },
          runs: [{ id: 9001, headSha: SHA, waitingOn: ["production"] }],
        },
      },
    });
    app = await startApp({ githubUrl: github.url, now: T0, agents: [{ ...AGENT, githubLogins: ["ci-user"] }, OTHER_AGENT] });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const webhooks = () => `${app.url}/api/github/webhooks`;
  const comment = (body: string, login: string, issueNumber = 1) =>
    deliver(webhooks(), { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber, body, login, at: new Date(T0.getTime() + 60_000).toISOString() }), secret: WEBHOOK_SECRET });
  const replies = (number = 1) => github.callsTo("POST", `/repos/octo-org/payments/issues/${number}/comments`).map((call) => (call.body as { body: string }).body);
  const reviews = () => github.repo(REPO).runs[0]!.reviews;

  it("refuses the agent's account on a deployment a person triggered, and a person still decides it", async () => {
    // carol merged the agent's change: the run is hers, not the agent's.
    const payload = deploymentProtectionRulePayload({ apiUrl: github.url, environment: "production", runId: 9001, sha: SHA, at: T0.toISOString(), creator: "carol" });
    expect((await deliver(webhooks(), { event: "deployment_protection_rule", payload, secret: WEBHOOK_SECRET })).status).toBe(200);
    github.clearCalls();
    await comment("/approve", "CI-User");
    await app.runtime.jobs.run();
    expect(replies()).toEqual(["@CI-User, this is an agent's GitHub account, so it cannot decide. Who may decide: anyone with write access to this repository."]);
    expect(github.callsTo("GET", /\/collaborators\//)).toEqual([]);
    expect(reviews()).toEqual([]);
    expect((await app.store.list({ repo: REPO }))[0]!.status).toBe("pending");

    await comment("/approve", "alice");
    await app.runtime.jobs.run();
    expect(reviews()).toEqual([expect.objectContaining({ environment: "production", state: "approved" })]);
  });

  it("refuses one agent's account on another agent's request", async () => {
    const opened = await api(app, "POST", "/requests", { repo: REPO, task_description: "Rotate the staging key", approval_reason: "Keys need a person" }, { token: OTHER_AGENT.token });
    expect(opened.status).toBe(201);
    const { id, surface_number: number } = opened.json as { id: string; surface_number: number };
    github.clearCalls();
    await comment("/approve", "ci-user", number);
    expect(replies(number)).toEqual(["@ci-user, this is an agent's GitHub account, so it cannot decide. Who may decide: anyone with write access to this repository."]);
    expect((await api(app, "GET", `/requests/${id}`, undefined, { token: OTHER_AGENT.token })).json).toMatchObject({ status: "pending" });
  });
});
