import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkReceipt } from "../../src/compliance/receipt-checks.js";
import type { ApprovalRequest } from "../../src/core/types.js";
import { createReceiptSigner, type ReceiptSigner } from "../../src/receipts/receipt-signer.js";
import { loadKeyRing } from "../../src/receipts/signing-keys.js";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import type { Store } from "../../src/store/store.js";
import { makeRequest } from "../support/fixtures.js";

describe("checking a stored decision against its receipt", () => {
  let dir: string;
  let store: Store;
  let signer: ReceiptSigner;
  let signed: ApprovalRequest;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hitl-receipt-checks-"));
    store = await createEmbeddedStore({ dir, fsync: false });
    signer = createReceiptSigner(() => loadKeyRing({ configured: { signing: null, retired: [] }, store, issuer: "github-app:1" }));
    const request = makeRequest({
      status: "approved",
      onBehalfOf: "dana",
      surface: { type: "pull_request", number: 7 },
      surfaceRef: { type: "pull_request", number: 7, url: null, headSha: "abc1234", author: "erin" },
      decision: {
        action: "approve",
        status: "approved",
        decidedBy: { type: "human", login: "alice" },
        justification: "fine",
        decidedAt: "2026-11-24T10:05:00.000Z",
        via: "review",
        editedFields: { amount: 80 },
        contextHash: "b".repeat(64),
        headSha: "abc1234",
      },
    });
    signed = { ...request, decision: { ...request.decision!, receipt: await signer.sign(request) } };
  });

  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("finds an untouched decision valid", async () => {
    expect(await checkReceipt(signed, await signer.jwks())).toMatchObject({ status: "valid", reason: null, payload: { request_id: signed.id } });
  });

  const decision = (change: Partial<NonNullable<ApprovalRequest["decision"]>>) => (request: ApprovalRequest): ApprovalRequest => ({ ...request, decision: { ...request.decision!, ...change } });
  it.each<[string, (request: ApprovalRequest) => ApprovalRequest, string]>([
    ["the action", decision({ action: "reject" }), "action"],
    ["the status", decision({ status: "rejected" }), "status"],
    ["the decider", decision({ decidedBy: { type: "human", login: "mallory" } }), "decider"],
    ["the decider's kind", decision({ decidedBy: { type: "rule", id: "alice" } }), "decider"],
    ["the edits", decision({ editedFields: { amount: 8 } }), "edited_fields"],
    ["the approved hash", decision({ contextHash: "c".repeat(64) }), "approved_context_hash"],
    ["the channel", decision({ via: "comment" }), "via"],
    ["the time", decision({ decidedAt: "2026-11-24T10:05:00.001Z" }), "decided_at"],
    ["the commit", decision({ headSha: "fff0000" }), "head_sha"],
    ["the shown context", (request) => ({ ...request, contextHash: "d".repeat(64) }), "context_hash"],
    ["the account acted for", (request) => ({ ...request, onBehalfOf: null }), "on_behalf_of"],
    ["the agent", (request) => ({ ...request, requestedBy: "deploy-bot" }), "requested_by"],
    ["the repository", (request) => ({ ...request, repo: "octo-org/other" }), "repo"],
    ["the request it belongs to", (request) => ({ ...request, id: "req_elsewhere" }), "sub"],
  ])("finds a change of %s, naming the claim", async (_what, change, claim) => {
    const checked = await checkReceipt(change(signed), await signer.jwks());
    expect(checked.status).toBe("invalid");
    expect(checked.reason).toMatch(new RegExp(`^its claim ${claim} is `));
  });

  it("finds a receipt that does not verify, and one that is gone", async () => {
    const [header, body, signature] = signed.decision!.receipt!.split(".");
    const forged = decision({ receipt: `${header}.${body}.${signature!.slice(0, -4)}AAAA` })(signed);
    expect(await checkReceipt(forged, await signer.jwks())).toMatchObject({ status: "invalid", reason: expect.stringMatching(/^The receipt's signature does not match/) });
    expect(await checkReceipt(decision({ receipt: undefined })(signed), await signer.jwks())).toEqual({ status: "missing", reason: null, kid: null, payload: null });
    expect(await checkReceipt(signed, { keys: [] })).toMatchObject({ status: "invalid", reason: expect.stringMatching(/which the key set does not hold\.$/) });
  });
});
