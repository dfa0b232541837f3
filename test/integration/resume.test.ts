import { createHmac } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { outcomeMarker } from "../../src/core/render/markers.js";
import { AGENT, api, OTHER_AGENT, SELF, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { mergeBlockedBy } from "../support/github-stand-in/protection-routes.js";
import { deliver, issueCommentPayload, pullRequestPayload, pullRequestReviewPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const HEAD = "a".repeat(40);
const NEW_HEAD = "b".repeat(40);
const AUTHOR = "deploy-agent";
const HOUR = 3_600_000;
/** Something only the agent may ever see; it must appear on no surface a person reads. */
const SECRET_STEP = "checkpoint-only-7f3a91";
/** Reads every agent's requests, but validating is the opener's business. */
const AUDITOR = { name: "auditor", token: "auditor-token-0123456789abcdef", readAll: true };

const issueBody = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  decision_data: { amount: 120, refund: { to: "DE89 3704", currency: "EUR" } },
  approvers: ["alice"],
  deadline: new Date(Date.now() + 2 * HOUR).toISOString(),
  fallback_action: { type: "abort", reason: "nobody answered" },
  workflow_id: "run-77",
  checkpoint: { step: SECRET_STEP, cursor: [1, 2, 3] },
  resume: "validated",
  ...overrides,
});

describe("resuming safely", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  let agent: CallbackReceiver;
  let channel: CallbackReceiver;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: {
          collaborators: { alice: "write", bob: "write", carol: "write", [AUTHOR]: "write" },
          files: { main: { ".hitl.yml": "approvers: [alice, bob, carol]\nmax_decision_age: 1d\nescalation:\n  - {after: 1h, approvers: [bob], notify: [oncall]}\n" } },
          pulls: [{ number: 42, headSha: HEAD, user: AUTHOR }],
        },
      },
      installations: [{ id: 1, account: "octo-org", repos: [REPO] }],
    });
    channel = await startCallbackReceiver();
    app = await startApp({
      githubUrl: github.url,
      channels: [{ name: "oncall", url: channel.url, kind: "webhook", secret: "channel-secret-0123456789" }],
      agents: [AGENT, OTHER_AGENT, AUDITOR],
    });
    agent = await startCallbackReceiver();
  });

  afterEach(async () => {
    await app.close();
    await github.close();
    await agent.close();
    await channel.close();
  });

  const send = (event: string, payload: unknown) => deliver(`${app.url}/api/github/webhooks`, { event, payload, secret: WEBHOOK_SECRET });
  const comment = (issueNumber: number, body: string, login: string) => send("issue_comment", issueCommentPayload({ repo: REPO, issueNumber, body, login }));

  async function openIssueRequest(overrides: Record<string, unknown> = {}) {
    const response = await api(app, "POST", "/requests", issueBody({ callback_url: agent.url, ...overrides }));
    expect(response.status).toBe(201);
    return response.json;
  }

  async function approvedIssueRequest(overrides: Record<string, unknown> = {}) {
    const created = await openIssueRequest(overrides);
    await comment(created.surface_number, "/approve fine", "alice");
    await app.runtime.jobs.run();
    return created;
  }

  /** Everything people can read that hitl wrote to GitHub. */
  function everythingWritten(): string {
    return JSON.stringify(github.calls.filter((call) => call.method !== "GET").map((call) => call.body));
  }

  describe("the request carries what a stateless agent resumes from", () => {
    it("returns workflow_id, checkpoint and resume in GET, the long-poll and the signed callback", async () => {
      const created = await approvedIssueRequest();
      expect(created).toMatchObject({ workflow_id: "run-77", checkpoint: { step: SECRET_STEP, cursor: [1, 2, 3] }, resume: "validated", max_decision_age: "1d", supersedes: null, superseded_by: null });
      const polled = await api(app, "GET", `/requests/${created.id}/decision?wait=1`);
      expect(polled.json).toEqual({
        id: created.id,
        status: "approved",
        decision: expect.objectContaining({ action: "approve", decided_by: { type: "human", login: "alice" } }),
        workflow_id: "run-77",
        checkpoint: { step: SECRET_STEP, cursor: [1, 2, 3] },
        resume: "validated",
        superseded_by: null,
      });
      const [callback] = agent.received;
      expect(callback!.headers["x-hitl-signature-256"]).toBe(`sha256=${createHmac("sha256", AGENT.token).update(callback!.body).digest("hex")}`);
      expect(JSON.parse(callback!.body).request).toMatchObject({ workflow_id: "run-77", checkpoint: { step: SECRET_STEP, cursor: [1, 2, 3] }, resume: "validated", status: "approved" });
    });

    it("never shows the checkpoint to people: not on the issue, its comments, an escalation channel or the check run", async () => {
      const created = await openIssueRequest();
      // The escalation after 1h alerts the oncall channel with the request's JSON.
      app.setNow(new Date(Date.now() + HOUR + 60_000));
      await app.runtime.sweep();
      await app.runtime.jobs.run();
      expect(channel.received).toHaveLength(1);
      expect(JSON.parse(channel.received[0]!.body)).toMatchObject({ event: "request.escalated", request: { id: created.id, workflow_id: "run-77" } });
      expect(channel.received[0]!.body).not.toContain(SECRET_STEP);
      expect(JSON.parse(channel.received[0]!.body).request).not.toHaveProperty("checkpoint");
      await comment(created.surface_number, "/approve fine", "bob");
      await app.runtime.jobs.run();
      await api(app, "POST", `/requests/${created.id}/validate`, { decision_data: { amount: 150 }, re_ask: true });
      await app.runtime.jobs.run();
      const pull = await api(app, "POST", "/requests", issueBody({ surface: { type: "pull_request", number: 42 } }));
      expect(pull.status).toBe(201);
      await app.runtime.jobs.run();
      // Issues, comments, labels, check runs: every write hitl made.
      expect(github.callsTo("POST", "/repos/octo-org/payments/issues")).toHaveLength(2);
      expect(github.callsTo("POST", "/repos/octo-org/payments/check-runs")).toHaveLength(1);
      expect(everythingWritten()).not.toContain(SECRET_STEP);
      expect(everythingWritten()).not.toContain("cursor");
    });

    it("refuses a checkpoint over 64 KB, a long workflow_id, a max_decision_age over .hitl.yml's, an unknown resume mode and hitl's own key prefix, naming each field", async () => {
      const big = { blob: "x".repeat(64 * 1024) };
      const refused = await api(app, "POST", "/requests", issueBody({ checkpoint: big, workflow_id: "w".repeat(201), resume: "later", idempotency_key: "hitl:supersedes:req_1" }));
      expect(refused.status).toBe(400);
      expect(refused.json.error.issues.map((issue: { path: string }) => issue.path).sort()).toEqual(["checkpoint", "idempotency_key", "resume", "workflow_id"]);
      expect(refused.json.error.issues.find((issue: { path: string }) => issue.path === "checkpoint").message).toBe("must be at most 65536 bytes as JSON");
      const header = await api(app, "POST", "/requests", issueBody(), { headers: { "idempotency-key": "hitl:mine" } });
      expect(header.status).toBe(400);
      expect(header.json.error.issues).toEqual([{ path: "header.Idempotency-Key", message: "must not start with hitl:, which hitl keeps for its own requests" }]);
      const older = await api(app, "POST", "/requests", issueBody({ max_decision_age: "2d" }));
      expect(older.status).toBe(400);
      expect(older.json.error.issues).toEqual([{ path: "max_decision_age", message: "must be at most 1d, .hitl.yml's max_decision_age" }]);
      const shorter = await openIssueRequest({ max_decision_age: "2h" });
      expect(shorter.max_decision_age).toBe("2h");
      // Exactly 64 KB of JSON is accepted.
      const exact = { b: "y".repeat(64 * 1024 - '{"b":""}'.length) };
      expect((await api(app, "POST", "/requests", issueBody({ checkpoint: exact }))).status).toBe(201);
    });

    it("lists requests by workflow_id, each agent only its own", async () => {
      const first = await openIssueRequest();
      const second = await openIssueRequest({ workflow_id: "run-78" });
      const third = await openIssueRequest();
      const theirs = await api(app, "POST", "/requests", issueBody(), { token: OTHER_AGENT.token });
      expect(theirs.status).toBe(201);
      const listed = await api(app, "GET", "/requests?workflow_id=run-77");
      expect(listed.json.requests.map((r: { id: string }) => r.id)).toEqual([third.id, first.id]);
      expect((await api(app, "GET", "/requests?workflow_id=run-78")).json.requests.map((r: { id: string }) => r.id)).toEqual([second.id]);
      expect((await api(app, "GET", "/requests?workflow_id=run-77", undefined, { token: OTHER_AGENT.token })).json.requests.map((r: { id: string }) => r.id)).toEqual([theirs.json.id]);
      const bad = await api(app, "GET", `/requests?workflow_id=${"w".repeat(201)}`);
      expect(bad.status).toBe(400);
      expect(bad.json.error.issues[0].path).toBe("query.workflow_id");
    });
  });

  describe("POST /requests/:id/validate on an issue", () => {
    it("holds for the approved context, with the hashes and the age", async () => {
      const created = await approvedIssueRequest();
      const answer = await api(app, "POST", `/requests/${created.id}/validate`, { decision_data: { refund: { currency: "EUR", to: "DE89 3704" }, amount: 120 } });
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({
        id: created.id,
        status: "approved",
        valid: true,
        reasons: [],
        context_hash: { approved: created.context_hash, current: created.context_hash },
        drifted_fields: [],
        age: { seconds: expect.any(Number), max_seconds: 86_400 },
        pull_request_head: null,
        workflow_id: "run-77",
        checkpoint: { step: SECRET_STEP, cursor: [1, 2, 3] },
        resume: "validated",
        follow_up: null,
      });
    });

    it("reports drifted fields by dotted path and opens nothing without re_ask", async () => {
      const created = await approvedIssueRequest();
      const issues = github.callsTo("POST", "/repos/octo-org/payments/issues").length;
      const answer = await api(app, "POST", `/requests/${created.id}/validate`, { decision_data: { amount: 150, refund: { to: "DE00 0000", currency: "EUR" } } });
      expect(answer.json).toMatchObject({
        valid: false,
        reasons: ["drifted"],
        drifted_fields: [
          { field: "amount", approved: 120, current: 150 },
          { field: "refund.to", approved: "DE89 3704", current: "DE00 0000" },
        ],
        status: "approved",
        follow_up: null,
      });
      expect(answer.json.context_hash.current).not.toBe(answer.json.context_hash.approved);
      expect(github.callsTo("POST", "/repos/octo-org/payments/issues")).toHaveLength(issues);
    });

    it("an approval older than max_decision_age does not hold", async () => {
      const created = await approvedIssueRequest({ max_decision_age: "2h" });
      app.setNow(new Date(Date.now() + 2 * HOUR + 60_000));
      const answer = await api(app, "POST", `/requests/${created.id}/validate`, {});
      expect(answer.json).toMatchObject({ valid: false, reasons: ["too_old"], age: { max_seconds: 7_200 } });
      expect(answer.json.age.seconds).toBeGreaterThan(7_200);
    });

    it("with re_ask a drifted approval opens one linked follow-up, under the first's policy, showing what changed; the first is superseded", async () => {
      const created = await approvedIssueRequest();
      github.clearCalls();
      const current = { amount: 150, refund: { to: "DE89 3704", currency: "EUR" } };
      const answer = await api(app, "POST", `/requests/${created.id}/validate`, { decision_data: current, re_ask: true });
      expect(answer.status).toBe(200);
      const followUp = answer.json.follow_up;
      expect(answer.json).toMatchObject({ id: created.id, status: "superseded", valid: false, reasons: ["drifted"], superseded_by: followUp.id });
      expect(followUp).toMatchObject({
        status: "pending",
        decision_data: current,
        supersedes: { id: created.id, drift: { fields: [{ field: "amount", approved: 120, current: 150 }] } },
        superseded_by: null,
        // Inherited unchanged: the same approvers, fallback, deadline length, age limit and resume contract.
        approvers: ["alice"],
        fallback_action: { type: "abort", reason: "nobody answered" },
        workflow_id: "run-77",
        checkpoint: { step: SECRET_STEP, cursor: [1, 2, 3] },
        resume: "validated",
        max_decision_age: "1d",
        callback_url: agent.url,
        idempotency_key: `hitl:supersedes:${created.id}`,
      });
      expect(followUp.surface_number).toBeGreaterThan(created.surface_number);
      const firstLength = Date.parse(created.deadline) - Date.parse(created.created_at);
      expect(Date.parse(followUp.deadline) - Date.parse(followUp.created_at)).toBe(firstLength);

      await app.runtime.jobs.run();
      // The new issue shows what changed, as inert text.
      const [newIssue] = github.callsTo("POST", "/repos/octo-org/payments/issues");
      const shownBody = (newIssue!.body as { body: string }).body;
      expect(shownBody).toContain(
        [
          "### What changed since the earlier approval",
          "",
          `This request asks again about request \`${created.id}\`, which was approved, because the agent's context is no longer what was approved.`,
          "",
          "- `amount`: approved `120`, now `150`",
        ].join("\n"),
      );
      // The first issue is labelled superseded and says so, once, with its outcome marker.
      expect(github.callsTo("PATCH", `/repos/octo-org/payments/issues/${created.surface_number}`)[0]!.body).toEqual({
        state: "closed",
        state_reason: "not_planned",
        labels: ["hitl:superseded", "priority:normal"],
        body: expect.stringMatching(/\n↪️ \*\*Superseded\*\* on .*, but the agent's context changed, so it asked again in request `req_[\w-]+`\.\n/),
      });
      const notes = github.callsTo("POST", `/repos/octo-org/payments/issues/${created.surface_number}/comments`);
      expect(notes).toHaveLength(1);
      expect((notes[0]!.body as { body: string }).body).toMatch(
        new RegExp(`^Approved by @alice on .+: fine\\. It no longer holds: the agent's context changed, so it asked again in request \`${followUp.id}\`\\. This approval no longer counts; decide on the new request\\.\\n\\n`),
      );
      expect((notes[0]!.body as { body: string }).body.endsWith(outcomeMarker(created.id, SELF.markerKey))).toBe(true);

      const audit = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line));
      expect(audit.filter((entry) => entry.request_id === created.id).map((entry) => entry.event)).toEqual(["created", "surface_opened", "decided", "superseded"]);
      expect(audit.find((entry) => entry.event === "superseded")).toMatchObject({ status: "superseded", actor: { type: "agent", name: AGENT.name }, details: { superseded_by: followUp.id, reasons: ["drifted"], drifted_fields: ["amount"] } });
      expect((await api(app, "GET", `/requests?status=superseded`)).json.requests.map((r: { id: string }) => r.id)).toEqual([created.id]);

      // A person decides the follow-up on its own issue; the agent's callback carries the checkpoint again.
      agent.received.splice(0);
      await comment(followUp.surface_number, "/approve 150 is fine", "alice");
      await app.runtime.jobs.run();
      expect(JSON.parse(agent.received[0]!.body).request).toMatchObject({ id: followUp.id, status: "approved", checkpoint: { step: SECRET_STEP, cursor: [1, 2, 3] }, supersedes: { id: created.id } });
      const holds = await api(app, "POST", `/requests/${followUp.id}/validate`, { decision_data: current });
      expect(holds.json).toMatchObject({ valid: true });
    });

    it("re_ask is idempotent: asked twice, or in parallel, it opens one follow-up", async () => {
      const created = await approvedIssueRequest();
      const ask = (amount: number) => api(app, "POST", `/requests/${created.id}/validate`, { decision_data: { amount }, re_ask: true });
      const [a, b] = await Promise.all([ask(150), ask(160)]);
      const again = await ask(170);
      const ids = [a, b, again].map((answer) => answer.json.follow_up.id);
      expect(new Set(ids).size).toBe(1);
      expect(github.callsTo("POST", "/repos/octo-org/payments/issues")).toHaveLength(2);
      expect((await api(app, "GET", "/requests?workflow_id=run-77")).json.requests).toHaveLength(2);
    });

    it("re_ask on an approval that still holds, or on one not approved, opens nothing", async () => {
      const approved = await approvedIssueRequest();
      expect((await api(app, "POST", `/requests/${approved.id}/validate`, { re_ask: true })).json).toMatchObject({ valid: true, follow_up: null, status: "approved" });
      const pending = await openIssueRequest();
      expect((await api(app, "POST", `/requests/${pending.id}/validate`, { decision_data: { amount: 1 }, re_ask: true })).json).toMatchObject({
        valid: false,
        reasons: ["not_approved", "drifted"],
        follow_up: null,
        status: "pending",
        age: null,
      });
      expect(github.callsTo("POST", "/repos/octo-org/payments/issues")).toHaveLength(2);
    });

    it("the agent cannot loosen anything through validate: no policy fields, and the follow-up keeps the first's narrowing", async () => {
      const created = await approvedIssueRequest({ approvers: ["carol"], escalation: [{ after: "30m", approvers: ["bob"] }], warning_before: "1h" });
      // Not alice: carol narrowed it; carol approves.
      const refused = await api(app, "POST", `/requests/${created.id}/validate`, { decision_data: { amount: 999 }, re_ask: true, approvers: ["alice"], deadline: "2099-01-01T00:00:00Z", fallback_action: { type: "use_default", action: "approve" } });
      expect(refused.status).toBe(400);
      expect(refused.json.error.issues.map((issue: { path: string }) => issue.path)).toEqual(["(body)"]);
      expect((await api(app, "GET", `/requests/${created.id}`)).json.status).toBe("pending");
      await comment(created.surface_number, "/approve", "carol");
      await app.runtime.jobs.run();
      const answer = await api(app, "POST", `/requests/${created.id}/validate`, { decision_data: { amount: 999 }, re_ask: true });
      const followUp = answer.json.follow_up;
      expect(followUp).toMatchObject({ approvers: ["carol"], fallback_action: { type: "abort", reason: "nobody answered" }, escalation: { level: 0 } });
      const stored = (await app.store.get(followUp.id))!;
      const first = (await app.store.get(created.id))!;
      expect(stored.approvers).toEqual(first.approvers);
      expect(stored.policyApprovers).toEqual(first.policyApprovers);
      expect(stored.fallback).toEqual(first.fallback);
      expect(stored.escalation.ladder).toEqual(first.escalation.ladder);
      expect(stored.escalation.warningBeforeMs).toBe(first.escalation.warningBeforeMs);
      expect(stored.maxDecisionAgeMs).toBe(first.maxDecisionAgeMs);
      expect(stored.asked).toEqual(first.asked);
      // alice, outside the narrowing, still cannot decide the follow-up; and the agent cannot approve it itself.
      await comment(followUp.surface_number, "/approve", "alice");
      await comment(followUp.surface_number, "/approve", AGENT.name);
      await app.runtime.jobs.run();
      expect((await api(app, "GET", `/requests/${followUp.id}`)).json.status).toBe("pending");
    });

    it("a request stored before its asks were kept is validated but not re-asked: 409, nothing opened", async () => {
      const created = await approvedIssueRequest();
      const stored = (await app.store.get(created.id))!;
      const { asked: _asked, ...older } = stored;
      await app.store.update(older, stored.version);
      const issues = github.callsTo("POST", "/repos/octo-org/payments/issues").length;
      const answer = await api(app, "POST", `/requests/${created.id}/validate`, { decision_data: { amount: 1 }, re_ask: true });
      expect(answer.status).toBe(409);
      expect(answer.json.error).toMatchObject({ code: "cannot_re_ask" });
      expect((await api(app, "POST", `/requests/${created.id}/validate`, { decision_data: { amount: 1 } })).json).toMatchObject({ valid: false, reasons: ["drifted"] });
      expect(github.callsTo("POST", "/repos/octo-org/payments/issues")).toHaveLength(issues);
      expect((await api(app, "GET", `/requests/${created.id}`)).json.status).toBe("approved");
    });

    it("only the agent that opened the request validates it; others get the 404 of an unknown id", async () => {
      const created = await approvedIssueRequest();
      const unknown = await api(app, "POST", "/requests/req_unknown/validate", {}, { token: OTHER_AGENT.token });
      for (const token of [OTHER_AGENT.token, AUDITOR.token]) {
        const other = await api(app, "POST", `/requests/${created.id}/validate`, { decision_data: { amount: 1 }, re_ask: true }, { token });
        expect(other.status).toBe(404);
        expect(other.json.error.code).toBe(unknown.json.error.code);
        expect(other.json.error.message).toBe(`No request with id ${created.id}.`);
      }
      // The auditor reads it, as read-all allows.
      expect((await api(app, "GET", `/requests/${created.id}`, undefined, { token: AUDITOR.token })).status).toBe(200);
      expect((await api(app, "GET", `/requests/${created.id}`)).json.status).toBe("approved");
      const badHead = await api(app, "POST", `/requests/${created.id}/validate`, { pull_request_head: "abc123" });
      expect(badHead.status).toBe(400);
      expect(badHead.json.error.issues).toEqual([{ path: "pull_request_head", message: "must be a full commit SHA (40 lowercase hex characters)" }]);
    });
  });

  describe("POST /requests/:id/validate on a pull request", () => {
    const pullBody = (overrides: Record<string, unknown> = {}) => issueBody({ surface: { type: "pull_request", number: 42 }, decision_data: { service: "payments", version: "2.0.0" }, ...overrides });

    async function approvedPull() {
      github.state.repos[REPO]!.files.main = { ".hitl.yml": "approvers: [alice, bob]\ninvalidate_on_push: false\n" };
      const created = (await api(app, "POST", "/requests", pullBody())).json;
      await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "alice", headSha: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "approved", decision: { head_sha: HEAD } });
      return created;
    }

    it("an approval a rule gave before any check run existed holds on the head it was given on", async () => {
      github.state.repos[REPO]!.files.main = { ".hitl.yml": "approvers: [alice]\nrules:\n  - {id: routine, when: {field: service, equals: payments}, action: approve}\n" };
      const created = (await api(app, "POST", "/requests", pullBody())).json;
      expect(created).toMatchObject({ status: "approved", decision: { decided_by: { type: "rule", id: "routine" }, head_sha: HEAD } });
      expect((await api(app, "POST", `/requests/${created.id}/validate`, { pull_request_head: HEAD })).json).toMatchObject({ valid: true, reasons: [] });
    });

    it("re-asking about a whole pull request summarises it again at its new head", async () => {
      github.state.repos[REPO]!.files.main = { ".hitl.yml": "approvers: [alice]\ninvalidate_on_push: false\n" };
      const created = (await api(app, "POST", "/requests", pullBody({ decision_data: {} }))).json;
      expect(created.decision_data).toMatchObject({ pull_request: "#42", head_commit: HEAD.slice(0, 7) });
      await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "alice", headSha: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      github.state.repos[REPO]!.pulls.find((pull) => pull.number === 42)!.headSha = NEW_HEAD;
      await send("pull_request", pullRequestPayload({ repo: REPO, action: "synchronize", number: 42, headSha: NEW_HEAD, before: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      const answer = await api(app, "POST", `/requests/${created.id}/validate`, { re_ask: true });
      expect(answer.json).toMatchObject({ reasons: ["head_moved"], status: "superseded" });
      expect(answer.json.follow_up.decision_data).toMatchObject({ pull_request: "#42", head_commit: NEW_HEAD.slice(0, 7) });
    });

    it("compares the approved head with GitHub's head and the agent's", async () => {
      const created = await approvedPull();
      github.clearCalls();
      const same = await api(app, "POST", `/requests/${created.id}/validate`, { pull_request_head: HEAD });
      expect(same.json).toMatchObject({ valid: true, pull_request_head: { approved: HEAD, current: HEAD, agent: HEAD } });
      // The head is read from GitHub, once per validation.
      expect(github.calls.map((call) => `${call.method} ${call.path}`)).toEqual(["GET /repos/octo-org/payments/pulls/42"]);
      const agentElsewhere = await api(app, "POST", `/requests/${created.id}/validate`, { pull_request_head: NEW_HEAD });
      expect(agentElsewhere.json).toMatchObject({ valid: false, reasons: ["head_moved"], pull_request_head: { approved: HEAD, current: HEAD, agent: NEW_HEAD } });
    });

    it("new commits (kept approved by .hitl.yml) no longer hold for validate; re_ask puts a follow-up check run on the new head that gates the merge", async () => {
      const created = await approvedPull();
      // Branch protection requires hitl's check, as the README sets it up.
      const repo = github.state.repos[REPO]!;
      repo.protection.main = { requiredStatusChecks: { strict: true, checks: [{ context: "hitl/approval", appId: 1 }] } };
      const gate = (sha: string) => mergeBlockedBy(repo, "main", sha);
      expect(gate(HEAD)).toBeNull();
      github.state.repos[REPO]!.pulls.find((pull) => pull.number === 42)!.headSha = NEW_HEAD;
      await send("pull_request", pullRequestPayload({ repo: REPO, action: "synchronize", number: 42, headSha: NEW_HEAD, before: HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      const runsOnNew = () => github.state.repos[REPO]!.checkRuns.filter((run) => run.headSha === NEW_HEAD);
      // The approval followed the head, as the file asks.
      expect(runsOnNew().at(-1)).toMatchObject({ externalId: created.id, status: "completed", conclusion: "success" });

      const stale = await api(app, "POST", `/requests/${created.id}/validate`, {});
      expect(stale.json).toMatchObject({ valid: false, reasons: ["head_moved"], pull_request_head: { approved: HEAD, current: NEW_HEAD, agent: null } });

      github.clearCalls();
      const answer = await api(app, "POST", `/requests/${created.id}/validate`, { re_ask: true });
      const followUp = answer.json.follow_up;
      expect(answer.json).toMatchObject({ status: "superseded", superseded_by: followUp.id });
      expect(followUp).toMatchObject({ status: "pending", surface: { type: "pull_request", number: 42 }, supersedes: { id: created.id, drift: { fields: [], head: { approved: HEAD, current: NEW_HEAD } } } });
      await app.runtime.jobs.run();
      // The follow-up's run is the latest of the name on the head: the merge waits for it.
      expect(runsOnNew().at(-1)).toMatchObject({ externalId: followUp.id, status: "in_progress", conclusion: null });
      expect(gate(NEW_HEAD)).toBe('Required status check "hitl/approval" is pending.');
      const check = github.callsTo("POST", "/repos/octo-org/payments/check-runs")[0]!.body as { output: { text: string } };
      expect(check.output.text).toContain(`- The pull request's head: approved on \`${HEAD}\`, now \`${NEW_HEAD}\`.`);
      const note = github.callsTo("POST", "/repos/octo-org/payments/issues/42/comments");
      expect(note).toHaveLength(1);
      expect((note[0]!.body as { body: string }).body).toContain(`It no longer holds: the agent's context changed, so it asked again in request \`${followUp.id}\`.`);

      // A later push leaves the superseded request behind; the follow-up alone follows the head.
      const THIRD = "c".repeat(40);
      github.state.repos[REPO]!.pulls.find((pull) => pull.number === 42)!.headSha = THIRD;
      await send("pull_request", pullRequestPayload({ repo: REPO, action: "synchronize", number: 42, headSha: THIRD, before: NEW_HEAD, author: AUTHOR }));
      await app.runtime.jobs.run();
      const onThird = github.state.repos[REPO]!.checkRuns.filter((run) => run.headSha === THIRD);
      expect(onThird.map((run) => run.externalId)).toEqual([followUp.id]);
      expect(gate(THIRD)).toBe('Required status check "hitl/approval" is pending.');

      await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", login: "alice", headSha: THIRD, author: AUTHOR }));
      await app.runtime.jobs.run();
      expect(onThird.at(-1)).toMatchObject({ status: "completed", conclusion: "success" });
      expect(gate(THIRD)).toBeNull();
      expect((await api(app, "GET", `/requests/${followUp.id}/validate`)).status).toBe(405);
      expect((await api(app, "POST", `/requests/${followUp.id}/validate`, { pull_request_head: THIRD })).json).toMatchObject({ valid: true });
    });
  });
});
