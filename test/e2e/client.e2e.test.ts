import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRequestSchema } from "../../src/api/response-schema.js";
import {
  CallbackVerificationError,
  ConflictError,
  DecisionDrifted,
  DecisionTimeoutError,
  Hitl,
  InvalidRequestError,
  NotFoundError,
  Rejected,
  requireApproval,
  UnauthorizedError,
  verifyCallback,
} from "../../src/client/index.js";
import { WEBHOOK_SECRET } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import { waitFor } from "../support/wait.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const TOKEN = "client-agent-token-0123456789";

/** The TypeScript client against the real server process and the GitHub stand-in. */
describe("hitl/client end to end", () => {
  let github: GitHubStandIn;
  let server: ServerProcess;
  let receiver: CallbackReceiver;
  let dataDir: string;
  let hitl: Hitl;

  beforeAll(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" } } } });
    receiver = await startCallbackReceiver();
    dataDir = await mkdtemp(join(tmpdir(), "hitl-client-"));
    server = await startServerProcess({ githubHost: github.host, env: { HITL_AGENT_TOKENS: `client-agent:${TOKEN}`, HITL_DATA_DIR: dataDir, LOG_LEVEL: process.env.DEBUG_LEVEL ?? "warn" } });
    // One-second long-polls, so that a wait of a few seconds spans several of them.
    hitl = new Hitl({ url: server.base, token: TOKEN, pollSeconds: 1, backoffMs: 50 });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await github?.close();
    await receiver?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  // GitHub's timestamps are whole seconds, and a comment from before the request does not count: a person takes longer.
  const comment = async (issueNumber: number, body: string) =>
    (await new Promise((resolve) => setTimeout(resolve, 1_100)),
    deliver(`${server.base}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber, body, login: "alice" }), secret: WEBHOOK_SECRET }));

  /** Decides the request once its issue is open, while the client is waiting on it. */
  const decideOnGitHub = async (ask: { request(): Promise<{ id: string; surface_number: number | null }> }, body: string) => {
    const { id } = await ask.request();
    // The issue may be opened after the request is answered.
    const request = await waitFor("the request's issue", async () => { const r = await hitl.get(id); return r.surface_number === null ? undefined : r; });
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // with the comment's own wait, past two of the client's long-polls
    const delivery = await comment(request.surface_number!, body);
    expect(delivery.status).toBe(200);
  };

  it("asks, a person approves on GitHub, and decision() resolves across several long-polls; the callback verifies", async () => {
    const ask = hitl.ask({ repo: REPO, task_description: "Refund order 1234", approval_reason: "Refunds over $50 need a human", decision_data: { amount: 120 }, approvers: ["alice"], callback_url: receiver.url });
    const [outcome] = await Promise.all([ask.decision(), decideOnGitHub(ask, "/approve go ahead")]);
    expect(outcome).toMatchObject({ status: "approved", approved: true, decision: { action: "approve", justification: "go ahead", decided_by: { type: "human", login: "alice" } } });
    expect(github.callsTo("POST", `/repos/${REPO}/issues`)).toHaveLength(1);

    // What the server answers is what the OpenAPI document says it answers.
    expect(apiRequestSchema.strict().safeParse(await hitl.get(outcome.id)).error).toBeUndefined();

    const callback = await waitFor("the callback", () => receiver.received.find((c) => c.requestId === outcome.id));
    const verified = await verifyCallback(callback.body, callback.headers as Record<string, string>, TOKEN);
    expect(verified).toMatchObject({ event: "request.approved", request: { id: outcome.id, status: "approved" } });
    await expect(verifyCallback(callback.body.replace("approved", "rejected"), callback.headers as Record<string, string>, TOKEN)).rejects.toThrow(CallbackVerificationError);
    await expect(verifyCallback(callback.body, callback.headers as Record<string, string>, "another-token")).rejects.toThrow(/does not match/);
    const later = new Date(Date.parse(verified.sent_at) + 301_000);
    await expect(verifyCallback(callback.body, callback.headers as Record<string, string>, TOKEN, { now: later })).rejects.toThrow(/replay/);
    await expect(verifyCallback(callback.body, { ...(callback.headers as Record<string, string>), "x-hitl-delivery": "dlv_other" }, TOKEN)).rejects.toThrow(/delivery_id/);
  }, 60_000);

  it("retries a POST whose answer was lost with the same idempotency key: one request, one issue", async () => {
    let posts = 0;
    const keys: string[] = [];
    const lossy = new Hitl({
      url: server.base,
      token: TOKEN,
      backoffMs: 50,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (init?.method === "POST") {
          keys.push(new Headers(init.headers).get("idempotency-key")!);
          // The server opened the request; the agent never hears of it.
          if (++posts === 1) throw new TypeError("fetch failed: connection reset");
        }
        return response;
      },
    });
    const before = github.callsTo("POST", `/repos/${REPO}/issues`).length;
    const request = await lossy.ask({ repo: REPO, task_description: "Rotate the deploy key", approval_reason: "Key changes need a human" }).request();
    expect(posts).toBe(2);
    expect(new Set(keys).size).toBe(1);
    expect(request.idempotency_key).toBe(keys[0]);
    expect(github.callsTo("POST", `/repos/${REPO}/issues`).length - before).toBe(1);
    await hitl.cancel(request.id, "done testing");
  }, 30_000);

  it("answers each API error family with its own error class", async () => {
    await expect(new Hitl({ url: server.base, token: "wrong-token-0123456789" }).list()).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(hitl.get("req_nope")).rejects.toBeInstanceOf(NotFoundError);
    const invalid = await hitl.create({ repo: "not a repo", task_description: "x", approval_reason: "y" }).catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(InvalidRequestError);
    expect((invalid as InvalidRequestError).issues).toContainEqual({ path: "repo", message: "must be owner/name" });
    const request = await hitl.create({ repo: REPO, task_description: "Drop the staging table", approval_reason: "Deletes need a human" });
    await hitl.cancel(request.id);
    await expect(hitl.cancel(request.id)).rejects.toMatchObject({ constructor: ConflictError, status: 409, code: "not_pending" });
    expect((await hitl.list({ status: "cancelled" })).map((r) => r.id)).toContain(request.id);
    expect((await hitl.audit(REPO)).filter((entry) => entry.request_id === request.id).map((entry) => entry.event)).toEqual(expect.arrayContaining(["created", "cancelled"]));
  }, 30_000);

  it("gives up when the agent's own timeout passes, and the request can be waited on again by id", async () => {
    const ask = hitl.ask({ repo: REPO, task_description: "Scale the cluster down", approval_reason: "Capacity changes need a human" });
    const started = Date.now();
    const timedOut = await ask.decision({ timeoutMs: 2_000 }).catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(DecisionTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    const { id } = await ask.request();
    expect((timedOut as DecisionTimeoutError).requestId).toBe(id);
    await hitl.cancel(id, "no longer needed");
    expect(await hitl.waitForDecision(id)).toMatchObject({ status: "cancelled", approved: false, decision: { decided_by: { type: "agent", name: "client-agent" } } });
  }, 30_000);

  it("requireApproval runs the tool with the approved arguments, and throws Rejected with the justification otherwise", async () => {
    const ran: unknown[] = [];
    const refund = requireApproval(async (args: { order: string; amount: number }) => (ran.push(args), `refunded ${args.amount}`), {
      hitl,
      repo: REPO,
      task: (args) => `Refund order ${args.order}`,
      reason: "Refunds need a human",
      request: { approvers: ["alice"] },
    });

    const approving = (async () => {
      const request = await waitFor("the refund request", async () => (await hitl.list({ status: "pending" })).find((r) => r.task_description === "Refund order A-1" && r.surface_number !== null));
      expect(request.decision_data).toEqual({ order: "A-1", amount: 75 });
      expect((await comment(request.surface_number!, "/approve")).status).toBe(200);
    })();
    const [result] = await Promise.all([refund({ order: "A-1", amount: 75 }), approving]);
    expect(result).toBe("refunded 75");
    expect(ran).toEqual([{ order: "A-1", amount: 75 }]);

    const rejecting = (async () => {
      const request = await waitFor("the second refund request", async () => (await hitl.list({ status: "pending" })).find((r) => r.task_description === "Refund order B-2" && r.surface_number !== null));
      expect((await comment(request.surface_number!, "/reject the customer was already refunded")).status).toBe(200);
    })();
    const [rejected] = await Promise.all([refund({ order: "B-2", amount: 900 }).catch((error: unknown) => error), rejecting]);
    expect(rejected).toBeInstanceOf(Rejected);
    expect(rejected).toMatchObject({ status: "rejected", action: "reject", justification: "the customer was already refunded" });
    expect(ran).toHaveLength(1);
  }, 60_000);

  describe("resume modes: decision() integrates the decision as the request asks", () => {
    const refund = { repo: REPO, approval_reason: "Refunds need a human", approvers: ["alice"] };

    it("immediate: the decision as it is, with the workflow_id and checkpoint the agent sent", async () => {
      const ask = hitl.ask({ ...refund, task_description: "Refund order R-1", decision_data: { amount: 10 }, workflow_id: "run-77", checkpoint: { step: 3, cart: ["a"] } });
      const [resolution] = await Promise.all([ask.decision(), decideOnGitHub(ask, "/approve fine")]);
      expect(resolution).toMatchObject({ approved: true, resume: "immediate", workflow_id: "run-77", checkpoint: { step: 3, cart: ["a"] }, superseded_by: null, guidance: null, constraints: null, validation: null });
      expect(await ask.request()).toMatchObject({ workflow_id: "run-77", checkpoint: { step: 3, cart: ["a"] } });
    }, 60_000);

    it("validated: an approval that still holds comes back with its validation; one whose data drifted throws DecisionDrifted and re-asks", async () => {
      const held = hitl.ask({ ...refund, task_description: "Refund order R-2", decision_data: { amount: 120, order: "R-2" }, resume: "validated" });
      const [resolution] = await Promise.all([held.decision(), decideOnGitHub(held, "/approve ok")]);
      expect(resolution).toMatchObject({ approved: true, resume: "validated", validation: { valid: true, reasons: [], drifted_fields: [] } });

      const drifting = hitl.ask({ ...refund, task_description: "Refund order R-3", decision_data: { amount: 120, order: "R-3" }, resume: "validated", workflow_id: "run-78" });
      let asked = 0;
      const current = async () => (asked++, { amount: 150, order: "R-3" }); // the cart changed while a person looked
      const [drifted] = await Promise.all([drifting.decision({ current, reAsk: true }).catch((error: unknown) => error), decideOnGitHub(drifting, "/approve ok")]);
      expect(asked).toBe(1);
      expect(drifted).toBeInstanceOf(DecisionDrifted);
      const { id } = await drifting.request();
      expect(drifted).toMatchObject({ requestId: id, reasons: ["drifted"], driftedFields: [{ field: "amount", approved: 120, current: 150 }] });
      const followUp = (drifted as DecisionDrifted).followUp!;
      expect(followUp).toMatchObject({ status: "pending", workflow_id: "run-78", resume: "validated", decision_data: { amount: 150, order: "R-3" } });
      expect(await hitl.get(id)).toMatchObject({ status: "superseded", superseded_by: followUp.id });
      await hitl.cancel(followUp.id, "done testing");
    }, 60_000);

    it("validated: requireApproval runs the tool with the approver's edits, which are not drift", async () => {
      const ran: unknown[] = [];
      const refundOrder = requireApproval(async (args: { order: string; amount: number }) => void ran.push(args), {
        hitl,
        repo: REPO,
        task: (args) => `Refund order ${args.order}`,
        reason: "Refunds need a human",
        editable: ["amount"],
        request: { approvers: ["alice"], resume: "validated", editable_fields: { amount: { type: "number", minimum: 0, maximum: 500 } } },
      });
      const approving = (async () => {
        const request = await waitFor("the refund request", async () => (await hitl.list({ status: "pending" })).find((r) => r.task_description === "Refund order V-1" && r.surface_number !== null));
        expect((await comment(request.surface_number!, "/approve less\n```yaml\namount: 80\n```")).status).toBe(200);
      })();
      await Promise.all([refundOrder({ order: "V-1", amount: 120 }), approving]);
      expect(ran).toEqual([{ order: "V-1", amount: 80 }]);
    }, 60_000);

    it("guided: the approver's edits and justification come back as guidance", async () => {
      const ask = hitl.ask({ ...refund, task_description: "Refund order R-4", decision_data: { amount: 120 }, editable_fields: { amount: { type: "number", minimum: 0, maximum: 500 } }, resume: "guided" });
      const [resolution] = await Promise.all([ask.decision(), decideOnGitHub(ask, "/approve the customer agreed to less\n```yaml\namount: 80\n```")]);
      expect(resolution).toMatchObject({ approved: true, resume: "guided", constraints: null, validation: null });
      expect(resolution.guidance).toEqual({ action: "approve", edited_fields: { amount: 80 }, reason_code: null, justification: "the customer agreed to less" });
    }, 60_000);

    it("fresh_start: a rejection's reason code and justification come back as constraints for a new plan", async () => {
      const ask = hitl.ask({ ...refund, task_description: "Refund order R-5", decision_data: { amount: 900 }, feedback: { reasons: ["too_high", "fraud"] }, resume: "fresh_start" });
      const [resolution] = await Promise.all([ask.decision(), decideOnGitHub(ask, "/reject too_high the cap is $100")]);
      expect(resolution).toMatchObject({ approved: false, status: "rejected", resume: "fresh_start", guidance: null, validation: null });
      expect(resolution.constraints).toEqual({ action: "reject", edited_fields: {}, reason_code: "too_high", justification: "the cap is $100" });
    }, 60_000);
  });

  it("serves the OpenAPI document with no token", async () => {
    const response = await fetch(`${server.base}/api/v1/openapi.json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ openapi: "3.1.0", paths: { "/api/v1/requests": { post: { operationId: "createRequest" } } } });
  });
});
