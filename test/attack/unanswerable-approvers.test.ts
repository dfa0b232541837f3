import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AGENT, api, OTHER_AGENT, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

const REPO = "octo-org/payments";
const HEAD = "a".repeat(40);
const T0 = new Date("2026-11-24T09:00:00.000Z");

/**
 * A request may narrow who decides, but not to people who may never decide it: otherwise nobody
 * can reject it, and a fallback that approves (which `.hitl.yml` allows for refunds) is certain.
 * A list that also names someone who may decide is kept (those others are refused when they try).
 */
describe("a request whose approvers can never decide it", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      now: () => T0,
      repos: {
        [REPO]: {
          collaborators: { alice: "write", bob: "write", "ci-user": "write", octocat: "write" },
          files: { main: { ".hitl.yml": "approvers: [alice, bob, ci-user, octocat]\napproving_fallbacks:\n  request_types: [refund]\n" } },
          pulls: [{ number: 42, headSha: HEAD, user: "octocat" }],
        },
      },
    });
    app = await startApp({ githubUrl: github.url, now: T0, agents: [AGENT, { ...OTHER_AGENT, githubLogins: ["ci-user"] }] });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const refund = (overrides: Record<string, unknown>) => ({
    repo: REPO,
    task_description: "Refund order 1234",
    approval_reason: "Refunds over $50 need a human",
    request_type: "refund",
    deadline: "2026-11-24T11:00:00Z",
    fallback_action: { type: "use_default", action: "approve", reason: "Refunds go out unless someone objects" },
    ...overrides,
  });
  const NEVER = "may never decide this request: the agent's GitHub accounts, on_behalf_of, every agent's account, the pull request's author and bots do not count";

  it("answers 400 for a list of approvers that names only people who may never decide, naming each, and opens nothing", async () => {
    const response = await api(
      app,
      "POST",
      "/requests",
      refund({
        on_behalf_of: "alice",
        approvers: ["Alice", "ci-user"],
        escalation: [{ after: "30m", approvers: ["alice"] }],
        fallback_action: { type: "delegate", approvers: ["ci-user"] },
        stages: [
          { name: "finance", approvers: ["bob", "alice"] },
          { name: "board", weights: { alice: 2 }, threshold: 2 },
        ],
      }),
    );
    expect(response.status).toBe(400);
    expect(response.json.error.issues).toEqual([
      { path: "approvers.0", message: `Alice ${NEVER}` },
      { path: "approvers.1", message: `ci-user ${NEVER}` },
      { path: "escalation.0.approvers.0", message: `alice ${NEVER}` },
      { path: "fallback_action.approvers.0", message: `ci-user ${NEVER}` },
      { path: "stages.1.weights.0", message: `alice ${NEVER}` },
    ]);
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues")).toEqual([]);
    expect(await app.store.list({ repo: REPO })).toEqual([]);
  });

  it("answers 400 for the pull request's author as the only approver", async () => {
    const response = await api(app, "POST", "/requests", refund({ surface: { type: "pull_request", number: 42 }, approvers: ["octocat"] }));
    expect(response.status).toBe(400);
    expect(response.json.error.issues).toEqual([{ path: "approvers.0", message: `octocat ${NEVER}` }]);
  });

  it("still opens a request each of whose lists names someone who may decide it", async () => {
    const response = await api(app, "POST", "/requests", refund({ on_behalf_of: "alice", approvers: ["alice", "bob"] }));
    expect(response.status).toBe(201);
  });
});
