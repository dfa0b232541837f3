import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run-cli.js";
import { verifyReceipt } from "../../src/client/index.js";
import { AGENT, api, OTHER_AGENT, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const POLICY = `
rules:
  - id: small-refunds
    when:
      all:
        - {field: amount, lt: 50}
    action: approve
`;
const AUDITOR = { name: "auditor", token: "auditor-token-0123456789abcdef", readAll: true };

const requestBody = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  decision_data: { amount: 120, currency: "USD" },
  available_actions: [
    { id: "approve", label: "Refund" },
    { id: "reject", label: "Deny" },
  ],
  deadline: "2099-12-01T12:00:00Z",
  fallback_action: { type: "abort", reason: "nobody answered" },
  approvers: ["alice", "bob"],
  ...overrides,
});

describe("decision receipts and the compliance report, through the app", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  let agent: CallbackReceiver;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": POLICY } } } },
      installations: [{ id: 1, account: "octo-org", repos: [REPO] }],
    });
    app = await startApp({ githubUrl: github.url, agents: [AGENT, OTHER_AGENT, AUDITOR] });
    agent = await startCallbackReceiver();
  });

  afterEach(async () => {
    await app.close();
    await github.close();
    await agent.close();
  });

  const comment = (body: string, login: string, issueNumber: number) =>
    deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber, body, login }), secret: WEBHOOK_SECRET });

  async function decidedPair() {
    const mine = (await api(app, "POST", "/requests", requestBody({ callback_url: agent.url }))).json;
    const theirs = (await api(app, "POST", "/requests", requestBody({ task_description: "=HYPERLINK(\"https://evil.example\")" }), { token: OTHER_AGENT.token })).json;
    await comment("/approve fine", "alice", 1);
    await comment("/reject no", "bob", 2);
    await app.runtime.jobs.run();
    return { mine, theirs };
  }

  it("puts a receipt on the decision in the API, the callback and the audit entry, verifiable with /.well-known/jwks.json", async () => {
    const { mine } = await decidedPair();
    const shown = (await api(app, "GET", `/requests/${mine.id}`)).json;
    const receipt = shown.decision.receipt as string;
    expect(receipt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const response = await fetch(`${app.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/jwk-set+json; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("public, max-age=300");
    const jwks = await response.json();
    expect(jwks.keys).toHaveLength(1);
    expect(Object.keys(jwks.keys[0]).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);

    const claims = await verifyReceipt(receipt, jwks, { issuer: "github-app:1", requestId: mine.id });
    expect(claims).toEqual({
      v: 1,
      iss: "github-app:1",
      sub: mine.id,
      iat: Math.floor(Date.parse(shown.decision.decided_at) / 1000),
      request_id: mine.id,
      repo: REPO,
      context_hash: mine.context_hash,
      approved_context_hash: null,
      action: "approve",
      status: "approved",
      edited_fields: null,
      via: "comment",
      decider: { kind: "human", id: "alice" },
      deciders: ["alice"],
      votes: null,
      stage: null,
      requested_by: AGENT.name,
      on_behalf_of: null,
      head_sha: null,
      decided_at: shown.decision.decided_at,
    });

    expect(JSON.parse(agent.received[0]!.body).request.decision.receipt).toBe(receipt);
    const entries = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line));
    const decided = entries.filter((entry) => entry.event === "decided" && entry.request_id === mine.id);
    expect(decided.map((entry) => entry.receipt)).toEqual([receipt]);
    expect(entries.filter((entry) => entry.event !== "decided").every((entry) => entry.receipt === undefined)).toBe(true);
  });

  it("reports every agent's requests to a read-all token and only its own to any other, with every receipt checked", async () => {
    const { mine, theirs } = await decidedPair();
    const full = (await api(app, "GET", `/reports/compliance?repo=${REPO}`, undefined, { token: AUDITOR.token })).json;
    expect(full.scope).toEqual({ repo: REPO, since: null, until: null, agent: null, truncated: false });
    expect(full.requests.map((row: { id: string }) => row.id).sort()).toEqual([mine.id, theirs.id].sort());
    expect(full.summary).toMatchObject({ requests: 2, decided: 2, outcomes: { approved: 1, rejected: 1, pending: 0 }, receipts: { valid: 2, invalid: 0, missing: 0 }, violations: [], human_decisions: 2 });
    expect(full.keys.kids).toEqual([(await (await fetch(`${app.url}/.well-known/jwks.json`)).json()).keys[0].kid]);

    const own = (await api(app, "GET", `/reports/compliance?repo=${REPO}`)).json;
    expect(own.scope.agent).toBe(AGENT.name);
    expect(own.requests.map((row: { id: string }) => row.id)).toEqual([mine.id]);

    const csv = await api(app, "GET", `/reports/compliance?repo=${REPO}&format=csv`, undefined, { token: AUDITOR.token });
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(csv.text).toContain(`,"'=HYPERLINK(""https://evil.example"")"\r\n`);
    const md = await api(app, "GET", `/reports/compliance?format=md`, undefined, { token: AUDITOR.token });
    expect(md.headers.get("content-type")).toBe("text/markdown; charset=utf-8");
    expect(md.text).toContain("## Violations\n\nNone.\n");
  });

  it("finds a decision changed in the store after it was signed", async () => {
    const { theirs } = await decidedPair();
    const stored = (await app.store.get(theirs.id))!;
    // Someone with write access to the store turns bob's rejection into an approval.
    await app.store.update({ ...stored, status: "approved", decision: { ...stored.decision!, action: "approve", status: "approved" } }, stored.version);
    const report = (await api(app, "GET", `/reports/compliance?repo=${REPO}`, undefined, { token: AUDITOR.token })).json;
    const row = report.requests.find((candidate: { id: string }) => candidate.id === theirs.id);
    expect(row.receipt).toEqual({ status: "invalid", reason: 'its claim action is "reject", but the stored decision says "approve".', kid: report.keys.kids[0], payload: null });
    expect(report.summary.violations).toEqual([
      { request_id: theirs.id, check: "receipt_valid", login: null, message: 'The decision\'s receipt is not valid: its claim action is "reject", but the stored decision says "approve".' },
    ]);
  });

  it("hitl report compliance prints the report the API gives, in each format", async () => {
    await decidedPair();
    const out: string[] = [];
    const io = { out: (line: string) => void out.push(line), err: (line: string) => void out.push(`err: ${line}`), env: { HITL_URL: app.url, HITL_TOKEN: AUDITOR.token } };
    expect(await runCli(["report", "compliance", "--repo", REPO, "--format", "csv"], io)).toBe(0);
    const csv = (await api(app, "GET", `/reports/compliance?repo=${REPO}&format=csv`, undefined, { token: AUDITOR.token })).text;
    expect(out).toEqual([csv.replace(/\r\n$/, "")]);
    out.length = 0;
    expect(await runCli(["report", "compliance", "--since", "2026-01-01T00:00:00Z"], io)).toBe(0);
    expect(JSON.parse(out[0]!)).toMatchObject({ scope: { repo: null, since: "2026-01-01T00:00:00Z", agent: null }, summary: { requests: 2, violations: [] } });
    out.length = 0;
    expect(await runCli(["report", "compliance", "--format", "pdf"], io)).toBe(3);
    expect(out[0]!.startsWith("err: --format pdf: give json, csv or md\n")).toBe(true);
  });

  it("signs decisions made by a rule, by the fallback and by the agent, each in the write that made it", async () => {
    app.setNow(new Date("2026-11-24T10:00:00.000Z"));
    const ruled = (await api(app, "POST", "/requests", requestBody({ decision_data: { amount: 20 } }))).json;
    const expiring = (await api(app, "POST", "/requests", requestBody({ deadline: "2026-11-24T12:00:00Z" }))).json;
    const cancelled = (await api(app, "POST", `/requests/${(await api(app, "POST", "/requests", requestBody())).json.id}/cancel`, { reason: "not needed" })).json;
    app.setNow(new Date("2026-11-24T12:00:01.000Z"));
    expect((await app.runtime.sweep()).expired).toBe(1);
    const jwks = await (await fetch(`${app.url}/.well-known/jwks.json`)).json();
    const claims = async (id: string) => verifyReceipt((await api(app, "GET", `/requests/${id}`)).json.decision.receipt, jwks, { requestId: id });
    expect(await claims(ruled.id)).toMatchObject({ status: "approved", decider: { kind: "rule", id: "small-refunds" }, via: "rule", deciders: [], decided_at: "2026-11-24T10:00:00.000Z" });
    expect(await claims(expiring.id)).toMatchObject({ status: "expired", action: "abort", decider: { kind: "fallback", id: "abort" }, via: "fallback", decided_at: "2026-11-24T12:00:01.000Z" });
    expect(await claims(cancelled.id)).toMatchObject({ status: "cancelled", action: "cancel", decider: { kind: "agent", id: AGENT.name }, via: "api" });
    const entries = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line));
    expect(entries.filter((entry) => entry.receipt).map((entry) => [entry.request_id, entry.event])).toEqual([
      [ruled.id, "decided"],
      [cancelled.id, "cancelled"],
      [expiring.id, "expired"],
    ]);
  });

  it("keeps one receipt, the winner's, when two people decide at once", async () => {
    const created = (await api(app, "POST", "/requests", requestBody())).json;
    await Promise.all([comment("/approve yes", "alice", 1), comment("/reject no", "bob", 1)]);
    const shown = (await api(app, "GET", `/requests/${created.id}`)).json;
    const claims = await verifyReceipt(shown.decision.receipt, await (await fetch(`${app.url}/.well-known/jwks.json`)).json());
    expect(claims).toMatchObject({ action: shown.decision.action, decider: { kind: "human", id: shown.decision.decided_by.login } });
    const entries = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line));
    expect(entries.filter((entry) => entry.receipt).map((entry) => entry.receipt)).toEqual([shown.decision.receipt]);
    const report = (await api(app, "GET", `/reports/compliance?repo=${REPO}`, undefined, { token: AUDITOR.token })).json;
    expect(report.summary.receipts).toEqual({ valid: 1, invalid: 0, missing: 0 });
  });

  it("answers a bad query naming the field", async () => {
    const bad = await api(app, "GET", `/reports/compliance?since=yesterday&format=pdf`, undefined, { token: AUDITOR.token });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues).toEqual([
      { path: "query.since", message: "must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z" },
      { path: "query.format", message: 'Invalid option: expected one of "json"|"csv"|"md"' },
    ]);
    expect((await api(app, "GET", "/reports/compliance?since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z")).json.error.issues).toEqual([{ path: "query.until", message: "must be after since" }]);
  });
});
