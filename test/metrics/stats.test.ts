import { afterEach, describe, expect, it } from "vitest";
import { decisionStats, quantile } from "../../src/core/stats.js";
import type { ApprovalRequest, Decider, DecisionVia, FinalStatus } from "../../src/core/types.js";
import { Hitl } from "../../src/client/index.js";
import { describeStats, runCli } from "../../src/cli/run-cli.js";
import { AGENT, api, OTHER_AGENT, startApp, type AppHarness } from "../support/app-harness.js";
import { makeRequest } from "../support/fixtures.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

const REPO = "octo-org/payments";
const SINCE = new Date("2026-11-01T00:00:00.000Z");
const AUDITOR = { name: "auditor", token: "auditor-token-0123456789abcdef", readAll: true };
const human = (login: string): Decider => ({ type: "human", login });

/** A request created at `day` of November that ended `seconds` later. */
function ended(day: number, seconds: number, status: FinalStatus, decidedBy: Decider, via: DecisionVia, overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  const createdAt = new Date(Date.UTC(2026, 10, day, 9));
  const decidedAt = new Date(createdAt.getTime() + seconds * 1000).toISOString();
  return makeRequest({
    createdAt: createdAt.toISOString(),
    updatedAt: decidedAt,
    status,
    escalation: { ladder: [], warningBeforeMs: null, level: 0, warned: false, nextAt: null },
    decision: { action: status === "approved" ? "approve" : status === "rejected" ? "reject" : "abort", status, decidedBy, justification: null, decidedAt, via },
    ...overrides,
  });
}

/**
 * The history, with its answers worked out by hand:
 * refund (AGENT): 0, 60, 120, 300, 3600, 7200 s → median (120+300)/2 = 210, p90 3600 + 0.5·3600 = 5400;
 *   approved 3 of 4 approved-or-rejected; 2 of 6 expired; 1 of 6 by a fallback other than abort; 1 of 6 by a rule.
 * deploy (OTHER_AGENT): 30, 600, 1200 s → median 600, p90 600 + 0.8·600 = 1080; approved 1 of 2; nothing automatic.
 * alice: 60, 120, 600, 1200 → median 360, p90 600 + 0.7·600 = 1020, approved 3 of 4. bob: 300, rejected.
 * Left out: a pending request, and one created before `since`.
 */
function history(): ApprovalRequest[] {
  const refund = { requestType: "refund", requestedBy: AGENT.name };
  const deploy = { requestType: "deploy", requestedBy: OTHER_AGENT.name };
  return [
    ended(2, 60, "approved", human("alice"), "comment", refund),
    ended(3, 120, "approved", human("alice"), "comment", refund),
    ended(4, 300, "rejected", human("bob"), "review", refund),
    ended(5, 0, "approved", { type: "rule", id: "small-refunds" }, "rule", refund),
    ended(6, 3600, "expired", { type: "fallback", fallback: "abort" }, "fallback", refund),
    ended(7, 7200, "expired", { type: "fallback", fallback: "use_default" }, "fallback", refund),
    ended(8, 600, "approved", human("alice"), "check_run", deploy),
    ended(9, 1200, "rejected", human("alice"), "comment", deploy),
    ended(10, 30, "cancelled", { type: "agent", name: OTHER_AGENT.name }, "api", deploy),
    makeRequest({ ...refund, createdAt: "2026-11-11T09:00:00.000Z" }),
    ended(-5, 60, "approved", human("alice"), "comment", refund),
  ];
}

const REFUND = { count: 6, medianSeconds: 210, p90Seconds: 5400, approvalRate: 0.75, expiredRate: 0.3333, fallbackRate: 0.1667, automaticShare: 0.1667 };
const DEPLOY = { count: 3, medianSeconds: 600, p90Seconds: 1080, approvalRate: 0.5, expiredRate: 0, fallbackRate: 0, automaticShare: 0 };
const ALICE = { count: 4, medianSeconds: 360, p90Seconds: 1020, approvalRate: 0.75, expiredRate: 0, fallbackRate: 0, automaticShare: 0 };
const BOB = { count: 1, medianSeconds: 300, p90Seconds: 300, approvalRate: 0, expiredRate: 0, fallbackRate: 0, automaticShare: 0 };

describe("decision statistics (pure)", () => {
  it("interpolates quantiles between the nearest ranks", () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([7], 0.9)).toBe(7);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9)).toBe(91);
  });

  it("gives per type and per approver the figures worked out by hand", () => {
    const stats = decisionStats(history(), SINCE);
    expect(stats).toEqual({
      count: 9,
      // 0,30,60,120,300,600,1200,3600,7200: median 300, p90 3600 + 0.2·3600 = 4320; approved 4 of 6.
      overall: { count: 9, medianSeconds: 300, p90Seconds: 4320, approvalRate: 0.6667, expiredRate: 0.2222, fallbackRate: 0.1111, automaticShare: 0.1111 },
      byType: [
        { requestType: "refund", stats: REFUND },
        { requestType: "deploy", stats: DEPLOY },
      ],
      byApprover: [
        { approver: "alice", stats: ALICE },
        { approver: "bob", stats: BOB },
      ],
      shadow: [],
    });
  });

  it("counts a superseded approval as the approval it was", () => {
    const superseded = ended(3, 120, "approved", human("alice"), "comment", { requestType: "refund", status: "superseded" });
    expect(decisionStats([superseded], SINCE).byApprover).toEqual([{ approver: "alice", stats: { count: 1, medianSeconds: 120, p90Seconds: 120, approvalRate: 1, expiredRate: 0, fallbackRate: 0, automaticShare: 0 } }]);
  });

  it("shows each shadow rule's agreement with the people who decided the requests it matched", () => {
    const shadowed = (day: number, status: FinalStatus, decidedBy: Decider, shadow: { ruleId: string; action: string }[], overrides: Partial<ApprovalRequest> = {}) =>
      ended(day, 60, status, decidedBy, "comment", { evaluation: { outcome: { type: "human", reason: "No rule matched" }, rules: [], closestRuleId: null, configError: null, shadow }, ...overrides });
    const small = { ruleId: "small-refunds", action: "approve" };
    const requests = [
      shadowed(2, "approved", human("alice"), [small]),
      shadowed(3, "approved", human("bob"), [small, { ruleId: "deny-big", action: "reject" }]),
      shadowed(4, "rejected", human("alice"), [small]),
      // Approved with a changed amount: not what the rule would have done.
      shadowed(5, "approved", human("alice"), [small], { decision: { action: "approve", status: "approved", decidedBy: human("alice"), justification: null, decidedAt: "2026-11-05T09:01:00.000Z", via: "comment", editedFields: { amount: 10 } } }),
      // Nobody decided: matched, not compared.
      shadowed(6, "expired", { type: "fallback", fallback: "abort" }, [small]),
      ended(7, 60, "approved", human("alice"), "comment"),
    ];
    expect(decisionStats(requests, SINCE).shadow).toEqual([
      { ruleId: "small-refunds", matched: 5, decidedByPeople: 4, agreed: 2, agreementRate: 0.5 },
      { ruleId: "deny-big", matched: 1, decidedByPeople: 1, agreed: 0, agreementRate: 0 },
    ]);
  });

  it("answers an empty window with nulls where there is nothing to divide", () => {
    expect(decisionStats(history(), new Date("2026-12-01T00:00:00.000Z"))).toEqual({
      count: 0,
      overall: { count: 0, medianSeconds: null, p90Seconds: null, approvalRate: null, expiredRate: 0, fallbackRate: 0, automaticShare: 0 },
      byType: [],
      byApprover: [],
      shadow: [],
    });
  });
});

describe("GET /api/v1/stats", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  afterEach(async () => {
    await app?.close();
    await github?.close();
  });

  async function start() {
    github = await startGitHubStandIn({ repos: { [REPO]: {} } });
    app = await startApp({ githubUrl: github.url, now: new Date("2026-11-20T00:00:00.000Z"), agents: [AGENT, OTHER_AGENT, AUDITOR] });
    for (const request of history()) await app.store.create(request);
  }

  const group = (key: Record<string, unknown>, stats: typeof REFUND) => ({
    ...key,
    count: stats.count,
    median_seconds: stats.medianSeconds,
    p90_seconds: stats.p90Seconds,
    approval_rate: stats.approvalRate,
    expired_rate: stats.expiredRate,
    fallback_rate: stats.fallbackRate,
    automatic_share: stats.automaticShare,
  });

  it("shows an agent without read-all only its own requests; read-all sees them all", async () => {
    await start();
    const own = await api(app, "GET", `/stats?repo=${REPO}&since=${SINCE.toISOString()}`);
    expect(own.status).toBe(200);
    expect(own.json).toEqual({
      repo: REPO,
      since: SINCE.toISOString(),
      until: "2026-11-20T00:00:00.000Z",
      scope: "own",
      truncated: false,
      count: 6,
      overall: group({}, REFUND),
      by_type: [group({ request_type: "refund" }, REFUND)],
      by_approver: [
        group({ approver: "alice" }, { ...ALICE, count: 2, medianSeconds: 90, p90Seconds: 114, approvalRate: 1 }),
        group({ approver: "bob" }, BOB),
      ],
      shadow_rules: [],
    });

    const all = await api(app, "GET", `/stats?repo=${REPO}&since=${SINCE.toISOString()}`, undefined, { token: AUDITOR.token });
    expect(all.json).toMatchObject({ scope: "all", count: 9, by_type: [group({ request_type: "refund" }, REFUND), group({ request_type: "deploy" }, DEPLOY)], by_approver: [group({ approver: "alice" }, ALICE), group({ approver: "bob" }, BOB)] });

    // Without `since`, the last 30 days: the request from October 26 is counted too.
    expect((await api(app, "GET", `/stats?repo=${REPO}`, undefined, { token: AUDITOR.token })).json).toMatchObject({ since: "2026-10-21T00:00:00.000Z", count: 10 });
  });

  it("is what the client's stats() and `hitl stats` give", async () => {
    await start();
    const answer = (await api(app, "GET", `/stats?repo=${REPO}&since=${SINCE.toISOString()}`)).json;
    expect(await new Hitl({ url: app.url, token: AGENT.token }).stats(REPO, SINCE)).toEqual(answer);
    const out: string[] = [];
    const code = await runCli(["stats", "--repo", REPO, "--since", SINCE.toISOString()], { out: (line) => out.push(line), err: (line) => out.push(`err: ${line}`), env: { HITL_URL: app.url, HITL_TOKEN: AGENT.token } });
    expect({ code, out }).toEqual({
      code: 0,
      out: [
        [
          "octo-org/payments: 6 ended requests created since 2026-11-01T00:00:00.000Z (this agent's own)",
          "",
          "type    count  median  p90     approved  expired  fallback  automatic",
          "refund  6      4m      1h 30m  75%       33.3%    16.7%     16.7%",
          "all     6      4m      1h 30m  75%       33.3%    16.7%     16.7%",
          "",
          "approver  count  median  p90  approved",
          "alice     2      2m      2m   100%",
          "bob       1      5m      5m   0%",
        ].join("\n"),
      ],
    });
  });

  it("names the bad field of a bad query", async () => {
    await start();
    const bad = await api(app, "GET", `/stats?repo=${REPO}&since=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues).toEqual([{ path: "query.since", message: "Invalid ISO datetime" }]);
    const missing = await api(app, "GET", "/stats");
    expect(missing.status).toBe(400);
    expect(missing.json.error.issues.map((issue: { path: string }) => issue.path)).toEqual(["query.repo"]);
  });
});

describe("hitl stats (the CLI's text)", () => {
  it("prints a table per request type and per approver", () => {
    const stats = decisionStats(history(), SINCE);
    const json = {
      repo: REPO,
      since: SINCE.toISOString(),
      until: "2026-11-20T00:00:00.000Z",
      scope: "all" as const,
      truncated: false,
      count: stats.count,
      overall: { count: 9, median_seconds: 300, p90_seconds: 4320, approval_rate: 0.6667, expired_rate: 0.2222, fallback_rate: 0.1111, automatic_share: 0.1111 },
      by_type: [
        { request_type: "refund", count: 6, median_seconds: 210, p90_seconds: 5400, approval_rate: 0.75, expired_rate: 0.3333, fallback_rate: 0.1667, automatic_share: 0.1667 },
        { request_type: null, count: 3, median_seconds: 600, p90_seconds: 1080, approval_rate: 0.5, expired_rate: 0, fallback_rate: 0, automatic_share: 0 },
      ],
      by_approver: [{ approver: "alice", count: 4, median_seconds: 360, p90_seconds: 1020, approval_rate: 0.75, expired_rate: 0, fallback_rate: 0, automatic_share: 0 }],
      shadow_rules: [],
    };
    expect(describeStats(json)).toBe(
      [
        "octo-org/payments: 9 ended requests created since 2026-11-01T00:00:00.000Z",
        "",
        "type    count  median  p90     approved  expired  fallback  automatic",
        "refund  6      4m      1h 30m  75%       33.3%    16.7%     16.7%",
        "(none)  3      10m     18m     50%       0%       0%        0%",
        "all     9      5m      1h 12m  66.7%     22.2%    11.1%     11.1%",
        "",
        "approver  count  median  p90  approved",
        "alice     4      6m      17m  75%",
      ].join("\n"),
    );
    const shadow_rules = [
      { rule_id: "small-refunds", matched: 5, decided_by_people: 4, agreed: 2, agreement_rate: 0.5 },
      { rule_id: "deny-big", matched: 1, decided_by_people: 0, agreed: 0, agreement_rate: null },
    ];
    expect(describeStats({ ...json, shadow_rules }).split("\n").slice(-4)).toEqual([
      "",
      "shadow rule    matched  decided by people  agreed  agreement",
      "small-refunds  5        4                  2       50%",
      "deny-big       1        0                  0       -",
    ]);
    expect(describeStats({ ...json, count: 0, scope: "own" })).toBe("octo-org/payments: 0 ended requests created since 2026-11-01T00:00:00.000Z (this agent's own)");
  });
});
