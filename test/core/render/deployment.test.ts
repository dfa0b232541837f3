import { describe, expect, it } from "vitest";
import { deploymentSection } from "../../../src/core/render/deployment.js";
import type { DeploymentRef } from "../../../src/core/types.js";
import { makeRequest } from "../../support/fixtures.js";

const ZWJ = "\u200D";
const DEPLOYMENT: DeploymentRef = {
  environment: "production",
  ref: "main",
  sha: "47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54",
  runId: 9001,
  runUrl: "https://github.com/octo-org/payments/actions/runs/9001",
  commitUrl: "https://github.com/octo-org/payments/commit/47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54",
  deploymentId: 77,
  creator: "deploy-agent",
  sender: "octocat",
  event: "workflow_dispatch",
  policy: "prod*",
};

describe("deploymentSection", () => {
  it("is absent for an agent's request", () => {
    expect(deploymentSection(makeRequest())).toBeNull();
  });

  it("shows where, what, the commit and run as links, and who triggered it without pinging them", () => {
    expect(deploymentSection(makeRequest({ deployment: DEPLOYMENT }))).toBe(`### Deployment

| | |
|---|---|
| Environment | \`production\` |
| Ref | \`main\` |
| Commit | [\`47efb71\`](https://github.com/octo-org/payments/commit/47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54) |
| Workflow run | [9001](https://github.com/octo-org/payments/actions/runs/9001) (\`workflow_dispatch\`) |
| Triggered by | @${ZWJ}deploy-agent, @${ZWJ}octocat |
| Policy | \`.hitl.yml\` \`environments:\` prod&#42; |

The workflow run waits for this decision. Whoever triggered the deployment may not approve it.`);
  });

  it("keeps a hostile ref and environment name inert, and says when no entry names the environment", () => {
    const section = deploymentSection(makeRequest({ deployment: { ...DEPLOYMENT, environment: "prod | <b>x</b>", ref: "x](https://evil.example) @octo-org/all", creator: null, sender: null, event: null, policy: null } }))!;
    expect(section.split("\n").slice(4, 10)).toEqual([
      "| Environment | prod &#124; &lt;b&gt;x&lt;/b&gt; |",
      `| Ref | x&#93;(https:${ZWJ}//evil.example) @${ZWJ}octo-org/all |`,
      "| Commit | [`47efb71`](https://github.com/octo-org/payments/commit/47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54) |",
      "| Workflow run | [9001](https://github.com/octo-org/payments/actions/runs/9001) |",
      "| Triggered by | unknown |",
      "| Policy | not named in `.hitl.yml` `environments:`; the repository's approvers decide |",
    ]);
  });
});
