import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, OTHER_AGENT, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload, pullRequestPayload, pullRequestReviewPayload } from "../support/webhooks.js";

/**
 * A comment or review on a pull request applies to every request pending on it, but only to
 * those a person could have seen: an agent that opens a request on the pull request between an
 * approver's `/approve` (or approving review) and its webhook does not get it approved.
 */
const REPO = "octo-org/payments";
const HEAD = "a".repeat(40);
const NEW_HEAD = "b".repeat(40);
const AUTHOR = "dev-dana";
const T0 = new Date("2026-11-24T10:00:00.000Z");
const at = (ms: number) => new Date(T0.getTime() + ms);

const body = (task: string) => ({
  repo: REPO,
  task_description: task,
  approval_reason: "Production changes need a human",
  decision_data: { task },
  surface: { type: "pull_request", number: 42 },
  deadline: "2099-01-01T00:00:00Z",
});

describe("a decision made before a request was opened does not decide it", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write", [AUTHOR]: "write" }, pulls: [{ number: 42, headSha: HEAD, user: AUTHOR }] } },
    });
    app = await startApp({ githubUrl: github.url, now: T0 });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const send = (event: string, payload: unknown) => deliver(`${app.url}/api/github/webhooks`, { event, payload, secret: WEBHOOK_SECRET });

  /** Alice decides at T0 + 10 min; before her webhook arrives, another agent tries to open a second request on the pull request. */
  async function openThenAnother() {
    const first = await api(app, "POST", "/requests", body("Deploy payments v2"));
    expect(first.status).toBe(201);
    app.setNow(at(10 * 60_000 + 30_000));
    const second = await api(app, "POST", "/requests", body("Drop the production database"), { token: OTHER_AGENT.token });
    // One request at a time may wait on a pull request; another agent's is not named.
    expect(second.status).toBe(409);
    expect(second.json.error).toEqual({
      code: "pull_request_busy",
      message: "Pull request #42 already has a pending request; one request at a time may wait on a pull request. Wait for its decision, or cancel it, then ask again.",
    });
    app.setNow(at(11 * 60_000));
    return first.json.id as string;
  }

  it("an approving review made before a second request could be opened approves the first, and the second was refused", async () => {
    const first = await openThenAnother();
    const review = pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "alice", headSha: HEAD, author: AUTHOR, at: at(10 * 60_000).toISOString() });
    expect((await send("pull_request_review", review)).status).toBe(200);
    expect((await api(app, "GET", `/requests/${first}`)).json.status).toBe("approved");
    expect((await api(app, "GET", "/requests?repo=octo-org/payments", undefined, { token: OTHER_AGENT.token })).json.requests).toEqual([]);
  });

  it("an /approve comment made before a second request could be opened approves the first, and the second was refused", async () => {
    const first = await openThenAnother();
    const comment = issueCommentPayload({ repo: REPO, issueNumber: 42, isPullRequest: true, issueAuthor: AUTHOR, login: "alice", body: "/approve", at: at(10 * 60_000).toISOString() });
    expect((await send("issue_comment", comment)).status).toBe(200);
    expect((await api(app, "GET", `/requests/${first}`)).json.status).toBe("approved");
  });

  it("a comment made before a request was opened does not decide it, once the earlier request was approved", async () => {
    const first = await api(app, "POST", "/requests", body("Deploy payments v2"));
    expect(first.status).toBe(201);
    app.setNow(at(5 * 60_000));
    expect((await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "alice", headSha: HEAD, author: AUTHOR, at: at(5 * 60_000).toISOString() }))).status).toBe(200);
    expect((await api(app, "GET", `/requests/${first.json.id}`)).json.status).toBe("approved");
    // The first is approved, so another request may wait on the pull request now.
    app.setNow(at(10 * 60_000 + 30_000));
    const second = await api(app, "POST", "/requests", body("Drop the production database"), { token: OTHER_AGENT.token });
    expect(second.status).toBe(201);
    app.setNow(at(11 * 60_000));
    // A /approve alice made at T0 + 10 min, before the second request existed, arrives late.
    const comment = issueCommentPayload({ repo: REPO, issueNumber: 42, isPullRequest: true, issueAuthor: AUTHOR, login: "alice", body: "/approve", at: at(10 * 60_000).toISOString() });
    expect((await send("issue_comment", comment)).status).toBe(200);
    expect((await api(app, "GET", `/requests/${second.json.id}`, undefined, { token: OTHER_AGENT.token })).json.status).toBe("pending");
  });

  it("one request at a time waits on a pull request: the same agent is told which, and a replay of its key gets it back", async () => {
    const first = await api(app, "POST", "/requests", body("Deploy payments v2"), { headers: { "idempotency-key": "deploy-v2" } });
    expect(first.status).toBe(201);
    const second = await api(app, "POST", "/requests", body("Deploy billing v3"));
    expect(second.status).toBe(409);
    expect(second.json.error.message).toBe(
      `Pull request #42 already has a pending request, ${first.json.id}; one request at a time may wait on a pull request. Wait for its decision, or cancel it, then ask again.`,
    );
    const replay = await api(app, "POST", "/requests", body("Deploy payments v2"), { headers: { "idempotency-key": "deploy-v2" } });
    expect(replay.status).toBe(200);
    expect(replay.json.id).toBe(first.json.id);
    expect(github.callsTo("POST", "/repos/octo-org/payments/check-runs")).toHaveLength(1);
  });

  it("an /approve comment made before a push does not approve the new commits when its webhook comes after the push", async () => {
    const created = await api(app, "POST", "/requests", body("Deploy payments v2"));
    expect(created.status).toBe(201);
    // Alice approves the head at T0 + 10 min; the agent pushes at once, and its push is handled first.
    app.setNow(at(10 * 60_000 + 20_000));
    await send("pull_request", pullRequestPayload({ repo: REPO, action: "synchronize", number: 42, headSha: NEW_HEAD, before: HEAD, author: AUTHOR, at: at(10 * 60_000 + 20_000).toISOString() }));
    app.setNow(at(11 * 60_000));
    const comment = issueCommentPayload({ repo: REPO, issueNumber: 42, isPullRequest: true, issueAuthor: AUTHOR, login: "alice", body: "/approve", at: at(10 * 60_000).toISOString() });
    expect((await send("issue_comment", comment)).status).toBe(200);
    expect((await api(app, "GET", `/requests/${created.json.id}`)).json).toMatchObject({ status: "pending", decision: null });
    // A comment made after the push decides.
    const after = issueCommentPayload({ repo: REPO, issueNumber: 42, isPullRequest: true, issueAuthor: AUTHOR, login: "alice", body: "/approve", at: at(10 * 60_000 + 40_000).toISOString() });
    await send("issue_comment", after);
    expect((await api(app, "GET", `/requests/${created.json.id}`)).json.status).toBe("approved");
  });
});
