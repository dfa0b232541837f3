import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AGENT, api, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

const REPO = "octo-org/payments";

const item = (task: string, key: string, extra: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: task,
  approval_reason: "Needs a human",
  approvers: ["alice"],
  deadline: "2099-12-01T12:00:00Z",
  idempotency_key: key,
  ...extra,
});

describe("POST /api/v1/requests/batch", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" } } } });
    app = await startApp({ githubUrl: github.url });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  it("opens each item as its own request and answers item by item, in order; a bad item fails alone", async () => {
    const first = await api(app, "POST", "/requests/batch", {
      requests: [
        item("Refund order 1", "k-1"),
        item("Refund order 2", "k-2", { priority: "urgent" }),
        item("Refund order 3", "k-3", { requested_by: "deploy-bot" }),
        { ...item("Refund order 4", "k-4"), idempotency_key: undefined },
        item("Refund order 1", "k-1"),
        item("Refund order 5", "k-5", { approvers: ["alice"], required_approvals: 1, surface: { type: "issue" }, repo: "octo-org/elsewhere" }),
      ],
    });
    expect(first.status).toBe(200);
    const results = first.json.results as { index: number; status: number; request?: { id: string; task_description: string }; error?: unknown }[];
    expect(results.map((r) => [r.index, r.status])).toEqual([
      [0, 201],
      [1, 400],
      [2, 400],
      [3, 400],
      [4, 200],
      [5, 422],
    ]);
    expect(results[0]!.request!.task_description).toBe("Refund order 1");
    expect(results[4]!.request!.id).toBe(results[0]!.request!.id);
    expect(results[1]!.error).toEqual({
      code: "invalid_request",
      message: expect.any(String),
      issues: [{ path: "requests[1].priority", message: 'Invalid option: expected one of "low"|"normal"|"high"|"critical"' }],
    });
    expect(results[2]!.error).toMatchObject({ issues: [{ path: "requests[2].requested_by", message: `must be ${AGENT.name}, the agent the token belongs to (or left out)` }] });
    expect(results[3]!.error).toMatchObject({ issues: [{ path: "requests[3].idempotency_key", message: "is required for each request of a batch" }] });
    expect(results[5]!.error).toMatchObject({ code: "app_not_installed" });
    // One issue for the one request opened.
    expect(github.callsTo("POST", `/repos/${REPO}/issues`)).toHaveLength(1);

    // The same batch again opens nothing new: every key returns its first request.
    const again = await api(app, "POST", "/requests/batch", { requests: [item("Refund order 1", "k-1")] });
    expect(again.json.results).toEqual([{ index: 0, status: 200, request: expect.objectContaining({ id: results[0]!.request!.id }) }]);
    expect(github.callsTo("POST", `/repos/${REPO}/issues`)).toHaveLength(1);
  });

  it("refuses an envelope without requests, or with more than 100, naming the field", async () => {
    const none = await api(app, "POST", "/requests/batch", { requests: [] });
    expect(none.status).toBe(400);
    expect(none.json.error.issues).toEqual([{ path: "requests", message: "Too small: expected array to have >=1 items" }]);
    const many = await api(app, "POST", "/requests/batch", { requests: Array.from({ length: 101 }, (_, i) => item(`Refund ${i}`, `k-${i}`)) });
    expect(many.status).toBe(400);
    expect(many.json.error.issues).toEqual([{ path: "requests", message: "Too big: expected array to have <=100 items" }]);
    const stray = await api(app, "POST", "/requests/batch", { requests: [item("Refund", "k")], extra: 1 });
    expect(stray.status).toBe(400);
    expect(github.callsTo("POST", `/repos/${REPO}/issues`)).toHaveLength(0);
  });

  it("needs an agent token", async () => {
    const response = await api(app, "POST", "/requests/batch", { requests: [item("Refund", "k")] }, { token: "nope" });
    expect(response.status).toBe(401);
  });
});
