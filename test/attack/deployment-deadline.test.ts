import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, deploymentProtectionRulePayload, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const SHA = "47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/**
 * A decision is judged at the time it was made (GitHub's `created_at`), as a vote is: a `/reject`
 * made before the deadline whose webhook comes after it still rejects, rather than being refused
 * while an approving fallback deploys what the person turned down.
 */
describe("a rejection made in time, delivered after the deadline", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      now: () => T0,
      repos: {
        [REPO]: {
          collaborators: { alice: "write" },
          files: { main: { ".hitl.yml": 'environments:\n  "preview-*":\n    deadline: 30m\n    fallback: {type: use_default, action: approve, reason: "Previews go out unless someone objects"}\n' } },
          runs: [{ id: 9002, headSha: SHA, waitingOn: ["preview-42"] }],
        },
      },
    });
    app = await startApp({ githubUrl: github.url, now: T0 });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  it("rejects the deployment; the approving fallback never applies", async () => {
    const payload = deploymentProtectionRulePayload({ apiUrl: github.url, environment: "preview-42", runId: 9002, sha: SHA, at: T0.toISOString() });
    await deliver(`${app.url}/api/github/webhooks`, { event: "deployment_protection_rule", payload, secret: WEBHOOK_SECRET });
    // Made a second before the deadline; its webhook arrives two seconds after it.
    app.setNow(at(30 * 60 + 2));
    await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: 1, body: "/reject not this one", login: "alice", at: at(30 * 60 - 1).toISOString() }), secret: WEBHOOK_SECRET });
    await app.runtime.sweep();
    await app.runtime.jobs.run();
    expect(github.repo(REPO).runs[0]!.reviews).toEqual([
      { environment: "preview-42", state: "rejected", comment: "Rejected on hitl by alice: not this one. https://github.com/octo-org/payments/issues/1", installationId: 1, at: expect.any(String) },
    ]);
    expect((await app.store.list({ repo: REPO }))[0]).toMatchObject({ status: "rejected", decision: { decidedBy: { type: "human", login: "alice" } } });
  });

  it("still refuses a decision made after the deadline", async () => {
    const payload = deploymentProtectionRulePayload({ apiUrl: github.url, environment: "preview-42", runId: 9002, sha: SHA, at: T0.toISOString() });
    await deliver(`${app.url}/api/github/webhooks`, { event: "deployment_protection_rule", payload, secret: WEBHOOK_SECRET });
    app.setNow(at(30 * 60 + 2));
    github.clearCalls();
    await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: 1, body: "/reject", login: "alice", at: at(30 * 60).toISOString() }), secret: WEBHOOK_SECRET });
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues/1/comments").map((call) => (call.body as { body: string }).body)).toEqual([
      "@alice, the deadline of this request (24 Nov 2026 09:30 UTC) has passed, so your command was not applied. Instead, the default action `approve` is taken: Previews go out unless someone objects.",
    ]);
  });
});
