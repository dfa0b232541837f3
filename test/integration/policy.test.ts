import { afterEach, describe, expect, it } from "vitest";
import { api, OTHER_AGENT, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn, type Seed } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload, pullRequestPayload, pushPayload } from "../support/webhooks.js";

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

describe("a request may only raise the bar .hitl.yml sets", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  const T0 = new Date("2026-11-24T09:00:00.000Z");
  const inHours = (hours: number) => new Date(T0.getTime() + hours * 3_600_000).toISOString();

  const STRICT = `approvers: [alice, bob]
escalation:
  - {after: 4h, approvers: [carol]}
rules:
  - {id: tiny, when: {field: amount, lt: 5}, action: approve}
`;

  async function start(files: Record<string, string>) {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: {
          collaborators: { alice: "write", bob: "write", carol: "write", dan: "read", mallory: "read" },
          files: { main: files },
          pulls: [{ number: 5, headSha: "d".repeat(40) }],
        },
      },
      installations: [{ id: 1, account: "octo-org" }],
      teams: { "octo-org/finance": ["carol", "dan"] },
    });
    app = await startApp({ githubUrl: github.url, now: T0 });
  }

  afterEach(async () => {
    await app?.close();
    await github?.close();
  });

  /** Opens a request that must be refused: a 400 naming the fields, and nothing stored or posted. */
  async function refused(body: Record<string, unknown>) {
    const response = await api(app, "POST", "/requests", refund(120, body));
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe("invalid_request");
    expect((await api(app, "GET", `/requests?repo=${REPO}`)).json.requests).toEqual([]);
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues")).toEqual([]);
    return response.json.error.issues as { path: string; message: string }[];
  }

  it("an approver outside the file's set is refused, by name", async () => {
    await start({ ".hitl.yml": STRICT });
    expect(await refused({ approvers: ["alice", "mallory"] })).toEqual([
      { path: "approvers.1", message: "mallory is not one of the approvers .hitl.yml allows: alice, bob, carol" },
    ]);
    expect(await refused({ escalation: [{ after: "1h", approvers: ["@octo-org/finance"] }] })).toEqual([
      { path: "escalation.0.approvers.0", message: "@octo-org/finance is not one of the approvers .hitl.yml allows: alice, bob, carol" },
    ]);
    expect(await refused({ fallback_action: { type: "delegate", approvers: ["mallory"] } })).toEqual([
      { path: "fallback_action.approvers.0", message: "mallory is not one of the approvers .hitl.yml allows: alice, bob, carol" },
    ]);
    const narrowed = await api(app, "POST", "/requests", refund(120, { approvers: ["bob"] }));
    expect(narrowed.status).toBe(201);
    expect(narrowed.json.approvers).toEqual(["bob"]);
  });

  it("without approvers in the file, a named user needs write access: one permission call each", async () => {
    await start({});
    github.clearCalls();
    expect(await refused({ approvers: ["alice", "mallory"] })).toEqual([
      { path: "approvers.1", message: "mallory does not have write access to octo-org/payments, so may not decide its requests" },
    ]);
    expect(github.calls.filter((call) => call.path.includes("/collaborators/")).map((call) => call.path)).toEqual([
      "/repos/octo-org/payments/collaborators/alice/permission",
      "/repos/octo-org/payments/collaborators/mallory/permission",
    ]);
  });

  it("a person must be in the request's approvers and the repository's set: a team member without write access may not decide", async () => {
    await start({});
    const created = await api(app, "POST", "/requests", refund(120, { approvers: ["@octo-org/finance"] }));
    expect(created.status).toBe(201);
    const number = created.json.surface_number;
    const comment = (login: string, body: string) =>
      deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: number, body, login }), secret: WEBHOOK_SECRET });
    await comment("dan", "/approve");
    expect((await api(app, "GET", `/requests/${created.json.id}`)).json.status).toBe("pending");
    const [reply] = github.callsTo("POST", `/repos/octo-org/payments/issues/${number}/comments`);
    expect((reply!.body as { body: string }).body).toBe("@dan, deciding needs write access to this repository, so your command was not applied.");
    await comment("carol", "/approve");
    expect((await api(app, "GET", `/requests/${created.json.id}`)).json).toMatchObject({ status: "approved", decision: { decided_by: { login: "carol" } } });
  });

  it("invalidate_on_push cannot be switched off on a pull request while the file has it on", async () => {
    await start({ ".hitl.yml": STRICT });
    expect(await refused({ surface: { type: "pull_request", number: 5 }, invalidate_on_push: false })).toEqual([
      { path: "invalidate_on_push", message: ".hitl.yml has invalidate_on_push: true; a request may switch it on, not off" },
    ]);
  });

  it("a fallback that approves is refused unless approving_fallbacks allows it for the request type", async () => {
    await start({ ".hitl.yml": STRICT });
    expect(await refused({ fallback_action: { type: "use_default", action: "approve" } })).toEqual([
      { path: "fallback_action.action", message: "use_default with approve would approve without a person; .hitl.yml does not allow that for a request's own fallback (approving_fallbacks)" },
    ]);
    const custom = [
      { id: "refund-half", label: "Refund half", kind: "approve" },
      { id: "reject", label: "Deny" },
    ];
    expect(await refused({ available_actions: custom, fallback_action: { type: "use_default", action: "refund-half" } })).toEqual([
      { path: "fallback_action.action", message: "use_default with refund-half would approve without a person; .hitl.yml does not allow that for a request's own fallback (approving_fallbacks)" },
    ]);
    expect(await refused({ fallback_action: { type: "delegate", rule: "tiny" } })).toEqual([
      { path: "fallback_action.rule", message: "delegate to rule tiny would approve without a person; .hitl.yml does not allow that for a request's own fallback (approving_fallbacks)" },
    ]);
    const rejecting = await api(app, "POST", "/requests", refund(120, { fallback_action: { type: "use_default", action: "reject" } }));
    expect(rejecting.status).toBe(201);
  });

  it("with an approving fallback the deadline must be at least min_deadline away", async () => {
    await start({ ".hitl.yml": `${STRICT}min_deadline: 2h\napproving_fallbacks: {request_types: [refund]}\n` });
    const fallback = { type: "use_default", action: "approve" };
    expect(await refused({ fallback_action: fallback, deadline: inHours(1) })).toEqual([
      { path: "deadline", message: "must be at least 2h from now (.hitl.yml's min_deadline), because the fallback approves at the deadline" },
    ]);
    const allowed = await api(app, "POST", "/requests", refund(120, { fallback_action: fallback, deadline: inHours(2) }));
    expect(allowed.status).toBe(201);
    expect(allowed.json).toMatchObject({ fallback_action: fallback, deadline: inHours(2) });
  });

  it("a later warning or a slower ladder is refused", async () => {
    await start({ ".hitl.yml": `${STRICT}warning_before: 4h\n` });
    expect(await refused({ warning_before: "10m", escalation: [{ after: "8h", approvers: ["carol"] }] })).toEqual([
      { path: "escalation.0.after", message: "must be at most 4h, when level 1 of .hitl.yml's ladder takes over" },
      { path: "warning_before", message: "must be at least 4h, .hitl.yml's warning_before" },
    ]);
  });

  it("each action states what it does: a custom action without a kind, or a reject that approves, is refused", async () => {
    await start({ ".hitl.yml": STRICT });
    const issues = await refused({
      available_actions: [
        { id: "approve", label: "Refund", kind: "reject" },
        { id: "reject", label: "Deny", kind: "approve" },
        { id: "refund-half", label: "Refund half" },
      ],
    });
    expect(issues).toEqual([
      { path: "available_actions.0.kind", message: "the approve action always approves: leave kind out or make it approve" },
      { path: "available_actions.1.kind", message: "the reject action always rejects: leave kind out or make it reject" },
      { path: "available_actions.2.kind", message: "required for action refund-half: approve or reject" },
    ]);
  });

  it("simulate enforces the same, naming the request's fields", async () => {
    await start({ ".hitl.yml": STRICT });
    const response = await api(app, "POST", "/simulate", { request: refund(120, { approvers: ["mallory"], fallback_action: { type: "delegate", rule: "tiny" } }) });
    expect(response.status).toBe(400);
    expect(response.json.error.issues.map((issue: { path: string }) => issue.path)).toEqual(["request.approvers.0", "request.fallback_action.rule"]);
    const candidate = await api(app, "POST", "/simulate", { request: refund(120, { fallback_action: { type: "delegate", rule: "tiny" } }), config: `${STRICT}approving_fallbacks: {request_types: ["*"]}\n` });
    expect(candidate.status).toBe(200);
  });

  it("a delegate-to-rule fallback keeps require_human_above_risk: a risky request aborts at the deadline instead of being approved by the rule", async () => {
    await start({
      ".hitl.yml": `approvers: [alice]
deadline: 1h
fallback: {type: delegate, rule: anything}
rules:
  - {id: anything, when: {field: amount, gte: 0}, action: approve}
auto_approve: {require_human_above_risk: 0.5}
`,
    });
    const created = await api(app, "POST", "/requests", refund(120, { risk_score: 0.9 }));
    expect(created.json).toMatchObject({ status: "pending", evaluation: { outcome: { type: "human" } } });
    app.setNow(new Date(T0.getTime() + 3_600_000));
    expect(await app.runtime.sweep()).toMatchObject({ expired: 1 });
    expect((await api(app, "GET", `/requests/${created.json.id}`)).json).toMatchObject({
      status: "expired",
      decision: {
        action: "abort",
        decided_by: { type: "fallback", fallback: "delegate" },
        justification: `No decision before the deadline ${inHours(1)}; it was delegated to rule anything, but a person must decide a request with risk_score 0.9 (above require_human_above_risk), so the request was aborted`,
      },
    });
    // Below the gate the same rule decides, here at once.
    const calm = await api(app, "POST", "/requests", refund(120, { risk_score: 0.1 }));
    expect(calm.json.status).toBe("approved");
  });
});
