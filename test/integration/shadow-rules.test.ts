import { afterEach, describe, expect, it } from "vitest";
import { api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload, pullRequestPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const AUDITOR = { name: "auditor", token: "auditor-token-0123456789abcdef", readAll: true };
const POLICY = `approvers: [alice]
rules:
  - id: small-refunds
    mode: shadow
    when: {all: [{task_type: [refund]}, {field: amount, lte: 100}]}
    action: approve
`;

const refund = (amount: number) => ({
  repo: REPO,
  task_description: `Refund ${amount} USD`,
  approval_reason: "Refunds need a decision",
  decision_data: { amount, currency: "USD" },
  request_type: "refund",
});

describe("rules in mode: shadow", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  afterEach(async () => {
    await app?.close();
    await github?.close();
  });

  async function start() {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write" }, files: { main: { ".hitl.yml": POLICY } }, pulls: [{ number: 5, headSha: "d".repeat(40), files: [{ filename: ".hitl.yml" }] }] } },
      installations: [{ id: 1, account: "octo-org" }],
    });
    app = await startApp({ githubUrl: github.url, agents: [{ name: "refund-agent", token: "refund-agent-token-0123456789" }, AUDITOR] });
  }

  it("decides nothing, records what it would have done, and the stats show its agreement with people", async () => {
    await start();
    const small = await api(app, "POST", "/requests", refund(40));
    expect(small.status).toBe(201);
    expect(small.json.status).toBe("pending");
    expect(small.json.evaluation).toEqual({
      outcome: { type: "human", reason: "No rule matched, so a person decides." },
      rules: [],
      closest_rule_id: null,
      config_error: null,
      shadow: [{ rule_id: "small-refunds", action: "approve" }],
    });
    // Nothing on GitHub says it: people decide as if the rule were not there.
    const issue = github.repo(REPO).issues.find((candidate) => candidate.number === small.json.surface_number)!;
    expect(issue.body).not.toContain("small-refunds");
    expect(issue.body?.toLowerCase()).not.toContain("shadow");
    const audit = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line));
    expect(audit.find((entry) => entry.event === "surface_opened" && entry.request_id === small.json.id).details.shadow).toEqual([{ rule: "small-refunds", action: "approve" }]);

    const big = await api(app, "POST", "/requests", refund(400));
    expect(big.json.evaluation).not.toHaveProperty("shadow");
    const other = await api(app, "POST", "/requests", refund(60));

    const comment = (number: number, body: string) =>
      deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: number, body, login: "alice" }), secret: WEBHOOK_SECRET });
    await comment(small.json.surface_number, "/approve");
    await comment(other.json.surface_number, "/reject too much this week");
    await comment(big.json.surface_number, "/reject");

    const stats = await api(app, "GET", `/stats?repo=${REPO}`, undefined, { token: AUDITOR.token });
    expect(stats.json.shadow_rules).toEqual([{ rule_id: "small-refunds", matched: 2, decided_by_people: 2, agreed: 1, agreement_rate: 0.5 }]);
  });

  it("/simulate and the hitl/config check show it", async () => {
    await start();
    const simulated = await api(app, "POST", "/simulate", { request: refund(10) });
    expect(simulated.json.outcome).toBe("needs_human");
    expect(simulated.json.evaluation.shadow).toEqual([{ rule_id: "small-refunds", action: "approve" }]);

    github.repo(REPO).files["d".repeat(40)] = { ".hitl.yml": POLICY };
    await deliver(`${app.url}/api/github/webhooks`, { event: "pull_request", payload: pullRequestPayload({ repo: REPO, action: "opened", number: 5, headSha: "d".repeat(40) }), secret: WEBHOOK_SECRET });
    const [check] = github.callsTo("POST", "/repos/octo-org/payments/check-runs");
    expect((check!.body as { output: { summary: string } }).output.summary).toBe(
      ".hitl.yml is valid: 1 delegation rule. It takes effect once it is on the default branch. Rule small-refunds is in shadow mode: it decides nothing, and the stats show how often people agree.",
    );
  });

  it("names the allowed modes when the file has another", async () => {
    await start();
    github.repo(REPO).files["d".repeat(40)] = { ".hitl.yml": POLICY.replace("mode: shadow", "mode: watch") };
    await deliver(`${app.url}/api/github/webhooks`, { event: "pull_request", payload: pullRequestPayload({ repo: REPO, action: "opened", number: 5, headSha: "d".repeat(40) }), secret: WEBHOOK_SECRET });
    const [check] = github.callsTo("POST", "/repos/octo-org/payments/check-runs");
    expect((check!.body as { output: { summary: string } }).output.summary).toContain(".hitl.yml:4:11 rules.0.mode:");
    expect((check!.body as { output: { summary: string } }).output.summary).toContain("enforce, shadow");
  });
});
