import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Octokit } from "@octokit/rest";
import { verify } from "@octokit/webhooks-methods";
import { createNodeMiddleware, Probot } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startGitHubStandIn, type GitHubStandIn } from "./github-stand-in.js";
import {
  checkRunRequestedActionPayload,
  deliver,
  examplePayload,
  issueCommentPayload,
  pullRequestPayload,
  pullRequestReviewPayload,
  pushPayload,
  signWebhook,
} from "./webhooks.js";

const HEAD = "a".repeat(40);
const CONFIG = "approvers: [alice]\n";

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const client = (baseUrl: string, auth?: string) => new Octokit({ baseUrl, auth, log: quiet, request: { retries: 0 } });

let standIn: GitHubStandIn;
let octokit: Octokit;

beforeEach(async () => {
  standIn = await startGitHubStandIn({
    repos: {
      "octo-org/payments": {
        files: { main: { ".hitl.yml": CONFIG, "docs/a.md": "a", "docs/b/c.md": "c" }, [HEAD]: { ".hitl.yml": "approvers: [mallory]\n" } },
        collaborators: { alice: "write", bob: "read", carol: "admin", erin: "maintain", tim: "triage" },
        pulls: [
          {
            number: 7,
            headSha: HEAD,
            user: "refund-agent[bot]",
            files: [{ filename: "src/refund.ts", additions: 10, deletions: 2 }],
          },
        ],
        runs: [{ id: 501, headSha: HEAD, waitingOn: ["production", "staging"] }],
      },
      "octo-org/site": { private: false },
      "elsewhere/tools": { runs: [{ id: 601, headSha: HEAD, waitingOn: ["production"] }] },
    },
    installations: [
      { id: 1, account: "octo-org" },
      { id: 2, account: "elsewhere" },
    ],
    teams: { "octo-org/finance": ["dave"] },
  });
  octokit = client(standIn.url, "token x");
});

afterEach(async () => {
  await standIn.close();
});

const repo = { owner: "octo-org", repo: "payments" };

describe("issues", () => {
  it("creates an issue that shares numbers with pull requests, with labels and assignees as objects", async () => {
    const { status, data } = await octokit.rest.issues.create({ ...repo, title: "Approve refund", body: "ctx", labels: ["hitl", "priority: high"], assignees: ["alice"] });

    expect(status).toBe(201);
    expect(data).toMatchObject({
      number: 8,
      state: "open",
      title: "Approve refund",
      html_url: "https://github.com/octo-org/payments/issues/8",
      user: { login: "hitl[bot]", type: "Bot" },
      labels: [{ name: "hitl" }, { name: "priority: high" }],
      assignees: [{ login: "alice", type: "User" }],
      assignee: { login: "alice" },
    });
    expect(typeof data.labels[0] === "object" && data.labels[0].id).toEqual(expect.any(Number));
    expect(standIn.callsTo("POST", "/repos/:owner/:repo/issues")).toEqual([
      {
        method: "POST",
        path: "/repos/octo-org/payments/issues",
        query: {},
        body: { title: "Approve refund", body: "ctx", labels: ["hitl", "priority: high"], assignees: ["alice"] },
        status: 201,
      },
    ]);
    expect(standIn.repo("octo-org/payments").issues.find((i) => i.number === 8)).toMatchObject({ labels: ["hitl", "priority: high"], assignees: ["alice"] });
  });

  it("refuses to create an issue assigned to someone who cannot be assigned", async () => {
    await expect(octokit.rest.issues.create({ ...repo, title: "x", assignees: ["stranger"] })).rejects.toMatchObject({
      status: 422,
      response: { data: { message: "Validation Failed", errors: [{ value: "stranger", resource: "Issue", field: "assignees", code: "invalid" }] } },
    });
  });

  it("adds and removes labels and assignees, dropping people who cannot be assigned", async () => {
    const { data: issue } = await octokit.rest.issues.create({ ...repo, title: "x" });
    const number = issue.number;

    const added = await octokit.rest.issues.addLabels({ ...repo, issue_number: number, labels: ["hitl", "priority: high"] });
    expect(added.data.map((l) => l.name)).toEqual(["hitl", "priority: high"]);
    const set = await octokit.rest.issues.setLabels({ ...repo, issue_number: number, labels: ["hitl", "priority: low"] });
    expect(set.data.map((l) => l.name)).toEqual(["hitl", "priority: low"]);
    const removed = await octokit.rest.issues.removeLabel({ ...repo, issue_number: number, name: "priority: low" });
    expect(removed.data.map((l) => l.name)).toEqual(["hitl"]);
    expect(standIn.callsTo("DELETE", "/repos/octo-org/payments/issues/8/labels/priority: low")).toHaveLength(1);
    await expect(octokit.rest.issues.removeLabel({ ...repo, issue_number: number, name: "nope" })).rejects.toMatchObject({
      status: 404,
      response: { data: { message: "Label does not exist" } },
    });

    const assigned = await octokit.rest.issues.addAssignees({ ...repo, issue_number: number, assignees: ["alice", "stranger", "carol"] });
    expect(assigned.status).toBe(201);
    expect(assigned.data.assignees?.map((a) => a.login)).toEqual(["alice", "carol"]);
    const unassigned = await octokit.rest.issues.removeAssignees({ ...repo, issue_number: number, assignees: ["alice"] });
    expect(unassigned.data.assignees?.map((a) => a.login)).toEqual(["carol"]);
  });

  it("comments, edits comments, reacts, closes and lists", async () => {
    const { data: issue } = await octokit.rest.issues.create({ ...repo, title: "x", labels: ["hitl"] });
    await octokit.rest.issues.create({ ...repo, title: "y" });

    const { status, data: comment } = await octokit.rest.issues.createComment({ ...repo, issue_number: issue.number, body: "Waiting for @alice" });
    expect(status).toBe(201);
    expect(comment).toMatchObject({ body: "Waiting for @alice", user: { login: "hitl[bot]" }, html_url: `https://github.com/octo-org/payments/issues/8#issuecomment-${comment.id}` });
    expect(comment.performed_via_github_app).toMatchObject({ slug: "hitl" });

    const edited = await octokit.rest.issues.updateComment({ ...repo, comment_id: comment.id, body: "Approved" });
    expect(edited.data.body).toBe("Approved");
    const listed = await octokit.rest.issues.listComments({ ...repo, issue_number: issue.number });
    expect(listed.data.map((c) => c.body)).toEqual(["Approved"]);

    const first = await octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: comment.id, content: "+1" });
    const again = await octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: comment.id, content: "+1" });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.data.id).toBe(first.data.id);

    const closed = await octokit.rest.issues.update({ ...repo, issue_number: issue.number, state: "closed", state_reason: "not_planned" });
    expect(closed.data).toMatchObject({ state: "closed", state_reason: "not_planned", closed_at: expect.any(String) });

    const open = await octokit.rest.issues.listForRepo({ ...repo });
    expect(open.data.map((i) => i.number)).toEqual([9, 7]);
    const labelled = await octokit.rest.issues.listForRepo({ ...repo, state: "all", labels: "hitl", creator: "hitl[bot]" });
    expect(labelled.data.map((i) => i.number)).toEqual([8]);
  });

  it("paginates with Link headers that Octokit follows", async () => {
    for (const title of ["a", "b", "c", "d", "e"]) await octokit.rest.issues.create({ ...repo, title });
    const all = await octokit.paginate(octokit.rest.issues.listForRepo, { ...repo, per_page: 2 });
    expect(all.map((i) => i.title)).toEqual(["e", "d", "c", "b", "a", "Pull request #7"]);
    expect(standIn.callsTo("GET", "/repos/octo-org/payments/issues").map((c) => c.query.page ?? "1")).toEqual(["1", "2", "3"]);
  });
});

describe("listings for recovery", () => {
  it("lists comments updated since a time, by creation, and refuses a since that is not ISO 8601 as GitHub does", async () => {
    const issue = (await octokit.rest.issues.create({ ...repo, title: "Approve refund" })).data.number;
    const first = standIn.comment("octo-org/payments", issue, { login: "alice", body: "/approve" });
    const second = standIn.comment("octo-org/payments", issue, { login: "bob", body: "looks fine" });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const later = standIn.editComment("octo-org/payments", first.id, "/reject").updatedAt;

    const all = await octokit.rest.issues.listComments({ ...repo, issue_number: issue, since: "2020-01-01T00:00:00Z" });
    expect(all.data.map((c) => [c.id, c.user?.login, c.body])).toEqual([[first.id, "alice", "/reject"], [second.id, "bob", "looks fine"]]);
    expect(all.data[0]!.updated_at > all.data[0]!.created_at).toBe(true);
    // Only the edited comment was updated at or after its edit.
    const since = await octokit.rest.issues.listComments({ ...repo, issue_number: issue, since: later });
    expect(since.data.map((c) => c.id)).toEqual([first.id]);

    await expect(octokit.rest.issues.listComments({ ...repo, issue_number: issue, since: "yesterday" })).rejects.toMatchObject({
      status: 422,
      response: { data: { message: "The since parameter needs to be in ISO 8601 format: YYYY-MM-DDTHH:MM:SSZ" } },
    });
  });

  it("lists a pull request's reviews, at most 100 a page", async () => {
    for (let i = 0; i < 101; i++) standIn.review("octo-org/payments", 7, { login: "alice", state: i === 100 ? "APPROVED" : "COMMENTED", body: `review ${i}` });
    const page = await octokit.rest.pulls.listReviews({ ...repo, pull_number: 7, per_page: 500 });
    expect(page.data).toHaveLength(100);
    expect(page.headers.link).toContain('rel="next"');
    const next = await octokit.rest.pulls.listReviews({ ...repo, pull_number: 7, per_page: 100, page: 2 });
    expect(next.data).toEqual([
      expect.objectContaining({ state: "APPROVED", body: "review 100", user: expect.objectContaining({ login: "alice", type: "User" }), commit_id: HEAD, submitted_at: expect.any(String) }),
    ]);
  });

  it("answers a GET with an ETag, and 304 with no body when If-None-Match names the current one", async () => {
    const first = await octokit.rest.pulls.listReviews({ ...repo, pull_number: 7 });
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^W\/"[0-9a-f]+"$/);
    await expect(octokit.rest.pulls.listReviews({ ...repo, pull_number: 7, headers: { "if-none-match": etag } })).rejects.toMatchObject({ status: 304 });
    standIn.review("octo-org/payments", 7, { login: "alice", state: "APPROVED" });
    const changed = await octokit.rest.pulls.listReviews({ ...repo, pull_number: 7, headers: { "if-none-match": etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(standIn.callsTo("GET", "/repos/octo-org/payments/pulls/7/reviews").map((c) => c.status)).toEqual([200, 304, 200]);
  });
});

describe("permissions, teams and contents", () => {
  it("answers the collaborator permission in the legacy field and the role in role_name", async () => {
    const permission = async (owner: string, name: string, username: string) =>
      (await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo: name, username })).data;

    expect(await permission("octo-org", "payments", "alice")).toMatchObject({ permission: "write", role_name: "write", user: { login: "alice", permissions: { push: true, admin: false } } });
    expect(await permission("octo-org", "payments", "erin")).toMatchObject({ permission: "write", role_name: "maintain" });
    expect(await permission("octo-org", "payments", "tim")).toMatchObject({ permission: "read", role_name: "triage" });
    expect(await permission("octo-org", "payments", "carol")).toMatchObject({ permission: "admin", role_name: "admin" });
    expect(await permission("octo-org", "payments", "stranger")).toMatchObject({ permission: "none", role_name: "none" });
    expect(await permission("octo-org", "site", "stranger")).toMatchObject({ permission: "read" });
  });

  it("answers team membership with 200 for members and 404 otherwise", async () => {
    const membership = await octokit.rest.teams.getMembershipForUserInOrg({ org: "octo-org", team_slug: "finance", username: "dave" });
    expect(membership.data).toMatchObject({ state: "active", role: "member" });
    await expect(octokit.rest.teams.getMembershipForUserInOrg({ org: "octo-org", team_slug: "finance", username: "alice" })).rejects.toMatchObject({ status: 404 });
    await expect(octokit.rest.teams.getMembershipForUserInOrg({ org: "octo-org", team_slug: "nope", username: "dave" })).rejects.toMatchObject({ status: 404 });
    const members = await octokit.rest.teams.listMembersInOrg({ org: "octo-org", team_slug: "finance" });
    expect(members.data.map((m) => m.login)).toEqual(["dave"]);
  });

  it("answers organisation membership for listed members and team members, 404 otherwise", async () => {
    const seeded = await startGitHubStandIn({ members: { "octo-org": ["mallory"] }, teams: { "octo-org/finance": ["dave"] } });
    try {
      const api = client(seeded.url, "token x");
      for (const username of ["mallory", "Dave"]) {
        expect((await api.rest.orgs.getMembershipForUser({ org: "Octo-Org", username })).data).toMatchObject({ state: "active", role: "member" });
      }
      await expect(api.rest.orgs.getMembershipForUser({ org: "octo-org", username: "stranger" })).rejects.toMatchObject({ status: 404 });
    } finally {
      await seeded.close();
    }
  });

  it("treats owner and repository names without regard to case, answering with the names as seeded", async () => {
    const seeded = await startGitHubStandIn({ repos: { "Octo-Org/Payments": { collaborators: { alice: "write" } } } });
    try {
      const lower = { owner: "octo-org", repo: "payments" };
      expect((await client(seeded.url, "a.b.c").rest.apps.getRepoInstallation(lower)).data).toMatchObject({ id: 1 });
      const api = client(seeded.url, "token x");
      expect((await api.rest.repos.get(lower)).data).toMatchObject({ full_name: "Octo-Org/Payments" });
      const issue = await api.rest.issues.create({ owner: "OCTO-ORG", repo: "PAYMENTS", title: "x" });
      expect(issue.data.html_url).toBe("https://github.com/Octo-Org/Payments/issues/1");
      expect((await api.rest.issues.get({ ...lower, issue_number: 1 })).data.title).toBe("x");
      expect((await api.rest.repos.getCollaboratorPermissionLevel({ ...lower, username: "ALICE" })).data.role_name).toBe("write");
    } finally {
      await seeded.close();
    }
  });

  it("serves files as base64 JSON, raw, per ref, and 404 when absent", async () => {
    const { data } = await octokit.rest.repos.getContent({ ...repo, path: ".hitl.yml" });
    expect(data).toMatchObject({ type: "file", encoding: "base64", path: ".hitl.yml", name: ".hitl.yml" });
    expect(Buffer.from((data as { content: string }).content, "base64").toString("utf8")).toBe(CONFIG);

    const raw = await octokit.rest.repos.getContent({ ...repo, path: ".hitl.yml", mediaType: { format: "raw" } });
    expect(raw.data).toBe(CONFIG);
    const atHead = await octokit.rest.repos.getContent({ ...repo, path: ".hitl.yml", ref: HEAD, mediaType: { format: "raw" } });
    expect(atHead.data).toBe("approvers: [mallory]\n");

    const dir = await octokit.rest.repos.getContent({ ...repo, path: "docs" });
    expect((dir.data as Array<{ name: string; type: string }>).map((e) => [e.name, e.type])).toEqual([["a.md", "file"], ["b", "dir"]]);

    await expect(octokit.rest.repos.getContent({ ...repo, path: "missing.yml" })).rejects.toMatchObject({ status: 404 });
    await expect(octokit.rest.repos.getContent({ ...repo, path: ".hitl.yml", ref: "nope" })).rejects.toMatchObject({ status: 404 });
    await expect(octokit.rest.repos.getContent({ owner: "octo-org", repo: "site", path: ".hitl.yml" })).rejects.toMatchObject({ status: 404 });
  });
});

describe("pull requests and check runs", () => {
  it("serves the pull request, its files, and review requests with GitHub's refusals", async () => {
    const { data: pull } = await octokit.rest.pulls.get({ ...repo, pull_number: 7 });
    expect(pull).toMatchObject({ number: 7, state: "open", merged: false, head: { sha: HEAD, ref: "feature-7" }, base: { ref: "main" }, user: { login: "refund-agent[bot]", type: "Bot" }, additions: 10, deletions: 2, changed_files: 1 });
    const files = await octokit.rest.pulls.listFiles({ ...repo, pull_number: 7 });
    expect(files.data).toMatchObject([{ filename: "src/refund.ts", status: "modified", changes: 12 }]);

    const requested = await octokit.rest.pulls.requestReviewers({ ...repo, pull_number: 7, reviewers: ["alice"], team_reviewers: ["finance"] });
    expect(requested.status).toBe(201);
    expect(requested.data.requested_reviewers?.map((u) => u.login)).toEqual(["alice"]);
    expect(requested.data.requested_teams?.map((t) => t.slug)).toEqual(["finance"]);

    await expect(octokit.rest.pulls.requestReviewers({ ...repo, pull_number: 7, reviewers: ["refund-agent[bot]"] })).rejects.toMatchObject({ status: 422 });
    await expect(octokit.rest.pulls.requestReviewers({ ...repo, pull_number: 7, reviewers: ["stranger"] })).rejects.toMatchObject({
      status: 422,
      message: expect.stringContaining("Reviews may only be requested from collaborators"),
    });

    await octokit.rest.pulls.removeRequestedReviewers({ ...repo, pull_number: 7, reviewers: ["alice"] });
    const left = await octokit.rest.pulls.listRequestedReviewers({ ...repo, pull_number: 7 });
    expect(left.data).toMatchObject({ users: [], teams: [{ slug: "finance" }] });
  });

  it("creates, completes and lists check runs, and validates buttons like GitHub", async () => {
    const actions = [
      { label: "Approve", description: "Approve this request", identifier: "approve" },
      { label: "Reject", description: "Reject this request", identifier: "reject" },
    ];
    const created = await octokit.rest.checks.create({ ...repo, name: "hitl/approval", head_sha: HEAD, status: "in_progress", external_id: "req_1", output: { title: "Waiting", summary: "Needs @alice" }, actions });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ name: "hitl/approval", head_sha: HEAD, status: "in_progress", conclusion: null, external_id: "req_1", output: { title: "Waiting", summary: "Needs @alice" }, app: { slug: "hitl" }, pull_requests: [{ number: 7 }] });
    expect(standIn.repo("octo-org/payments").checkRuns[0]?.actions).toEqual(actions);

    const updated = await octokit.rest.checks.update({ ...repo, check_run_id: created.data.id, conclusion: "success", output: { title: "Approved", summary: "By @alice" } });
    expect(updated.data).toMatchObject({ status: "completed", conclusion: "success", completed_at: expect.any(String) });

    const listed = await octokit.rest.checks.listForRef({ ...repo, ref: HEAD });
    expect(listed.data.total_count).toBe(1);
    expect(listed.data.check_runs[0]).toMatchObject({ id: created.data.id, conclusion: "success" });

    await expect(octokit.rest.checks.create({ ...repo, name: "x", head_sha: HEAD, actions: [{ label: "A label that is far too long", description: "d", identifier: "i" }] })).rejects.toMatchObject({ status: 422 });
    await expect(octokit.rest.checks.create({ ...repo, name: "x", head_sha: HEAD, actions: [...actions, ...actions] })).rejects.toMatchObject({ status: 422 });
    await expect(octokit.rest.checks.create({ ...repo, name: "x", head_sha: HEAD, status: "completed" })).rejects.toMatchObject({ status: 422 });
    await expect(octokit.rest.checks.update({ ...repo, check_run_id: 1, status: "in_progress" })).rejects.toMatchObject({ status: 404 });
  });

  it("never lets a completed check run change its status or conclusion, as on GitHub", async () => {
    const created = await octokit.rest.checks.create({ ...repo, name: "hitl/approval", head_sha: HEAD, conclusion: "success", output: { title: "Approved", summary: "By @alice" } });
    const id = created.data.id;
    await expect(octokit.rest.checks.update({ ...repo, check_run_id: id, status: "in_progress" })).rejects.toMatchObject({ status: 422 });
    await expect(octokit.rest.checks.update({ ...repo, check_run_id: id, conclusion: "failure" })).rejects.toMatchObject({ status: 422 });
    const again = await octokit.rest.checks.update({ ...repo, check_run_id: id, status: "completed", conclusion: "success", output: { title: "Approved", summary: "By @alice, again" } });
    expect(again.data).toMatchObject({ status: "completed", conclusion: "success", output: { summary: "By @alice, again" } });
  });
});

describe("branch protection and merging", () => {
  const output = { title: "t", summary: "s" };
  const merge = () => octokit.rest.pulls.merge({ ...repo, pull_number: 7 });
  const blocked = (why: string) => ({ status: 405, response: { data: { message: `Required status check "hitl/approval" is ${why}.` } } });

  async function protect(checks: Array<{ context: string; app_id?: number }>) {
    await octokit.rest.repos.updateBranchProtection({ ...repo, branch: "main", required_status_checks: null, enforce_admins: true, required_pull_request_reviews: null, restrictions: null });
    return octokit.rest.repos.updateStatusCheckProtection({ ...repo, branch: "main", strict: true, checks });
  }

  async function appClient() {
    const { data } = await client(standIn.url, "header.payload.signature").rest.apps.createInstallationAccessToken({ installation_id: 1 });
    return client(standIn.url, data.token);
  }

  it("a check pinned to the app passes only with the app's own passing check run; neutral passes, as on GitHub", async () => {
    await expect(octokit.rest.repos.updateStatusCheckProtection({ ...repo, branch: "main", strict: true, checks: [] })).rejects.toMatchObject({ status: 404, response: { data: { message: "Branch not protected" } } });
    const pinned = await protect([{ context: "hitl/approval", app_id: 1 }]);
    expect(pinned.data).toMatchObject({ strict: true, contexts: ["hitl/approval"], checks: [{ context: "hitl/approval", app_id: 1 }] });
    await expect(merge()).rejects.toMatchObject(blocked("expected"));

    // Successes from anyone else do not count: a commit status, a check run of another app.
    await octokit.rest.repos.createCommitStatus({ ...repo, sha: HEAD, state: "success", context: "hitl/approval" });
    await octokit.rest.checks.create({ ...repo, name: "hitl/approval", head_sha: HEAD, conclusion: "success", output });
    await expect(merge()).rejects.toMatchObject(blocked("expected"));

    const app = await appClient();
    const run = await app.rest.checks.create({ ...repo, name: "hitl/approval", head_sha: HEAD, status: "in_progress", output });
    await expect(merge()).rejects.toMatchObject(blocked("pending"));
    await app.rest.checks.update({ ...repo, check_run_id: run.data.id, conclusion: "failure", output });
    await expect(merge()).rejects.toMatchObject(blocked("failing"));
    // The latest check run of the name is the one that counts.
    await app.rest.checks.create({ ...repo, name: "hitl/approval", head_sha: HEAD, conclusion: "neutral", output });
    expect((await merge()).data).toEqual({ sha: HEAD, merged: true, message: "Pull Request successfully merged" });
    await expect(merge()).rejects.toMatchObject({ status: 405, response: { data: { message: "Pull Request is not mergeable" } } });
  });

  it("a check not pinned to an app, that no app provided yet, passes with anyone's commit status", async () => {
    const unpinned = await protect([{ context: "hitl/approval" }]);
    expect(unpinned.data.checks).toEqual([{ context: "hitl/approval", app_id: null }]);
    await octokit.rest.repos.createCommitStatus({ ...repo, sha: HEAD, state: "success", context: "hitl/approval" });
    expect((await merge()).data).toMatchObject({ merged: true });
  });

  it("refuses what GitHub refuses", async () => {
    // Typed as plain strings, so that the bodies GitHub refuses can be sent.
    const UNTYPED_PUT_PROTECTION: string = "PUT /repos/{owner}/{repo}/branches/{branch}/protection";
    const UNTYPED_PATCH_CHECKS: string = "PATCH /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks";
    await expect(octokit.request(UNTYPED_PUT_PROTECTION, { ...repo, branch: "main", required_status_checks: null })).rejects.toMatchObject({ status: 422 });
    await octokit.rest.repos.updateBranchProtection({ ...repo, branch: "main", required_status_checks: null, enforce_admins: true, required_pull_request_reviews: null, restrictions: null });
    await expect(octokit.request("PATCH /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks", { ...repo, branch: "main", contexts: ["a"], checks: [{ context: "a" }] })).rejects.toMatchObject({ status: 422 });
    await expect(octokit.request(UNTYPED_PATCH_CHECKS, { ...repo, branch: "main", checks: [{ context: "a", app_id: "hitl" }] })).rejects.toMatchObject({ status: 422 });
    await expect(octokit.rest.repos.createCommitStatus({ ...repo, sha: HEAD, state: "neutral" as "success" })).rejects.toMatchObject({ status: 422 });
  });
});

describe("defaults", () => {
  it("seeds one private repository, installed as installation 1, on the given clock", async () => {
    const bare = await startGitHubStandIn({ now: () => new Date("2026-11-24T10:00:00.123Z") });
    try {
      const api = client(bare.url, "token x");
      expect((await api.rest.repos.get(repo)).data).toMatchObject({ full_name: "octo-org/payments", private: true, default_branch: "main", owner: { type: "Organization" } });
      expect((await client(bare.url, "a.b.c").rest.apps.getRepoInstallation(repo)).data).toMatchObject({ id: 1 });
      expect((await api.rest.issues.create({ ...repo, title: "x" })).data).toMatchObject({ number: 1, created_at: "2026-11-24T10:00:00Z" });
      expect(bare.host).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(bare.url).toBe(`http://${bare.host}/api/v3`);
    } finally {
      await bare.close();
    }
  });
});

describe("authentication", () => {
  const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.c2ln";

  it("issues installation tokens for a JWT and scopes them to the installation's repositories", async () => {
    const app = client(standIn.url, jwt);
    const { status, data } = await app.rest.apps.createInstallationAccessToken({ installation_id: 1 });
    expect(status).toBe(201);
    expect(data).toMatchObject({ token: expect.stringMatching(/^ghs_/), expires_at: expect.any(String) });
    expect((await app.rest.apps.getRepoInstallation(repo)).data).toMatchObject({ id: 1, account: { login: "octo-org" }, app_slug: "hitl" });
    expect((await app.rest.apps.getAuthenticated()).data).toMatchObject({ slug: "hitl", id: 1 });

    const installation = client(standIn.url, data.token);
    expect((await installation.rest.repos.get(repo)).data).toMatchObject({ full_name: "octo-org/payments", default_branch: "main", private: true });
    await expect(installation.rest.repos.get({ owner: "elsewhere", repo: "tools" })).rejects.toMatchObject({ status: 404 });
  });

  it("answers 401 without credentials, or with a token where a JWT is needed", async () => {
    await expect(client(standIn.url).rest.repos.get(repo)).rejects.toMatchObject({ status: 401 });
    await expect(octokit.rest.apps.getRepoInstallation(repo)).rejects.toMatchObject({ status: 401 });
    await expect(client(standIn.url, jwt).rest.apps.createInstallationAccessToken({ installation_id: 99 })).rejects.toMatchObject({ status: 404 });
  });

  it("accepts paths without the /api/v3 prefix", async () => {
    const bare = client(standIn.url.replace(/\/api\/v3$/, ""), "token x");
    expect((await bare.rest.repos.get(repo)).status).toBe(200);
    expect(standIn.calls.at(-1)?.path).toBe("/repos/octo-org/payments");
  });
});

describe("deployment protection rules", () => {
  const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.c2ln";
  const installationClient = async (id: number) => client(standIn.url, (await client(standIn.url, jwt).rest.apps.createInstallationAccessToken({ installation_id: id })).data.token);
  const review = (octokit: Octokit, body: Record<string, unknown>, target = { ...repo, run_id: 501 }) =>
    octokit.request("POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule", { ...target, ...body } as never);

  it("takes the app's answer for an environment the run waits on, once", async () => {
    const app = await installationClient(1);
    const { status } = await app.rest.actions.reviewCustomGatesForRun({ ...repo, run_id: 501, environment_name: "Production", state: "approved", comment: "Approved by alice" });
    expect(status).toBe(204);
    const run = standIn.repo("octo-org/payments").runs[0]!;
    expect(run.reviews).toEqual([{ environment: "production", state: "approved", comment: "Approved by alice", installationId: 1, at: expect.any(String) }]);
    expect(run.waitingOn).toEqual(["staging"]);
    await expect(app.rest.actions.reviewCustomGatesForRun({ ...repo, run_id: 501, environment_name: "production", state: "approved" })).rejects.toMatchObject({ status: 422, message: expect.stringContaining("No pending deployment requests") });
  });

  it("validates the body as GitHub does: environment_name required, state approved or rejected, a comment alone is a note", async () => {
    const app = await installationClient(1);
    await expect(review(app, { state: "approved" })).rejects.toMatchObject({ status: 422, response: { data: { errors: [{ field: "environment_name", code: "missing_field" }] } } });
    await expect(review(app, { environment_name: "production", state: "approve" })).rejects.toMatchObject({ status: 422, response: { data: { errors: [{ field: "state", code: "invalid" }] } } });
    await expect(review(app, { environment_name: "production" })).rejects.toMatchObject({ status: 422, response: { data: { errors: [{ field: "comment", code: "missing_field" }] } } });
    expect((await review(app, { environment_name: "production", comment: "still looking" })).status).toBe(204);
    expect(standIn.repo("octo-org/payments").runs[0]!.waitingOn).toEqual(["production", "staging"]);
  });

  it("takes only an installation token of the app on that repository, for a run that waits", async () => {
    await expect(review(octokit, { environment_name: "production", state: "approved" })).rejects.toMatchObject({ status: 403 });
    const other = await installationClient(2);
    await expect(review(other, { environment_name: "production", state: "approved" })).rejects.toMatchObject({ status: 404 });
    const app = await installationClient(1);
    await expect(review(app, { environment_name: "production", state: "approved" }, { ...repo, run_id: 999 })).rejects.toMatchObject({ status: 404 });
    await expect(review(app, { environment_name: "qa", state: "approved" })).rejects.toMatchObject({ status: 422 });
    standIn.cancelRun("octo-org/payments", 501);
    await expect(review(app, { environment_name: "production", state: "approved" })).rejects.toMatchObject({ status: 422 });
    expect((await app.rest.actions.getWorkflowRun({ ...repo, run_id: 501 })).data).toMatchObject({ id: 501, status: "completed", conclusion: "cancelled" });
    expect(standIn.repo("elsewhere/tools").runs[0]!.reviews).toEqual([]);
  });
});

describe("fault injection and recording", () => {
  it("answers the next matching calls with the given responses in order, then recovers", async () => {
    const reset = String(Math.floor(Date.now() / 1000) + 60);
    standIn.failNext({ method: "GET", path: "/repos/:owner/:repo/issues/:number" }, [
      { status: 502 },
      { status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset }, body: { message: "API rate limit exceeded" } },
      { status: 429, headers: { "retry-after": "1" } },
    ]);
    const get = () => octokit.rest.issues.get({ ...repo, issue_number: 7 });

    await expect(get()).rejects.toMatchObject({ status: 502 });
    await expect(octokit.rest.repos.get(repo)).resolves.toMatchObject({ status: 200 });
    await expect(get()).rejects.toMatchObject({ status: 403, message: "API rate limit exceeded", response: { headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset } } });
    await expect(get()).rejects.toMatchObject({ status: 429, response: { headers: { "retry-after": "1" } } });
    await expect(get()).resolves.toMatchObject({ status: 200, data: { number: 7 } });

    expect(standIn.callsTo("GET", /\/issues\/7$/).map((c) => c.status)).toEqual([502, 403, 429, 200]);
  });

  it("answers unknown routes with 404 and records them", async () => {
    await expect(octokit.request("GET /repos/{owner}/{repo}/branches", repo)).rejects.toMatchObject({
      status: 404,
      message: expect.stringContaining("stand-in has no route for GET /repos/octo-org/payments/branches"),
    });
    expect(standIn.calls).toEqual([{ method: "GET", path: "/repos/octo-org/payments/branches", query: {}, body: undefined, status: 404 }]);
    standIn.clearCalls();
    expect(standIn.calls).toEqual([]);
  });
});

describe("webhook helpers", () => {
  const keys = (value: unknown) => Object.keys(value as object).sort();

  it("returns deep clones of the real examples", () => {
    const first = examplePayload("issue_comment", "created");
    first.comment.body = "changed";
    expect(examplePayload("issue_comment", "created").comment.body).not.toBe("changed");
    expect(() => examplePayload("issue_comment", "no-such-action")).toThrow(/no "issue_comment.no-such-action" example/);
  });

  it("builds payloads that keep the shape of the real examples", () => {
    const comment = issueCommentPayload({ repo: "octo-org/payments", issueNumber: 12, isPullRequest: true, body: "/approve", login: "alice", installationId: 1 });
    const realComment = examplePayload("issue_comment", "created", (p) => "installation" in p);
    expect(keys(comment)).toEqual(keys(realComment));
    expect(keys(comment.comment)).toEqual(keys(realComment.comment));
    expect(comment).toMatchObject({
      action: "created",
      repository: { full_name: "octo-org/payments", name: "payments", owner: { login: "octo-org" } },
      issue: { number: 12, pull_request: { url: "https://api.github.com/repos/octo-org/payments/pulls/12" } },
      comment: { body: "/approve", user: { login: "alice", type: "User" } },
      sender: { login: "alice" },
      installation: { id: 1 },
    });
    expect(JSON.stringify(comment)).not.toMatch(/Codertocat|Octocoders|Hello-World|\/issues\/1\b/);

    const edited = issueCommentPayload({ issueNumber: 3, body: "/approve", previousBody: "/reject", login: "bot[bot]", userType: "Bot", action: "edited", installationId: 1 });
    expect(edited).toMatchObject({ action: "edited", changes: { body: { from: "/reject" } }, comment: { user: { type: "Bot" } } });
    expect("pull_request" in edited.issue).toBe(false);

    const review = pullRequestReviewPayload({ number: 7, state: "approved", body: "LGTM", login: "alice", headSha: HEAD, installationId: 1 });
    expect(keys(review)).toEqual(keys(examplePayload("pull_request_review", "submitted", (p) => "installation" in p)));
    expect(review).toMatchObject({ review: { state: "approved", body: "LGTM", commit_id: HEAD, user: { login: "alice" } }, pull_request: { number: 7, head: { sha: HEAD } } });

    const button = checkRunRequestedActionPayload({ checkRunId: 55, identifier: "approve", login: "alice", headSha: HEAD, pullNumbers: [7], installationId: 1 });
    expect(keys(button)).toEqual(keys(examplePayload("check_run", "requested_action")));
    expect(button).toMatchObject({ requested_action: { identifier: "approve" }, check_run: { id: 55, head_sha: HEAD, app: { slug: "hitl" }, pull_requests: [{ number: 7 }] } });

    const sync = pullRequestPayload({ action: "synchronize", number: 7, headSha: HEAD, before: "b".repeat(40), installationId: 1 });
    expect(keys(sync)).toEqual(keys(examplePayload("pull_request", "synchronize")));
    expect(sync).toMatchObject({ before: "b".repeat(40), after: HEAD, number: 7, pull_request: { head: { sha: HEAD }, state: "open" } });
    const merged = pullRequestPayload({ action: "closed", merged: true, number: 7, headSha: HEAD, installationId: 1 });
    expect(merged.pull_request).toMatchObject({ state: "closed", merged: true, merged_at: expect.any(String) });

    const push = pushPayload({ after: HEAD, commits: [{ modified: [".hitl.yml"] }, { added: ["src/a.ts"] }], installationId: 1 });
    expect(keys(push)).toEqual(keys(examplePayload("push", undefined, (p) => "installation" in p && p.commits.length > 0)));
    expect(push).toMatchObject({ ref: "refs/heads/main", after: HEAD, head_commit: { id: HEAD, added: ["src/a.ts"] }, commits: [{ modified: [".hitl.yml"] }, { id: HEAD }] });

    for (const payload of [comment, edited, review, button, sync, merged, push]) {
      expect(JSON.stringify(payload)).not.toMatch(/Codertocat|Octocoders|Hello-World|electron/);
    }
  });

  it("signs bodies so that @octokit/webhooks-methods verifies them", async () => {
    const body = JSON.stringify(issueCommentPayload({ issueNumber: 1, body: "/approve", login: "alice", installationId: 1 }));
    const signature = signWebhook("s3cret", body);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(await verify("s3cret", body, signature)).toBe(true);
    expect(await verify("other", body, signature)).toBe(false);
  });

  it("delivers to a real Probot app, which answers through the stand-in", async () => {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const probot = new Probot({ appId: 1, privateKey, secret: "s3cret", baseUrl: standIn.url, logLevel: "fatal" });
    const middleware = await createNodeMiddleware(
      (app) => {
        app.on("issue_comment.created", async (context) => {
          const config = await context.octokit.rest.repos.getContent(context.repo({ path: ".hitl.yml", mediaType: { format: "raw" } }));
          await context.octokit.rest.issues.createComment(context.issue({ body: `seen: ${String(config.data).trim()}` }));
        });
      },
      { probot },
    );
    const server: Server = createServer((req, res) => void middleware(req, res, () => res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const payload = issueCommentPayload({ issueNumber: 7, isPullRequest: true, body: "/approve", login: "alice", installationId: 1 });

      const forged = await deliver(`http://127.0.0.1:${port}/api/github/webhooks`, { event: "issue_comment", payload, secret: "wrong" });
      expect(forged.status).toBe(400);
      const delivered = await deliver(`http://127.0.0.1:${port}/api/github/webhooks`, { event: "issue_comment", payload, secret: "s3cret" });
      expect(delivered.status).toBe(200);
      expect(delivered.deliveryId).toMatch(/^[0-9a-f-]{36}$/);

      expect(standIn.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
        "POST /app/installations/1/access_tokens 201",
        "GET /repos/octo-org/payments/contents/.hitl.yml 200",
        "POST /repos/octo-org/payments/issues/7/comments 201",
      ]);
      expect(standIn.callsTo("POST", "/repos/:owner/:repo/issues/:number/comments")[0]?.body).toEqual({ body: "seen: approvers: [alice]" });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("branches, file commits and new pull requests", () => {
  const status = (promise: Promise<unknown>) => promise.then(() => 200, (error: { status: number; response?: { data?: { message?: string } } }) => `${error.status} ${error.response?.data?.message ?? ""}`);

  it("makes a branch from the default branch's head, commits a file on it, and opens one pull request from it", async () => {
    const { data: main } = await octokit.rest.git.getRef({ ...repo, ref: "heads/main" });
    expect(await status(octokit.rest.git.getRef({ ...repo, ref: "heads/hitl/x" }))).toBe("404 Not Found");
    await octokit.rest.git.createRef({ ...repo, ref: "refs/heads/hitl/x", sha: main.object.sha });
    expect(await status(octokit.rest.git.createRef({ ...repo, ref: "refs/heads/hitl/x", sha: main.object.sha }))).toBe("422 Reference already exists");
    expect(await status(octokit.rest.git.createRef({ ...repo, ref: "refs/heads/other", sha: "f".repeat(40) }))).toBe("422 Object does not exist");
    expect(await status(octokit.rest.pulls.create({ ...repo, title: "t", head: "hitl/x", base: "main" }))).toBe("422 Validation Failed");

    const content = Buffer.from("approvers: [carol]\n").toString("base64");
    expect(await status(octokit.rest.repos.createOrUpdateFileContents({ ...repo, path: ".hitl.yml", branch: "hitl/x", message: "m", content }))).toBe('422 Invalid request.\n\n"sha" wasn\'t supplied.');
    expect(await status(octokit.rest.repos.createOrUpdateFileContents({ ...repo, path: ".hitl.yml", branch: "hitl/x", message: "m", content, sha: "0".repeat(40) }))).toBe(`409 .hitl.yml does not match ${"0".repeat(40)}`);
    const { data: file } = await octokit.rest.repos.getContent({ ...repo, path: ".hitl.yml", ref: "hitl/x" });
    const { data: commit } = await octokit.rest.repos.createOrUpdateFileContents({ ...repo, path: ".hitl.yml", branch: "hitl/x", message: "m", content, sha: (file as { sha: string }).sha });
    expect(standIn.repo("octo-org/payments").files[commit.commit.sha!]![".hitl.yml"]).toBe("approvers: [carol]\n");
    expect(standIn.repo("octo-org/payments").files.main![".hitl.yml"]).toBe(CONFIG);

    const { data: pull } = await octokit.rest.pulls.create({ ...repo, title: "Add a rule", head: "hitl/x", base: "main", body: "why" });
    expect(pull).toMatchObject({ title: "Add a rule", body: "why", head: { ref: "hitl/x", sha: commit.commit.sha }, base: { ref: "main" }, state: "open" });
    expect((await octokit.rest.pulls.listFiles({ ...repo, pull_number: pull.number })).data.map((f) => [f.filename, f.status])).toEqual([[".hitl.yml", "modified"]]);
    expect(await status(octokit.rest.pulls.create({ ...repo, title: "again", head: "hitl/x", base: "main" }))).toBe("422 Validation Failed");
    expect((await octokit.rest.pulls.list({ ...repo, head: "octo-org:hitl/x", state: "all" })).data.map((p) => p.number)).toEqual([pull.number]);
    expect((await octokit.rest.pulls.list({ ...repo, head: "octo-org:nothing", state: "all" })).data).toEqual([]);
  });
});
