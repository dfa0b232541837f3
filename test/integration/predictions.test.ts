import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyReceipt } from "../../src/client/index.js";
import { api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const POLICY = `approvers: [alice]
auto_approve: {require_human_above_risk: 0.5}
predict:
  - {request_type: refund, fields: [amount, currency], mode: auto, min_history: 5, min_agreement: 0.8}
`;

const refund = (amount: number, overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: `Refund ${amount} EUR`,
  approval_reason: "Refunds need a decision",
  decision_data: { amount, currency: "EUR" },
  request_type: "refund",
  risk_score: 0.1,
  ...overrides,
});

const SENTENCE = "Of the 5 most similar past refund requests (amount 40–80, currency EUR), people approved 5 (100%).";

describe("predicted approvals through the app", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write" }, files: { main: { ".hitl.yml": POLICY } } } },
      installations: [{ id: 1, account: "octo-org" }],
    });
    app = await startApp({ githubUrl: github.url });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const comment = (issueNumber: number, body: string) =>
    deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber, body, login: "alice" }), secret: WEBHOOK_SECRET });

  /** Opens a refund that waits for a person, and has alice decide it on its issue. */
  async function decideByHand(amount: number, command: "/approve" | "/reject"): Promise<string> {
    const opened = (await api(app, "POST", "/requests", refund(amount, { priority: "critical" }))).json;
    expect(opened.status).toBe("pending");
    expect((await comment(opened.surface_number, command)).status).toBe(200);
    expect((await api(app, "GET", `/requests/${opened.id}`)).json.status).toBe(command === "/approve" ? "approved" : "rejected");
    return opened.id;
  }

  const issueBody = (number: number) => (github.callsTo("POST", "/repos/octo-org/payments/issues")[number - 1]!.body as { body: string }).body;

  it("decides like people did, audited and signed as a prediction with its evidence", async () => {
    for (const amount of [40, 50, 60, 70, 80]) await decideByHand(amount, "/approve");
    const issues = github.callsTo("POST", "/repos/octo-org/payments/issues").length;

    const response = await api(app, "POST", "/requests", refund(65));
    expect(response.status).toBe(201);
    const decided = response.json;
    expect(decided).toMatchObject({
      status: "approved",
      surface_url: null,
      decision: { action: "approve", decided_by: { type: "prediction", id: "refund" }, via: "prediction", justification: SENTENCE },
      prediction: { mode: "auto", outcome: "approve", considered: 5, approved: 5, agreement: 1, sentence: SENTENCE, reasons: [], blocks: [], decided: true },
    });
    expect(decided.prediction.neighbours).toHaveLength(5);
    // Nothing was posted for it.
    expect(github.callsTo("POST", "/repos/octo-org/payments/issues")).toHaveLength(issues);

    const audit = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line));
    const entry = audit.find((line) => line.request_id === decided.id && line.event === "decided");
    expect(entry.actor).toEqual({ type: "prediction", id: "refund" });
    expect(entry.details.prediction).toEqual({
      outcome: "approve",
      considered: 5,
      approved: 5,
      agreement: 1,
      neighbours: decided.prediction.neighbours,
      bounds: [
        { field: "amount", min: 40, max: 80 },
        { field: "currency", value: "EUR" },
      ],
      history: 5,
      replay: { predicted: 0, disagreed: 0 },
      sentence: SENTENCE,
    });

    const jwks = await (await fetch(`${app.url}/.well-known/jwks.json`)).json();
    const claims = await verifyReceipt(decided.decision.receipt, jwks, { issuer: "github-app:1", requestId: decided.id });
    expect(claims).toMatchObject({ decider: { kind: "prediction", id: "refund" }, via: "prediction", deciders: [] });

    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/hitl_decisions_total\{[^}]*decider="prediction"[^}]*via="prediction"[^}]*\} 1/);
  });

  it("never decides a critical request, one above the risk limit, or one outside what people approved; the issue says why", async () => {
    for (const amount of [40, 50, 60, 70, 80]) await decideByHand(amount, "/approve");

    const critical = (await api(app, "POST", "/requests", refund(65, { priority: "critical" }))).json;
    expect(critical).toMatchObject({ status: "pending", prediction: { outcome: "approve", blocks: ["the request is critical"], decided: false } });
    expect(issueBody(critical.surface_number)).toContain(`> [!NOTE]\n> Prediction: people would likely approve this request. ${SENTENCE} It may not decide this request on its own: the request is critical.`);

    const risky = (await api(app, "POST", "/requests", refund(65, { risk_score: 0.6 }))).json;
    expect(risky).toMatchObject({ status: "pending", prediction: { blocks: ["risk_score 0.6 is above 0.5, the most a prediction may decide"], decided: false } });

    // Attack: data shaped like the approved refunds, just past them.
    const outside = (await api(app, "POST", "/requests", refund(81))).json;
    expect(outside).toMatchObject({ status: "pending", prediction: { outcome: null, decided: false } });
    expect(issueBody(outside.surface_number)).toContain("> Prediction: none, because amount 81 is outside 40–80, the amount people approved among them.");

    // Attack: asking for two approvals is never lowered to none.
    const quorum = (await api(app, "POST", "/requests", refund(65, { required_approvals: 2 }))).json;
    expect(quorum).toMatchObject({ status: "pending", prediction: { decided: false } });
    expect(quorum.prediction.blocks).toEqual(["the request needs more than one approval", "the request asks for more than one approval"]);
  });

  it("attack: once a person rejects a request like it, identical requests are no longer decided from the cached prediction", async () => {
    for (const amount of [40, 50, 60, 70, 80]) await decideByHand(amount, "/approve");
    expect((await api(app, "POST", "/requests", refund(65))).json.status).toBe("approved");
    expect((await api(app, "POST", "/requests", refund(65))).json.status).toBe("approved");
    const rejected = await decideByHand(65, "/reject");
    const after = (await api(app, "POST", "/requests", refund(65))).json;
    expect(after.status).toBe("pending");
    expect(after.prediction.reasons[0]).toBe(`the latest of them, ${rejected}, was rejected`);
  });

  it("/simulate answers what the prediction would do, and whether a guardrail holds it", async () => {
    for (const amount of [40, 50, 60, 70, 80]) await decideByHand(amount, "/approve");
    const simulated = await api(app, "POST", "/simulate", { request: refund(65) });
    expect(simulated.status).toBe(200);
    expect(simulated.json).toMatchObject({ outcome: "decided", would_be: { prediction: { outcome: "approve", decided: true, sentence: SENTENCE } } });
    const held = await api(app, "POST", "/simulate", { request: refund(65, { priority: "critical" }) });
    expect(held.json).toMatchObject({ outcome: "needs_human", would_be: { prediction: { decided: false, blocks: ["the request is critical"] } } });
  });
});
