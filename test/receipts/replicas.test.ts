import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyReceipt } from "../../src/client/index.js";
import { createReceiptSigner } from "../../src/receipts/receipt-signer.js";
import { GENERATED_KEY_SETTING, loadKeyRing } from "../../src/receipts/signing-keys.js";
import { openRedisStore } from "../fault/support/redis-store.js";
import { makeRequest } from "../support/fixtures.js";
import { deleteKeys, REDIS_URL } from "../support/redis-keys.js";

describe("replicas on one Redis", () => {
  it("agree on one generated key when they start at once, and verify each other's receipts", async () => {
    const prefix = `hitl-test:${randomBytes(6).toString("hex")}:`;
    const replicas = Array.from({ length: 4 }, () => openRedisStore(REDIS_URL, prefix));
    try {
      const rings = await Promise.all(replicas.map((store) => loadKeyRing({ configured: { signing: null, retired: [] }, store, issuer: "github-app:1" })));
      const kids = new Set(rings.map((ring) => ring.current.kid));
      expect(kids.size).toBe(1);
      expect(rings.every((ring) => ring.published.length === 1)).toBe(true);
      expect(JSON.parse((await replicas[0]!.setting(GENERATED_KEY_SETTING))!).x).toBe(rings[0]!.current.publicJwk.x);

      const request = makeRequest({
        status: "rejected",
        decision: { action: "reject", status: "rejected", decidedBy: { type: "human", login: "bob" }, justification: null, decidedAt: "2026-11-24T10:05:00.000Z", via: "review" },
      });
      const signers = replicas.map((store) => createReceiptSigner(() => loadKeyRing({ configured: { signing: null, retired: [] }, store, issuer: "github-app:1" })));
      const receipt = await signers[1]!.sign(request);
      expect((await verifyReceipt(receipt, await signers[3]!.jwks())).status).toBe("rejected");
    } finally {
      await Promise.all(replicas.map((store) => store.close()));
      await deleteKeys(REDIS_URL, `${prefix}*`);
    }
  });
});
