import { createHmac } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { outcomeMarker, requestMarker } from "../../src/core/render/markers.js";
import { AGENT, api, SELF, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";

const requestBody = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  decision_data: { amount: 120, currency: "USD" },
  available_actions: [
    { id: "approve", label: "Refund", impact: "Customer gets $120 back" },
    { id: "reject", label: "Deny", impact: "Ticket goes back to support" },
  ],
  priority: "high",
  deadline: "2099-12-01T12:00:00Z",
  fallback_action: { type: "abort", reason: "nobody answered" },
  approvers: ["alice", "@octo-org/finance"],
  request_type: "refund",
  ...overrides,
});

describe("the core loop on an issue", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  let agent: CallbackReceiver;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: { collaborators: { alice: "write", bob: "write", carol: "write", mallory: "read" } },
        "octo-org/unrelated": {},
      },
      installations: [{ id: 1, account: "octo-org", repos: [REPO] }],
      teams: { "octo-org/finance": ["carol"] },
    });
    app = await startApp({ githubUrl: github.url });
    agent = await startCallbackReceiver();
  });

  afterEach(async () => {
    await app.close();
    await github.close();
    await agent.close();
  });

  const comment = (body: string, login: string, options: { deliveryId?: string; action?: "created" | "edited"; userType?: "User" | "Bot"; issueNumber?: number; at?: string } = {}) =>
    deliver(`${app.url}/api/github/webhooks`, {
      event: "issue_comment",
      payload: issueCommentPayload({ repo: REPO, issueNumber: options.issueNumber ?? 1, body, login, action: options.action, userType: options.userType, at: options.at }),
      secret: WEBHOOK_SECRET,
      deliveryId: options.deliveryId,
    });

  async function openRequest(overrides: Record<string, unknown> = {}) {
    const response = await api(app, "POST", "/requests", requestBody({ callback_url: agent.url, ...overrides }));
    expect(response.status).toBe(201);
    return response.json;
  }

  it("turns a request into an issue, takes /approve from an approver and tells the agent", async () => {
    const created = await openRequest();
    expect(created).toMatchObject({ status: "pending", surface_number: 1, surface_url: "https://github.com/octo-org/payments/issues/1", requested_by: AGENT.name });

    expect(github.calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([
      "GET /repos/octo-org/payments/installation 200",
      "POST /app/installations/1/access_tokens 201",
      "GET /repos/octo-org/payments/contents/.hitl.yml 404",
      "GET /repos/octo-org/payments/contents/.github/hitl.yml 404",
      "GET /repos/octo-org/.github/contents/.hitl.yml 404",
      "GET /repos/octo-org/.github/contents/.github/hitl.yml 404",
      // No approvers in .hitl.yml: a user the request names must have write access.
      "GET /repos/octo-org/payments/collaborators/alice/permission 200",
      "POST /repos/octo-org/payments/issues 201",
    ]);
    const [issueCall] = github.callsTo("POST", "/repos/octo-org/payments/issues");
    expect(issueCall!.body).toMatchObject({
      title: "Approval needed (high): Refund order 1234",
      labels: ["hitl:pending", "priority:high"],
      assignees: ["alice"],
    });
    const body = (issueCall!.body as { body: string }).body;
    expect(body.startsWith(`${requestMarker(created.id, SELF.markerKey)}\n`)).toBe(true);
    expect(body).toContain("Refunds over &#36;50 need a human");
    expect(body).toContain("/approve");

    github.clearCalls();
    const delivery = await comment("/approve customer is a regular", "alice");
    expect(delivery.status).toBe(200);
    await app.runtime.jobs.run();

    // Alice is in the request's approvers, and (no approvers in .hitl.yml) must have write access.
    // The 👍 on the comment comes first; the status line is edited in the call that closes the issue.
    expect(github.calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      "GET /repos/octo-org/payments/collaborators/alice/permission",
      expect.stringMatching(/^POST \/repos\/octo-org\/payments\/issues\/comments\/\d+\/reactions$/),
      "PATCH /repos/octo-org/payments/issues/1",
      "POST /repos/octo-org/payments/issues/1/comments",
    ]);
    expect(github.calls[1]!.body).toEqual({ content: "+1" });
    expect(github.calls[2]!.body).toEqual({ state: "closed", state_reason: "completed", labels: ["hitl:approved", "priority:high"], body: expect.stringMatching(/^<!-- hitl:request:.*\n✅ \*\*Approved\*\* by @\u200Dalice with a comment on .*: customer is a regular\.\n/) });
    const decisionComment = (github.calls[3]!.body as { body: string }).body;
    expect(decisionComment).toContain("@alice");
    expect(decisionComment.endsWith(`\n\n${outcomeMarker(created.id, SELF.markerKey)}`)).toBe(true);

    const shown = await api(app, "GET", `/requests/${created.id}`);
    expect(shown.json).toMatchObject({
      status: "approved",
      decision: { action: "approve", status: "approved", decided_by: { type: "human", login: "alice" }, justification: "customer is a regular", via: "comment" },
    });

    expect(agent.received).toHaveLength(1);
    const [callback] = agent.received;
    const expected = `sha256=${createHmac("sha256", AGENT.token).update(callback!.body).digest("hex")}`;
    expect(callback!.headers["x-hitl-signature-256"]).toBe(expected);
    expect(JSON.parse(callback!.body)).toMatchObject({ event: "request.approved", request: { id: created.id, status: "approved" } });

    const audit = await api(app, "GET", `/audit?repo=${REPO}`);
    expect(audit.headers.get("content-type")).toContain("application/x-ndjson");
    const entries = audit.text.trim().split("\n").map((line) => JSON.parse(line));
    expect(entries.map((entry) => [entry.event, entry.actor.type, entry.status])).toEqual([
      ["created", "agent", "pending"],
      ["surface_opened", "system", "pending"],
      ["decided", "human", "approved"],
    ]);
    expect(entries[2]).toMatchObject({ request_id: created.id, action: "approve", justification: "customer is a regular", context_hash: created.context_hash });
    expect(created.context_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("lets a member of an approving team decide, asking GitHub about the team once", async () => {
    const created = await openRequest();
    github.clearCalls();
    await comment("/reject no receipt", "carol");
    await app.runtime.jobs.run();
    expect(github.callsTo("GET", "/orgs/octo-org/teams/finance/memberships/carol")).toHaveLength(1);
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "rejected", decision: { decided_by: { login: "carol" }, justification: "no receipt" } });
    expect(github.callsTo("PATCH", "/repos/octo-org/payments/issues/1")[0]!.body).toMatchObject({ state: "closed", state_reason: "not_planned", labels: ["hitl:rejected", "priority:high"] });
  });

  it("/choose of a custom action of kind reject rejects, and the issue says what each action does", async () => {
    const created = await openRequest({
      available_actions: [
        { id: "refund-half", label: "Refund half", kind: "approve" },
        { id: "close-ticket", label: "Close the ticket", kind: "reject", impact: "Nothing is refunded" },
      ],
    });
    const issue = (github.callsTo("POST", "/repos/octo-org/payments/issues")[0]!.body as { body: string }).body;
    expect(issue).toContain("- `/choose refund-half` **Refund half** (approves)\n- `/choose close-ticket` **Close the ticket** (rejects): Nothing is refunded");
    await comment("/choose close-ticket duplicate of #12", "alice");
    await app.runtime.jobs.run();
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({
      status: "rejected",
      decision: { action: "close-ticket", status: "rejected", decided_by: { login: "alice" }, justification: "duplicate of #12" },
    });
    expect(JSON.parse(agent.received[0]!.body)).toMatchObject({ event: "request.rejected" });
  });

  it("answers people who may not decide, and leaves the request pending", async () => {
    const created = await openRequest();
    github.clearCalls();
    await comment("/approve", "mallory");
    await comment("/approve", AGENT.name);
    // Written after the request was opened (the payload's comment was made 5 minutes before `at`), then edited.
    await comment("/approve edited in", "alice", { action: "edited", at: new Date(Date.now() + 6 * 60_000).toISOString() });
    const replies = github.callsTo("POST", "/repos/octo-org/payments/issues/1/comments").map((call) => (call.body as { body: string }).body);
    expect(replies).toHaveLength(3);
    expect(replies[0]).toContain("mallory");
    expect(replies[1]).toContain(AGENT.name);
    expect(replies[2]).toContain("edit");
    expect((await api(app, "GET", `/requests/${created.id}`)).json.status).toBe("pending");
  });

  it("ignores bots and chatter without a single API call", async () => {
    await openRequest();
    github.clearCalls();
    await comment("/approve", "dependabot[bot]", { userType: "Bot" });
    await comment("looks good to me, /approve later", "alice");
    await comment("/approved", "alice");
    expect(github.calls).toEqual([]);
  });

  it("applies the first decision only; a later one is answered, a redelivery ignored", async () => {
    const created = await openRequest();
    github.clearCalls();
    const first = await comment("/approve", "alice", { deliveryId: "delivery-1" });
    const again = await comment("/approve", "alice", { deliveryId: "delivery-1" });
    expect([first.status, again.status]).toEqual([200, 200]);
    await comment("/reject too late", "bob");
    await app.runtime.jobs.run();
    const comments = github.callsTo("POST", "/repos/octo-org/payments/issues/1/comments");
    // The decision comment, and one answer to bob.
    expect(comments).toHaveLength(2);
    expect(comments.map((call) => (call.body as { body: string }).body).some((text) => text.includes("bob") && /already/i.test(text))).toBe(true);
    const shown = await api(app, "GET", `/requests/${created.id}`);
    expect(shown.json).toMatchObject({ status: "approved", decision: { decided_by: { login: "alice" } } });
    expect(agent.received).toHaveLength(1);
  });

  it("wakes a long-poll as soon as the decision lands", async () => {
    const created = await openRequest();
    const poll = api(app, "GET", `/requests/${created.id}/decision?wait=20`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await comment("/approve", "alice");
    const answer = await poll;
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ id: created.id, status: "approved", decision: { action: "approve" } });
    const immediate = await api(app, "GET", `/requests/${created.id}/decision?wait=0`);
    expect(immediate.json.status).toBe("approved");
  });

  it("returns the first request again for a reused Idempotency-Key, with one issue", async () => {
    const headers = { "idempotency-key": "refund-1234" };
    const first = await api(app, "POST", "/requests", requestBody(), { headers });
    const second = await api(app, "POST", "/requests", requestBody(), { headers });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.json.id).toBe(first.json.id);
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues")).toHaveLength(1);
  });

  it("posts a replayed request whose first try never reached GitHub, without a second issue", async () => {
    const headers = { "idempotency-key": "refund-replayed" };
    github.failNext({ method: "POST", path: "/repos/octo-org/payments/issues" }, [{ status: 502 }]);
    const first = await api(app, "POST", "/requests", requestBody(), { headers });
    expect(first.json).toMatchObject({ status: "pending", surface_url: null });
    // A replay within seconds leaves the first call's retry to do the posting.
    const soon = await api(app, "POST", "/requests", requestBody(), { headers });
    expect(soon.json).toMatchObject({ id: first.json.id, surface_url: null });
    app.setNow(new Date(Date.now() + 60_000));
    const later = await api(app, "POST", "/requests", requestBody(), { headers });
    expect(later.status).toBe(200);
    expect(later.json).toMatchObject({ id: first.json.id, surface_url: expect.stringContaining("/issues/") });
    // It looked for an issue the failed try might have made before creating one.
    expect(github.calls.filter((call) => call.path === "/repos/octo-org/payments/issues").map((call) => `${call.method} ${call.status}`)).toEqual(["POST 502", "GET 200", "POST 201"]);
    await app.runtime.jobs.run();
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues")).toHaveLength(2);
  });

  it("lets the agent cancel a pending request and closes the issue", async () => {
    const created = await openRequest();
    github.clearCalls();
    const cancelled = await api(app, "POST", `/requests/${created.id}/cancel`, { reason: "customer withdrew" });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ status: "cancelled", decision: { decided_by: { type: "agent", name: AGENT.name }, justification: "customer withdrew" } });
    await app.runtime.jobs.run();
    expect(github.callsTo("PATCH", "/repos/octo-org/payments/issues/1")[0]!.body).toMatchObject({ state: "closed", labels: ["hitl:cancelled", "priority:high"] });
    const again = await api(app, "POST", `/requests/${created.id}/cancel`, {});
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("not_pending");
  });

  it("lists pending requests by priority, then age", async () => {
    const low = await openRequest({ priority: "low" });
    const critical = await openRequest({ priority: "critical" });
    const high = await openRequest({ priority: "high" });
    const listed = await api(app, "GET", `/requests?repo=${REPO}&status=pending`);
    expect(listed.json.requests.map((r: { id: string }) => r.id)).toEqual([critical.id, high.id, low.id]);
  });
});

describe("bad input gets a clear answer", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" } }, "someone/else": {} }, installations: [{ id: 1, account: "octo-org", repos: [REPO] }] });
    app = await startApp({ githubUrl: github.url });
  });
  afterEach(async () => {
    await app.close();
    await github.close();
  });

  it("401 without a token or with a wrong one", async () => {
    const missing = await fetch(`${app.url}/api/v1/requests`, { method: "POST", body: "{}" });
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="hitl"');
    const wrong = await api(app, "POST", "/requests", requestBody(), { token: "not-a-real-token-at-all" });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe("unauthorized");
    expect(github.calls).toEqual([]);
  });

  it("400 naming each bad field", async () => {
    const response = await api(app, "POST", "/requests", requestBody({ repo: "not a repo", priority: "urgent", risk_score: 3, surprise: true, task_description: undefined }));
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe("invalid_request");
    const paths = response.json.error.issues.map((issue: { path: string }) => issue.path).sort();
    expect(paths).toEqual(["(body)", "priority", "repo", "risk_score", "task_description"].sort());
    expect(github.calls).toEqual([]);
  });

  it("400 for a deadline in the past and for a body that is not JSON", async () => {
    const past = await api(app, "POST", "/requests", requestBody({ deadline: "2001-01-01T00:00:00Z" }));
    expect(past.status).toBe(400);
    expect(past.json.error.issues).toEqual([{ path: "deadline", message: "must be in the future" }]);
    const garbage = await api(app, "POST", "/requests", "{not json");
    expect(garbage.status).toBe(400);
    expect(garbage.json.error.code).toBe("invalid_json");
  });

  it("404 for an unknown request or endpoint, 405 for a wrong method", async () => {
    expect((await api(app, "GET", "/requests/req_nope")).status).toBe(404);
    expect((await api(app, "GET", "/nothing-here")).status).toBe(404);
    const wrongMethod = await api(app, "DELETE", "/requests");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST, GET");
  });

  it("413 for an oversized body", async () => {
    const response = await api(app, "POST", "/requests", requestBody({ decision_data: { blob: "x".repeat(2 * 1024 * 1024) } }));
    expect(response.status).toBe(413);
    expect(response.json.error.code).toBe("payload_too_large");
  });

  it("422 when the app is not installed on the repository", async () => {
    const response = await api(app, "POST", "/requests", requestBody({ repo: "someone/else" }));
    expect(response.status).toBe(422);
    expect(response.json.error).toMatchObject({ code: "app_not_installed" });
    expect(response.json.error.message).toContain("someone/else");
  });

  it("rejects a webhook with a bad signature and acts on nothing", async () => {
    const response = await deliver(`${app.url}/api/github/webhooks`, {
      event: "issue_comment",
      payload: issueCommentPayload({ repo: REPO, issueNumber: 1, body: "/approve", login: "alice" }),
      secret: "not-the-secret",
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(github.calls).toEqual([]);
  });
});

describe("the API describes itself", () => {
  it("serves an OpenAPI document generated from the request schema, without a token", async () => {
    const github = await startGitHubStandIn();
    const app = await startApp({ githubUrl: github.url });
    try {
      const response = await fetch(`${app.url}/api/v1/openapi.json`);
      expect(response.status).toBe(200);
      const document = await response.json();
      expect(document.openapi).toBe("3.1.0");
      const newRequest = document.paths["/api/v1/requests"].post.requestBody.content["application/json"].schema;
      expect(newRequest.required).toEqual(["repo", "task_description", "approval_reason"]);
      expect(newRequest.additionalProperties).toBe(false);
      expect(newRequest.properties.priority.enum).toEqual(["low", "normal", "high", "critical"]);
      expect(newRequest.properties.callback_url.description).toContain("HITL_ALLOWED_PRIVATE_TARGETS");
      expect(Object.keys(document.paths)).toEqual(["/api/v1/requests", "/api/v1/requests/batch", "/api/v1/requests/{id}", "/api/v1/requests/{id}/context", "/api/v1/requests/{id}/decision", "/api/v1/requests/{id}/validate", "/api/v1/requests/{id}/cancel", "/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/export", "/api/v1/stats", "/api/v1/suggestions", "/api/v1/suggestions/{id}/pull-request", "/api/v1/simulate", "/api/v1/sweep", "/api/v1/inbound/email", "/api/v1/slack/interactions", "/api/v1/openapi.json", "/api/v1/reports/compliance", "/.well-known/jwks.json"]);
    } finally {
      await app.close();
      await github.close();
    }
  });
});
