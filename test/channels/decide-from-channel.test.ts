import { afterEach, describe, expect, it } from "vitest";
import { api, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { VOTE_EDITS_PROBLEM } from "../../src/engine/decide-request.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T10:00:00.000Z");

describe("engine.decideFromChannel", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  afterEach(async () => {
    await app?.close();
    await github?.close();
  });

  async function open(overrides: Record<string, unknown> = {}) {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", bob: "read" }, files: { main: { ".hitl.yml": "approvers: [alice, bob]\n" } } } } });
    app = await startApp({ githubUrl: github.url, now: T0 });
    const response = await api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 1234", approval_reason: "Refunds need a human", deadline: "2026-11-30T10:00:00Z", ...overrides });
    await app.runtime.jobs.run();
    return app.runtime.engine.get((response.json as { id: string }).id);
  }

  it("decides as the login, says which channel on GitHub, and answers a second decision as already decided", async () => {
    const request = await open();
    const outcome = await app.runtime.engine.decideFromChannel({ requestId: request.id, login: "alice", action: "approve", via: "email", justification: "Looks right", contextHash: request.contextHash });
    expect(outcome.type).toBe("decided");
    await app.runtime.jobs.run();
    expect(github.repo(REPO).issues[0]!.comments.map((comment) => comment.body.split("\n")[0])).toEqual(["Approved by @alice via email on 24 Nov 2026 10:00 UTC: Looks right. The agent has been told."]);
    const stored = await app.runtime.engine.get(request.id);
    expect(stored.decision).toMatchObject({ via: "email", justification: "Looks right", decidedBy: { type: "human", login: "alice" } });
    expect((await app.store.audit(REPO)).map((entry) => `${entry.event} ${JSON.stringify(entry.actor)}`)).toContain('decided {"type":"human","login":"alice"}');
    expect((await app.runtime.engine.decideFromChannel({ requestId: request.id, login: "alice", action: "reject", via: "link" })).type).toBe("already_decided");
  });

  it("refuses what a comment would be refused: someone outside the approvers, the requester", async () => {
    const request = await open();
    expect(await app.runtime.engine.decideFromChannel({ requestId: request.id, login: "carol", action: "approve", via: "sms" })).toMatchObject({ type: "refused", reason: "not_approver", allowed: ["alice", "bob"] });
    expect(await app.runtime.engine.decideFromChannel({ requestId: request.id, login: "refund-agent", action: "approve", via: "link" })).toMatchObject({ type: "refused", reason: "requester" });
    expect((await app.runtime.engine.get(request.id)).status).toBe("pending");
  });

  it("a stale view (other content or version) and an unknown request decide nothing", async () => {
    const request = await open();
    expect((await app.runtime.engine.decideFromChannel({ requestId: request.id, login: "alice", action: "approve", via: "link", contextHash: "0".repeat(64) })).type).toBe("stale");
    expect((await app.runtime.engine.decideFromChannel({ requestId: request.id, login: "alice", action: "approve", via: "link", version: request.version - 1 })).type).toBe("stale");
    expect(await app.runtime.engine.decideFromChannel({ requestId: "req_nothing", login: "alice", action: "approve", via: "link" })).toEqual({ type: "not_found", requestId: "req_nothing" });
    app.setNow(new Date("2026-11-30T10:00:00.000Z"));
    expect((await app.runtime.engine.decideFromChannel({ requestId: request.id, login: "alice", action: "approve", via: "link" })).type).toBe("past_deadline");
    expect((await app.runtime.engine.get(request.id)).status).toBe("pending");
  });

  it("a vote that carries changes is not counted: on a request several people approve, each approves the values as shown", async () => {
    const request = await open({ decision_data: { amount: 120 }, editable_fields: { amount: { type: "number", minimum: 0, maximum: 200 } }, required_approvals: 2 });
    const outcome = await app.runtime.engine.decideFromChannel({ requestId: request.id, login: "alice", action: "approve", via: "link", editedFields: { amount: 90 } });
    expect(outcome).toMatchObject({ type: "needs_input", problem: { type: "edits", problems: [VOTE_EDITS_PROBLEM] } });
    const stored = await app.runtime.engine.get(request.id);
    expect(stored.votes ?? []).toEqual([]);
    expect(stored.version).toBe(request.version);
    expect((await app.runtime.engine.decideFromChannel({ requestId: request.id, login: "alice", action: "approve", via: "link" })).type).toBe("voted");
  });
});
