import { readFileSync } from "node:fs";
import { Octokit } from "@octokit/rest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { checkRunRequestedActionPayload, deliver, issueCommentPayload, pullRequestPayload, pullRequestReviewPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const HEAD = "a".repeat(40);
const NEW_HEAD = "b".repeat(40);
const AUTHOR = "deploy-agent";
const T0 = new Date("2026-11-24T10:00:00.000Z");

const body = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Deploy payments v2 to production",
  approval_reason: "Production deploys need a human",
  decision_data: { service: "payments", version: "2.0.0" },
  surface: { type: "pull_request", number: 42 },
  approvers: ["alice", "@octo-org/leads"],
  deadline: "2099-01-01T00:00:00Z",
  ...overrides,
});

describe("pull requests as the approval surface", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: {
          collaborators: { alice: "write", bob: "write", mallory: "read", [AUTHOR]: "write" },
          pulls: [
            { number: 42, headSha: HEAD, user: AUTHOR, files: [{ filename: "deploy/payments.yml", additions: 3, deletions: 1 }, { filename: "src/app.ts", additions: 10, deletions: 2 }] },
            { number: 7, headSha: "c".repeat(40), state: "closed" },
          ],
        },
      },
      teams: { "octo-org/leads": ["bob"] },
    });
    app = await startApp({ githubUrl: github.url });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const send = (event: string, payload: unknown) => deliver(`${app.url}/api/github/webhooks`, { event, payload, secret: WEBHOOK_SECRET });

  async function open(overrides: Record<string, unknown> = {}) {
    const response = await api(app, "POST", "/requests", body(overrides));
    expect(response.status).toBe(201);
    return response.json;
  }

  it("creates the hitl/approval check run on the head commit and requests the approvers' review", async () => {
    const created = await open();
    expect(created).toMatchObject({ status: "pending", surface_number: 42, surface_url: "https://github.com/octo-org/payments/pull/42" });
    const writes = github.calls.filter((call) => call.method !== "GET").map((call) => `${call.method} ${call.path}`);
    expect(writes).toEqual([
      "POST /app/installations/1/access_tokens",
      "POST /repos/octo-org/payments/check-runs",
      "POST /repos/octo-org/payments/pulls/42/requested_reviewers",
    ]);
    const [checkRun] = github.callsTo("POST", "/repos/octo-org/payments/check-runs");
    expect(checkRun!.body).toMatchObject({
      name: "hitl/approval",
      head_sha: HEAD,
      status: "in_progress",
      external_id: created.id,
      actions: [
        { identifier: "approve", label: "Approve" },
        { identifier: "reject", label: "Reject" },
      ],
    });
    expect((checkRun!.body as { output: { title: string } }).output.title).toContain("Deploy payments v2 to production");
    expect(github.callsTo("POST", "/repos/octo-org/payments/pulls/42/requested_reviewers")[0]!.body).toEqual({ reviewers: ["alice"], team_reviewers: ["leads"] });
    // The pull request is read once, when the request is opened.
    expect(github.callsTo("GET", "/repos/octo-org/payments/pulls/42")).toHaveLength(1);
  });

  it("an approving review completes the check run with success; the lifecycle costs few calls", async () => {
    const created = await open();
    const openCalls = github.calls.length;
    github.clearCalls();
    const response = await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", body: "ship it", login: "alice", headSha: HEAD, author: AUTHOR }));
    expect(response.status).toBe(200);
    await app.runtime.jobs.run();
    const checkRunId = github.state.repos[REPO]!.checkRuns[0]!.id;
    // Without approvers in .hitl.yml the repository's set is everyone with write access, and a
    // person deciding must be in it as well as in the request's approvers.
    expect(github.calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      "GET /repos/octo-org/payments/collaborators/alice/permission",
      `PATCH /repos/octo-org/payments/check-runs/${checkRunId}`,
    ]);
    expect(github.calls[1]!.body).toMatchObject({ status: "completed", conclusion: "success" });
    expect((github.calls[1]!.body as { output: { title: string } }).output.title).toContain("alice");
    const shown = await api(app, "GET", `/requests/${created.id}`);
    expect(shown.json).toMatchObject({ status: "approved", decision: { via: "review", justification: "ship it", decided_by: { login: "alice" } } });
    // installation, token, 4 config look-ups, alice's write access, pull request, check run,
    // reviewers; then alice's write access again and 1 update.
    expect(openCalls + github.calls.length).toBe(12);
  });

  it("a review requesting changes rejects; the author's own approval never counts", async () => {
    const created = await open();
    await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: AUTHOR, headSha: HEAD, author: AUTHOR }));
    expect((await api(app, "GET", `/requests/${created.id}`)).json.status).toBe("pending");
    await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "changes_requested", body: "not on a Friday", login: "bob", headSha: HEAD, author: AUTHOR }));
    await app.runtime.jobs.run();
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "rejected", decision: { justification: "not on a Friday", decided_by: { login: "bob" } } });
    const update = github.callsTo("PATCH", /\/check-runs\/\d+$/).at(-1)!;
    expect(update.body).toMatchObject({ conclusion: "failure" });
  });

  it("a check-run button decides when an approver presses it, and is refused for others", async () => {
    const created = await open();
    const checkRunId = github.state.repos[REPO]!.checkRuns[0]!.id;
    github.clearCalls();
    await send("check_run", checkRunRequestedActionPayload({ repo: REPO, checkRunId, identifier: "approve", login: "mallory", headSha: HEAD, externalId: created.id, pullNumbers: [42] }));
    const refusal = github.callsTo("POST", "/repos/octo-org/payments/issues/42/comments");
    expect(refusal).toHaveLength(1);
    expect((refusal[0]!.body as { body: string }).body).toContain("mallory");
    await send("check_run", checkRunRequestedActionPayload({ repo: REPO, checkRunId, identifier: "approve", login: "bob", headSha: HEAD, externalId: created.id, pullNumbers: [42] }));
    await app.runtime.jobs.run();
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "approved", decision: { via: "check_run", decided_by: { login: "bob" } } });
    expect(github.callsTo("PATCH", `/repos/octo-org/payments/check-runs/${checkRunId}`)[0]!.body).toMatchObject({ conclusion: "success" });
  });

  it("a button for a custom action of kind reject rejects, and says so on the button's label", async () => {
    const created = await open({ available_actions: [{ id: "approve", label: "Ship" }, { id: "rollback", label: "Roll back", kind: "reject", impact: "Keep v1 running" }] });
    const [checkRun] = github.callsTo("POST", "/repos/octo-org/payments/check-runs");
    expect((checkRun!.body as { actions: unknown[] }).actions).toEqual([
      { identifier: "approve", label: "Approve: Ship", description: "Approves" },
      { identifier: "rollback", label: "Reject: Roll back", description: "Rejects: Keep v1 running" },
    ]);
    const checkRunId = github.state.repos[REPO]!.checkRuns[0]!.id;
    await send("check_run", checkRunRequestedActionPayload({ repo: REPO, checkRunId, identifier: "rollback", login: "bob", headSha: HEAD, externalId: created.id, pullNumbers: [42] }));
    await app.runtime.jobs.run();
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "rejected", decision: { action: "rollback", via: "check_run", decided_by: { login: "bob" } } });
    expect(github.callsTo("PATCH", `/repos/octo-org/payments/check-runs/${checkRunId}`)[0]!.body).toMatchObject({ conclusion: "failure" });
  });

  it("a /approve comment on the pull request decides too", async () => {
    const created = await open();
    await send("issue_comment", issueCommentPayload({ repo: REPO, issueNumber: 42, isPullRequest: true, body: "/approve", login: "alice", issueAuthor: AUTHOR }));
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "approved", decision: { via: "comment" } });
  });

  it("new commits after an approval make it stale: pending again on the new head, approvers asked again", async () => {
    const created = await open();
    await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "alice", headSha: HEAD, author: AUTHOR }));
    await app.runtime.jobs.run();
    github.clearCalls();
    await send("pull_request", pullRequestPayload({ repo: REPO, action: "synchronize", number: 42, headSha: NEW_HEAD, before: HEAD, author: AUTHOR }));
    await app.runtime.jobs.run();
    const shown = (await api(app, "GET", `/requests/${created.id}`)).json;
    expect(shown).toMatchObject({ status: "pending", decision: null });
    const checkRuns = github.callsTo("POST", "/repos/octo-org/payments/check-runs");
    expect(checkRuns).toHaveLength(1);
    expect(checkRuns[0]!.body).toMatchObject({ head_sha: NEW_HEAD, status: "in_progress", external_id: created.id });
    expect(github.callsTo("POST", "/repos/octo-org/payments/pulls/42/requested_reviewers")).toHaveLength(1);
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues/42/comments")).toHaveLength(1);
    const audit = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line));
    expect(audit.map((entry) => entry.event)).toContain("stale");

    // The next decision lands on the check run of the new head.
    github.clearCalls();
    await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "alice", headSha: NEW_HEAD, author: AUTHOR }));
    await app.runtime.jobs.run();
    const newRunId = github.state.repos[REPO]!.checkRuns.find((run) => run.headSha === NEW_HEAD)!.id;
    expect(github.calls.map((call) => `${call.method} ${call.path}`)).toEqual(["GET /repos/octo-org/payments/collaborators/alice/permission", `PATCH /repos/octo-org/payments/check-runs/${newRunId}`]);
  });

  it("with invalidate_on_push false in .hitl.yml an approval survives new commits and is copied to the new head", async () => {
    github.state.repos[REPO]!.files.main = { ".hitl.yml": "invalidate_on_push: false\n" };
    const created = await open();
    await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "alice", headSha: HEAD, author: AUTHOR }));
    await app.runtime.jobs.run();
    github.clearCalls();
    await send("pull_request", pullRequestPayload({ repo: REPO, action: "synchronize", number: 42, headSha: NEW_HEAD, before: HEAD, author: AUTHOR }));
    await app.runtime.jobs.run();
    expect((await api(app, "GET", `/requests/${created.id}`)).json.status).toBe("approved");
    expect(github.callsTo("POST", "/repos/octo-org/payments/check-runs")[0]!.body).toMatchObject({ head_sha: NEW_HEAD, status: "completed", conclusion: "success" });
  });

  it("the agent's invalidate_on_push false does not loosen .hitl.yml: the request is refused and nothing is posted", async () => {
    github.clearCalls();
    const refused = await api(app, "POST", "/requests", body({ invalidate_on_push: false }));
    expect(refused.status).toBe(400);
    expect(refused.json.error.issues).toEqual([{ path: "invalidate_on_push", message: ".hitl.yml has invalidate_on_push: true; a request may switch it on, not off" }]);
    expect(github.callsTo("POST", "/repos/octo-org/payments/check-runs")).toEqual([]);
  });

  it("closing the pull request without merging cancels the request and fails its check run; reopening leaves it failing", async () => {
    app.setNow(T0);
    const created = await open();
    const runId = github.state.repos[REPO]!.checkRuns[0]!.id;
    github.clearCalls();
    await send("pull_request", pullRequestPayload({ repo: REPO, action: "closed", number: 42, headSha: HEAD, merged: false, author: AUTHOR }));
    await app.runtime.jobs.run();
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "cancelled", decision: { via: "pull_request_closed", decided_by: { type: "system" } } });
    expect(github.calls.map((call) => `${call.method} ${call.path}`)).toEqual([`PATCH /repos/octo-org/payments/check-runs/${runId}`]);
    expect(github.calls[0]!.body).toEqual({
      status: "completed",
      conclusion: "failure",
      completed_at: T0.toISOString(),
      output: {
        title: "Cancelled: The pull request was closed without being merged",
        summary: "Cancelled on 24 Nov 2026 10:00 UTC: The pull request was closed without being merged.",
      },
      actions: [],
    });

    // Reopened, on the same head or a new one: the cancelled request's check stays failing, and
    // nothing passing appears on the new head.
    github.clearCalls();
    await send("pull_request", pullRequestPayload({ repo: REPO, action: "reopened", number: 42, headSha: HEAD, author: AUTHOR }));
    await send("pull_request", pullRequestPayload({ repo: REPO, action: "reopened", number: 42, headSha: NEW_HEAD, author: AUTHOR }));
    await app.runtime.jobs.run();
    expect(github.calls.filter((call) => call.method !== "GET")).toEqual([]);
    expect(github.state.repos[REPO]!.checkRuns.map((run) => [run.headSha, run.status, run.conclusion])).toEqual([[HEAD, "completed", "failure"]]);
  });

  describe("the merge gate opens only with an approval", () => {
    const checkRunsPath = "/repos/octo-org/payments/check-runs";
    // New commits also make hitl look for `.hitl.yml` among the changed files (reads only).
    const writes = () => github.calls.filter((call) => call.method !== "GET").map((call) => `${call.method} ${call.path}`);
    const runOn = (sha: string) => github.state.repos[REPO]!.checkRuns.filter((run) => run.headSha === sha).at(-1)!;

    it("the agent cancelling its own request fails the check run", async () => {
      app.setNow(T0);
      const created = await open();
      const runId = runOn(HEAD).id;
      github.clearCalls();
      const cancelled = await api(app, "POST", `/requests/${created.id}/cancel`, { reason: "changed my mind" });
      expect(cancelled.status).toBe(200);
      await app.runtime.jobs.run();
      expect(writes()).toEqual([`PATCH ${checkRunsPath}/${runId}`]);
      expect(github.calls[0]!.body).toEqual({
        status: "completed",
        conclusion: "failure",
        completed_at: T0.toISOString(),
        output: { title: "Cancelled by refund-agent", summary: "Cancelled by the agent `refund-agent` on 24 Nov 2026 10:00 UTC: changed my mind." },
        actions: [],
      });
      expect(runOn(HEAD)).toMatchObject({ status: "completed", conclusion: "failure" });

      // New commits after that get no check run of this request, so the required check stays expected.
      github.clearCalls();
      await send("pull_request", pullRequestPayload({ repo: REPO, action: "synchronize", number: 42, headSha: NEW_HEAD, before: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      expect(writes()).toEqual([]);
      expect(github.state.repos[REPO]!.checkRuns.filter((run) => run.headSha === NEW_HEAD)).toEqual([]);
    });

    it("a request that expires fails the check run, and a push after that puts a failing one on the new head", async () => {
      app.setNow(T0);
      const created = await open({ deadline: "2026-11-24T12:00:00Z" });
      const runId = runOn(HEAD).id;
      github.clearCalls();
      app.setNow(new Date("2026-11-24T12:01:00Z"));
      await app.runtime.sweep();
      await app.runtime.jobs.run();
      expect((await api(app, "GET", `/requests/${created.id}`)).json.status).toBe("expired");
      const expired = {
        status: "completed",
        conclusion: "failure",
        completed_at: "2026-11-24T12:01:00.000Z",
        output: { title: "Expired: nobody decided by 24 Nov 2026 12:00 UTC", summary: "Nobody decided by 24 Nov 2026 12:00 UTC, so the request is aborted: No decision before the deadline." },
        actions: [],
      };
      expect(writes()).toEqual([`PATCH ${checkRunsPath}/${runId}`]);
      expect(github.calls[0]!.body).toEqual(expired);

      github.clearCalls();
      await send("pull_request", pullRequestPayload({ repo: REPO, action: "synchronize", number: 42, headSha: NEW_HEAD, before: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      expect(writes()).toEqual([`POST ${checkRunsPath}`]);
      expect(github.callsTo("POST", checkRunsPath)[0]!.body).toEqual({ name: "hitl/approval", head_sha: NEW_HEAD, external_id: created.id, ...expired });
      expect(runOn(NEW_HEAD)).toMatchObject({ status: "completed", conclusion: "failure" });
    });

    it("a button on the check run of an earlier commit is answered, not applied", async () => {
      const created = await open();
      const oldRunId = runOn(HEAD).id;
      await send("pull_request", pullRequestPayload({ repo: REPO, action: "synchronize", number: 42, headSha: NEW_HEAD, before: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      const newRunId = runOn(NEW_HEAD).id;
      github.clearCalls();
      await send("check_run", checkRunRequestedActionPayload({ repo: REPO, checkRunId: oldRunId, identifier: "approve", login: "bob", headSha: HEAD, externalId: created.id, pullNumbers: [] }));
      await app.runtime.jobs.run();
      expect(writes()).toEqual(["POST /repos/octo-org/payments/issues/42/comments"]);
      expect(github.calls[0]!.body).toEqual({
        body: "@bob, your decision was made on commit `aaaaaaa`, but this request is on `bbbbbbb` now, so it was not applied. Decide on the latest commit, or with `/approve [reason]` or `/reject [reason]`.",
      });
      expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending", decision: null });

      // The same button on the new head's check run decides.
      github.clearCalls();
      await send("check_run", checkRunRequestedActionPayload({ repo: REPO, checkRunId: newRunId, identifier: "approve", login: "alice", headSha: NEW_HEAD, externalId: created.id, pullNumbers: [42] }));
      await app.runtime.jobs.run();
      expect(writes()).toEqual([`PATCH ${checkRunsPath}/${newRunId}`]);
      expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "approved", decision: { via: "check_run", decided_by: { login: "alice" } } });
    });

    it("a review of an earlier commit does not decide", async () => {
      const created = await open();
      await send("pull_request", pullRequestPayload({ repo: REPO, action: "synchronize", number: 42, headSha: NEW_HEAD, before: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      github.clearCalls();
      await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "alice", headSha: NEW_HEAD, commitId: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      expect(writes()).toEqual(["POST /repos/octo-org/payments/issues/42/comments"]);
      expect(github.calls[0]!.body).toEqual({
        body: "@alice, your decision was made on commit `aaaaaaa`, but this request is on `bbbbbbb` now, so it was not applied. Decide on the latest commit, or with `/approve [reason]` or `/reject [reason]`.",
      });
      expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending", decision: null });

      github.clearCalls();
      await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "alice", headSha: NEW_HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      expect(writes()).toEqual([`PATCH ${checkRunsPath}/${runOn(NEW_HEAD).id}`]);
      expect((await api(app, "GET", `/requests/${created.id}`)).json.status).toBe("approved");
    });

    it("dismissing the approving review takes the approval back: pending again, a new in-progress check run on the head", async () => {
      const created = await open();
      await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "alice", headSha: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      expect(runOn(HEAD)).toMatchObject({ status: "completed", conclusion: "success" });
      github.clearCalls();

      // Someone else's review being dismissed changes nothing.
      await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, action: "dismissed", number: 42, state: "dismissed", login: "bob", sender: "alice", headSha: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      expect(github.calls).toEqual([]);
      expect((await api(app, "GET", `/requests/${created.id}`)).json.status).toBe("approved");

      await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, action: "dismissed", number: 42, state: "dismissed", login: "alice", sender: "bob", headSha: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      expect(writes()).toEqual([`POST ${checkRunsPath}`, "POST /repos/octo-org/payments/issues/42/comments"]);
      expect(github.calls[0]!.body).toMatchObject({
        name: "hitl/approval",
        head_sha: HEAD,
        external_id: created.id,
        status: "in_progress",
        output: { title: "Approval needed: Deploy payments v2 to production" },
        actions: [
          { identifier: "approve", label: "Approve" },
          { identifier: "reject", label: "Reject" },
        ],
      });
      expect(github.calls[0]!.body).not.toHaveProperty("conclusion");
      expect(github.calls[1]!.body).toEqual({
        body: "The approving review was dismissed, so its approval no longer counts. @alice and @octo-org/leads, please look again and decide with `/approve [reason]` or `/reject [reason]`.",
      });
      expect(runOn(HEAD)).toMatchObject({ status: "in_progress", conclusion: null });
      expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending", decision: null });
      const audit = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line));
      expect(audit.at(-1)).toMatchObject({ event: "review_dismissed", status: "pending", actor: { type: "system", reason: "the approving review by @alice was dismissed by @bob" } });

      // The next decision lands on the new check run.
      github.clearCalls();
      await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "bob", headSha: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      expect(writes()).toEqual([`PATCH ${checkRunsPath}/${runOn(HEAD).id}`]);
      expect(runOn(HEAD)).toMatchObject({ status: "completed", conclusion: "success" });
    });

    it("with the README's branch protection, the agent cannot merge its pull request until a person approves", async () => {
      // The README's call, as written there, with hitl's app id (1 in these tests).
      const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
      const call = /gh api -X PATCH repos\/OWNER\/REPO\/branches\/main\/protection\/required_status_checks --input - <<'EOF'\n([^]*?)\nEOF/.exec(readme);
      const required = JSON.parse(call![1]!.replace("APP_ID", "1")) as Record<string, unknown>;
      expect(required).toEqual({ strict: true, checks: [{ context: "hitl/approval", app_id: 1 }] });
      const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
      const person = (token: string) => new Octokit({ baseUrl: github.url, auth: token, log: quiet, request: { retries: 0 } });
      const owner = person("owner-token");
      const agent = person("agent-token");
      const target = { owner: "octo-org", repo: "payments" };
      await owner.rest.repos.updateBranchProtection({ ...target, branch: "main", required_status_checks: null, enforce_admins: true, required_pull_request_reviews: null, restrictions: null });
      await owner.request("PATCH /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks", { ...target, branch: "main", ...required });
      expect(github.callsTo("PATCH", "/repos/octo-org/payments/branches/main/protection/required_status_checks")[0]!.body).toEqual(required);

      const merge = () => agent.rest.pulls.merge({ ...target, pull_number: 42 });
      const refused = (why: string) => ({ status: 405, response: { data: { message: `Required status check "hitl/approval" is ${why}.` } } });
      const first = await open();
      await expect(merge()).rejects.toMatchObject(refused("pending"));
      // Its own commit status does not count.
      await agent.rest.repos.createCommitStatus({ ...target, sha: HEAD, state: "success", context: "hitl/approval" });
      await expect(merge()).rejects.toMatchObject(refused("pending"));
      // Nor does withdrawing its request.
      await api(app, "POST", `/requests/${first.id}/cancel`, { reason: "never mind" });
      await app.runtime.jobs.run();
      await expect(merge()).rejects.toMatchObject(refused("failing"));
      // Nor closing and reopening the pull request.
      await open();
      await send("pull_request", pullRequestPayload({ repo: REPO, action: "closed", number: 42, headSha: HEAD, merged: false, author: AUTHOR }));
      await send("pull_request", pullRequestPayload({ repo: REPO, action: "reopened", number: 42, headSha: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      await expect(merge()).rejects.toMatchObject(refused("failing"));
      // Nor a short deadline nobody meets.
      const now = Date.now();
      await open({ deadline: new Date(now + 3_600_000).toISOString() });
      app.setNow(new Date(now + 3_660_000));
      await app.runtime.sweep();
      await app.runtime.jobs.run();
      await expect(merge()).rejects.toMatchObject(refused("failing"));

      // A person's approval opens it (made after the request was opened, on the clock the test moved on).
      await open({ deadline: "2099-01-01T00:00:00Z" });
      const approved = pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "alice", headSha: HEAD, author: AUTHOR, at: new Date(now + 3_720_000).toISOString() });
      await send("pull_request_review", approved);
      await app.runtime.jobs.run();
      expect((await merge()).data).toMatchObject({ merged: true });
    });

    it("neither the pull request's author nor a GitHub account with the agent's name approves by review", async () => {
      const created = await open();
      github.clearCalls();
      await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: AUTHOR, headSha: HEAD, author: AUTHOR }));
      await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "refund-agent", headSha: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      expect(writes()).toEqual(["POST /repos/octo-org/payments/issues/42/comments", "POST /repos/octo-org/payments/issues/42/comments"]);
      expect(github.calls.map((call) => (call.body as { body: string }).body)).toEqual([
        "@deploy-agent, you opened this request, so you cannot decide it. Who may decide: @\u200Dalice and @\u200Docto-org/leads.",
        "@refund-agent, you opened this request, so you cannot decide it. Who may decide: @\u200Dalice and @\u200Docto-org/leads.",
      ]);
      expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending", decision: null });
      expect(runOn(HEAD)).toMatchObject({ status: "in_progress", conclusion: null });
    });
  });

  it("approval of the pull request itself summarises the diff from GitHub", async () => {
    const created = await open({ decision_data: {} });
    expect(created.decision_data).toEqual({
      pull_request: "#42",
      author: AUTHOR,
      head_commit: "aaaaaaa",
      files_changed: 2,
      additions: 13,
      deletions: 3,
      files: ["deploy/payments.yml (modified, +3 −1)", "src/app.ts (modified, +10 −2)"],
    });
  });

  it("refuses a pull request that does not exist or is closed, naming the field", async () => {
    const missing = await api(app, "POST", "/requests", body({ surface: { type: "pull_request", number: 999 } }));
    expect(missing.status).toBe(400);
    expect(missing.json.error.issues).toEqual([{ path: "surface.number", message: "octo-org/payments has no pull request #999" }]);
    const closed = await api(app, "POST", "/requests", body({ surface: { type: "pull_request", number: 7 } }));
    expect(closed.json.error.issues).toEqual([{ path: "surface.number", message: "pull request #7 is closed" }]);
  });
});
