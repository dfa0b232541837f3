import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T09:00:00.000Z");

/**
 * `min_deadline` keeps an approving fallback at least an hour away. A stage the request adds
 * applies the fallback at its own timeout, and one that nobody can reject (`reject: majority`
 * with a bar nobody reaches) leaves the fallback certain: with an approving fallback, neither is
 * a way round the bar.
 */
describe("a request's own stage with an approving fallback", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      now: () => T0,
      repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": "approvers: [alice, bob]\napproving_fallbacks:\n  request_types: [refund]\n" } } } },
    });
    app = await startApp({ githubUrl: github.url, now: T0 });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const refund = (stages: unknown[]) => ({
    repo: REPO,
    task_description: "Refund order 1234",
    approval_reason: "Refunds over $50 need a human",
    request_type: "refund",
    deadline: "2026-11-24T11:00:00Z",
    fallback_action: { type: "use_default", action: "approve", reason: "Refunds go out unless someone objects" },
    ...(stages.length > 0 ? { stages } : {}),
  });

  it("answers 400 for a stage whose timeout would apply the fallback before min_deadline, or that rejects only by majority", async () => {
    const response = await api(app, "POST", "/requests", refund([
      { name: "quick", approvers: ["alice"], timeout: "1m" },
      { name: "board", required: 50, reject: "majority" },
    ]));
    expect(response.status).toBe(400);
    expect(response.json.error.issues).toEqual([
      { path: "stages.0.timeout", message: "must be at least 1h (.hitl.yml's min_deadline), because at the stage's timeout the fallback approves" },
      { path: "stages.1.reject", message: "must be veto: the fallback approves, so one person must be able to reject" },
    ]);
    expect(await app.store.list({ repo: REPO })).toEqual([]);
  });

  it("answers 400 for an approving fallback of the request's own that a stage of .hitl.yml would apply at its short timeout", async () => {
    github.repo(REPO).files.main![".hitl.yml"] += "requirements:\n  - name: legal review\n    stages:\n      - {name: legal, approvers: [alice], timeout: 10m}\n";
    const response = await api(app, "POST", "/requests", refund([]));
    expect(response.status).toBe(400);
    expect(response.json.error.issues).toEqual([
      { path: "fallback_action", message: "approves at the timeout of .hitl.yml's stage legal (10m), sooner than 1h (.hitl.yml's min_deadline)" },
    ]);
  });

  it("keeps a short timeout that proceeds with an approval, and both shapes without an approving fallback", async () => {
    expect((await api(app, "POST", "/requests", refund([{ name: "quick", approvers: ["alice"], timeout: "1m", on_timeout: "proceed_if_partial" }]))).status).toBe(201);
    const rejecting = { ...refund([{ name: "quick", approvers: ["alice"], timeout: "1m" }, { name: "board", approvers: ["alice", "bob"], required: 2, reject: "majority" }]), fallback_action: { type: "abort", reason: "Nobody decided" } };
    expect((await api(app, "POST", "/requests", rejecting)).status).toBe(201);
  });
});
