import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { checkRunRequestedActionPayload, deliver, issueCommentPayload, pullRequestPayload, pullRequestReviewPayload, pushPayload } from "../support/webhooks.js";

/** As GitHub spells it; agents and webhooks may write it in any case. */
const REPO = "Octo-Org/Payments";
const HEAD = "a".repeat(40);

const POLICY = `rules:
  - id: small-refunds
    when: {field: amount, lt: 50}
    action: approve
    max_uses: 1
`;

const refund = (repo: string, amount: number) => ({
  repo,
  task_description: `Refund ${amount} USD`,
  approval_reason: "Refunds need a decision",
  decision_data: { amount },
  approvers: ["alice"],
  deadline: "2099-12-01T12:00:00Z",
});

describe("repository names are compared without regard to case", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" }, files: { main: { ".hitl.yml": POLICY } }, pulls: [{ number: 42, headSha: HEAD }, { number: 43, headSha: HEAD }] } } });
    app = await startApp({ githubUrl: github.url });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const comment = (fullName: string, issueNumber: number, body: string) =>
    deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: fullName, issueNumber, body, login: "alice" }), secret: WEBHOOK_SECRET });

  async function open(repo: string, amount = 120) {
    const response = await api(app, "POST", "/requests", refund(repo, amount));
    expect(response.status).toBe(201);
    return response.json as { id: string; repo: string; status: string; surface_number: number };
  }

  it("a request opened for Octo-Org/Payments is decided by /approve on a webhook for octo-org/payments, and the other way round", async () => {
    const first = await open("Octo-Org/Payments");
    const second = await open("octo-org/payments");
    expect([first.repo, second.repo]).toEqual(["octo-org/payments", "octo-org/payments"]);
    await comment("octo-org/payments", first.surface_number, "/approve");
    await comment("Octo-Org/Payments", second.surface_number, "/reject");
    expect((await api(app, "GET", `/requests/${first.id}`)).json).toMatchObject({ status: "approved", decision: { decided_by: { login: "alice" } } });
    expect((await api(app, "GET", `/requests/${second.id}`)).json).toMatchObject({ status: "rejected" });
  });

  it("a review and a check-run button on a pull request of Octo-Org/Payments decide requests opened in lowercase", async () => {
    const send = (event: string, payload: unknown) => deliver(`${app.url}/api/github/webhooks`, { event, payload, secret: WEBHOOK_SECRET });
    const byButton = (await api(app, "POST", "/requests", { ...refund("octo-org/payments", 120), surface: { type: "pull_request", number: 42 } })).json;
    const byReview = (await api(app, "POST", "/requests", { ...refund("octo-org/payments", 120), surface: { type: "pull_request", number: 43 } })).json;
    const checkRunId = github.repo(REPO).checkRuns.find((run) => run.externalId === byButton.id)!.id;
    await send("check_run", checkRunRequestedActionPayload({ repo: REPO, checkRunId, identifier: "approve", login: "alice", headSha: HEAD, externalId: byButton.id, pullNumbers: [42] }));
    await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 43, state: "approved", login: "alice", headSha: HEAD }));
    expect((await api(app, "GET", `/requests/${byButton.id}`)).json).toMatchObject({ status: "approved", decision: { via: "check_run" } });
    expect((await api(app, "GET", `/requests/${byReview.id}`)).json).toMatchObject({ status: "approved", decision: { via: "review" } });
  });

  it("closing that pull request unmerged cancels a request opened in lowercase", async () => {
    const created = (await api(app, "POST", "/requests", { ...refund("octo-org/payments", 120), surface: { type: "pull_request", number: 42 } })).json;
    const closed = pullRequestPayload({ repo: REPO, action: "closed", number: 42, headSha: HEAD });
    await deliver(`${app.url}/api/github/webhooks`, { event: "pull_request", payload: closed, secret: WEBHOOK_SECRET });
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "cancelled", decision: { via: "pull_request_closed" } });
  });

  it("list and audit find the same requests whichever case the query uses", async () => {
    const created = await open("Octo-Org/Payments");
    for (const repo of ["octo-org/payments", "OCTO-ORG/PAYMENTS", "Octo-Org/Payments"]) {
      const listed = await api(app, "GET", `/requests?repo=${encodeURIComponent(repo)}`);
      expect(listed.json.requests.map((r: { id: string }) => r.id)).toEqual([created.id]);
      const audit = await api(app, "GET", `/audit?repo=${encodeURIComponent(repo)}`);
      expect(audit.text.trim().split("\n").map((line) => JSON.parse(line).request_id)).toEqual([created.id, created.id]);
    }
  });

  it("counts a rule's max_uses once across spellings of the repository", async () => {
    const first = await open("Octo-Org/Payments", 10);
    const second = await open("octo-org/PAYMENTS", 10);
    expect(first).toMatchObject({ status: "approved" });
    expect(second).toMatchObject({ status: "pending" });
    const simulated = await api(app, "POST", "/simulate", { request: refund("OCTO-ORG/Payments", 10) });
    expect(simulated.json).toMatchObject({ outcome: "needs_human", would_be: { repo: "octo-org/payments" } });
  });

  it("a push to .hitl.yml, named as GitHub spells the repository, is seen by requests named in lowercase", async () => {
    expect(await open("octo-org/payments", 120)).toMatchObject({ status: "pending" });
    github.repo(REPO).files.main![".hitl.yml"] = "rules:\n  - {id: refunds, when: {field: amount, lt: 500}, action: approve}\n";
    const push = pushPayload({ repo: REPO, after: "e".repeat(40), commits: [{ modified: [".hitl.yml"] }] });
    expect((await deliver(`${app.url}/api/github/webhooks`, { event: "push", payload: push, secret: WEBHOOK_SECRET })).status).toBe(200);
    expect(await open("octo-org/payments", 120)).toMatchObject({ status: "approved", decision: { decided_by: { type: "rule", id: "refunds" } } });
  });
});
