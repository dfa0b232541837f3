import { afterEach, describe, expect, it } from "vitest";
import { api, OTHER_AGENT, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn, type Seed } from "../support/github-stand-in.js";
import { deliver, pullRequestPayload, pushPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";

const POLICY = `# yaml-language-server: $schema=../schema/hitl.schema.json
approvers: [alice]
agents: [refund-agent]
rules:
  - id: small-refunds
    when:
      all:
        - {field: amount, lt: 50}
        - {task_type: [refund]}
    action: approve
    max_uses: 2
auto_approve: {confidence_above: 0.95, risk_below: 0.1, require_human_above_risk: 0.7}
`;

const BROKEN = `approvers: [alice]
rules:
  - id: small-refunds
    when: {field: amount, lt: 50}
    action: aprove
auto_approve: {confidence_above: 0.5, risk_below: 0.9}
`;

const refund = (amount: number, overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: `Refund ${amount} USD`,
  approval_reason: "Refunds need a decision",
  decision_data: { amount, currency: "USD" },
  request_type: "refund",
  ...overrides,
});

describe(".hitl.yml decides routine requests and explains the rest", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  async function start(files: Record<string, string>, seed: Partial<Seed> = {}) {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write" }, files: { main: files }, pulls: [{ number: 5, headSha: "d".repeat(40), files: [{ filename: ".hitl.yml" }] }] }, ...(seed.repos ?? {}) },
      installations: [{ id: 1, account: "octo-org" }],
    });
    app = await startApp({ githubUrl: github.url });
  }

  afterEach(async () => {
    await app?.close();
    await github?.close();
  });

  it("a matching rule decides at once, audited as that rule, with nothing posted to GitHub", async () => {
    await start({ ".hitl.yml": POLICY });
    const response = await api(app, "POST", "/requests", refund(20));
    expect(response.status).toBe(201);
    expect(response.json).toMatchObject({
      status: "approved",
      surface_url: null,
      decision: { action: "approve", decided_by: { type: "rule", id: "small-refunds" }, via: "rule" },
      evaluation: { outcome: { type: "decide", action: "approve" }, rules: [{ rule_id: "small-refunds", matched: true }] },
    });
    expect(github.calls.filter((call) => call.method !== "GET" && !call.path.startsWith("/app/"))).toEqual([]);
    const audit = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line));
    expect(audit.map((entry) => [entry.event, entry.actor])).toEqual([
      ["created", { type: "agent", name: "refund-agent" }],
      ["decided", { type: "rule", id: "small-refunds" }],
    ]);
  });

  it("a request no rule decides reaches a person, and the issue says which rule came closest and why", async () => {
    await start({ ".hitl.yml": POLICY });
    const response = await api(app, "POST", "/requests", refund(120));
    expect(response.json.status).toBe("pending");
    const body = (github.callsTo("POST", "/repos/octo-org/payments/issues")[0]!.body as { body: string }).body;
    expect(body).toContain("small-refunds");
    expect(body).toMatch(/amount is 120/);
    expect(response.json.evaluation.closest_rule_id).toBe("small-refunds");
  });

  it("max_uses is counted: the third small refund goes to a person", async () => {
    await start({ ".hitl.yml": POLICY });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await api(app, "POST", "/requests", refund(10))).json.status);
    expect(statuses).toEqual(["approved", "approved", "pending"]);
  });

  it("an agent not listed in agents: may not ask in this repository", async () => {
    await start({ ".hitl.yml": POLICY });
    const response = await api(app, "POST", "/requests", refund(10), { token: OTHER_AGENT.token });
    expect(response.status).toBe(403);
    expect(response.json.error.code).toBe("agent_not_allowed");
  });

  it("a broken file fails safe: no auto-approval, and the issue says the policy could not be used", async () => {
    await start({ ".hitl.yml": BROKEN });
    const response = await api(app, "POST", "/requests", refund(10, { confidence: 0.99, risk_score: 0.01 }));
    expect(response.json.status).toBe("pending");
    expect(response.json.evaluation.config_error).toContain(".hitl.yml:5:13");
    const body = (github.callsTo("POST", "/repos/octo-org/payments/issues")[0]!.body as { body: string }).body;
    expect(body).toMatch(/\.hitl\.yml/);
  });

  it("follows _extends to the organisation's defaults, the repository's keys winning", async () => {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: { collaborators: { alice: "write" }, files: { main: { ".github/hitl.yml": "_extends: .github\napprovers: [alice]\n" } } },
        "octo-org/.github": { files: { main: { ".github/hitl.yml": "approvers: [bob]\nrules:\n  - id: tiny\n    when: {field: amount, lte: 5}\n    action: approve\n" } } },
      },
      installations: [{ id: 1, account: "octo-org" }],
    });
    app = await startApp({ githubUrl: github.url });
    const small = await api(app, "POST", "/requests", refund(5));
    expect(small.json.decision.decided_by).toEqual({ type: "rule", id: "tiny" });
    const large = await api(app, "POST", "/requests", refund(500));
    expect(large.json.approvers).toEqual(["alice"]);
  });

  it("simulate says what would happen and why, creating nothing", async () => {
    await start({ ".hitl.yml": POLICY });
    const asIs = await api(app, "POST", "/simulate", { request: refund(20) });
    expect(asIs.status).toBe(200);
    expect(asIs.json).toMatchObject({ outcome: "decided", evaluation: { outcome: { type: "decide" }, rules: [{ rule_id: "small-refunds", matched: true }] }, config: { source: ".hitl.yml", error: null } });
    const candidate = await api(app, "POST", "/simulate", { request: refund(20), config: "rules: []\n" });
    expect(candidate.json.outcome).toBe("needs_human");
    const broken = await api(app, "POST", "/simulate", { request: refund(20), config: BROKEN });
    expect(broken.json.outcome).toBe("needs_human");
    expect(broken.json.config.error).toContain(".hitl.yml:5:13");
    const bad = await api(app, "POST", "/simulate", { request: { repo: REPO } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues.map((issue: { path: string }) => issue.path)).toEqual(["request.task_description", "request.approval_reason"]);
    expect((await api(app, "GET", `/requests?repo=${REPO}`)).json.requests).toEqual([]);
    expect(github.calls.filter((call) => call.method === "POST" && !call.path.startsWith("/app/"))).toEqual([]);
  });

  it("reads .hitl.yml once for a burst of requests, and again after a push changes it", async () => {
    await start({ ".hitl.yml": POLICY });
    await api(app, "POST", "/requests", refund(500));
    await api(app, "POST", "/requests", refund(600));
    expect(github.callsTo("GET", "/repos/octo-org/payments/contents/.hitl.yml")).toHaveLength(1);
    github.repo(REPO).files.main = { ".hitl.yml": "approvers: [alice]\nrules:\n  - {id: everything, when: {field: amount, gte: 0}, action: approve}\n" };
    github.repo(REPO).files["f".repeat(40)] = github.repo(REPO).files.main!;
    await deliver(`${app.url}/api/github/webhooks`, { event: "push", payload: pushPayload({ repo: REPO, after: "f".repeat(40), commits: [{ modified: [".hitl.yml"] }] }), secret: WEBHOOK_SECRET });
    const after = await api(app, "POST", "/requests", refund(700));
    expect(after.json.decision.decided_by).toEqual({ type: "rule", id: "everything" });
  });

  it("a push that breaks .hitl.yml gets a failing hitl/config check run with each error's line", async () => {
    const sha = "e".repeat(40);
    await start({});
    github.repo(REPO).files[sha] = { ".hitl.yml": BROKEN };
    const response = await deliver(`${app.url}/api/github/webhooks`, {
      event: "push",
      payload: pushPayload({ repo: REPO, after: sha, commits: [{ modified: [".hitl.yml"] }] }),
      secret: WEBHOOK_SECRET,
    });
    expect(response.status).toBe(200);
    const [check] = github.callsTo("POST", "/repos/octo-org/payments/check-runs");
    expect(check!.body).toMatchObject({ name: "hitl/config", head_sha: sha, status: "completed", conclusion: "failure" });
    const output = (check!.body as { output: { title: string; summary: string; annotations: { path: string; start_line: number; message: string }[] } }).output;
    expect(output.title).toBe(".hitl.yml has 1 error");
    expect(output.annotations).toEqual([expect.objectContaining({ path: ".hitl.yml", start_line: 5, start_column: 13, annotation_level: "failure" })]);
    expect(output.annotations[0]!.message).toContain("approve");
    expect(output.summary).toContain(".hitl.yml:5:13");
  });

  it("a pull request that changes .hitl.yml gets the check on its head commit; other pushes cost nothing", async () => {
    const head = "d".repeat(40);
    await start({});
    github.repo(REPO).files[head] = { ".hitl.yml": POLICY };
    await deliver(`${app.url}/api/github/webhooks`, { event: "pull_request", payload: pullRequestPayload({ repo: REPO, action: "opened", number: 5, headSha: head }), secret: WEBHOOK_SECRET });
    const [check] = github.callsTo("POST", "/repos/octo-org/payments/check-runs");
    expect(check!.body).toMatchObject({ name: "hitl/config", head_sha: head, conclusion: "success", output: { title: ".hitl.yml is valid" } });
    github.clearCalls();
    await deliver(`${app.url}/api/github/webhooks`, { event: "push", payload: pushPayload({ repo: REPO, after: "f".repeat(40), commits: [{ modified: ["README.md"] }] }), secret: WEBHOOK_SECRET });
    expect(github.calls).toEqual([]);
  });
});
