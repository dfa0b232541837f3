import { createHmac } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const ONCALL_SECRET = "oncall-channel-secret-0123";
const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);

const POLICY = `approvers: [alice]
deadline: 8h
warning_before: 1h
fallback: {type: abort, reason: "Nobody answered within 8 hours", cleanup: "Release the held funds"}
escalation:
  - after: 1h
    approvers: [bob]
    message: Alice is away; please take this.
    notify: [oncall, nowhere]
  - after: 4h
    approvers: ["@octo-org/leads"]
approving_fallbacks: {request_types: ["*"]}
`;

describe("escalation, warnings and fallbacks", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  let receiver: CallbackReceiver;
  let callbackUrl: string;
  /** What the agent was called back with (bodies). */
  const callbacks = () => receiver.received.filter((call) => call.path !== "/oncall").map((call) => call.body);

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: {
          collaborators: { alice: "write", bob: "write", carol: "write" },
          files: { main: { ".hitl.yml": POLICY } },
          pulls: [{ number: 42, headSha: "a".repeat(40), user: "deploy-agent" }],
        },
      },
      teams: { "octo-org/leads": ["carol"] },
    });
    receiver = await startCallbackReceiver();
    callbackUrl = `${receiver.base}/cb`;
    app = await startApp({ githubUrl: github.url, now: T0, channels: [{ name: "oncall", url: `${receiver.base}/oncall`, kind: "webhook", secret: ONCALL_SECRET }] });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
    await receiver.close();
  });

  async function open(overrides: Record<string, unknown> = {}) {
    const response = await api(app, "POST", "/requests", {
      repo: REPO,
      task_description: "Refund order 77",
      approval_reason: "Large refund",
      decision_data: { amount: 900 },
      callback_url: callbackUrl,
      ...overrides,
    });
    expect(response.status).toBe(201);
    return response.json;
  }

  async function sweepAt(date: Date) {
    app.setNow(date);
    github.clearCalls();
    const result = await app.runtime.sweep();
    await app.runtime.jobs.run();
    return result;
  }

  // The seeded pull request takes #42, so the request's issue is #43.
  const ISSUE = "/repos/octo-org/payments/issues/43";
  const comments = () => github.callsTo("POST", `${ISSUE}/comments`).map((call) => (call.body as { body: string }).body);

  it("climbs the ladder, warns before the deadline, then applies the fallback and tells the agent", async () => {
    const created = await open();
    expect(created.escalation).toEqual({ level: 0, next: { type: "escalate", at: at(1).toISOString(), level: 1 } });

    expect(await sweepAt(at(0.5))).toMatchObject({ ran: true, escalated: 0 });
    expect(github.calls).toEqual([]);

    expect(await sweepAt(at(1))).toMatchObject({ escalated: 1 });
    expect(github.calls.map((call) => `${call.method} ${call.path}`)).toEqual([`PATCH ${ISSUE}`, `POST ${ISSUE}/comments`]);
    // The status line is edited in the same call that moves the assignees.
    expect(github.calls[0]!.body).toEqual({ assignees: ["bob"], body: expect.stringMatching(/^<!-- hitl:request:.*\n⏫ \*\*Escalated\*\* to @\u200Dbob \(level 1, .*\)\. If nobody decides by /) });
    expect(comments()[0]).toContain("@bob");
    expect(comments()[0]).toContain("Alice is away; please take this.");
    // The level's channel hears of it once, signed with its secret; a channel nobody configured is skipped, not retried.
    const [post, ...more] = receiver.received.filter((call) => call.path === "/oncall");
    expect(more).toEqual([]);
    const deliveryId = post!.headers["x-hitl-delivery"] as string;
    expect(deliveryId).toMatch(/^dlv_/);
    // The request as the agent reads it, less its checkpoint, which only the agent sees.
    const { checkpoint, ...shownAtEscalation } = (await api(app, "GET", `/requests/${created.id}`)).json;
    expect(checkpoint).toBeNull();
    expect(post!.body).toBe(
      JSON.stringify({
        event: "request.escalated",
        delivery_id: deliveryId,
        sent_at: at(1).toISOString(),
        level: 1,
        approvers: ["bob"],
        text: `Approval needed (normal): Refund order 77 — waiting 60 minutes, now with bob. Deadline ${at(8).toISOString()}. https://github.com/octo-org/payments/issues/43`,
        request: shownAtEscalation,
      }),
    );
    expect(post!.headers["x-hitl-signature-256"]).toBe(`sha256=${createHmac("sha256", ONCALL_SECRET).update(post!.body).digest("hex")}`);

    // Each level fires once, however often the sweep runs.
    expect(await sweepAt(at(2))).toMatchObject({ escalated: 0 });
    expect(github.calls).toEqual([]);

    expect(await sweepAt(at(4))).toMatchObject({ escalated: 1 });
    expect(github.calls[0]!.body).toEqual({ assignees: [], body: expect.stringMatching(/\n⏫ \*\*Escalated\*\* to @\u200Docto-org\/leads \(level 2, 24 Nov 2026 13:00 UTC\)\. /) });
    expect(comments()[0]).toContain("@octo-org/leads");
    const shown = await api(app, "GET", `/requests/${created.id}`);
    expect(shown.json.escalation).toEqual({ level: 2, next: { type: "warn", at: at(7).toISOString() } });

    expect(await sweepAt(at(7))).toMatchObject({ warned: 1 });
    expect(comments()).toHaveLength(1);

    expect(await sweepAt(at(8))).toMatchObject({ expired: 1 });
    expect(github.callsTo("PATCH", ISSUE)[0]!.body).toMatchObject({ state: "closed", state_reason: "not_planned", labels: ["hitl:expired", "priority:normal"] });
    const expired = (await api(app, "GET", `/requests/${created.id}`)).json;
    expect(expired).toMatchObject({
      status: "expired",
      escalation: { next: null },
      decision: {
        action: "abort",
        status: "expired",
        decided_by: { type: "fallback", fallback: "abort" },
        justification: "Nobody answered within 8 hours",
        via: "fallback",
        fallback: { type: "abort", cleanup: "Release the held funds" },
      },
    });
    expect(callbacks().map((text) => JSON.parse(text).event)).toEqual(["request.expired"]);
    const audit = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line).event);
    expect(audit).toEqual(["created", "surface_opened", "escalated", "escalated", "warned", "expired"]);
  });

  it("escalated approvers may decide, and a decided request is never escalated or expired", async () => {
    const created = await open();
    await sweepAt(at(1));
    app.setNow(at(1.5));
    await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: 43, body: "/approve covering for alice", login: "bob" }), secret: WEBHOOK_SECRET });
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "approved", decision: { decided_by: { login: "bob" } } });
    for (const hours of [4, 7, 8, 100]) {
      expect(await sweepAt(at(hours))).toMatchObject({ escalated: 0, warned: 0, expired: 0 });
      expect(github.calls).toEqual([]);
    }
  });

  it("after downtime only the latest step applies: past the deadline it expires without escalation noise", async () => {
    const created = await open();
    expect(await sweepAt(at(30))).toMatchObject({ escalated: 0, warned: 0, expired: 1 });
    expect(github.callsTo("PATCH", ISSUE)).toHaveLength(1);
    expect((await api(app, "GET", `/requests/${created.id}`)).json.status).toBe("expired");
  });

  it("two sweeps at once fire each step once", async () => {
    await open();
    app.setNow(at(1));
    const results = await Promise.all([app.runtime.sweep(), app.runtime.sweep()]);
    await app.runtime.jobs.run();
    expect(results.reduce((sum, result) => sum + result.escalated, 0)).toBe(1);
    expect(github.callsTo("POST", `${ISSUE}/comments`)).toHaveLength(1);
  });

  it.each([
    [{ type: "use_default", action: "approve", reason: "Small enough to default" }, { action: "approve", justification: "Small enough to default" }],
    [{ type: "degrade", mode: "read-only" }, { action: "degrade", fallback: { mode: "read-only" } }],
    [{ type: "retry_with_modification", modifications: { amount: 450 } }, { action: "retry_with_modification", fallback: { modifications: { amount: 450 } } }],
  ])("the %o fallback ends the request as expired with what the agent needs", async (fallback, decision) => {
    const created = await open({ fallback_action: fallback });
    await sweepAt(at(8));
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "expired", decision: { ...decision, decided_by: { type: "fallback", fallback: fallback.type } } });
    expect(callbacks()).toHaveLength(1);
  });

  it("the delegate fallback hands the request to other approvers with more time", async () => {
    const created = await open({ fallback_action: { type: "delegate", approvers: ["carol"], extend_by: "2h" } });
    await sweepAt(at(8));
    const shown = (await api(app, "GET", `/requests/${created.id}`)).json;
    expect(shown).toMatchObject({ status: "pending", approvers: ["carol"], deadline: at(10).toISOString() });
    expect(github.calls[0]!.body).toEqual({ assignees: ["carol"], body: expect.stringMatching(/\n↪️ \*\*Delegated\*\* to @\u200Dcarol: nobody decided by the first deadline\. If nobody decides by .*, the request is aborted: No decision after delegation\.\n/) });
    expect(comments()[0]).toContain("@carol");
    await sweepAt(at(10));
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "expired", decision: { action: "abort", justification: "No decision after delegation" } });
  });

  it("on a pull request the ladder replaces the requested reviewers", async () => {
    await open({ surface: { type: "pull_request", number: 42 } });
    await sweepAt(at(1));
    expect(github.calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      "DELETE /repos/octo-org/payments/pulls/42/requested_reviewers",
      "POST /repos/octo-org/payments/pulls/42/requested_reviewers",
      "POST /repos/octo-org/payments/issues/42/comments",
    ]);
    expect(github.calls[0]!.body).toEqual({ reviewers: ["alice"], team_reviewers: [] });
    expect(github.calls[1]!.body).toEqual({ reviewers: ["bob"], team_reviewers: [] });
  });
});
