import { afterEach, describe, expect, it } from "vitest";
import { api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T10:00:00.000Z");
/** A name as the tally shows it: readable, never a ping. */
const quiet = (login: string) => `@\u200D${login}`;

const POLICY = `
approvers: [alice, bob, carol, dave, erin, "@octo-org/finance"]
requirements:
  - name: two-person rule for refunds
    when: { field: amount, gt: 100 }
    required_approvals: 2
`;

const STAGED = `
approvers: [alice, bob, carol, dave, erin]
requirements:
  - name: large refunds
    when: { field: amount, gt: 500 }
    stages:
      - name: finance
        approvers: [alice, bob]
        required: 1
        then:
          - when: { field: amount, gt: 1000 }
            next: legal
      - name: legal
        approvers: [carol, dave, erin]
        required: majority
        timeout: 1h
        on_timeout: proceed_if_partial
`;

const body = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  decision_data: { amount: 120 },
  deadline: "2026-11-30T10:00:00Z",
  ...overrides,
});

describe("quorum and stages on an issue", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  async function start(policy: string) {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write", bob: "write", carol: "write", dave: "write", erin: "write", "refund-agent": "write" }, files: { main: { ".hitl.yml": policy } } } },
      teams: { "octo-org/finance": ["frank"] },
    });
    app = await startApp({ githubUrl: github.url, now: T0 });
  }

  afterEach(async () => {
    await app?.close();
    await github?.close();
  });

  const comment = async (text: string, login: string) => {
    const response = await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: 1, body: text, login }), secret: WEBHOOK_SECRET });
    expect(response.status).toBe(200);
    await app.runtime.jobs.run();
  };
  const issueBody = () => github.repo(REPO).issues[0]!.body ?? "";
  const writes = () => github.calls.filter((call) => call.method !== "GET" && !call.path.endsWith("/access_tokens")).map((call) => `${call.method} ${call.path}`);
  const open = async (overrides: Record<string, unknown> = {}) => {
    const response = await api(app, "POST", "/requests", body(overrides));
    expect(response.status).toBe(201);
    return response.json;
  };
  const at = (minutes: number) => app.setNow(new Date(T0.getTime() + minutes * 60_000));

  it("required_approvals from .hitl.yml: two distinct people, the tally edited in place, the decision carrying every vote", async () => {
    await start(POLICY);
    const created = await open();
    expect(created.stages).toEqual([{ name: "approval", approvers: [], required: 2, reject: "veto", allow_repeat_approvers: false }]);
    expect(issueBody()).toContain("### Approvals");
    expect(issueBody()).toContain("needs 2 approvals for one action; one rejection rejects.");
    expect(issueBody()).toContain("No votes yet.");
    expect(issueBody()).toContain(
      "(never bots, the requester or an edited comment). Each valid command is a vote in the open stage (see **Approvals** below); your latest vote stands and `/retract` withdraws it.",
    );

    github.clearCalls();
    at(1);
    await comment("/approve looks right", "alice");
    // One vote: a 👍 on the comment, the body's tally is edited, nothing is posted, the issue stays open.
    expect(writes()).toEqual([expect.stringMatching(/^POST \/repos\/octo-org\/payments\/issues\/comments\/\d+\/reactions$/), "PATCH /repos/octo-org/payments/issues/1"]);
    expect(Object.keys(github.calls.find((call) => call.method === "PATCH")!.body as object)).toEqual(["body"]);
    expect(issueBody()).toContain(`| approval | ${quiet("alice")} | \`approve\` | 24 Nov 2026 10:01 UTC |`);
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending", approvals: [{ by: "alice", action: "approve", stage: "approval" }] });

    // The same person again counts once.
    github.clearCalls();
    at(2);
    await comment("/approve really", "alice");
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending", approvals: [{ by: "alice", justification: "really" }] });

    at(3);
    await comment("/approve", "bob");
    const decided = (await api(app, "GET", `/requests/${created.id}`)).json;
    expect(decided).toMatchObject({
      status: "approved",
      decision: {
        action: "approve",
        decided_by: { type: "human", login: "bob" },
        stage: "approval",
        approvals: [
          { by: "alice", action: "approve", at: "2026-11-24T10:02:00.000Z", stage: "approval", justification: "really", via: "comment" },
          { by: "bob", action: "approve", at: "2026-11-24T10:03:00.000Z", stage: "approval", justification: null, via: "comment" },
        ],
        path: [{ stage: "approval", action: "approve", why: "quorum" }],
      },
    });
    expect(issueBody()).toContain(`| approval | ${quiet("bob")} | \`approve\` | 24 Nov 2026 10:03 UTC |`);
    expect(github.repo(REPO).issues[0]!.state).toBe("closed");
    const audit = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line));
    expect(audit.map((entry) => entry.event)).toEqual(["created", "surface_opened", "voted", "voted", "decided"]);
    expect(audit[4].details.approvals).toHaveLength(2);
  });

  it("multiple choice with a quorum: votes go to actions, and the first action to reach the rule is the decision", async () => {
    await start(POLICY);
    const created = await open({
      available_actions: [
        { id: "approve", label: "Full refund" },
        { id: "refund-half", label: "Half refund", kind: "approve" },
        { id: "reject", label: "Deny" },
      ],
    });
    at(1);
    await comment("/approve", "alice");
    await comment("/choose refund-half", "bob");
    expect((await api(app, "GET", `/requests/${created.id}`)).json.status).toBe("pending");
    await comment("/choose refund-half fair enough", "carol");
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({
      status: "approved",
      decision: { action: "refund-half", decided_by: { login: "carol" }, approvals: [{ by: "alice", action: "approve" }, { by: "bob", action: "refund-half" }, { by: "carol", action: "refund-half" }] },
    });
  });

  it("a request may raise the quorum but never lower it", async () => {
    await start(POLICY);
    const lower = await api(app, "POST", "/requests", body({ required_approvals: 1 }));
    expect(lower.status).toBe(400);
    expect(JSON.stringify(lower.json)).toContain("required_approvals");
    expect(JSON.stringify(lower.json)).toContain("must be at least 2, what .hitl.yml's requirement two-person rule for refunds asks for this request");
    const raised = await open({ required_approvals: 3 });
    expect(raised.stages[0]).toMatchObject({ name: "approval", required: 3 });
    // Under the requirement's condition one approval still decides, as before.
    const small = await open({ decision_data: { amount: 20 } });
    expect(small).not.toHaveProperty("stages");
  });

  it("/retract withdraws a vote while the stage is open; one /reject vetoes; the requester never votes", async () => {
    await start(POLICY);
    const created = await open();
    at(1);
    await comment("/approve", "alice");
    await comment("/retract", "alice");
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending", approvals: [] });
    expect(issueBody()).toContain("No votes yet.");

    github.clearCalls();
    await comment("/retract", "carol");
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues/1/comments")[0]!.body).toEqual({
      body: "@carol, you have no vote in the open stage of this request, so there is nothing to retract.",
    });

    await comment("/approve", "refund-agent");
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending", approvals: [] });

    await comment("/approve", "bob");
    await comment("/reject not this customer", "carol");
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({
      status: "rejected",
      decision: { action: "reject", decided_by: { login: "carol" }, approvals: [{ by: "bob" }, { by: "carol", action: "reject" }] },
    });
  });

  it("stages: the next stage's approvers are assigned and mentioned once when it opens; separation of duties; a stage timeout proceeds with a partial approval", async () => {
    await start(STAGED);
    const created = await open({ decision_data: { amount: 1500 } });
    expect(issueBody()).toContain(`**finance** (open): needs 1 approval of ${quiet("alice")} and ${quiet("bob")} for one action`);
    expect(issueBody()).toContain("- May follow: legal.");

    github.clearCalls();
    at(5);
    await comment("/approve", "alice");
    expect(writes()).toEqual([
      expect.stringMatching(/\/reactions$/),
      "PATCH /repos/octo-org/payments/issues/1",
      "PATCH /repos/octo-org/payments/issues/1",
      "POST /repos/octo-org/payments/issues/1/comments",
    ]);
    expect(github.calls.filter((call) => call.method === "PATCH")[1]!.body).toEqual({ assignees: ["carol", "dave", "erin"] });
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues/1/comments")[0]!.body).toEqual({
      body: `@carol, @dave and @erin, stage **legal** of this request is open after finance approved. It needs a majority (2) of ${quiet("carol")}, ${quiet("dave")} and ${quiet("erin")} for one action. Vote with \`/approve [reason]\` or \`/reject [reason]\`; \`/retract\` withdraws your vote while the stage is open.`,
    });
    expect(issueBody()).toContain("- ✅ finance: approved with `approve` on 24 Nov 2026 10:05 UTC");

    // Alice counted in finance; she is not one of legal's approvers either way.
    github.clearCalls();
    await comment("/approve", "bob");
    expect((await api(app, "GET", `/requests/${created.id}`)).json.approvals).toHaveLength(1);

    at(10);
    await comment("/approve", "carol");
    // The legal stage's hour runs from when it opened; the sweep ends it with the partial approval.
    at(64);
    await app.runtime.sweep();
    expect((await api(app, "GET", `/requests/${created.id}`)).json.status).toBe("pending");
    at(65);
    await app.runtime.sweep();
    await app.runtime.jobs.run();
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({
      status: "approved",
      decision: { stage: "legal", decided_by: { type: "system", reason: "Stage legal timed out at 2026-11-24T11:05:00.000Z" }, path: [{ stage: "finance" }, { stage: "legal", why: "timeout_partial" }] },
    });
  });

  it("/simulate says which stages a request would go through and why, creating nothing", async () => {
    await start(STAGED);
    const large = await api(app, "POST", "/simulate", { request: body({ decision_data: { amount: 1500 }, required_approvals: 2 }) });
    expect(large.status).toBe(200);
    expect(large.json.sign_off).toEqual({
      stages: [
        { name: "approval", approvers: [], required: 2, reject: "veto", allow_repeat_approvers: false, from: ["the request's required_approvals"], may_follow: ["finance", "legal"] },
        {
          name: "finance",
          approvers: ["alice", "bob"],
          required: 1,
          reject: "veto",
          allow_repeat_approvers: false,
          then: [{ when: { field: "amount", gt: 1000 }, next: "legal" }],
          from: ["requirement large refunds"],
          may_follow: ["legal"],
        },
        { name: "legal", approvers: ["carol", "dave", "erin"], required: "majority", timeout: "1h", on_timeout: "proceed_if_partial", reject: "veto", allow_repeat_approvers: false, from: ["requirement large refunds"], may_follow: [] },
      ],
      requirements: [{ name: "large refunds", applies: true, reasons: ["amount is 1500, above 500"] }],
      editable_fields: null,
      feedback: null,
    });
    const small = await api(app, "POST", "/simulate", { request: body({ decision_data: { amount: 20 } }) });
    expect(small.json.sign_off).toEqual({ stages: [], requirements: [{ name: "large refunds", applies: false, reasons: ["amount is 20, not above 500"] }], editable_fields: null, feedback: null });
    expect(github.calls.filter((call) => call.method === "POST" && !call.path.startsWith("/app/"))).toEqual([]);
  });

  it("a request's stages add to .hitl.yml's, under new names, with approvers from the repository's set", async () => {
    await start(STAGED);
    const clash = await api(app, "POST", "/requests", body({ decision_data: { amount: 1500 }, stages: [{ name: "legal", approvers: ["carol"] }] }));
    expect(clash.status).toBe(400);
    expect(clash.json.error.issues).toEqual([{ path: "stages.0.name", message: "legal is a stage .hitl.yml already requires (finance, legal); a request adds stages under new names" }]);
    const outsider = await api(app, "POST", "/requests", body({ stages: [{ name: "ops", approvers: ["mallory"] }] }));
    expect(outsider.status).toBe(400);
    expect(outsider.json.error.issues).toEqual([{ path: "stages.0.approvers.0", message: "mallory is not one of the approvers .hitl.yml allows: alice, bob, carol, dave, erin" }]);
    const badRule = await api(app, "POST", "/requests", body({ stages: [{ name: "ops", approvers: ["@octo-org/finance"], required: "all" }] }));
    expect(badRule.status).toBe(400);
    expect(badRule.json.error.issues).toEqual([{ path: "stages.0.approvers", message: "all counts the stage's approvers, so they must be listed, as users (not teams)" }]);
    // A branch's condition nested too deep is a 400, never a stack overflow.
    let when: Record<string, unknown> = { field: "amount", gt: 1 };
    for (let i = 0; i < 2000; i++) when = { not: when };
    const deep = await api(app, "POST", "/requests", body({ stages: [{ name: "ops", then: [{ when, action: "approve" }] }] }));
    expect(deep.status).toBe(400);
    expect(deep.json.error.issues).toEqual([{ path: "stages", message: "must not nest objects and lists more than 20 deep" }]);
    const reserved = await api(app, "POST", "/requests", body({ available_actions: [{ id: "retract", label: "Retract", kind: "reject" }] }));
    expect(reserved.json.error.issues).toEqual([{ path: "available_actions.0.id", message: "retract is reserved: /retract withdraws a vote" }]);
    const added = await open({ decision_data: { amount: 1500 }, stages: [{ name: "ops", approvers: ["dave"] }] });
    expect(added.stages.map((stage: { name: string }) => stage.name)).toEqual(["finance", "legal", "ops"]);
  });

  it("weights: a team member weighs the team's weight; the stage approves when an action's weights reach the threshold", async () => {
    await start(`
approvers: [alice, bob, "@octo-org/finance"]
requirements:
  - name: weighted
    stages:
      - name: board
        weights: {alice: 2, "@octo-org/finance": 1}
        threshold: 3
`);
    const created = await open();
    at(1);
    await comment("/approve", "bob");
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues/1/comments").at(-1)!.body).toEqual({
      body: "@bob, you are not an approver of this request, so your command was not applied. Who may decide: @\u200Dalice and @\u200Docto-org/finance.",
    });
    await comment("/approve", "frank");
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending", approvals: [{ by: "frank", weight: 1 }] });
    at(2);
    await comment("/approve", "alice");
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "approved", decision: { approvals: [{ by: "frank", weight: 1 }, { by: "alice", weight: 2 }] } });
  });

  it("a stage timeout without a partial approval to proceed with applies the request's fallback", async () => {
    await start(`
approvers: [alice, bob]
requirements:
  - name: quick
    stages:
      - {name: first, required: 2, timeout: 30m}
`);
    const created = await open({ fallback_action: { type: "abort", reason: "nobody signed in time" } });
    at(10);
    await comment("/approve", "alice");
    at(30);
    await app.runtime.sweep();
    await app.runtime.jobs.run();
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "expired", decision: { action: "abort", decided_by: { type: "fallback", fallback: "abort" } } });
    expect(github.repo(REPO).issues[0]!.state).toBe("closed");
  });

  it("a vote recovery finds late counts from when it was made: its stage's timeout is judged then, and the tally shows that time", async () => {
    let clock = T0;
    github = await startGitHubStandIn({
      now: () => clock,
      repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": "approvers: [alice, bob]\nrequirements:\n  - name: quick\n    stages:\n      - {name: first, required: 2, timeout: 30m}\n" } } } },
    });
    app = await startApp({ githubUrl: github.url, now: T0 });
    const move = (minutes: number) => {
      clock = new Date(T0.getTime() + minutes * 60_000);
      app.setNow(clock);
    };
    const created = await open();
    move(10);
    await comment("/approve", "alice");
    // bob approves in time, but GitHub never delivers the webhook; recovery finds it after the timeout.
    move(20);
    github.comment(REPO, 1, { login: "bob", body: "/approve" });
    move(45);
    await app.runtime.recover();
    await app.runtime.jobs.run();
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({
      status: "approved",
      decision: {
        stage: "first",
        approvals: [
          { by: "alice", action: "approve", at: "2026-11-24T10:10:00.000Z", stage: "first" },
          { by: "bob", action: "approve", at: "2026-11-24T10:20:00.000Z", stage: "first" },
        ],
      },
    });
  });

  it("back-compat: a request stored without stages is decided by one approval as before", async () => {
    await start("approvers: [alice, bob]\n");
    const created = await open();
    expect(created).not.toHaveProperty("stages");
    await comment("/approve", "alice");
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "approved", decision: { decided_by: { login: "alice" } } });
    expect((await api(app, "GET", `/requests/${created.id}`)).json.decision).not.toHaveProperty("approvals");
  });
});
