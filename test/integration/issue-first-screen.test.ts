import { afterEach, describe, expect, it } from "vitest";
import { findRequestMarker } from "../../src/core/render/markers.js";
import { AGENT, api, SELF, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueClosedPayload, issueCommentPayload, issueDeletedPayload, issueTransferredPayload } from "../support/webhooks.js";

/**
 * What people see first on a request's issue, and what they do to it besides commenting: the
 * title, the status line kept true in the same call that closes the issue, the 👍 on a command
 * that counted, closing the issue by hand, deleting it and transferring it away. Payloads are
 * GitHub's own examples (`@octokit/webhooks-examples`); every call is asserted against the stand-in.
 */
const REPO = "octo-org/payments";
const ZWJ = "\u200D";
const AGENT_LOGIN = "ci-user";

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
  approvers: ["alice", "bob"],
  ...overrides,
});

describe("the first screen of a request's issue", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  async function start(hitlYml?: string) {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: { collaborators: { alice: "write", bob: "write", [AGENT_LOGIN]: "write", mallory: "read" }, ...(hitlYml ? { files: { main: { ".hitl.yml": hitlYml } } } : {}) },
        "octo-org/archive": {},
      },
      installations: [{ id: 1, account: "octo-org", repos: [REPO, "octo-org/archive"] }],
    });
    app = await startApp({ githubUrl: github.url, agents: [{ ...AGENT, githubLogins: [AGENT_LOGIN] }] });
  }

  afterEach(async () => {
    await app?.close();
    await github?.close();
  });

  const send = (event: string, payload: unknown) => deliver(`${app.url}/api/github/webhooks`, { event, payload, secret: WEBHOOK_SECRET });
  const open = async (overrides: Record<string, unknown> = {}) => {
    const response = await api(app, "POST", "/requests", requestBody(overrides));
    expect(response.status).toBe(201);
    return response.json as { id: string; surface_number: number };
  };
  const calls = () => github.calls.map((call) => `${call.method} ${call.path}`);
  const statusLineOf = (body: string) => body.split("\n")[1];
  const issueBody = (number: number) => github.repo(REPO).issues.find((issue) => issue.number === number)!.body!;

  it("titles the issue by what is needed, how urgent and by when, and cuts a long task to keep it short", async () => {
    await start();
    const soon = new Date(Date.now() + 6 * 3_600_000);
    await open({ deadline: soon.toISOString(), task_description: `Refund order 1234 to the customer who wrote in about the broken mug and the late parcel` });
    const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][soon.getUTCDay()];
    const time = `${String(soon.getUTCHours()).padStart(2, "0")}:${String(soon.getUTCMinutes()).padStart(2, "0")}`;
    const { title } = github.callsTo("POST", `/repos/${REPO}/issues`)[0]!.body as { title: string };
    expect(title).toBe(`Approval needed (high): Refund order 1234 to the customer… — by ${day} ${time} UTC`);
    expect(title.length).toBeLessThanOrEqual(80);
  });

  it("acknowledges a counted /approve with a 👍 before the outcome, and edits the status line in the call that closes the issue", async () => {
    await start();
    const { id, surface_number: number } = await open();
    expect(statusLineOf(issueBody(number))).toBe("⏳ **Waiting for a decision.** If nobody decides by 1 Dec 2099 12:00 UTC, the request is aborted: nobody answered.");
    github.clearCalls();
    const payload = issueCommentPayload({ repo: REPO, issueNumber: number, body: "/approve customer is a regular", login: "alice", commentId: 9001 });
    expect((await send("issue_comment", payload)).status).toBe(200);
    await app.runtime.jobs.run();

    expect(calls()).toEqual([
      `GET /repos/${REPO}/collaborators/alice/permission`,
      `POST /repos/${REPO}/issues/comments/9001/reactions`,
      `PATCH /repos/${REPO}/issues/${number}`,
      `POST /repos/${REPO}/issues/${number}/comments`,
    ]);
    expect(github.calls[1]!.body).toEqual({ content: "+1" });
    const patch = github.calls[2]!.body as Record<string, unknown>;
    expect(Object.keys(patch).sort()).toEqual(["body", "labels", "state", "state_reason"]);
    const decidedAt = (await api(app, "GET", `/requests/${id}`)).json.decision.decided_at as string;
    const when = new Date(decidedAt);
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const at = `${when.getUTCDate()} ${months[when.getUTCMonth()]} ${when.getUTCFullYear()} ${String(when.getUTCHours()).padStart(2, "0")}:${String(when.getUTCMinutes()).padStart(2, "0")} UTC`;
    expect(statusLineOf(patch.body as string)).toBe(`✅ **Approved** by @${ZWJ}alice with a comment on ${at}: customer is a regular.`);
    expect(findRequestMarker(patch.body as string, SELF.markerKey)).toBe(id);
    expect(issueBody(number)).toBe(patch.body);
  });

  it("answers a command that did not count with a reply and no reaction", async () => {
    await start();
    const { surface_number: number } = await open();
    github.clearCalls();
    await send("issue_comment", issueCommentPayload({ repo: REPO, issueNumber: number, body: "/approve", login: "mallory", commentId: 9002 }));
    await app.runtime.jobs.run();
    expect(calls()).toEqual([`POST /repos/${REPO}/issues/${number}/comments`]);
    expect(github.callsTo("POST", /\/reactions$/)).toEqual([]);
  });

  it("reopens an issue closed by hand while its request waits, with a one-line reply saying how to decide", async () => {
    await start();
    const { id, surface_number: number } = await open();
    github.repo(REPO).issues.find((issue) => issue.number === number)!.state = "closed";
    github.clearCalls();
    expect((await send("issues", issueClosedPayload({ repo: REPO, issueNumber: number, login: "bob" }))).status).toBe(200);
    expect(calls()).toEqual([`PATCH /repos/${REPO}/issues/${number}`, `POST /repos/${REPO}/issues/${number}/comments`]);
    expect(github.calls[0]!.body).toEqual({ state: "open" });
    expect(github.calls[1]!.body).toEqual({
      body: "@bob, closing this issue does not decide the request it holds; hitl reopened the issue. To decide, comment `/approve [reason]` or `/reject [reason]`.",
    });
    expect(github.repo(REPO).issues.find((issue) => issue.number === number)!.state).toBe("open");
    expect((await api(app, "GET", `/requests/${id}`)).json.status).toBe("pending");
  });

  it("leaves its own close after a decision alone, so closing never loops", async () => {
    await start();
    const { surface_number: number } = await open();
    await send("issue_comment", issueCommentPayload({ repo: REPO, issueNumber: number, body: "/approve", login: "alice" }));
    await app.runtime.jobs.run();
    github.clearCalls();
    expect((await send("issues", issueClosedPayload({ repo: REPO, issueNumber: number, login: "hitl[bot]", userType: "Bot" }))).status).toBe(200);
    // A person closing the decided issue again changes nothing either.
    expect((await send("issues", issueClosedPayload({ repo: REPO, issueNumber: number, login: "bob" }))).status).toBe(200);
    await app.runtime.jobs.run();
    expect(calls()).toEqual(["GET /app"]);
  });

  describe("with close_means: reject", () => {
    it("a close by an allowed approver rejects the request, shown like any decision", async () => {
      await start("close_means: reject\n");
      const { id, surface_number: number } = await open();
      github.clearCalls();
      await send("issues", issueClosedPayload({ repo: REPO, issueNumber: number, login: "bob" }));
      await app.runtime.jobs.run();
      const shown = (await api(app, "GET", `/requests/${id}`)).json;
      expect(shown).toMatchObject({ status: "rejected", decision: { action: "reject", via: "issue_closed", decided_by: { type: "human", login: "bob" }, justification: null } });
      expect(calls()).toEqual([
        `GET /repos/${REPO}/collaborators/bob/permission`,
        `PATCH /repos/${REPO}/issues/${number}`,
        `POST /repos/${REPO}/issues/${number}/comments`,
      ]);
      expect(statusLineOf((github.calls[1]!.body as { body: string }).body)).toMatch(new RegExp(`^❌ \\*\\*Rejected\\*\\* by @${ZWJ}bob by closing the issue on \\d+ \\w+ \\d{4} \\d\\d:\\d\\d UTC\\.$`));
    });

    it("a close by the requester's own account is reopened, not a rejection", async () => {
      await start("close_means: reject\n");
      const { id, surface_number: number } = await open();
      github.clearCalls();
      await send("issues", issueClosedPayload({ repo: REPO, issueNumber: number, login: AGENT_LOGIN }));
      expect((await api(app, "GET", `/requests/${id}`)).json.status).toBe("pending");
      expect(calls()).toEqual([`PATCH /repos/${REPO}/issues/${number}`, `POST /repos/${REPO}/issues/${number}/comments`]);
      expect(github.calls[0]!.body).toEqual({ state: "open" });
      expect(github.calls[1]!.body).toEqual({
        body: `@${AGENT_LOGIN}, you opened this request, so your close does not reject it; hitl reopened the issue. To decide, comment \`/approve [reason]\` or \`/reject [reason]\`.`,
      });
    });

    it("a close by someone who may not decide, or without the justification decisions need, is reopened", async () => {
      await start("close_means: reject\nfeedback:\n  require_justification: true\n");
      const { id, surface_number: number } = await open();
      github.clearCalls();
      await send("issues", issueClosedPayload({ repo: REPO, issueNumber: number, login: "mallory" }));
      await send("issues", issueClosedPayload({ repo: REPO, issueNumber: number, login: "alice", at: new Date(Date.now() + 1_000).toISOString().replace(/\.\d{3}Z$/, "Z") }));
      expect((await api(app, "GET", `/requests/${id}`)).json.status).toBe("pending");
      expect(github.callsTo("POST", `/repos/${REPO}/issues/${number}/comments`).map((call) => (call.body as { body: string }).body)).toEqual([
        "@mallory, you may not decide this request, so your close does not reject it; hitl reopened the issue. To decide, comment `/approve [reason]` or `/reject [reason]`.",
        "@alice, rejecting this request needs a justification or a reason code, which a close cannot carry; hitl reopened the issue. To decide, comment `/approve [reason]` or `/reject [reason]`.",
      ]);
    });
  });

  it("posts the request again in its repository when its issue is deleted, and the audit says so", async () => {
    await start();
    const { id, surface_number: number } = await open();
    github.deleteIssue(REPO, number);
    github.clearCalls();
    expect((await send("issues", issueDeletedPayload({ repo: REPO, issueNumber: number, login: "alice" }))).status).toBe(200);
    await app.runtime.jobs.run();
    expect(calls()).toEqual([`GET /repos/${REPO}/issues`, `POST /repos/${REPO}/issues`]);
    const shown = (await api(app, "GET", `/requests/${id}`)).json;
    expect(shown).toMatchObject({ status: "pending", surface_number: number + 1, surface_url: `https://github.com/${REPO}/issues/${number + 1}` });
    expect(findRequestMarker(issueBody(number + 1), SELF.markerKey)).toBe(id);
    const audit = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line));
    expect(audit.map((entry) => entry.event)).toEqual(["created", "surface_opened", "surface_moved", "surface_opened"]);
    expect(audit[2]).toMatchObject({ actor: { type: "system", reason: `issue #${number} was deleted` }, details: { how: "deleted", from: { type: "issue", number } } });
    // The new issue decides the request.
    await send("issue_comment", issueCommentPayload({ repo: REPO, issueNumber: number + 1, body: "/approve", login: "alice" }));
    expect((await api(app, "GET", `/requests/${id}`)).json.status).toBe("approved");
  });

  it("posts the request again in its own repository when its issue is transferred away", async () => {
    await start();
    const { id, surface_number: number } = await open();
    const moved = github.transferIssue(REPO, number, "octo-org/archive");
    github.clearCalls();
    await send("issues", issueTransferredPayload({ repo: REPO, issueNumber: number, login: "alice", to: "octo-org/archive", toNumber: moved }));
    await app.runtime.jobs.run();
    expect(calls()).toEqual([`GET /repos/${REPO}/issues`, `POST /repos/${REPO}/issues`]);
    expect((await api(app, "GET", `/requests/${id}`)).json).toMatchObject({ status: "pending", surface_number: number + 1 });
    const audit = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line));
    expect(audit[2]).toMatchObject({
      event: "surface_moved",
      actor: { type: "system", reason: `issue #${number} was transferred to octo-org/archive` },
      details: { how: "transferred", from: { number }, to: { repo: "octo-org/archive", number: moved, url: `https://github.com/octo-org/archive/issues/${moved}` } },
    });
    // A command on the transferred issue, in the other repository, decides nothing.
    await send("issue_comment", issueCommentPayload({ repo: "octo-org/archive", issueNumber: moved, body: "/approve", login: "alice" }));
    expect((await api(app, "GET", `/requests/${id}`)).json.status).toBe("pending");
  });

  describe("a relative deadline", () => {
    it("counts `in 48h`, `in 30m` and `in 2d` from when hitl receives the request, and titles a near one", async () => {
      await start();
      app.setNow(new Date("2026-11-24T10:00:00.000Z"));
      for (const [asked, expected] of [
        ["in 48h", "2026-11-26T10:00:00.000Z"],
        ["in 30m", "2026-11-24T10:30:00.000Z"],
        ["in 2d", "2026-11-26T10:00:00.000Z"],
        ["2026-12-01T12:00:00+01:00", "2026-12-01T11:00:00.000Z"],
      ]) {
        const response = await api(app, "POST", "/requests", requestBody({ deadline: asked }));
        expect(response.status, asked).toBe(201);
        expect(response.json.deadline, asked).toBe(expected);
      }
      const titles = github.callsTo("POST", `/repos/${REPO}/issues`).map((call) => (call.body as { title: string }).title);
      expect(titles).toEqual([
        "Approval needed (high): Refund order 1234 — by Thu 10:00 UTC",
        "Approval needed (high): Refund order 1234 — by Tue 10:30 UTC",
        "Approval needed (high): Refund order 1234 — by Thu 10:00 UTC",
        "Approval needed (high): Refund order 1234",
      ]);
    });

    it("answers any other form with a 400 naming deadline and the forms it takes", async () => {
      await start();
      const message =
        'expected an ISO 8601 time with an offset, such as 2026-12-01T12:00:00Z, or a time from now, such as "in 30m", "in 48h" or "in 2d" (units s, m, h, d, w; at most 365d)';
      for (const deadline of ["in 48 hours", "48h", "tomorrow", "in 400d", "2026-12-01", "in -1h"]) {
        const response = await api(app, "POST", "/requests", requestBody({ deadline }));
        expect(response.status, deadline).toBe(400);
        expect(response.json.error.issues, deadline).toEqual([{ path: "deadline", message }]);
      }
      const zero = await api(app, "POST", "/requests", requestBody({ deadline: "in 0m" }));
      expect(zero.status).toBe(400);
      expect(zero.json.error.issues).toEqual([{ path: "deadline", message: "must be in the future" }]);
    });
  });
});
