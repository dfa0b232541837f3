import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, deploymentProtectionRulePayload, issueCommentPayload, pullRequestPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const SHA = "47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54";
const T0 = new Date("2026-11-24T09:00:00.000Z");

/**
 * A workflow run on a pull request deploys that pull request's code (a preview). Its author never
 * approves it, as they never approve the pull request itself, also when someone else's push or
 * re-run made the run (so the author is neither the deployment's creator nor the event's sender).
 */
describe("a deployment from a pull request's workflow run", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      now: () => T0,
      repos: {
        [REPO]: {
          collaborators: { alice: "write", dana: "write" },
          files: { main: { ".hitl.yml": "environments:\n  preview:\n    deadline: 2h\n" } },
          runs: [{ id: 9001, headSha: SHA, waitingOn: ["preview"] }],
        },
      },
    });
    app = await startApp({ githubUrl: github.url, now: T0 });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  it("never counts the pull request's author", async () => {
    const pull = pullRequestPayload({ repo: REPO, action: "synchronize", number: 7, headSha: SHA, author: "dana", login: "alice" }).pull_request;
    const payload = { ...deploymentProtectionRulePayload({ apiUrl: github.url, environment: "preview", runId: 9001, sha: SHA, at: T0.toISOString(), creator: "alice", event: "pull_request", ref: "feature-7" }), pull_requests: [pull] };
    expect((await deliver(`${app.url}/api/github/webhooks`, { event: "deployment_protection_rule", payload, secret: WEBHOOK_SECRET })).status).toBe(200);
    expect((await app.store.list({ repo: REPO }))[0]).toMatchObject({ agentLogins: ["alice", "dana"] });
    github.clearCalls();
    await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: 1, body: "/approve", login: "dana", at: new Date(T0.getTime() + 60_000).toISOString() }), secret: WEBHOOK_SECRET });
    await app.runtime.jobs.run();
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues/1/comments").map((call) => (call.body as { body: string }).body)).toEqual([
      "@dana, you opened this request, so you cannot decide it. Who may decide: anyone with write access to this repository.",
    ]);
    expect(github.repo(REPO).runs[0]!.reviews).toEqual([]);
  });
});
