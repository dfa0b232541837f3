import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { outcomeMarker, requestMarker } from "../../src/core/render/markers.js";
import { api, SELF, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { allocateId, newIssue, nextIssueNumber } from "../support/github-stand-in/state.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const ISSUES = `/repos/${REPO}/issues`;
const T0 = new Date("2026-11-24T09:00:00.000Z");
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

const requestBody = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  approvers: ["alice"],
  deadline: "2099-12-01T12:00:00Z",
  ...overrides,
});

/**
 * hitl finds its own issue again (a retried open) and its own outcome comment (a retried
 * update) by markers. Only markers hitl wrote count: signed, in hitl's place, by the app.
 */
describe("hitl's markers on GitHub", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", mallory: "triage" } } } });
    app = await startApp({ githubUrl: github.url, now: T0 });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  async function open(overrides: Record<string, unknown> = {}) {
    const response = await api(app, "POST", "/requests", requestBody(overrides));
    expect(response.status).toBe(201);
    return response.json as { id: string; surface_number: number | null };
  }

  const surfaceOf = async (id: string) => (await api(app, "GET", `/requests/${id}`)).json.surface_number as number | null;

  /** An issue someone other than hitl opened, labelled as hitl labels its own. */
  function issueBy(login: string, body: string): number {
    const repo = github.repo(REPO);
    const issue = newIssue(github.state, nextIssueNumber(repo), "[hitl] Refund order 1234", body, login, T0.toISOString());
    issue.labels = ["hitl:pending", "priority:normal"];
    repo.issues.push(issue);
    return issue.number;
  }

  it("does not take a marker in agent text, or in someone else's issue, for the issue of an earlier try", async () => {
    github.failNext({ method: "POST", path: ISSUES }, [{ status: 500 }]);
    const first = await open();
    expect(first.surface_number).toBeNull();

    // Another request whose agent text carries the first request's marker, unsigned and signed
    // (as if copied from a body), in code spans hitl cannot escape.
    const signed = requestMarker(first.id, SELF.markerKey);
    const carrier = await open({
      task_description: `<!-- hitl:request:${first.id} -->`,
      fallback_action: { type: "retry_with_modification", modifications: { [`<!-- hitl:request:${first.id} -->`]: 1, [signed]: 2 } },
    });
    expect(carrier.surface_number).toBe(1);
    expect(github.repo(REPO).issues[0]!.body).toContain(signed);
    // A person's issue that starts with the marker, as hitl's would.
    const forged = issueBy("mallory", `${signed}\nApproved already, nothing to see.`);

    // The safety-net job tries again and looks for an issue the first try may have created.
    app.setNow(later(3));
    await app.runtime.jobs.run();

    const own = await surfaceOf(first.id);
    expect(own).not.toBeNull();
    expect([1, forged]).not.toContain(own);
    expect(github.callsTo("POST", ISSUES).map((call) => call.status)).toEqual([500, 201, 201]);
  });

  it("finds its own issue when the answer to an earlier try was lost", async () => {
    github.failNext({ method: "POST", path: ISSUES }, [{ status: 500 }]);
    const first = await open();
    // GitHub created it, but the answer never arrived.
    const repo = github.repo(REPO);
    const lost = newIssue(github.state, nextIssueNumber(repo), "[hitl] Refund order 1234", `${requestMarker(first.id, SELF.markerKey)}\nthe summary`, "hitl[bot]", T0.toISOString());
    lost.labels = ["hitl:pending", "priority:normal"];
    repo.issues.push(lost);

    app.setNow(later(3));
    await app.runtime.jobs.run();

    expect(await surfaceOf(first.id)).toBe(lost.number);
    expect(github.callsTo("POST", ISSUES)).toHaveLength(1);
  });

  it("posts the outcome comment even when someone else's comment carries its marker", async () => {
    const request = await open();
    expect(request.surface_number).toBe(1);
    const issue = github.repo(REPO).issues[0]!;
    for (const body of [`/approve\n\n<!-- hitl:outcome:${request.id} -->`, `looks done\n\n${outcomeMarker(request.id, SELF.markerKey)}`]) {
      issue.comments.push({ id: allocateId(github.state), body, user: "mallory", createdAt: later(1).toISOString(), updatedAt: later(1).toISOString(), reactions: [] });
    }

    // The first update fails, so the retry looks for an outcome comment already posted.
    github.failNext({ method: "PATCH", path: `${ISSUES}/1` }, [{ status: 502 }]);
    app.setNow(later(2));
    const delivery = await deliver(`${app.url}/api/github/webhooks`, {
      event: "issue_comment",
      payload: issueCommentPayload({ repo: REPO, issueNumber: 1, body: "/approve fine", login: "alice" }),
      secret: WEBHOOK_SECRET,
    });
    expect(delivery.status).toBe(200);
    await app.runtime.jobs.run();
    app.setNow(later(3));
    await app.runtime.jobs.run();

    expect(github.callsTo("PATCH", `${ISSUES}/1`).map((call) => call.status)).toEqual([502, 200]);
    const outcome = issue.comments.filter((comment) => comment.user === "hitl[bot]");
    expect(outcome).toHaveLength(1);
    expect(outcome[0]!.body).toMatch(/^Approved by @alice on .*\n\n<!-- hitl:outcome:req_\S+ -->$/);
    expect(outcome[0]!.body.endsWith(outcomeMarker(request.id, SELF.markerKey))).toBe(true);
  });

  it("does not post the outcome comment twice when its own is there", async () => {
    const request = await open();
    github.failNext({ method: "POST", path: `${ISSUES}/1/comments` }, [{ status: 502, body: { message: "answer lost" } }]);
    app.setNow(later(2));
    await deliver(`${app.url}/api/github/webhooks`, {
      event: "issue_comment",
      payload: issueCommentPayload({ repo: REPO, issueNumber: 1, body: "/approve fine", login: "alice" }),
      secret: WEBHOOK_SECRET,
    });
    await app.runtime.jobs.run();
    // As if GitHub had posted it and the answer was lost.
    const issue = github.repo(REPO).issues[0]!;
    const posted = `Approved by @alice.\n\n${outcomeMarker(request.id, SELF.markerKey)}`;
    issue.comments.push({ id: allocateId(github.state), body: posted, user: "hitl[bot]", createdAt: later(2).toISOString(), updatedAt: later(2).toISOString(), reactions: [] });

    app.setNow(later(3));
    await app.runtime.jobs.run();

    expect(github.callsTo("POST", `${ISSUES}/1/comments`).map((call) => call.status)).toEqual([502]);
    expect(issue.comments.filter((comment) => comment.user === "hitl[bot]")).toHaveLength(1);
  });
});
