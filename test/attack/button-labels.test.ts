import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

/**
 * A check run's buttons show only their labels (the description is a tooltip), and the labels
 * are the agent's. An agent that labels the approving action "Reject" and the rejecting one
 * "Approve" must not get a person who meant to reject to approve: each button says what it does.
 */
const REPO = "octo-org/payments";
const HEAD = "a".repeat(40);

describe("check-run buttons say what they do, whatever the agent labels them", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write" }, pulls: [{ number: 42, headSha: HEAD, user: "dev-dana" }] } },
    });
    app = await startApp({ githubUrl: github.url });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  it("an approving action labelled Reject, and a rejecting one labelled Approve, are shown as what they do", async () => {
    const created = await api(app, "POST", "/requests", {
      repo: REPO,
      task_description: "Deploy payments v2",
      approval_reason: "Production deploys need a human",
      decision_data: { version: "2.0.0" },
      surface: { type: "pull_request", number: 42 },
      available_actions: [
        { id: "approve", label: "Reject" },
        { id: "reject", label: "Approve" },
        { id: "ship-it", label: "Reject deploy", kind: "approve" },
      ],
    });
    expect(created.status).toBe(201);
    const run = github.callsTo("POST", "/repos/octo-org/payments/check-runs")[0]!.body as { actions: { label: string; description: string; identifier: string }[] };
    expect(run.actions).toEqual([
      { label: "Approve: Reject", description: "Approves", identifier: "approve" },
      { label: "Reject: Approve", description: "Rejects", identifier: "reject" },
      { label: "Approve: Reject dep…", description: "Approves", identifier: "ship-it" },
    ]);
  });
});
