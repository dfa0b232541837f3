import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import type { Store } from "../../src/store/store.js";
import { AGENT, api, OTHER_AGENT, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload, issueEditedPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
// A whole multiple of 10 minutes: the first batch of the window posts at 10:10.
const T0 = new Date("2026-11-24T10:00:00.000Z");
const quiet = (login: string) => `@\u200D${login}`;

const POLICY = `
approvers: [alice, bob]
batch:
  by: request_type
  max_size: 5
  max_wait: 10m
`;

const body = (n: number, overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: `Refund order ${n}`,
  approval_reason: "Refunds need a human",
  decision_data: { order: n, amount: 10 * n },
  available_actions: [
    { id: "approve", label: "Refund", impact: `Pays back $${10 * n}` },
    { id: "reject", label: "Keep" },
  ],
  request_type: "refund",
  deadline: "2099-01-01T00:00:00Z",
  ...overrides,
});

describe("batch issues (.hitl.yml batch:)", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  async function start(policy = POLICY, store?: Store) {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write", bob: "write", mallory: "write" }, files: { main: { ".hitl.yml": policy } } } },
    });
    app = await startApp({ githubUrl: github.url, now: T0, ...(store ? { store } : {}) });
  }

  afterEach(async () => {
    await app?.close();
    await github?.close();
  });

  const open = async (n: number, overrides: Record<string, unknown> = {}, token = AGENT.token) => {
    const response = await api(app, "POST", "/requests", body(n, overrides), { token });
    expect(response.status).toBe(201);
    return response.json as { id: string; status: string };
  };
  const at = (minutes: number) => app.setNow(new Date(T0.getTime() + minutes * 60_000));
  const comment = async (text: string, login: string, issueNumber = 1) => {
    const payload = issueCommentPayload({ repo: REPO, issueNumber, body: text, login, at: new Date(T0.getTime() + 20 * 60_000).toISOString() });
    expect((await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload, secret: WEBHOOK_SECRET })).status).toBe(200);
    await app.runtime.jobs.run();
  };
  const issue = (number = 1) => github.repo(REPO).issues.find((candidate) => candidate.number === number)!;
  const replies = (number = 1) => issue(number).comments.filter((c) => c.user === "hitl[bot]").map((c) => c.body);
  const writes = () => github.calls.filter((call) => call.method !== "GET" && !call.path.endsWith("/access_tokens")).map((call) => `${call.method} ${call.path}`);
  const status = async (id: string) => (await api(app, "GET", `/requests/${id}`)).json.status as string;

  it("collects requests until max_wait, posts one table, decides rows with one edit and one reply", async () => {
    await start();
    const requests = [];
    for (let n = 1; n <= 4; n++) requests.push(await open(n));
    await app.runtime.jobs.run();
    // Nothing on GitHub yet: each request is pending and readable, waiting for its batch.
    expect(writes()).toEqual([]);
    expect(await status(requests[0]!.id)).toBe("pending");

    at(10);
    await app.runtime.jobs.run();
    expect(writes()).toEqual([`POST /repos/${REPO}/issues`]);
    const posted = issue(1);
    expect(posted.title).toBe("Approval needed: 4 refund requests (batch)");
    expect(posted.labels).toEqual(["hitl:pending", "hitl:batch"]);
    expect(posted.assignees).toEqual(["alice", "bob"]);
    const stored = (await app.store.get(requests[0]!.id))!;
    const batchId = stored.batch!.id;
    const lines = posted.body!.split("\n");
    expect(lines[0]).toMatch(new RegExp(`^<!-- hitl:request:${batchId}:[A-Za-z0-9_-]+ -->$`));
    expect(lines.slice(1).join("\n")).toBe(
      [
        "4 of 4 requests wait for a decision. Decide rows with `/approve all`, `/approve 1,3-5` or `/reject 2`, then your reason. Each row is decided on its own: who may decide it, the reason it needs and its deadline are its own.",
        "",
        "| # | What | Data | Impact | Deadline | Status |",
        "|---|---|---|---|---|---|",
        ...[1, 2, 3, 4].map((n) => `| ${n} | \`refund-agent\`: Refund order ${n} | order: ${n}; amount: ${10 * n} | Pays back &#36;${10 * n} | 1 Jan 2099 00:00 UTC | ⏳ Pending (${quiet("alice")}, ${quiet("bob")}) |`),
        "",
        `Batch \`${batchId}\`.`,
      ].join("\n"),
    );
    // Each request's surface is the batch issue; nothing else was written.
    for (const request of requests) expect((await app.store.get(request.id))!.surfaceRef).toMatchObject({ type: "issue", number: 1 });
    expect(requests.map((request, i) => i + 1)).toEqual(await Promise.all(requests.map(async (request) => (await app.store.get(request.id))!.batch!.row)));

    github.clearCalls();
    await comment("/approve 1,3-4 looks right", "alice");
    expect(writes().sort()).toEqual([`PATCH /repos/${REPO}/issues/1`, `POST /repos/${REPO}/issues/1/comments`]);
    expect(replies()).toEqual([["@alice, `/approve 1,3-4`:", "", "- Row 1: approved.", "- Row 3: approved.", "- Row 4: approved."].join("\n")]);
    expect(issue(1).body).toContain(`| 3 | \`refund-agent\`: Refund order 3 | order: 3; amount: 30 | Pays back &#36;30 | 1 Jan 2099 00:00 UTC | ✅ Approved by ${quiet("alice")} |`);
    expect(issue(1).body).toContain("1 of 4 requests wait for a decision.");
    expect(issue(1).state).toBe("open");
    const decided = (await app.store.get(requests[0]!.id))!;
    expect(decided.decision).toMatchObject({ action: "approve", justification: "looks right", decidedBy: { type: "human", login: "alice" } });
    const trail = (await app.store.audit(REPO)).filter((entry) => entry.event === "decided");
    expect(trail.map((entry) => entry.details?.batch_id)).toEqual([batchId, batchId, batchId]);

    github.clearCalls();
    await comment("/reject all not this week", "bob");
    expect(replies()[1]).toBe(
      ["@bob, `/reject all`:", "", "- Row 1: not applied, already approved.", "- Row 2: rejected.", "- Row 3: not applied, already approved.", "- Row 4: not applied, already approved."].join("\n"),
    );
    // The last row ended: the same single edit closes the issue.
    expect(writes().sort()).toEqual([`PATCH /repos/${REPO}/issues/1`, `POST /repos/${REPO}/issues/1/comments`]);
    expect(issue(1).state).toBe("closed");
    expect(issue(1).body).toContain("Every request of this batch has ended (4 rows).");
    // Four requests, two decisions: one issue, two edits, two replies.
    expect(github.calls.filter((call) => call.method !== "GET").length).toBeLessThan(4);
  });

  it("posts a full batch at once, and a critical request on its own issue", async () => {
    await start();
    await open(99, { priority: "critical" });
    expect(writes()).toEqual([`POST /repos/${REPO}/issues`]);
    expect(issue(1).labels).toEqual(["hitl:pending", "priority:critical"]);
    for (let n = 1; n <= 5; n++) await open(n);
    await app.runtime.jobs.run();
    expect(writes()).toEqual([`POST /repos/${REPO}/issues`, `POST /repos/${REPO}/issues`]);
    expect(issue(2).title).toBe("Approval needed: 5 refund requests (batch)");
    expect(issue(2).body).not.toContain("Refund order 99");
    // The sixth starts the next batch of the window.
    const sixth = await open(6);
    expect((await app.store.get(sixth.id))!.batch).toMatchObject({ row: 1 });
    expect(writes()).toHaveLength(2);
  });

  it("the requester, its on_behalf_of account and people not its approvers decide no row; each row says why", async () => {
    await start(`
approvers: [alice, bob]
batch: { by: request_type, max_size: 3, max_wait: 10m }
`);
    await open(1, { on_behalf_of: "mallory" });
    await open(2, { approvers: ["alice"] }, OTHER_AGENT.token);
    await open(3, { approvers: ["bob"] });
    await app.runtime.jobs.run();
    expect(issue(1).body).toContain("3 of 3 requests wait");

    await comment("/approve all", "mallory");
    expect(replies()[0]).toBe(
      [
        "@mallory, `/approve all`:",
        "",
        "- Row 1: not applied: you opened this request.",
        `- Row 2: not applied: you are not one of its approvers (${quiet("alice")}).`,
        `- Row 3: not applied: you are not one of its approvers (${quiet("bob")}).`,
      ].join("\n"),
    );
    await comment("/approve all fine", "bob");
    expect(replies()[1]).toBe(["@bob, `/approve all`:", "", "- Row 1: approved.", `- Row 2: not applied: you are not one of its approvers (${quiet("alice")}).`, "- Row 3: approved."].join("\n"));
    expect(issue(1).body).toContain("1 of 3 requests wait");
  });

  it("names bad rows and applies nothing; hostile ranges cost nothing", async () => {
    await start();
    for (let n = 1; n <= 3; n++) await open(n);
    at(10);
    await app.runtime.jobs.run();
    github.clearCalls();
    await comment("/approve 1-999999999", "alice");
    await comment("/approve 3-1,2,2", "alice");
    await comment("/approve looks good", "alice");
    expect(replies()).toEqual([
      "@alice, nothing was applied: `1-999999999` is not a row of this batch. Its rows are 1 to 3.",
      "@alice, nothing was applied: `3-1` runs backwards; write the smaller row first; row 2 is named twice. Its rows are 1 to 3.",
      "@alice, nothing was applied: on a batch issue, name the rows, as in `/approve 1,3-5 <your reason>`, `/approve all` or `/reject 2 <your reason>`.",
    ]);
    expect(writes()).toEqual([`POST /repos/${REPO}/issues/1/comments`, `POST /repos/${REPO}/issues/1/comments`, `POST /repos/${REPO}/issues/1/comments`]);
    expect((await app.store.list({ repo: REPO, status: "pending" })).length).toBe(3);
  });

  it("a batch issue edited by someone else cancels its waiting rows, so no row number decides edited text", async () => {
    await start();
    for (let n = 1; n <= 2; n++) await open(n);
    at(10);
    await app.runtime.jobs.run();
    const edited = issue(1).body!.replace("Refund order 2", "Refund order 1");
    const payload = issueEditedPayload({ repo: REPO, issueNumber: 1, login: "mallory", body: edited, previousBody: issue(1).body! });
    expect((await deliver(`${app.url}/api/github/webhooks`, { event: "issues", payload, secret: WEBHOOK_SECRET })).status).toBe(200);
    await app.runtime.jobs.run();
    await comment("/approve 2", "alice");
    expect(replies()).toEqual(["@alice, `/approve 2`:\n\n- Row 2: not applied, already cancelled."]);
    expect(issue(1).state).toBe("closed");
  });

  it("a crash between posting the batch issue and recording it posts no second issue: the retry finds it by its marker", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hitl-batch-"));
    const inner = await createEmbeddedStore({ dir, fsync: false, log: () => undefined });
    let crashes = 1;
    // The store write after GitHub created the issue fails once, as a process dying there would leave it.
    const store = new Proxy(inner, {
      get(target, property, receiver) {
        if (property !== "createSetting") return Reflect.get(target, property, receiver) as unknown;
        return async (name: string, value: string) => {
          if (name.endsWith(":issue") && crashes-- > 0) throw new Error("the process died here");
          return target.createSetting(name, value);
        };
      },
    });
    try {
      await start(POLICY, store);
      for (let n = 1; n <= 2; n++) await open(n);
      at(10);
      await app.runtime.jobs.run();
      expect(github.callsTo("POST", `/repos/${REPO}/issues`)).toHaveLength(1);
      expect((await inner.list({ repo: REPO })).map((request) => request.surfaceRef)).toEqual([null, null]);
      // The jobs' retries come due.
      at(20);
      await app.runtime.jobs.run();
      expect(github.callsTo("POST", `/repos/${REPO}/issues`)).toHaveLength(1);
      expect(github.callsTo("GET", `/repos/${REPO}/issues`)).toHaveLength(1);
      expect((await inner.list({ repo: REPO })).map((request) => request.surfaceRef?.number)).toEqual([1, 1]);
    } finally {
      await app.close();
      await github.close();
      [app, github] = [undefined as never, undefined as never];
      await inner.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a row that escalates gets a comment naming its row, and its status cell says so", async () => {
    await start(`
approvers: [alice]
escalation:
  - after: 2h
    approvers: [bob]
batch: { by: request_type, max_size: 5, max_wait: 10m }
`);
    const first = await open(1);
    await open(2);
    at(10);
    await app.runtime.jobs.run();
    github.clearCalls();
    at(130);
    await app.runtime.sweep();
    await app.runtime.jobs.run();
    expect((await app.store.get(first.id))!.escalation.level).toBe(1);
    const comments = replies().sort();
    expect(comments.map((text) => text.slice(0, 7))).toEqual(["Row 1: ", "Row 2: "]);
    expect(comments[0]).toContain("@bob");
    expect(issue(1).body).toContain(`⏳ Pending, escalated (${quiet("bob")})`);
  });

  it("costs fewer GitHub calls in all than it holds requests: posting and deciding ten rows", async () => {
    await start(`
approvers: [alice]
batch: { by: request_type, max_size: 10, max_wait: 10m }
`);
    github.clearCalls();
    for (let n = 1; n <= 10; n++) await open(n);
    await app.runtime.jobs.run();
    await comment("/approve all fine", "alice");
    expect((await app.store.list({ repo: REPO, status: "approved" })).length).toBe(10);
    const calls = github.calls.filter((call) => !call.path.endsWith("/access_tokens")).map((call) => `${call.method} ${call.path}`);
    // Reading the repository's installation and .hitl.yml once, the issue, one reply and one edit:
    // five calls for ten requests (each on its own issue: an issue, an edit and a comment each).
    expect(calls.slice(0, 3)).toEqual([`GET /repos/${REPO}/installation`, `GET /repos/${REPO}/contents/.hitl.yml`, `POST /repos/${REPO}/issues`]);
    // The reply and the edit go out together, in either order.
    expect(calls.slice(3).sort()).toEqual([`PATCH /repos/${REPO}/issues/1`, `POST /repos/${REPO}/issues/1/comments`]);
    expect(issue(1).state).toBe("closed");
  });

  it("shows rows decided outside GitHub, before and after the issue is up, with one edit for several at once", async () => {
    await start();
    const ids: string[] = [];
    for (let n = 1; n <= 4; n++) ids.push((await open(n)).id);
    // Decided before the batch posts (a Slack button, an email link, the desk): the table shows it once posted.
    expect(await app.runtime.engine.decideFromChannel({ requestId: ids[0]!, login: "alice", action: "approve", via: "desk" })).toMatchObject({ type: "decided" });
    at(10);
    await app.runtime.jobs.run();
    expect(issue(1).body).toContain(`| 1 | \`refund-agent\`: Refund order 1 | order: 1; amount: 10 | Pays back &#36;10 | 1 Jan 2099 00:00 UTC | ✅ Approved by ${quiet("alice")} |`);
    expect(issue(1).body).toContain("3 of 4 requests wait");
    github.clearCalls();
    // Several rows decided together (a desk selection) show in one edit.
    await app.runtime.engine.holdingBatchEdits(null, async () => {
      for (const id of ids.slice(1, 3)) await app.runtime.engine.decideFromChannel({ requestId: id, login: "bob", action: "reject", via: "desk", batchId: "desk_1" });
    });
    await app.runtime.jobs.run();
    expect(writes()).toEqual([`PATCH /repos/${REPO}/issues/1`]);
    expect(issue(1).body).toContain(`| 3 | \`refund-agent\`: Refund order 3 | order: 3; amount: 30 | Pays back &#36;30 | 1 Jan 2099 00:00 UTC | ❌ Rejected by ${quiet("bob")} |`);
    expect(issue(1).body).toContain("1 of 4 requests wait");
  });
});
