import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AGENT, api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { checkRunRequestedActionPayload, deliver, issueCommentPayload, pullRequestReviewPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const HEAD = "a".repeat(40);
const ZWJ = "\u200D";
/** The agent's token declares the GitHub identities it also acts as. */
const AGENT_WITH_LOGINS = { ...AGENT, githubLogins: ["ci-user", "deploy-bot[bot]"] };

const issueRequest = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  deadline: "2099-12-01T12:00:00Z",
  approvers: [],
  ...overrides,
});

describe("who may never decide a request", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: {
          collaborators: { alice: "write", bob: "write", "ci-user": "write", carol: "write" },
          pulls: [{ number: 42, headSha: HEAD, user: "octocat" }],
        },
      },
      members: { "octo-org": ["mallory"] },
      teams: { "octo-org/finance": ["carol"] },
    });
    app = await startApp({ githubUrl: github.url, agents: [AGENT_WITH_LOGINS] });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const send = (event: string, payload: unknown) => deliver(`${app.url}/api/github/webhooks`, { event, payload, secret: WEBHOOK_SECRET });
  // The seeded pull request is #42, so the first issue is #43.
  const comment = (body: string, login: string) => send("issue_comment", issueCommentPayload({ repo: REPO, issueNumber: 43, body, login }));
  const replies = (number = 43) => github.callsTo("POST", `/repos/octo-org/payments/issues/${number}/comments`).map((call) => (call.body as { body: string }).body);

  async function open(overrides: Record<string, unknown> = {}) {
    const response = await api(app, "POST", "/requests", issueRequest(overrides));
    expect(response.status).toBe(201);
    return response.json as { id: string; on_behalf_of: string | null; surface_number: number };
  }

  it("refuses /approve from the agent's own GitHub identity, even with write access and in another case", async () => {
    const created = await open();
    github.clearCalls();
    await comment("/approve", "CI-User");
    expect(replies()).toEqual([
      "@CI-User, you opened this request, so you cannot decide it. Who may decide: anyone with write access to this repository.",
    ]);
    // Refused before any question to GitHub about the person.
    expect(github.callsTo("GET", /\/collaborators\//)).toEqual([]);
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending" });
  });

  it("refuses the person the agent acts for, shown as on_behalf_of, while others still decide", async () => {
    const created = await open({ on_behalf_of: "alice", approvers: ["alice", "bob"] });
    expect(created.on_behalf_of).toBe("alice");
    github.clearCalls();
    await comment("/approve", "alice");
    expect(replies()).toEqual([
      `@alice, you opened this request, so you cannot decide it. Who may decide: @${ZWJ}alice and @${ZWJ}bob.`,
    ]);
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending" });
    await comment("/approve", "bob");
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "approved", decision: { decided_by: { login: "bob" } } });
  });

  it("refuses an approving review and a check-run button from the agent's identities on a pull request", async () => {
    const created = await open({ surface: { type: "pull_request", number: 42 }, on_behalf_of: "carol" });
    const checkRunId = github.repo(REPO).checkRuns[0]!.id;
    github.clearCalls();
    await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "ci-user", headSha: HEAD, author: "octocat" }));
    await send("check_run", checkRunRequestedActionPayload({ repo: REPO, checkRunId, identifier: "approve", login: "carol", headSha: HEAD, externalId: created.id, pullNumbers: [42] }));
    expect(replies(42)).toEqual([
      "@ci-user, you opened this request, so you cannot decide it. Who may decide: anyone with write access to this repository.",
      "@carol, you opened this request, so you cannot decide it. Who may decide: anyone with write access to this repository.",
    ]);
    expect(github.callsTo("PATCH", `/repos/octo-org/payments/check-runs/${checkRunId}`)).toEqual([]);
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending" });
  });

  it("answers 400 for an on_behalf_of that is not a GitHub login", async () => {
    const response = await api(app, "POST", "/requests", issueRequest({ on_behalf_of: "@alice" }));
    expect(response.status).toBe(400);
    expect(response.json.error.issues).toEqual([{ path: "on_behalf_of", message: "must be a GitHub login, e.g. alice or some-app[bot]" }]);
  });

  it.each([
    ["approvers", { approvers: ["@octo-org/.."] }, "approvers.0"],
    ["approvers", { approvers: ["alice", "@octo-org/."] }, "approvers.1"],
    ["approvers", { approvers: ["@/x"] }, "approvers.0"],
    ["approvers", { approvers: ["octo-org//x"] }, "approvers.0"],
    ["escalation", { escalation: [{ after: "1h", approvers: ["@octo-org/.."] }] }, "escalation.0.approvers.0"],
    ["the fallback", { fallback_action: { type: "delegate", approvers: ["@octo-org/../x"] } }, "fallback_action.approvers.0"],
  ])("answers 400 for a malformed team in %s, naming the field", async (_where, overrides, path) => {
    const response = await api(app, "POST", "/requests", issueRequest(overrides));
    expect(response.status).toBe(400);
    expect(response.json.error.issues).toEqual([{ path, message: "must be a GitHub login or @org/team-slug (a slug has letters, digits, '-' and '_')" }]);
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues")).toEqual([]);
  });

  it("a malformed team already stored (from before names were checked) never asks about the whole organisation", async () => {
    const created = await open({ approvers: ["@octo-org/finance"] });
    const stored = (await app.store.get(created.id))!;
    await app.store.update({ ...stored, approvers: ["@octo-org/.."] }, stored.version);
    github.clearCalls();
    await comment("/approve", "mallory");
    expect(github.callsTo("GET", /^\/orgs\//)).toEqual([]);
    expect(replies()).toEqual([`@mallory, you are not an approver of this request, so your command was not applied. Who may decide: @${ZWJ}octo-org/...`]);
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending" });
  });

  it("a well-formed team still asks GitHub about that team only", async () => {
    const created = await open({ approvers: ["@octo-org/finance"] });
    github.clearCalls();
    await comment("/approve", "mallory");
    expect(github.calls.filter((call) => call.method === "GET").map((call) => call.path)).toEqual(["/orgs/octo-org/teams/finance/memberships/mallory"]);
    await comment("/approve", "carol");
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "approved", decision: { decided_by: { login: "carol" } } });
  });
});

describe("a decision after the deadline", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" } } }, now: () => new Date("2026-11-24T10:00:00Z") });
    app = await startApp({ githubUrl: github.url, now: new Date("2026-11-24T10:00:00Z") });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  it("does not count before the sweep ran: the person is told, and the sweep applies the fallback", async () => {
    const response = await api(app, "POST", "/requests", issueRequest({ approvers: ["alice"], deadline: "2026-11-24T11:00:00Z", fallback_action: { type: "use_default", action: "reject" } }));
    expect(response.status).toBe(201);
    const { id } = response.json;
    app.setNow(new Date("2026-11-24T11:00:05Z"));
    github.clearCalls();
    await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: 1, body: "/approve", login: "alice" }), secret: WEBHOOK_SECRET });
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues/1/comments").map((call) => (call.body as { body: string }).body)).toEqual([
      "@alice, the deadline of this request (24 Nov 2026 11:00 UTC) has passed, so your command was not applied. Instead, the default action `reject` is taken.",
    ]);
    expect((await api(app, "GET", `/requests/${id}`)).json).toMatchObject({ status: "pending", decision: null });

    await app.runtime.sweep();
    expect((await api(app, "GET", `/requests/${id}`)).json).toMatchObject({ status: "expired", decision: { action: "reject", via: "fallback" } });
  });
});
