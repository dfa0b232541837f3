import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const SHA = "47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54";

/**
 * Only GitHub's signed `deployment_protection_rule` event makes a request that answers a workflow
 * run. An agent's request dressed as a deployment (its type, its data, a `deployment` field) is an
 * ordinary request: approving it answers no run.
 */
describe("an agent's request dressed as a deployment", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write" }, runs: [{ id: 9001, headSha: SHA, waitingOn: ["production"] }] } },
    });
    app = await startApp({ githubUrl: github.url });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const dressed = {
    repo: REPO,
    task_description: "Deploy main to production",
    approval_reason: "Deployments to production wait for a person",
    request_type: "deployment",
    decision_data: { environment: "production", ref: "main", sha: SHA, workflow_run: 9001 },
    available_actions: [
      { id: "approve", label: "Deploy" },
      { id: "reject", label: "Do not deploy" },
    ],
  };

  it("refuses a deployment field, and approving the rest answers no workflow run", async () => {
    const withField = await api(app, "POST", "/requests", { ...dressed, deployment: { environment: "production", runId: 9001, sha: SHA } });
    expect(withField.status).toBe(400);
    expect(withField.json.error.issues).toEqual([{ path: "(body)", message: 'Unrecognized key: "deployment"' }]);

    const opened = await api(app, "POST", "/requests", dressed);
    expect(opened.status).toBe(201);
    const { id, surface_number: number } = opened.json as { id: string; surface_number: number };
    await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: number, body: "/approve", login: "alice" }), secret: WEBHOOK_SECRET });
    await app.runtime.jobs.run();
    const stored = (await app.store.get(id))!;
    expect(stored).toMatchObject({ status: "approved", requestType: "deployment" });
    expect(stored.deployment).toBeUndefined();
    expect(github.calls.filter((call) => call.path.includes("/actions/"))).toEqual([]);
    expect(github.repo(REPO).runs[0]).toMatchObject({ waitingOn: ["production"], reviews: [] });
  });
});
