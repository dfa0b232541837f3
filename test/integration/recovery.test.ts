import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AGENT, api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { auditOf } from "../support/api-client.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { waitFor } from "../support/wait.js";
import { deliver, issueCommentPayload, pullRequestPayload, pullRequestReviewPayload } from "../support/webhooks.js";

/**
 * GitHub does not redeliver a webhook it could not deliver. The recovery pass reads the
 * comments (and reviews) on pending requests' surfaces and applies what no webhook brought, once,
 * through the same path; it asks conditionally, so a surface where nothing changed costs a 304.
 */

const REPO = "octo-org/payments";
const ISSUES = `/repos/${REPO}/issues`;
const HEAD = "a".repeat(40);
const NEW_HEAD = "b".repeat(40);
const PR_AUTHOR = "deploy-agent";

const requestBody = (callbackUrl: string, overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  decision_data: { amount: 120, currency: "USD" },
  approvers: ["alice"],
  deadline: "2099-12-01T12:00:00Z",
  callback_url: callbackUrl,
  ...overrides,
});

const line = (call: { method: string; path: string; status: number; query: Record<string, string> }) =>
  `${call.method} ${call.path}${Object.keys(call.query).length ? `?${Object.entries(call.query).map(([k, v]) => `${k}=${v}`).join("&")}` : ""} ${call.status}`;

describe("recovery of decisions whose webhook never arrived", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  let agent: CallbackReceiver;

  async function startWith(recoveryPerPass?: number) {
    app = await startApp({ githubUrl: github.url, recoveryPerPass });
  }

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: {
          collaborators: { alice: "write", bob: "write", mallory: "read", [PR_AUTHOR]: "write" },
          pulls: [{ number: 42, headSha: HEAD, user: PR_AUTHOR, files: [{ filename: "deploy/payments.yml" }] }],
        },
      },
    });
    agent = await startCallbackReceiver();
  });

  afterEach(async () => {
    await app?.close();
    await github.close();
    await agent.close();
  });

  async function open(overrides: Record<string, unknown> = {}) {
    const created = await api(app, "POST", "/requests", requestBody(agent.url, overrides));
    expect(created.status, created.text).toBe(201);
    return { id: created.json.id as string, number: created.json.surface_number as number, createdAt: created.json.created_at as string };
  }
  const show = async (id: string) => (await api(app, "GET", `/requests/${id}`)).json;
  const repliesOn = (number: number) => github.callsTo("POST", `${ISSUES}/${number}/comments`).map((c) => (c.body as { body: string }).body);

  it("applies an /approve that GitHub never delivered, on the next tick, once", async () => {
    await startWith();
    const request = await open();
    github.comment(REPO, request.number, { login: "alice", body: "/approve customer is a regular" });
    github.clearCalls();

    await app.runtime.tick();
    await waitFor("the undelivered /approve to be applied", async () => ((await show(request.id)).status === "approved" ? true : undefined), 10_000, 50);
    await app.runtime.jobs.run();

    expect(await show(request.id)).toMatchObject({ status: "approved", decision: { decided_by: { type: "human", login: "alice" }, justification: "customer is a regular", via: "comment" } });
    expect((await auditOf(app.url, AGENT.token, REPO)).filter((e) => e.event === "decided")).toHaveLength(1);
    expect(agent.received.map((c) => JSON.parse(c.body).event)).toEqual(["request.approved"]);
    // One listing found it; the rest is what any decision costs (with no .hitl.yml, alice needs
    // write access; a 👍 on the comment; then close and comment the issue).
    expect(github.calls.map(line)).toEqual([
      `GET ${ISSUES}/${request.number}/comments?since=${request.createdAt.replace(/\.\d{3}Z$/, "Z")}&per_page=100 200`,
      `GET /repos/octo-org/payments/collaborators/alice/permission 200`,
      expect.stringMatching(/^POST \/repos\/octo-org\/payments\/issues\/comments\/\d+\/reactions 201$/),
      `PATCH ${ISSUES}/${request.number} 200`,
      `POST ${ISSUES}/${request.number}/comments 201`,
    ]);
  });

  it("asks again only conditionally: a second pass with nothing new is a 304 per surface", async () => {
    await startWith();
    const first = await open();
    const second = await open({ task_description: "Refund order 5678" });
    github.clearCalls();

    expect(await app.runtime.recover()).toEqual({ ran: true, checked: 2, listings: 2, notModified: 0, handled: 0 });
    expect(github.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([`GET ${ISSUES}/${first.number}/comments 200`, `GET ${ISSUES}/${second.number}/comments 200`]);
    github.clearCalls();

    expect(await app.runtime.recover()).toEqual({ ran: true, checked: 2, listings: 2, notModified: 2, handled: 0 });
    expect(github.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([`GET ${ISSUES}/${first.number}/comments 304`, `GET ${ISSUES}/${second.number}/comments 304`]);

    // Something new on one surface: that one is listed in full again, the other stays a 304.
    github.comment(REPO, second.number, { login: "bob", body: "looks fine to me" });
    github.clearCalls();
    expect(await app.runtime.recover()).toEqual({ ran: true, checked: 2, listings: 2, notModified: 1, handled: 0 });
    expect(github.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([`GET ${ISSUES}/${first.number}/comments 304`, `GET ${ISSUES}/${second.number}/comments 200`]);
    expect((await show(second.id)).status).toBe("pending");
  });

  it("holds to its bound per pass, taking the least recently checked requests first", async () => {
    await startWith(2);
    const [a, b, c] = [await open(), await open({ task_description: "two" }), await open({ task_description: "three" })];
    const listed = () => github.callsTo("GET", /\/comments$/).map((call) => Number(call.path.split("/")[5]));

    github.clearCalls();
    expect((await app.runtime.recover()).listings).toBe(2);
    expect(listed()).toEqual([a.number, b.number]);
    github.clearCalls();
    expect((await app.runtime.recover()).listings).toBe(2);
    expect(listed()).toEqual([c.number, a.number]);
    github.clearCalls();
    await app.runtime.recover();
    expect(listed()).toEqual([b.number, c.number]);
  });

  it("does not count an edited comment, a bot's or the requester's, and answers each once", async () => {
    await startWith();
    const request = await open();
    const edited = github.comment(REPO, request.number, { login: "alice", body: "/reject" });
    github.editComment(REPO, edited.id, "/approve");
    github.comment(REPO, request.number, { login: "ci-helper[bot]", body: "/approve" });
    github.comment(REPO, request.number, { login: AGENT.name, body: "/approve I checked it myself" });
    github.comment(REPO, request.number, { login: "mallory", body: "/approve" });
    github.clearCalls();

    expect(await app.runtime.recover()).toMatchObject({ handled: 3 });
    expect((await show(request.id)).status).toBe("pending");
    expect(repliesOn(request.number)).toEqual([
      "@alice, edited comments do not count, so your command was not applied. Post a new comment to decide.",
      `@${AGENT.name}, you opened this request, so you cannot decide it. Who may decide: @\u200dalice.`,
      "@mallory, you are not an approver of this request, so your command was not applied. Who may decide: @\u200dalice.",
    ]);
    // One listing and the three answers: nobody needed a look-up (the approvers are named).
    expect(github.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      `GET ${ISSUES}/${request.number}/comments 200`,
      ...Array(3).fill(`POST ${ISSUES}/${request.number}/comments 201`),
    ]);

    // The next pass sees its own replies (a bot's) and nothing else new: no second answer.
    github.clearCalls();
    expect(await app.runtime.recover()).toMatchObject({ handled: 0 });
    expect(repliesOn(request.number)).toEqual([]);
    expect(github.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([`GET ${ISSUES}/${request.number}/comments 200`]);
  });

  it("neither applies nor answers again a comment its webhook already handled", async () => {
    await startWith();
    const request = await open();
    const made = github.comment(REPO, request.number, { login: "mallory", body: "/approve" });
    const delivery = await deliver(`${app.url}/api/github/webhooks`, {
      event: "issue_comment",
      payload: issueCommentPayload({ repo: REPO, issueNumber: request.number, body: made.body, login: "mallory", commentId: made.id, at: made.createdAt }),
      secret: WEBHOOK_SECRET,
    });
    expect(delivery.status).toBe(200);
    expect(repliesOn(request.number)).toHaveLength(1);
    github.clearCalls();

    expect(await app.runtime.recover()).toMatchObject({ listings: 1, handled: 1 });
    expect(github.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([`GET ${ISSUES}/${request.number}/comments 200`]);

    // And the other way round: found by recovery first, its late webhook changes nothing.
    const late = github.comment(REPO, request.number, { login: "alice", body: "/approve" });
    await app.runtime.recover();
    await app.runtime.jobs.run();
    expect((await show(request.id)).status).toBe("approved");
    github.clearCalls();
    const lateDelivery = await deliver(`${app.url}/api/github/webhooks`, {
      event: "issue_comment",
      payload: issueCommentPayload({ repo: REPO, issueNumber: request.number, body: late.body, login: "alice", commentId: late.id, at: late.createdAt }),
      secret: WEBHOOK_SECRET,
    });
    expect(delivery.status).toBe(200);
    expect(lateDelivery.status).toBe(200);
    expect(github.calls).toEqual([]);
    expect((await auditOf(app.url, AGENT.token, REPO)).filter((e) => e.event === "decided")).toHaveLength(1);
  });

  it("applies an approving review GitHub never delivered, and leaves the reviews before the request alone", async () => {
    await startWith();
    // A review from before the request was opened: its webhook found nothing to decide.
    github.review(REPO, 42, { login: "bob", state: "CHANGES_REQUESTED", body: "not yet" });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const request = await open({ surface: { type: "pull_request", number: 42 }, approvers: ["alice", "bob"], decision_data: { service: "payments" } });
    github.clearCalls();

    expect(await app.runtime.recover()).toEqual({ ran: true, checked: 1, listings: 2, notModified: 0, handled: 0 });
    expect(github.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([`GET ${ISSUES}/42/comments 200`, `GET /repos/${REPO}/pulls/42/reviews 200`]);
    expect((await show(request.id)).status).toBe("pending");

    github.review(REPO, 42, { login: "alice", state: "APPROVED", body: "ship it" });
    github.clearCalls();
    expect(await app.runtime.recover()).toEqual({ ran: true, checked: 1, listings: 2, notModified: 1, handled: 1 });
    expect(github.calls.slice(0, 2).map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([`GET ${ISSUES}/42/comments 304`, `GET /repos/${REPO}/pulls/42/reviews 200`]);
    expect(await show(request.id)).toMatchObject({ status: "approved", decision: { decided_by: { login: "alice" }, justification: "ship it", via: "review" } });

    // Its webhook arriving after all changes nothing.
    const [approval] = github.repo(REPO).pulls[0]!.reviews.slice(-1);
    github.clearCalls();
    const late = await deliver(`${app.url}/api/github/webhooks`, {
      event: "pull_request_review",
      payload: pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", body: "ship it", login: "alice", headSha: HEAD, reviewId: approval!.id, author: PR_AUTHOR }),
      secret: WEBHOOK_SECRET,
    });
    expect(late.status).toBe(200);
    expect(github.calls).toEqual([]);
  });

  it("applies a comment found late only to the requests that were open when it was made", async () => {
    await startWith();
    const earlier = await open({ surface: { type: "pull_request", number: 42 }, decision_data: { service: "payments" } });
    github.comment(REPO, 42, { login: "alice", body: "/approve the payments part" });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // One request waits on a pull request at a time: the agent withdraws the first, then asks again.
    expect((await api(app, "POST", `/requests/${earlier.id}/cancel`, {})).status).toBe(200);
    const later = await open({ surface: { type: "pull_request", number: 42 }, decision_data: { service: "billing" } });

    await app.runtime.recover();
    expect((await show(earlier.id)).status).toBe("cancelled");
    expect((await show(later.id)).status).toBe("pending");
  });

  it("does not apply to a new head commit what was said before the push that made approvals stale", async () => {
    await startWith();
    const request = await open({ surface: { type: "pull_request", number: 42 }, decision_data: { service: "payments" } });
    // Both webhooks are lost; then new commits arrive (and their webhook does).
    github.review(REPO, 42, { login: "alice", state: "APPROVED", body: "ship it" });
    github.comment(REPO, 42, { login: "alice", body: "/approve" });
    github.repo(REPO).pulls[0]!.headSha = NEW_HEAD;
    const push = await deliver(`${app.url}/api/github/webhooks`, {
      event: "pull_request",
      payload: pullRequestPayload({ repo: REPO, action: "synchronize", number: 42, headSha: NEW_HEAD, before: HEAD, author: PR_AUTHOR }),
      secret: WEBHOOK_SECRET,
    });
    expect(push.status).toBe(200);
    await app.runtime.jobs.run();

    github.clearCalls();
    expect(await app.runtime.recover()).toMatchObject({ listings: 2, handled: 0 });
    expect(await show(request.id)).toMatchObject({ status: "pending", decision: null });
    expect(github.calls.filter((c) => c.method !== "GET")).toEqual([]);

    // Said again after the push, it counts.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    github.review(REPO, 42, { login: "alice", state: "APPROVED", body: "ship the new one" });
    expect(await app.runtime.recover()).toMatchObject({ handled: 1 });
    expect(await show(request.id)).toMatchObject({ status: "approved", decision: { justification: "ship the new one", via: "review" } });
  });
});
