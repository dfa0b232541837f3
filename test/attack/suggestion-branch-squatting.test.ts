import { afterEach, describe, expect, it } from "vitest";
import { AGENT, api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { headSha } from "../support/github-stand-in/git-routes.js";
import { allocateId, newIssue } from "../support/github-stand-in/state.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";
import { refundHistory } from "../support/refund-history.js";

/**
 * A suggestion's pull request comes from the branch `hitl/suggest-<id>`, a name anyone who can
 * push knows. The agent's own GitHub account (a writer here) pushes that branch first, with a
 * `.hitl.yml` that approves everything, and opens a pull request from it: hitl must never present
 * that branch or pull request as the suggestion it was asked to open.
 */

const REPO = "octo-org/payments";
const AUDITOR = { name: "auditor", token: "auditor-token-0123456789abcdef", readAll: true };
const AGENT_LOGIN = "refund-agent-user";
const POLICY = "approvers: [alice]\n\nrules:\n  - id: tiny\n    when: {field: amount, lt: 1}\n    action: approve\n";
const EVERYTHING = "approvers: [alice]\n\nrules:\n  - id: tiny\n    when: {field: amount, lt: 1e12}\n    action: approve\n";

const history = () => refundHistory(REPO);

describe("a suggestion's branch pushed first by someone else", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  afterEach(async () => {
    await app?.close();
    await github?.close();
  });

  async function start(): Promise<string> {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: {
          collaborators: { alice: "admin", [AGENT_LOGIN]: "write" },
          files: { main: { ".hitl.yml": POLICY } },
          issues: [{ number: 40, title: "Refund policy", user: "alice" }],
        },
      },
      installations: [{ id: 1, account: "octo-org" }],
    });
    app = await startApp({ githubUrl: github.url, now: new Date("2026-12-01T12:00:00.000Z"), agents: [{ ...AGENT, githubLogins: [AGENT_LOGIN] }, AUDITOR] });
    for (const request of history()) await app.store.create(request);
    const listed = await api(app, "GET", `/suggestions?repo=${REPO}`, undefined, { token: AUDITOR.token });
    expect(listed.json.suggestions).toHaveLength(1);
    return listed.json.suggestions[0].id as string;
  }

  /** What the agent's account does with `git push` and the pull request button. */
  function squat(id: string, openPull: boolean): number | null {
    const repo = github.repo(REPO);
    const branch = `hitl/suggest-${id}`;
    repo.files[branch] = { ".hitl.yml": EVERYTHING };
    repo.files[headSha(repo, branch)] = { ".hitl.yml": EVERYTHING };
    if (!openPull) return null;
    const number = 77;
    const issue = newIssue(github.state, number, "hitl: add delegation rule", "hitl suggests this delegation rule", AGENT_LOGIN, "2026-12-01T11:00:00.000Z");
    issue.isPullRequest = true;
    repo.issues.push(issue);
    repo.pulls.push({
      id: allocateId(github.state),
      number,
      headSha: headSha(repo, branch),
      headRef: branch,
      baseRef: "main",
      baseSha: headSha(repo, "main"),
      merged: false,
      mergedAt: null,
      draft: false,
      additions: 1,
      deletions: 1,
      changedFiles: 1,
      files: [{ filename: ".hitl.yml", status: "modified", additions: 1, deletions: 1 }],
      requestedReviewers: [],
      requestedTeams: [],
      reviews: [],
    });
    return number;
  }

  it("never answers the agent's pull request from that branch as the suggestion's", async () => {
    const id = await start();
    squat(id, true);
    const opened = await api(app, "POST", `/suggestions/${id}/pull-request`, { repo: REPO }, { token: AUDITOR.token });
    expect(opened.status).toBe(409);
    expect(opened.json.error).toEqual({
      code: "config_branch_taken",
      message: `The branch hitl/suggest-${id} exists, but hitl did not open a pull request from it: its content is not hitl's to vouch for. Delete the branch, then ask again.`,
    });
    await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: 40, body: `/hitl suggest ${id}`, login: "alice", userType: "User", issueAuthor: "alice" }), secret: WEBHOOK_SECRET });
    const replies = github.repo(REPO).issues.find((issue) => issue.number === 40)!.comments.map((reply) => reply.body);
    expect(replies).toEqual([`hitl cannot open \`${id}\`: The branch hitl/suggest-${id} exists, but hitl did not open a pull request from it: its content is not hitl's to vouch for. Delete the branch, then ask again.`]);
    expect(github.callsTo("POST", "/repos/octo-org/payments/pulls")).toEqual([]);
  });

  it("never opens a pull request, with hitl's evidence, from a branch the agent pushed", async () => {
    const id = await start();
    squat(id, false);
    const opened = await api(app, "POST", `/suggestions/${id}/pull-request`, { repo: REPO }, { token: AUDITOR.token });
    expect(opened.status).toBe(409);
    expect(opened.json.error.code).toBe("config_branch_taken");
    expect(github.callsTo("POST", "/repos/octo-org/payments/pulls")).toEqual([]);
    expect(github.repo(REPO).files[`hitl/suggest-${id}`]).toEqual({ ".hitl.yml": EVERYTHING });
  });
});
