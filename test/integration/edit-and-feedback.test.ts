import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/api/openapi.js";
import { shownContext } from "../../src/core/build-request.js";
import { contextHash } from "../../src/core/context-hash.js";
import { outcomeMarker } from "../../src/core/render/markers.js";
import { api, SELF, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { checkRunRequestedActionPayload, deliver, issueCommentPayload, pullRequestReviewPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const HEAD = "a".repeat(40);
const AUTHOR = "deploy-agent";

const requestBody = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  decision_data: { amount: 120, currency: "USD", note: "first refund" },
  deadline: "2099-12-01T12:00:00Z",
  approvers: ["alice", "bob"],
  editable_fields: { amount: { type: "number", minimum: 0, maximum: 500 }, currency: { type: "string", enum: ["USD", "EUR"] } },
  ...overrides,
});

describe("approving with changes and structured feedback", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  let agent: CallbackReceiver;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: {
          collaborators: { alice: "write", bob: "write", [AUTHOR]: "write" },
          pulls: [{ number: 42, headSha: HEAD, user: AUTHOR, files: [{ filename: "refunds.yml", additions: 1, deletions: 1 }] }],
        },
      },
      installations: [{ id: 1, account: "octo-org", repos: [REPO] }],
    });
    app = await startApp({ githubUrl: github.url });
    agent = await startCallbackReceiver();
  });

  afterEach(async () => {
    await app.close();
    await github.close();
    await agent.close();
  });

  const send = (event: string, payload: unknown) => deliver(`${app.url}/api/github/webhooks`, { event, payload, secret: WEBHOOK_SECRET });
  // Issues and pull requests share numbers: pull request 42 is there first, so the issue is 43.
  const comment = (body: string, login: string, number = 43, isPullRequest = false) =>
    send("issue_comment", issueCommentPayload({ repo: REPO, issueNumber: number, body, login, isPullRequest, ...(isPullRequest ? { issueAuthor: AUTHOR } : {}) }));
  const replies = (number = 43) => github.callsTo("POST", `/repos/${REPO}/issues/${number}/comments`).map((call) => (call.body as { body: string }).body);

  async function open(overrides: Record<string, unknown> = {}) {
    const response = await api(app, "POST", "/requests", requestBody({ callback_url: agent.url, ...overrides }));
    expect(response.status).toBe(201);
    return response.json;
  }

  it("an approval with a yaml block applies the changes; the agent gets them beside the originals, under a hash of the edited data", async () => {
    app.setNow(new Date("2026-11-24T10:00:00.000Z"));
    const created = await open();
    const issue = (github.callsTo("POST", `/repos/${REPO}/issues`)[0]!.body as { body: string }).body;
    expect(issue).toContain("To approve with changes, put a `yaml` or `json` block under the `/approve` line, with the fields you change:");
    expect(issue).toContain("- `amount`: number, 0 to 500\n- `currency`: one of USD, EUR");

    await comment("/approve the customer agreed to less\n\n```yaml\namount: 80\ncurrency: USD\n```", "alice");
    await app.runtime.jobs.run();

    const shown = (await api(app, "GET", `/requests/${created.id}`)).json;
    const expectedHash = contextHash(
      shownContext({
        repo: REPO,
        taskDescription: "Refund order 1234",
        approvalReason: "Refunds over $50 need a human",
        decisionData: { amount: 80, currency: "USD", note: "first refund" },
        availableActions: created.available_actions,
        editableFields: { amount: { type: "number", minimum: 0, maximum: 500 }, currency: { type: "string", enum: ["USD", "EUR"] } },
      }),
    );
    // currency kept its value, so only amount is an edit.
    expect(shown).toMatchObject({
      status: "approved",
      decision_data: { amount: 120 },
      decision: { action: "approve", justification: "the customer agreed to less", edited_fields: { amount: 80 }, original_fields: { amount: 120 }, edited_context_hash: expectedHash },
    });
    expect(expectedHash).not.toBe(created.context_hash);

    expect(agent.received).toHaveLength(1);
    const callback = JSON.parse(agent.received[0]!.body);
    expect(callback.request.decision).toEqual(shown.decision);
    expect((await api(app, "GET", `/requests/${created.id}/decision`)).json.decision).toEqual(shown.decision);

    const audit = (await api(app, "GET", `/audit?repo=${REPO}`)).text.trim().split("\n").map((line) => JSON.parse(line));
    expect(audit.find((entry) => entry.event === "decided").details).toEqual({ edited_fields: { amount: 80 }, original_fields: { amount: 120 }, edited_context_hash: expectedHash });
    expect(replies()).toEqual([
      `Approved by @alice on 24 Nov 2026 10:00 UTC: the customer agreed to less. They changed \`amount\` to \`80\`. The agent has been told.\n\n${outcomeMarker(created.id, SELF.markerKey)}`,
    ]);
  });

  it("a value out of bounds, a field that may not change, or an alias is answered by name and nothing is applied", async () => {
    const created = await open();
    await comment("/approve\n```yaml\namount: 900\nnote: changed\n```", "alice");
    await comment('/approve\n```json\n{"currency": "GBP"}\n```', "alice");
    await comment("/approve\n```yaml\namount: &a 10\ncurrency: *a\n```", "alice");
    await comment("/reject too much\n```yaml\namount: 10\n```", "alice");
    expect(replies()).toEqual([
      "@alice, your changes were not applied, and neither was your decision: amount must be at most 500, not 900; note may not be changed; the fields you may change are amount, currency. Post a new comment with the block corrected.",
      "@alice, your changes were not applied, and neither was your decision: currency must be one of USD, EUR. Post a new comment with the block corrected.",
      "@alice, your changes were not applied, and neither was your decision: the yaml block could not be read: aliases (&#42;name) are not allowed. Post a new comment with the block corrected.",
      "@alice, your changes were not applied, and neither was your decision: changes apply only to an approval; reject without a yaml or json block. Post a new comment with the block corrected.",
    ]);
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending", decision: null });
  });

  it("a rejection needs the reason code and the justification the request asks for; the code reaches the agent", async () => {
    app.setNow(new Date("2026-11-24T10:00:00.000Z"));
    const created = await open({ feedback: { require_justification: { min_length: 10 }, reasons: ["too_high", "wrong_customer"] } });
    const issue = (github.callsTo("POST", `/repos/${REPO}/issues`)[0]!.body as { body: string }).body;
    expect(issue).toContain(
      "Every decision needs a reason of at least 10 characters. A rejection starts with a reason code, `/reject <code> <your reason>`, the code one of `too_high` or `wrong_customer`.",
    );
    await comment("/reject the amount is far too high", "alice");
    await comment("/reject too_high no", "alice");
    await comment("/approve ok", "alice");
    expect(replies()).toEqual([
      "@alice, rejecting this request needs a reason code, so your decision was not applied. Post a comment that starts with `/reject <code> <your reason>`, where the code is `too_high` or `wrong_customer`.",
      "@alice, decisions on this request need a justification of at least 10 characters, so your decision was not applied. Post a comment with the command and your reason, such as `/approve <your reason>`.",
      "@alice, decisions on this request need a justification of at least 10 characters, so your decision was not applied. Post a comment with the command and your reason, such as `/approve <your reason>`.",
    ]);
    expect((await api(app, "GET", `/requests/${created.id}`)).json.status).toBe("pending");

    await comment("/reject too_high policy caps refunds at 100", "alice");
    await app.runtime.jobs.run();
    expect(replies().at(-1)).toBe(`Rejected by @alice (reason \`too_high\`) on 24 Nov 2026 10:00 UTC: policy caps refunds at 100. The agent has been told.\n\n${outcomeMarker(created.id, SELF.markerKey)}`);
    const shown = (await api(app, "GET", `/requests/${created.id}`)).json;
    expect(shown).toMatchObject({ status: "rejected", decision: { reason_code: "too_high", justification: "policy caps refunds at 100" } });
    expect(JSON.parse(agent.received[0]!.body).request.decision).toMatchObject({ reason_code: "too_high", justification: "policy caps refunds at 100" });
  });

  it(".hitl.yml's feedback applies to every request, and a request may not ask for less", async () => {
    github.state.repos[REPO]!.files.main = { ".hitl.yml": "feedback:\n  require_justification: {min_length: 5}\n  reasons: [too_high, fraud]\n" };
    const refused = await api(app, "POST", "/requests", requestBody({ feedback: { require_justification: false, reasons: ["too_high", "other"] } }));
    expect(refused.status).toBe(400);
    expect(refused.json.error.issues).toEqual([
      { path: "feedback.require_justification", message: "must ask for at least 5 characters, as .hitl.yml's feedback does" },
      { path: "feedback.reasons.1", message: "other is not one of the reason codes .hitl.yml allows: too_high, fraud" },
    ]);
    const created = await open();
    expect(created.feedback).toEqual({ require_justification: { min_length: 5 }, reasons: ["too_high", "fraud"] });
    await comment("/approve", "alice");
    expect(replies()).toEqual([
      "@alice, decisions on this request need a justification of at least 5 characters, so your decision was not applied. Post a comment with the command and your reason, such as `/approve <your reason>`.",
    ]);
  });

  it("a request that asks for more approvals (and so is voted on) still needs the feedback .hitl.yml asks for, on every vote", async () => {
    github.state.repos[REPO]!.files.main = { ".hitl.yml": "feedback:\n  require_justification: {min_length: 5}\n  reasons: [too_high, fraud]\n" };
    const created = await open({ required_approvals: 2 });
    await comment("/approve", "alice");
    await comment("/approve", "bob");
    await app.runtime.jobs.run();
    const request = (await api(app, "GET", `/requests/${created.id}`)).json;
    expect(request.status).toBe("pending");
    expect(request.approvals).toEqual([]);
    expect(replies()).toEqual([
      "@alice, decisions on this request need a justification of at least 5 characters, so your decision was not applied. Post a comment with the command and your reason, such as `/approve <your reason>`.",
      "@bob, decisions on this request need a justification of at least 5 characters, so your decision was not applied. Post a comment with the command and your reason, such as `/approve <your reason>`.",
    ]);
  });

  it("/simulate says what an approver could change and must give, after .hitl.yml, creating nothing", async () => {
    github.state.repos[REPO]!.files.main = { ".hitl.yml": "feedback:\n  require_justification: {min_length: 5}\n  reasons: [too_high, fraud]\n" };
    const asked = await api(app, "POST", "/simulate", { request: requestBody({ feedback: { require_justification: { min_length: 20 }, reasons: ["fraud"] } }) });
    expect(asked.status, asked.text).toBe(200);
    expect(asked.json.sign_off).toEqual({
      stages: [],
      requirements: [],
      editable_fields: { amount: { type: "number", minimum: 0, maximum: 500 }, currency: { type: "string", enum: ["USD", "EUR"] } },
      feedback: { require_justification: { min_length: 20 }, reasons: ["fraud"] },
    });
    // The repository's bar alone, and nothing to edit.
    const plain = await api(app, "POST", "/simulate", { request: requestBody({ editable_fields: undefined }) });
    expect(plain.json.sign_off).toMatchObject({ editable_fields: null, feedback: { require_justification: { min_length: 5 }, reasons: ["too_high", "fraud"] } });
    const none = await api(app, "POST", "/simulate", { request: requestBody({ editable_fields: undefined }), config: "approvers: [alice, bob]\n" });
    expect(none.json.sign_off).toMatchObject({ editable_fields: null, feedback: null });
    // The answer's shape is the one the OpenAPI document declares.
    const schema = (openApiDocument() as { components: { schemas: Record<string, { properties: Record<string, { properties?: Record<string, unknown> }> }> } }).components.schemas.Simulation!;
    expect(Object.keys(schema.properties.sign_off!.properties!).sort()).toEqual(Object.keys(asked.json.sign_off).sort());
    expect(github.calls.filter((call) => call.method === "POST" && !call.path.startsWith("/app/"))).toEqual([]);
  });

  it("a .hitl.yml requirement makes a large refund's amount editable and asks for a reason and a code; a request can neither drop nor alter it", async () => {
    github.state.repos[REPO]!.files.main = {
      ".hitl.yml": [
        "requirements:",
        "  - name: large refunds",
        "    when: {field: amount, gt: 1000}",
        "    editable_fields:",
        "      amount: {type: number, minimum: 0, maximum: 2000}",
        "    feedback:",
        "      require_justification: {min_length: 20}",
        "      reasons: [too_high, wrong_customer]",
        "",
      ].join("\n"),
    };
    const large = { decision_data: { amount: 1500, currency: "USD", note: "second refund" } };
    const requirementFields = { amount: { type: "number", minimum: 0, maximum: 2000 } };
    const requirementFeedback = { require_justification: { min_length: 20 }, reasons: ["too_high", "wrong_customer"] };

    // A small refund is untouched: its own fields, no feedback.
    const small = await open();
    expect(small.editable_fields).toEqual({ amount: { type: "number", minimum: 0, maximum: 500 }, currency: { type: "string", enum: ["USD", "EUR"] } });
    expect(small.feedback).toBeUndefined();

    // A large one that would widen the owners' bounds, or drop the justification, is refused by field.
    const altered = await api(app, "POST", "/requests", requestBody({ ...large, feedback: { require_justification: false, reasons: ["too_high"] } }));
    expect(altered.status).toBe(400);
    expect(altered.json.error.issues).toEqual([
      { path: "feedback.require_justification", message: "must ask for at least 20 characters, as .hitl.yml's feedback does" },
      { path: "editable_fields.amount", message: ".hitl.yml's requirement large refunds declares it (number, 0 to 2000); a request may repeat it only exactly, or leave it out" },
    ]);

    // /simulate shows the requirement's contribution, and so does the request opened.
    const simulated = await api(app, "POST", "/simulate", { request: requestBody({ ...large, editable_fields: { currency: { type: "string", enum: ["USD", "EUR"] } } }) });
    expect(simulated.status, simulated.text).toBe(200);
    expect(simulated.json.sign_off).toMatchObject({ editable_fields: { ...requirementFields, currency: { type: "string", enum: ["USD", "EUR"] } }, feedback: requirementFeedback });
    const created = await open({ ...large, editable_fields: undefined });
    expect(created.editable_fields).toEqual(requirementFields);
    expect(created.feedback).toEqual(requirementFeedback);

    await comment("/reject far more than the order was worth", "alice", 44);
    await comment("/approve\n```yaml\namount: 2500\n```", "alice", 44);
    expect(replies(44)).toEqual([
      "@alice, rejecting this request needs a reason code, so your decision was not applied. Post a comment that starts with `/reject <code> <your reason>`, where the code is `too_high` or `wrong_customer`.",
      "@alice, your changes were not applied, and neither was your decision: amount must be at most 2000, not 2500. Post a new comment with the block corrected.",
    ]);
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "pending", decision: null });
  });

  it("refuses editable fields that decision_data does not have or whose type differs", async () => {
    const refused = await api(app, "POST", "/requests", requestBody({ editable_fields: { limit: { type: "number" }, currency: { type: "boolean" } } }));
    expect(refused.status).toBe(400);
    expect(refused.json.error.issues).toEqual([
      { path: "editable_fields.limit", message: "limit is not a key of decision_data; only its fields can be editable" },
      { path: "editable_fields.currency.type", message: "decision_data.currency is not a boolean" },
    ]);
  });

  it("on a pull request an approving review with a json block approves with changes; a button approves without", async () => {
    const first = await open({ surface: { type: "pull_request", number: 42 } });
    await send(
      "pull_request_review",
      pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", body: 'halve it\n\n```json\n{"amount": 60}\n```', login: "alice", headSha: HEAD, author: AUTHOR }),
    );
    await app.runtime.jobs.run();
    expect((await api(app, "GET", `/requests/${first.id}`)).json).toMatchObject({
      status: "approved",
      decision: { via: "review", justification: "halve it", edited_fields: { amount: 60 }, original_fields: { amount: 120 } },
    });

    const second = await open({ surface: { type: "pull_request", number: 42 } });
    const checkRun = github.state.repos[REPO]!.checkRuns.find((run) => run.externalId === second.id)!;
    await send("check_run", checkRunRequestedActionPayload({ repo: REPO, checkRunId: checkRun.id, identifier: "approve", login: "bob", headSha: HEAD, externalId: second.id, pullNumbers: [42] }));
    await app.runtime.jobs.run();
    const decided = (await api(app, "GET", `/requests/${second.id}`)).json;
    expect(decided).toMatchObject({ status: "approved", decision: { via: "check_run" } });
    expect(decided.decision.edited_fields).toBeUndefined();
  });

  it("on a pull request a button cannot give a required justification, and says how to", async () => {
    const created = await open({ surface: { type: "pull_request", number: 42 }, feedback: { require_justification: true } });
    const checkRun = github.state.repos[REPO]!.checkRuns[0]!;
    await send("check_run", checkRunRequestedActionPayload({ repo: REPO, checkRunId: checkRun.id, identifier: "approve", login: "bob", headSha: HEAD, externalId: created.id, pullNumbers: [42] }));
    expect(replies(42)).toEqual([
      "@bob, decisions on this request need a justification, so your decision was not applied. Post a comment with the command and your reason, such as `/approve <your reason>`.",
    ]);
    await comment("/approve numbers checked", "bob", 42, true);
    expect((await api(app, "GET", `/requests/${created.id}`)).json).toMatchObject({ status: "approved", decision: { justification: "numbers checked" } });
  });

  it("the OpenAPI document describes the new fields, from the schema that validates them", () => {
    const document = openApiDocument() as { paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { properties: Record<string, any> } }> } } }> };
    const properties = document.paths["/api/v1/requests"]!.post.requestBody.content["application/json"]!.schema.properties;
    expect(properties.presentation.enum).toEqual(["binary", "multiple_choice", "detailed_review", "comparative"]);
    expect(properties.editable_fields.additionalProperties.oneOf.map((field: { properties: { type: { const: string } } }) => field.properties.type.const)).toEqual(["number", "string", "boolean"]);
    expect(Object.keys(properties.feedback.properties)).toEqual(["require_justification", "reasons"]);
    expect(Object.keys(properties.sections.items.properties)).toEqual(["title", "text", "data"]);
    expect(Object.keys(properties.available_actions.items.properties)).toContain("data");
  });

  it("refuses a presentation without what it shows", async () => {
    const issues = async (overrides: Record<string, unknown>) => {
      const response = await api(app, "POST", "/requests", requestBody(overrides));
      expect(response.status).toBe(400);
      return response.json.error.issues;
    };
    expect(await issues({ presentation: "binary", available_actions: [{ id: "approve", label: "Yes" }, { id: "later", label: "Later", kind: "reject" }] })).toEqual([
      { path: "presentation", message: "binary offers only approve and reject; use multiple_choice for other actions" },
    ]);
    expect(await issues({ presentation: "detailed_review" })).toEqual([{ path: "sections", message: "required for presentation detailed_review" }]);
    expect(await issues({ sections: [{ title: "Why" }] })).toEqual([{ path: "sections", message: "only with presentation detailed_review" }]);
    expect(await issues({ presentation: "comparative", available_actions: [{ id: "approve", label: "A", data: { cost: 1 } }, { id: "reject", label: "B" }] })).toEqual([
      { path: "available_actions", message: "comparative needs at least two actions with data, one column each" },
    ]);
  });

  it("on a request without editable fields a yaml block is just part of the reason", async () => {
    const created = await open({ surface: { type: "pull_request", number: 42 }, editable_fields: undefined });
    const review = "LGTM, with this in the values file\n\n```yaml\nreplicas: 3\n```";
    await send("pull_request_review", pullRequestReviewPayload({ repo: REPO, number: 42, state: "approved", body: review, login: "alice", headSha: HEAD, author: AUTHOR }));
    const shown = (await api(app, "GET", `/requests/${created.id}`)).json;
    expect(shown).toMatchObject({ status: "approved", decision: { justification: review } });
    expect(shown.decision.edited_fields).toBeUndefined();
  });
});
