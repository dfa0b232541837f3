import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, OTHER_AGENT, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

/**
 * An agent that `.hitl.yml`'s `agents:` keeps out of a repository may not ask there, and may not
 * simulate there either: a simulation shows the repository's rules and their thresholds, and
 * makes hitl ask GitHub about the people and teams a candidate file names.
 */
const REPO = "octo-org/payments";
const POLICY = `approvers: [alice]
agents: [refund-agent]
rules:
  - id: small-refunds
    when: {field: amount, lt: 50}
    action: approve
`;

const refund = { repo: REPO, task_description: "Refund 20 USD", approval_reason: "Refunds need a decision", decision_data: { amount: 20 } };

describe("simulate in a repository whose agents: leaves the agent out", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": POLICY } } } },
      teams: { "octo-org/leads": ["bob"] },
    });
    app = await startApp({ githubUrl: github.url });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  it("is refused like opening a request, with or without a candidate file, before asking GitHub about anyone", async () => {
    const asIs = await api(app, "POST", "/simulate", { request: refund }, { token: OTHER_AGENT.token });
    expect(asIs.status).toBe(403);
    expect(asIs.json.error.code).toBe("agent_not_allowed");
    expect(JSON.stringify(asIs.json)).not.toContain("small-refunds");

    github.clearCalls();
    const candidate = await api(app, "POST", "/simulate", { request: { ...refund, approvers: ["bob"] }, config: "approvers: ['@octo-org/leads']\n" }, { token: OTHER_AGENT.token });
    expect(candidate.status).toBe(403);
    expect(github.calls.filter((call) => call.path.includes("/teams/") || call.path.includes("/collaborators/"))).toEqual([]);
  });

  it("still answers the agents it lists", async () => {
    const allowed = await api(app, "POST", "/simulate", { request: refund });
    expect(allowed.status).toBe(200);
    expect(allowed.json.outcome).toBe("decided");
  });
});
