import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { checkRunRequestedActionPayload, deliver, issueCommentPayload, pullRequestPayload, pullRequestReviewPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const HEAD = "a".repeat(40);
const NEW_HEAD = "b".repeat(40);
const AUTHOR = "deploy-agent";
const T0 = new Date("2026-11-24T10:00:00.000Z");
const quiet = (login: string) => `@\u200D${login}`;

const POLICY = `
approvers: [alice, bob, carol, dave]
requirements:
  - name: production deploys
    stages:
      - name: review
        required: 2
      - name: release
        approvers: [alice, carol, dave]
        required: 1
`;

const body = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Deploy payments v2 to production",
  approval_reason: "Production deploys need two people",
  decision_data: { service: "payments" },
  surface: { type: "pull_request", number: 42 },
  deadline: "2026-11-30T10:00:00Z",
  ...overrides,
});

describe("quorum and stages on a pull request", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: {
          collaborators: { alice: "write", bob: "write", carol: "write", dave: "write", [AUTHOR]: "write" },
          pulls: [{ number: 42, headSha: HEAD, user: AUTHOR }],
          files: { main: { ".hitl.yml": POLICY } },
        },
      },
    });
    app = await startApp({ githubUrl: github.url, now: T0 });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const send = async (event: string, payload: unknown) => {
    expect((await deliver(`${app.url}/api/github/webhooks`, { event, payload, secret: WEBHOOK_SECRET })).status).toBe(200);
    await app.runtime.jobs.run();
  };
  const review = (login: string, state: "approved" | "changes_requested" | "dismissed", action?: "dismissed") =>
    send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state, login, headSha: HEAD, author: AUTHOR, ...(action ? { action, sender: "carol" } : {}) }));
  const checkRun = () => github.state.repos[REPO]!.checkRuns.at(-1)!;
  const at = (minutes: number) => app.setNow(new Date(T0.getTime() + minutes * 60_000));
  const shown = async (id: string) => (await api(app, "GET", `/requests/${id}`)).json;

  it("each approving review, button and /approve is a vote; the check run's summary carries the tally; the next stage's reviewers are requested once", async () => {
    const response = await api(app, "POST", "/requests", body());
    expect(response.status).toBe(201);
    const created = response.json;
    expect(checkRun().output.summary).toContain("**review** (open): needs 2 approvals for one action; one rejection rejects.");

    github.clearCalls();
    at(1);
    await review("alice", "approved");
    expect(github.calls.filter((call) => call.method !== "GET").map((call) => `${call.method} ${call.path}`)).toEqual([`PATCH /repos/octo-org/payments/check-runs/${checkRun().id}`]);
    expect(checkRun()).toMatchObject({ status: "in_progress" });
    expect(checkRun().output.summary).toContain(`| review | ${quiet("alice")} | \`approve\` | 24 Nov 2026 10:01 UTC |`);

    // The author never votes, by review or button.
    await review(AUTHOR, "approved");
    expect((await shown(created.id)).approvals).toHaveLength(1);

    github.clearCalls();
    at(2);
    await send("check_run", checkRunRequestedActionPayload({ repo: REPO, checkRunId: checkRun().id, identifier: "approve", login: "bob", headSha: HEAD, externalId: created.id, pullNumbers: [42] }));
    // review done with alice and bob: release opens, its approvers are asked for review and mentioned once.
    expect(github.calls.filter((call) => call.method !== "GET").map((call) => `${call.method} ${call.path}`)).toEqual([
      `PATCH /repos/octo-org/payments/check-runs/${checkRun().id}`,
      "POST /repos/octo-org/payments/pulls/42/requested_reviewers",
      "POST /repos/octo-org/payments/issues/42/comments",
    ]);
    expect(github.callsTo("POST", "/repos/octo-org/payments/pulls/42/requested_reviewers")[0]!.body).toEqual({ reviewers: ["alice", "carol", "dave"], team_reviewers: [] });
    expect((github.callsTo("POST", "/repos/octo-org/payments/issues/42/comments")[0]!.body as { body: string }).body).toMatch(/^@alice, @carol and @dave, stage \*\*release\*\* of this request is open after review approved\./);
    expect(checkRun().output.summary).toContain("- ✅ review: approved with `approve` on 24 Nov 2026 10:02 UTC");

    // Separation of duties: alice counted in review, so her release vote is refused.
    github.clearCalls();
    at(3);
    await send("issue_comment", issueCommentPayload({ repo: REPO, issueNumber: 42, body: "/approve", login: "alice", isPullRequest: true, issueAuthor: AUTHOR }));
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues/42/comments")[0]!.body).toEqual({
      body: "@alice, your vote counted in an earlier stage of this request, and one person counts in one stage only, so this vote was not applied.",
    });
    expect((await shown(created.id)).status).toBe("pending");

    at(4);
    await review("carol", "approved");
    expect(checkRun()).toMatchObject({ status: "completed", conclusion: "success" });
    expect(checkRun().output.summary).toContain(`| release | ${quiet("carol")} | \`approve\` | 24 Nov 2026 10:04 UTC |`);
    expect(await shown(created.id)).toMatchObject({
      status: "approved",
      decision: {
        stage: "release",
        approvals: [
          { by: "alice", stage: "review", via: "review" },
          { by: "bob", stage: "review", via: "check_run" },
          { by: "carol", stage: "release", via: "review" },
        ],
      },
    });
  });

  it("a dismissed review withdraws its vote while the stage is open; a request-changes review vetoes", async () => {
    const created = (await api(app, "POST", "/requests", body())).json;
    at(1);
    await review("alice", "approved");
    expect((await shown(created.id)).approvals).toHaveLength(1);
    await review("alice", "dismissed", "dismissed");
    expect(await shown(created.id)).toMatchObject({ status: "pending", approvals: [] });
    expect(checkRun().output.summary).toContain("No votes yet.");
    const audit = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line));
    expect(audit.at(-1)).toMatchObject({ event: "vote_retracted", actor: { type: "system", reason: "the approving review by @alice was dismissed by @carol" } });

    await review("bob", "approved");
    await review("dave", "changes_requested");
    expect(await shown(created.id)).toMatchObject({ status: "rejected", decision: { action: "reject", decided_by: { login: "dave" }, stage: "review" } });
    expect(checkRun()).toMatchObject({ status: "completed", conclusion: "failure" });
  });

  it("new commits make the votes on the old head stale: they are dropped and the tally starts again", async () => {
    const created = (await api(app, "POST", "/requests", body())).json;
    at(1);
    await review("alice", "approved");
    expect((await shown(created.id)).approvals).toHaveLength(1);
    await send("pull_request", pullRequestPayload({ repo: REPO, action: "synchronize", number: 42, headSha: NEW_HEAD, before: HEAD, author: AUTHOR }));
    expect(await shown(created.id)).toMatchObject({ status: "pending", approvals: [] });
    expect(checkRun()).toMatchObject({ headSha: NEW_HEAD, status: "in_progress" });
    expect(checkRun().output.summary).toContain("No votes yet.");
    // A review of the old head no longer counts; two on the new head complete the review stage.
    await review("bob", "approved");
    expect((await shown(created.id)).approvals).toEqual([]);
  });
});
