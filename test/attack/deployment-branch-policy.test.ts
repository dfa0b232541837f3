import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, deploymentProtectionRulePayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const SHA = "47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54";
const T0 = new Date("2026-11-24T09:00:00.000Z");

/**
 * A deployment from the agent's branch is decided by `.hitl.yml` on the default branch, never by
 * the branch's own copy (which the agent wrote to let previews of everything go out unasked).
 */
describe("a deployment from a branch with its own .hitl.yml", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      now: () => T0,
      repos: {
        [REPO]: {
          collaborators: { alice: "write" },
          files: {
            main: { ".hitl.yml": "approvers: [alice]\nenvironments:\n  production:\n    deadline: 2h\n" },
            "agent/lax": { ".hitl.yml": 'environments:\n  "*":\n    approvers: [deploy-agent]\n    deadline: 1m\n    fallback: {type: use_default, action: approve}\n' },
          },
          runs: [{ id: 9001, headSha: SHA, waitingOn: ["production"] }],
        },
      },
    });
    app = await startApp({ githubUrl: github.url, now: T0 });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  it("takes the default branch's policy", async () => {
    const payload = deploymentProtectionRulePayload({ apiUrl: github.url, environment: "production", runId: 9001, sha: SHA, at: T0.toISOString(), ref: "agent/lax" });
    await deliver(`${app.url}/api/github/webhooks`, { event: "deployment_protection_rule", payload, secret: WEBHOOK_SECRET });
    expect((await app.store.list({ repo: REPO }))[0]).toMatchObject({
      approvers: ["alice"],
      deadline: new Date(T0.getTime() + 2 * 3600_000).toISOString(),
      fallback: { type: "abort" },
      deployment: { ref: "agent/lax", policy: "production" },
    });
    expect(github.callsTo("GET", "/repos/:owner/:repo/contents/:path").map((call) => call.query)).toEqual([{}]);
  });
});
