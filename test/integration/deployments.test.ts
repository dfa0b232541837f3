import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { requestMarker } from "../../src/core/render/markers.js";
import { api, SELF, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, deploymentProtectionRulePayload, issueCommentPayload, issueEditedPayload, type DeploymentProtectionRuleOptions } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const SHA = "47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

const POLICY = `approvers: [alice, bob]
fallback: {type: use_default, action: approve, reason: "Agent requests go ahead after three days"}
environments:
  production:
    approvers: [alice, deploy-agent]
    deadline: 2h
    priority: high
  "preview-*":
    deadline: 30m
    fallback: {type: use_default, action: approve, reason: "Previews go out unless someone objects"}
`;

describe("deployments gated by hitl as a deployment protection rule", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  let logs: { level: number; msg: string; [key: string]: unknown }[];

  beforeEach(async () => {
    github = await startGitHubStandIn({
      now: () => T0,
      repos: {
        [REPO]: {
          collaborators: { alice: "write", bob: "write", "deploy-agent": "write" },
          files: { main: { ".hitl.yml": POLICY } },
          runs: [
            { id: 9001, headSha: SHA, waitingOn: ["production"] },
            { id: 9002, headSha: SHA, waitingOn: ["preview-42"] },
            { id: 9003, headSha: SHA, waitingOn: ["qa"] },
          ],
        },
      },
    });
    logs = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    });
    app = await startApp({ githubUrl: github.url, now: T0, log: pino({ level: "info" }, sink) });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const webhooks = () => `${app.url}/api/github/webhooks`;
  const requested = (options: Partial<DeploymentProtectionRuleOptions> & { deliveryId?: string } = {}) =>
    deliver(webhooks(), {
      event: "deployment_protection_rule",
      payload: deploymentProtectionRulePayload({ apiUrl: github.url, environment: "production", runId: 9001, sha: SHA, at: T0.toISOString(), ...options }),
      secret: WEBHOOK_SECRET,
      deliveryId: options.deliveryId,
    });
  const comment = (body: string, login: string, issueNumber = 1) =>
    deliver(webhooks(), { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber, body, login, at: at(5).toISOString() }), secret: WEBHOOK_SECRET });
  const reviewsOf = (runId: number) => github.repo(REPO).runs.find((run) => run.id === runId)!.reviews;
  const requests = async () => app.store.list({ repo: REPO });
  const issueBodies = () => github.callsTo("POST", "/repos/:owner/:repo/issues").map((call) => call.body as { title: string; body: string; labels: string[]; assignees?: string[] });

  /** The issue body hitl writes for the production deployment of run 9001. */
  const productionBody = (id: string, contextHash: string) => `${requestMarker(id, SELF.markerKey)}
⏳ **Waiting for a decision.** If nobody decides by 24 Nov 2026 11:00 UTC, the request is aborted: No decision before the deadline; the deployment is rejected.

A deployment workflow asks for approval: **Deploy main to production**. Why: Deployments to production wait for a person (.hitl.yml environments: production). Priority: high.

### Deployment

| | |
|---|---|
| Environment | \`production\` |
| Ref | \`main\` |
| Commit | [\`47efb71\`](https://github.com/octo-org/payments/commit/47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54) |
| Workflow run | [9001](https://github.com/octo-org/payments/actions/runs/9001) (\`push\`) |
| Triggered by | @\u200ddeploy-agent |
| Policy | \`.hitl.yml\` \`environments:\` \`production\` |

The workflow run waits for this decision. Whoever triggered the deployment may not approve it.

### Decision data

| field | value |
| --- | --- |
| environment | production |
| ref | main |
| sha | 47efb7\u200d196c2a\u200d1a2fd3\u200df52f2c\u200d59f0e2\u200ddd3d0e\u200d4d54 |
| workflow&#95;run | 9001 |
| triggered&#95;by | deploy-agent |
| event | push |

### Actions

- \`/approve\` **Deploy** (approves): The workflow run deploys main to production
- \`/reject\` **Do not deploy** (rejects): The deployment job fails without deploying

**How to decide:** post a new comment that starts with one of the commands above; the rest of the comment is your reason.

**Who may decide:** @alice and @deploy-agent (never bots, the requester or an edited comment). The first valid decision wins and hitl tells the agent.

<details><summary>Request details</summary>

| field | value |
| --- | --- |
| id | \`${id}\` |
| request type | \`deployment\` |
| risk score | not given |
| confidence | not given |
| context hash | \`${contextHash}\` |
| created at | 24 Nov 2026 09:00 UTC |
| deadline | 24 Nov 2026 11:00 UTC |
| escalation ladder | none |

</details>`;

  it("opens an issue with the deployment's context, and answers GitHub once an approver approves", async () => {
    expect((await requested()).status).toBe(200);
    const [request, ...others] = await requests();
    expect(others).toEqual([]);
    expect(request).toMatchObject({
      status: "pending",
      requestedBy: "github:deployment",
      agentLogins: ["deploy-agent"],
      requestType: "deployment",
      priority: "high",
      approvers: ["alice", "deploy-agent"],
      deadline: at(120).toISOString(),
      workflowId: "9001",
      deployment: { environment: "production", ref: "main", sha: SHA, runId: 9001, creator: "deploy-agent", sender: "deploy-agent", event: "push", policy: "production" },
    });
    expect(issueBodies()).toEqual([
      { title: "Approval needed (high): Deploy main to production — by Tue 11:00 UTC", body: productionBody(request!.id, request!.contextHash), labels: ["hitl:pending", "priority:high"], assignees: ["alice", "deploy-agent"] },
    ]);

    github.clearCalls();
    expect((await comment("/approve ship it", "alice")).status).toBe(200);
    await app.runtime.jobs.run();

    // Exactly one answer, on the run's own endpoint, for its environment.
    expect(github.callsTo("POST", "/repos/:owner/:repo/actions/runs/:run_id/deployment_protection_rule")).toEqual([
      {
        method: "POST",
        path: "/repos/octo-org/payments/actions/runs/9001/deployment_protection_rule",
        query: {},
        body: { environment_name: "production", state: "approved", comment: "Approved on hitl by alice: ship it. https://github.com/octo-org/payments/issues/1" },
        status: 204,
      },
    ]);
    expect(reviewsOf(9001)).toEqual([{ environment: "production", state: "approved", comment: "Approved on hitl by alice: ship it. https://github.com/octo-org/payments/issues/1", installationId: 1, at: T0.toISOString().replace(".000", "") }]);
    const answered = (await requests())[0]!;
    expect(answered).toMatchObject({ status: "approved", deployment: { answer: { state: "approved", taken: true } } });
    const audit = await app.store.audit(REPO);
    expect(audit.map((entry) => [entry.event, entry.actor.type, entry.status])).toEqual([
      ["created", "system", "pending"],
      ["surface_opened", "system", "pending"],
      ["decided", "human", "approved"],
      ["deployment_answered", "system", "approved"],
    ]);
    expect(audit[3]!.details).toEqual({ run_id: 9001, environment: "production", state: "approved", comment: "Approved on hitl by alice: ship it. https://github.com/octo-org/payments/issues/1" });

    // The job ran once; running the jobs again answers nothing more.
    await app.runtime.jobs.run();
    expect(reviewsOf(9001)).toHaveLength(1);
  });

  it("waits for the environment's required approvals, and names every approver in the answer", async () => {
    github.repo(REPO).files.main![".hitl.yml"] = `${POLICY}  staging:\n    approvers: [alice, bob]\n    required_approvals: 2\n`;
    github.repo(REPO).runs.push({ id: 9004, headSha: SHA, status: "waiting", conclusion: null, waitingOn: ["staging"], reviews: [], createdAt: T0.toISOString() });
    await requested({ environment: "staging", runId: 9004 });
    expect((await requests())[0]).toMatchObject({ stages: [{ name: "approval", required: 2 }], deployment: { policy: "staging" } });
    await comment("/approve", "alice");
    await app.runtime.jobs.run();
    expect(reviewsOf(9004)).toEqual([]);
    await comment("/approve tests are green", "bob");
    await app.runtime.jobs.run();
    expect(reviewsOf(9004)).toEqual([
      { environment: "staging", state: "approved", comment: "Approved on hitl by alice, bob: tests are green. https://github.com/octo-org/payments/issues/1", installationId: 1, at: expect.any(String) },
    ]);
  });

  it("rejects the deployment when an approver rejects it", async () => {
    await requested();
    await comment("/reject not during the freeze", "alice");
    await app.runtime.jobs.run();
    expect(reviewsOf(9001)).toEqual([
      { environment: "production", state: "rejected", comment: "Rejected on hitl by alice: not during the freeze. https://github.com/octo-org/payments/issues/1", installationId: 1, at: expect.any(String) },
    ]);
    expect(github.repo(REPO).runs[0]!.waitingOn).toEqual([]);
  });

  it("never counts the one who triggered the deployment, even when .hitl.yml lists them", async () => {
    await requested();
    github.clearCalls();
    await comment("/approve looks fine to me", "deploy-agent");
    await app.runtime.jobs.run();
    const [reply] = github.callsTo("POST", "/repos/octo-org/payments/issues/1/comments").map((call) => (call.body as { body: string }).body);
    expect(reply).toBe("@deploy-agent, you opened this request, so you cannot decide it. Who may decide: @\u200dalice and @\u200ddeploy-agent.");
    expect(github.callsTo("POST", "/repos/:owner/:repo/actions/runs/:run_id/deployment_protection_rule")).toEqual([]);
    expect((await requests())[0]!.status).toBe("pending");
  });

  it("never counts the event's sender either, when someone else created the deployment", async () => {
    await requested({ sender: "alice" });
    expect((await requests())[0]).toMatchObject({ agentLogins: ["deploy-agent", "alice"] });
    github.clearCalls();
    await comment("/approve my own run", "alice");
    await app.runtime.jobs.run();
    const [reply] = github.callsTo("POST", "/repos/octo-org/payments/issues/1/comments").map((call) => (call.body as { body: string }).body);
    expect(reply).toBe("@alice, you opened this request, so you cannot decide it. Who may decide: @\u200dalice and @\u200ddeploy-agent.");
    expect(reviewsOf(9001)).toEqual([]);
  });

  it("rejects the deployment when the one who deploys edits its issue", async () => {
    await requested();
    const [issue] = issueBodies();
    const edited = issue!.body.replace("| Ref | `main` |", "| Ref | `hotfix` |");
    expect((await deliver(webhooks(), { event: "issues", payload: issueEditedPayload({ repo: REPO, issueNumber: 1, login: "deploy-agent", body: edited, previousBody: issue!.body }), secret: WEBHOOK_SECRET })).status).toBe(200);
    await app.runtime.jobs.run();
    expect((await requests())[0]).toMatchObject({ status: "cancelled", deployment: { answer: { state: "rejected", taken: true } } });
    expect(reviewsOf(9001)).toEqual([expect.objectContaining({ environment: "production", state: "rejected", comment: "Cancelled on hitl: Its title or description was edited on GitHub by deploy-agent, so it no longer shows what the agent asked. https://github.com/octo-org/payments/issues/1" })]);
  });

  it("applies the environment's fallback at its deadline, and an unnamed environment's fallback never approves", async () => {
    await requested({ environment: "preview-42", runId: 9002, deliveryId: "preview" });
    await requested({ environment: "qa", runId: 9003, deliveryId: "qa" });
    const byEnvironment = async () => Object.fromEntries((await requests()).map((request) => [request.deployment!.environment, request]));
    expect((await byEnvironment()).qa).toMatchObject({ approvers: ["alice", "bob"], priority: "normal", fallback: { type: "abort", reason: "No decision before the deadline; the deployment is rejected" }, deployment: { policy: null } });

    app.setNow(at(30));
    await app.runtime.sweep();
    await app.runtime.jobs.run();
    expect(reviewsOf(9002)).toEqual([
      { environment: "preview-42", state: "approved", comment: "Nobody decided on hitl by the deadline, so the fallback approved it: Previews go out unless someone objects. https://github.com/octo-org/payments/issues/1", installationId: 1, at: expect.any(String) },
    ]);
    expect(reviewsOf(9003)).toEqual([]);

    app.setNow(at(72 * 60));
    await app.runtime.sweep();
    await app.runtime.jobs.run();
    expect(reviewsOf(9003)).toEqual([
      { environment: "qa", state: "rejected", comment: "Nobody decided on hitl by the deadline, so the fallback rejected it: No decision before the deadline; the deployment is rejected. https://github.com/octo-org/payments/issues/2", installationId: 1, at: expect.any(String) },
    ]);
    expect((await byEnvironment()).qa).toMatchObject({ status: "expired", deployment: { answer: { state: "rejected", taken: true } } });
  });

  it("opens one request however often the event is delivered", async () => {
    expect((await requested({ deliveryId: "first" })).status).toBe(200);
    // The same delivery again is ignored by its id; a new delivery of the same event by the run, environment and deployment.
    expect((await requested({ deliveryId: "first" })).status).toBe(200);
    expect((await requested({ deliveryId: "second" })).status).toBe(200);
    expect(await requests()).toHaveLength(1);
    expect(issueBodies()).toHaveLength(1);
    expect(logs.filter((line) => line.msg === "deployment_protection_rule: this deployment already has a request; ignored")).toHaveLength(1);
  });

  it("refuses and logs an event whose callback URL points anywhere but the GitHub API's endpoint for this repository", async () => {
    const elsewhere = [
      "https://evil.example/repos/octo-org/payments/actions/runs/9001/deployment_protection_rule",
      `${github.url}/repos/octo-org/other/actions/runs/9001/deployment_protection_rule`,
      `${github.url}/repos/octo-org/payments/actions/runs/9001/approve`,
    ];
    for (const [index, callbackUrl] of elsewhere.entries()) {
      expect((await requested({ callbackUrl, deliveryId: `hostile-${index}` })).status).toBe(200);
    }
    expect(await requests()).toEqual([]);
    expect(github.calls.filter((call) => call.method !== "GET")).toEqual([]);
    const refused = logs.filter((line) => line.msg.startsWith("deployment_protection_rule refused"));
    expect(refused.map((line) => [line.msg, line.callbackUrl])).toEqual([
      [`deployment_protection_rule refused: deployment_callback_url points at https://evil.example, not the GitHub API (${new URL(github.url).origin})`, elsewhere[0]],
      ["deployment_protection_rule refused: deployment_callback_url names another repository than octo-org/payments", elsewhere[1]],
      ["deployment_protection_rule refused: deployment_callback_url is not a workflow run's deployment_protection_rule endpoint", elsewhere[2]],
    ]);
  });

  it("takes a 422 for a run that goes on as an earlier answer GitHub took", async () => {
    await requested();
    // An earlier try's answer reached GitHub, but not its reply: the run no longer waits, and goes on.
    Object.assign(github.repo(REPO).runs[0]!, { status: "in_progress", waitingOn: [] });
    await comment("/approve ship it", "alice");
    await app.runtime.jobs.run();
    expect(github.calls.filter((call) => call.path.includes("/actions/")).map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([
      "POST /repos/octo-org/payments/actions/runs/9001/deployment_protection_rule 422",
      "GET /repos/octo-org/payments/actions/runs/9001 200",
    ]);
    expect((await requests())[0]).toMatchObject({ status: "approved", deployment: { answer: { state: "approved", taken: true } } });
    expect(await app.store.pendingJobs()).toEqual([]);
  });

  it("retries an answer GitHub did not take", async () => {
    await requested();
    github.failNext({ method: "POST", path: "/repos/:owner/:repo/actions/runs/:run_id/deployment_protection_rule" }, [{ status: 502 }]);
    await comment("/approve ship it", "alice");
    await app.runtime.jobs.run();
    expect(reviewsOf(9001)).toEqual([]);
    const [retry] = (await app.store.pendingJobs()).filter((job) => job.kind === "deployment_review");
    expect(retry).toMatchObject({ attempts: 1, lastError: "Bad Gateway - https://docs.github.com/rest" });
    app.setNow(new Date(Date.parse(retry!.runAt)));
    await app.runtime.jobs.run();
    expect(reviewsOf(9001)).toEqual([expect.objectContaining({ environment: "production", state: "approved" })]);
    expect(await app.store.pendingJobs()).toEqual([]);
  });

  it("ends the request as cancelled when the run was cancelled before the answer", async () => {
    await requested();
    github.cancelRun(REPO, 9001);
    github.clearCalls();
    await comment("/approve ship it", "alice");
    await app.runtime.jobs.run();
    expect(github.calls.filter((call) => call.path.includes("/actions/")).map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([
      "POST /repos/octo-org/payments/actions/runs/9001/deployment_protection_rule 422",
      "GET /repos/octo-org/payments/actions/runs/9001 200",
    ]);
    const [request] = await requests();
    expect(request).toMatchObject({ status: "cancelled", decision: { status: "approved", decidedBy: { type: "human", login: "alice" } }, deployment: { answer: { state: "approved", taken: false } } });
    const audit = await app.store.audit(REPO);
    expect(audit.at(-1)).toMatchObject({
      event: "cancelled",
      status: "cancelled",
      actor: { type: "system", reason: "workflow run 9001 was cancelled before hitl could answer GitHub, so nothing was deployed to production" },
      details: { run_id: 9001, environment: "production", state: "approved", would_have_answered: "approved", comment: "Approved on hitl by alice: ship it. https://github.com/octo-org/payments/issues/1" },
    });
    expect((github.callsTo("POST", "/repos/octo-org/payments/issues/1/comments").at(-1)!.body as { body: string }).body).toBe(
      "The workflow run was cancelled before hitl could tell GitHub, so nothing was deployed to production. The decision is kept in the audit trail.",
    );
    // Nothing is retried: the job is done.
    expect(await app.store.pendingJobs()).toEqual([]);
  });
});
