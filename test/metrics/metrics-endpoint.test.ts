import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { parseExposition, samplesOf, type Exposition } from "../support/prometheus-text.js";
import { deliver, issueCommentPayload, pullRequestPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const METRICS_TOKEN = "metrics-token-0123456789abcdef0123456789";

const POLICY = `approvers: [alice]
deadline: 8h
fallback: {type: abort, reason: "Nobody answered within 8 hours"}
escalation:
  - after: 1h
    approvers: [bob]
rules:
  - id: small-refunds
    when:
      all:
        - {field: amount, lt: 50}
        - {task_type: [refund]}
    action: approve
`;

const labels = (values: Record<string, string>) => JSON.stringify(Object.fromEntries(Object.entries(values).sort(([a], [b]) => a.localeCompare(b))));

describe("GET /metrics after a known sequence of requests", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  let receiver: CallbackReceiver;

  beforeEach(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": POLICY } } } } });
    receiver = await startCallbackReceiver();
  });

  afterEach(async () => {
    await app?.close();
    await github.close();
    await receiver.close();
  });

  async function open(body: Record<string, unknown>) {
    const response = await api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 77", approval_reason: "Refunds need a decision", ...body });
    expect(response.status).toBe(201);
    return response.json as { id: string; status: string; surface_number: number | null };
  }

  async function scrape(token?: string): Promise<{ status: number; type: string | null; text: string }> {
    const response = await fetch(`${app.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
  }

  /** Opens four requests, approves one by /approve (its callback fails once), lets a rule decide one, a deadline pass on one, and leaves one pending. */
  async function runSequence(): Promise<void> {
    const approvedByPerson = await open({ request_type: "refund", decision_data: { amount: 120 }, callback_url: `${receiver.base}/cb` });
    const byRule = await open({ request_type: "refund", decision_data: { amount: 20 } });
    expect(byRule.status).toBe("approved");
    await open({ request_type: "deploy", priority: "high", decision_data: { service: "api" }, deadline: at(120).toISOString() });
    await open({ request_type: "refund", priority: "critical", decision_data: { amount: 300 } });
    await app.runtime.jobs.run();

    app.setNow(at(10));
    receiver.failNext([500]);
    // The comment exists on GitHub, so the 👍 that acknowledges it lands.
    const comment = github.comment(REPO, approvedByPerson.surface_number!, { login: "alice", body: "/approve regular customer" });
    const delivery = await deliver(`${app.url}/api/github/webhooks`, {
      event: "issue_comment",
      payload: issueCommentPayload({ repo: REPO, issueNumber: approvedByPerson.surface_number!, body: "/approve regular customer", login: "alice", commentId: comment.id }),
      secret: WEBHOOK_SECRET,
    });
    expect(delivery.status).toBe(200);
    await app.runtime.jobs.run();

    app.setNow(at(60));
    await app.runtime.sweep();
    await app.runtime.jobs.run();
    app.setNow(at(120));
    await app.runtime.sweep();
    await app.runtime.jobs.run();
    expect(receiver.received.map((call) => call.status)).toEqual([500, 204]);
  }

  it("counts requests, decisions, escalations, fallbacks, sends, jobs, GitHub calls and store operations exactly", async () => {
    app = await startApp({ githubUrl: github.url, now: T0, processMetrics: true });
    await runSequence();
    const scraped = await scrape();
    expect(scraped.status).toBe(200);
    expect(scraped.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    const metrics: Exposition = parseExposition(scraped.text);
    const repository = REPO;

    expect(samplesOf(metrics, "hitl_requests_opened_total")).toEqual(
      [
        `${labels({ repository, type: "deploy", priority: "high" })} 1`,
        `${labels({ repository, type: "refund", priority: "critical" })} 1`,
        `${labels({ repository, type: "refund", priority: "normal" })} 2`,
      ].sort(),
    );
    expect(samplesOf(metrics, "hitl_decisions_total")).toEqual(
      [
        `${labels({ repository, outcome: "approved", decider: "person", via: "comment" })} 1`,
        `${labels({ repository, outcome: "approved", decider: "rule", via: "rule" })} 1`,
        `${labels({ repository, outcome: "expired", decider: "fallback", via: "fallback" })} 1`,
      ].sort(),
    );
    expect(samplesOf(metrics, "hitl_time_to_decision_seconds_sum")).toEqual(
      [`${labels({ outcome: "approved", decider: "person" })} 600`, `${labels({ outcome: "approved", decider: "rule" })} 0`, `${labels({ outcome: "expired", decider: "fallback" })} 7200`].sort(),
    );
    const personBuckets = metrics.samples.filter((s) => s.name === "hitl_time_to_decision_seconds_bucket" && s.labels.decider === "person").map((s) => `${s.labels.le}:${s.value}`);
    expect(personBuckets).toEqual(["60:0", "300:0", "900:1", "1800:1", "3600:1", "7200:1", "14400:1", "28800:1", "86400:1", "172800:1", "345600:1", "604800:1", "+Inf:1"]);
    expect(samplesOf(metrics, "hitl_requests_pending")).toEqual(
      [`${labels({ priority: "critical" })} 1`, `${labels({ priority: "high" })} 0`, `${labels({ priority: "low" })} 0`, `${labels({ priority: "normal" })} 0`].sort(),
    );
    expect(samplesOf(metrics, "hitl_escalations_total")).toEqual([`${labels({ kind: "escalated" })} 2`]);
    expect(samplesOf(metrics, "hitl_fallbacks_total")).toEqual([`${labels({ kind: "abort" })} 1`]);
    expect(samplesOf(metrics, "hitl_votes_total")).toEqual([]);
    expect(samplesOf(metrics, "hitl_sends_total")).toEqual([`${labels({ channel: "callback" })} 2`]);
    expect(samplesOf(metrics, "hitl_send_failures_total")).toEqual([`${labels({ channel: "callback" })} 1`]);
    expect(samplesOf(metrics, "hitl_jobs_total").filter((line) => line.includes('"callback"'))).toEqual(
      [`${labels({ kind: "callback", outcome: "queued" })} 1`, `${labels({ kind: "callback", outcome: "retried" })} 1`, `${labels({ kind: "callback", outcome: "run" })} 1`].sort(),
    );

    // Every GitHub call the stand-in answered is counted once, under its route template.
    const githubCalls = metrics.samples.filter((s) => s.name === "hitl_github_requests_total");
    expect(githubCalls.reduce((sum, s) => sum + s.value, 0)).toBe(github.calls.length);
    expect(samplesOf(metrics, "hitl_github_requests_total")).toEqual(
      [
        `${labels({ route: "GET /repos/{owner}/{repo}/installation", status: "200" })} 1`,
        `${labels({ route: "POST /app/installations/{installation_id}/access_tokens", status: "201" })} 1`,
        `${labels({ route: "GET /repos/{owner}/{repo}/contents/{path}", status: "200" })} 1`,
        // Three issues: the rule decided the fourth request before it needed one.
        `${labels({ route: "POST /repos/{owner}/{repo}/issues", status: "201" })} 3`,
        `${labels({ route: "PATCH /repos/{owner}/{repo}/issues/{issue_number}", status: "200" })} 4`,
        `${labels({ route: "POST /repos/{owner}/{repo}/issues/{issue_number}/comments", status: "201" })} 4`,
        // The 👍 on alice's /approve.
        `${labels({ route: "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", status: "201" })} 1`,
      ].sort(),
    );
    expect(samplesOf(metrics, "hitl_github_rate_limit_remaining")).toEqual([`${labels({ resource: "core" })} 4999`]);

    const storeOps = metrics.samples.filter((s) => s.name === "hitl_store_operation_duration_seconds_count");
    expect(storeOps.find((s) => s.labels.operation === "create")?.value).toBe(4);
    expect(storeOps.every((s) => /^[a-zA-Z]+$/.test(s.labels.operation!))).toBe(true);
    // prom-client's process metrics come along.
    expect(metrics.types.get("process_cpu_seconds_total")).toBe("counter");
    expect(metrics.types.get("nodejs_eventloop_lag_seconds")).toBe("gauge");
  });

  it("counts the GitHub calls webhook handlers make through the webhook's own client (the hitl/config check)", async () => {
    await github.close();
    github = await startGitHubStandIn({ repos: { [REPO]: { files: { main: { ".hitl.yml": POLICY } }, pulls: [{ number: 5, headSha: "d".repeat(40), files: [{ filename: ".hitl.yml" }] }] } } });
    github.repo(REPO).files["d".repeat(40)] = { ".hitl.yml": POLICY };
    app = await startApp({ githubUrl: github.url, now: T0 });
    const delivery = await deliver(`${app.url}/api/github/webhooks`, { event: "pull_request", payload: pullRequestPayload({ repo: REPO, action: "opened", number: 5, headSha: "d".repeat(40) }), secret: WEBHOOK_SECRET });
    expect(delivery.status).toBe(200);
    expect(github.callsTo("POST", "/repos/octo-org/payments/check-runs")).toHaveLength(1);
    const metrics = parseExposition((await scrape()).text);
    const githubCalls = metrics.samples.filter((s) => s.name === "hitl_github_requests_total");
    expect(githubCalls.reduce((sum, s) => sum + s.value, 0)).toBe(github.calls.length);
    expect(samplesOf(metrics, "hitl_github_requests_total").filter((line) => line.includes("check-runs"))).toEqual([`${labels({ route: "POST /repos/{owner}/{repo}/check-runs", status: "201" })} 1`]);
  });

  it("asks for HITL_METRICS_TOKEN when it is set, and answers 401 without it or with another token", async () => {
    app = await startApp({ githubUrl: github.url, now: T0, metricsToken: METRICS_TOKEN });
    for (const token of [undefined, "metrics-token-0123456789abcdef012345678X", "refund-agent-token-0123456789"]) {
      const refused = await scrape(token);
      expect({ status: refused.status, body: JSON.parse(refused.text) }).toEqual({
        status: 401,
        body: { error: { code: "unauthorized", message: "The metrics token is required: Authorization: Bearer <HITL_METRICS_TOKEN>." } },
      });
    }
    const scraped = await scrape(METRICS_TOKEN);
    expect(scraped.status).toBe(200);
    expect(samplesOf(parseExposition(scraped.text), "hitl_requests_pending")).toHaveLength(4);
    const head = await fetch(`${app.url}/metrics`, { method: "HEAD", headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect({ status: head.status, type: head.headers.get("content-type"), body: await head.text() }).toEqual({ status: 200, type: "text/plain; version=0.0.4; charset=utf-8", body: "" });
    const posted = await fetch(`${app.url}/metrics`, { method: "POST", headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(posted.status).toBe(405);
    expect(posted.headers.get("allow")).toBe("GET, HEAD");
  });

  it("keeps two apps in one process apart: each has its own registry", async () => {
    app = await startApp({ githubUrl: github.url, now: T0 });
    const other = await startApp({ githubUrl: github.url, now: T0 });
    try {
      await open({ request_type: "refund", decision_data: { amount: 20 } });
      const mine = parseExposition(await (await fetch(`${app.url}/metrics`)).text());
      const theirs = parseExposition(await (await fetch(`${other.url}/metrics`)).text());
      expect(samplesOf(mine, "hitl_requests_opened_total")).toEqual([`${labels({ repository: REPO, type: "refund", priority: "normal" })} 1`]);
      expect(samplesOf(theirs, "hitl_requests_opened_total")).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it("serves no /metrics when metrics are off", async () => {
    app = await startApp({ githubUrl: github.url, now: T0, metrics: false });
    expect((await fetch(`${app.url}/metrics`)).status).toBe(404);
  });
});
