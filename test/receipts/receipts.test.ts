import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ReceiptVerificationError, verifyReceipt } from "../../src/client/index.js";
import { RECEIPT_CLAIMS } from "../../src/client/verify-receipt.js";
import { receiptPayload, receiptPayloadSchema, type ReceiptPayload } from "../../src/receipts/receipt-payload.js";
import { createReceiptSigner, signPayload } from "../../src/receipts/receipt-signer.js";
import { GENERATED_KEY_SETTING, keyId, loadKeyRing, readSigningKeys, type ConfiguredKeys } from "../../src/receipts/signing-keys.js";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import type { Store } from "../../src/store/store.js";
import { makeRequest } from "../support/fixtures.js";

const ISSUER = "https://hitl.example.com";
const NONE: ConfiguredKeys = { signing: null, retired: [] };

function ed25519Pem() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    publicPem: publicKey.export({ type: "spki", format: "pem" }) as string,
    privateJwk: privateKey.export({ format: "jwk" }),
    kid: keyId(publicKey),
  };
}

const decided = (overrides: Parameters<typeof makeRequest>[0] = {}) =>
  makeRequest({
    id: "req_receipt0001",
    status: "approved",
    contextHash: "a".repeat(64),
    onBehalfOf: "dana",
    decision: {
      action: "approve",
      status: "approved",
      decidedBy: { type: "human", login: "alice" },
      justification: "fine",
      decidedAt: "2026-11-24T10:05:00.250Z",
      via: "comment",
      editedFields: { amount: 80 },
      contextHash: "b".repeat(64),
    },
    ...overrides,
  });

describe("the receipt's claims", () => {
  it("say exactly what was decided, by whom, how and when, with every key present", () => {
    expect(receiptPayload(decided(), ISSUER)).toEqual({
      v: 1,
      iss: ISSUER,
      sub: "req_receipt0001",
      iat: Date.parse("2026-11-24T10:05:00.000Z") / 1000,
      request_id: "req_receipt0001",
      repo: "octo-org/payments",
      context_hash: "a".repeat(64),
      approved_context_hash: "b".repeat(64),
      action: "approve",
      status: "approved",
      edited_fields: { amount: 80 },
      via: "comment",
      decider: { kind: "human", id: "alice" },
      deciders: ["alice"],
      votes: null,
      stage: null,
      requested_by: "refund-agent",
      on_behalf_of: "dana",
      head_sha: null,
      decided_at: "2026-11-24T10:05:00.250Z",
    });
  });

  it("list the votes of a request with stages, and every person once", () => {
    const request = decided({
      stages: [
        { name: "review", approvers: [], required: 2, reject: "veto", allowRepeatApprovers: false },
        { name: "finance", approvers: [], required: 1, reject: "veto", allowRepeatApprovers: false },
      ],
    });
    request.decision = {
      ...request.decision!,
      decidedBy: { type: "human", login: "carol" },
      editedFields: undefined,
      contextHash: undefined,
      stage: "finance",
      approvals: [
        { by: "alice", action: "approve", at: "2026-11-24T10:01:00.000Z", stage: "review", justification: null, via: "comment" },
        { by: "Bob", action: "approve", at: "2026-11-24T10:02:00.000Z", stage: "review", justification: null, via: "review", weight: 2 },
        { by: "carol", action: "approve", at: "2026-11-24T10:05:00.250Z", stage: "finance", justification: null, via: "comment" },
      ],
    };
    const payload = receiptPayload(request, ISSUER);
    expect(payload).toMatchObject({ deciders: ["alice", "Bob", "carol"], stage: "finance", edited_fields: null, approved_context_hash: null });
    expect(payload.votes).toEqual([
      { login: "alice", action: "approve", kind: "approve", stage: "review", via: "comment", at: "2026-11-24T10:01:00.000Z", weight: null },
      { login: "Bob", action: "approve", kind: "approve", stage: "review", via: "review", at: "2026-11-24T10:02:00.000Z", weight: 2 },
      { login: "carol", action: "approve", kind: "approve", stage: "finance", via: "comment", at: "2026-11-24T10:05:00.250Z", weight: null },
    ]);
    expect(receiptPayloadSchema.parse(payload)).toEqual(payload);
  });

  it("name rules, fallbacks, agents and the system as deciders, with no person", () => {
    const by = (decidedBy: NonNullable<ReturnType<typeof decided>["decision"]>["decidedBy"], via: "rule" | "fallback" | "api" | "pull_request_closed") =>
      receiptPayload(decided({ decision: { action: "x", status: "expired", decidedBy, justification: null, decidedAt: "2026-11-24T10:05:00.000Z", via } }), ISSUER);
    expect(by({ type: "rule", id: "small-refunds" }, "rule")).toMatchObject({ decider: { kind: "rule", id: "small-refunds" }, deciders: [] });
    expect(by({ type: "fallback", fallback: "abort" }, "fallback")).toMatchObject({ decider: { kind: "fallback", id: "abort" }, deciders: [] });
    expect(by({ type: "agent", name: "refund-agent" }, "api")).toMatchObject({ decider: { kind: "agent", id: "refund-agent" }, deciders: [] });
    expect(by({ type: "system", reason: "pull request closed" }, "pull_request_closed")).toMatchObject({ decider: { kind: "system", id: "pull request closed" } });
  });

  it("are checked by the client field for field as the schema defines them", () => {
    expect(Object.keys(RECEIPT_CLAIMS).sort()).toEqual(Object.keys(receiptPayloadSchema.shape).sort());
  });
});

describe("signing and verifying", () => {
  let dir: string;
  let store: Store;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hitl-receipts-"));
    store = await createEmbeddedStore({ dir, fsync: false });
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("verifies with the published key set, offline, and returns the claims", async () => {
    const signer = createReceiptSigner(() => loadKeyRing({ configured: NONE, store, issuer: ISSUER }));
    const request = decided();
    const receipt = await signer.sign(request);
    const jwks = await signer.jwks();
    expect(jwks.keys).toHaveLength(1);
    const header = JSON.parse(Buffer.from(receipt.split(".")[0]!, "base64url").toString());
    expect(header).toEqual({ alg: "EdDSA", kid: jwks.keys[0]!.kid, typ: "hitl-receipt+jwt" });
    expect(await verifyReceipt(receipt, jwks, { issuer: ISSUER, requestId: request.id })).toEqual(receiptPayload(request, ISSUER));
  });

  it("fails on any altered claim: a payload with one field changed and the old signature never verifies", async () => {
    const signer = createReceiptSigner(() => loadKeyRing({ configured: NONE, store, issuer: ISSUER }));
    const receipt = await signer.sign(decided());
    const jwks = await signer.jwks();
    const [header, body, signature] = receipt.split(".");
    const claims = JSON.parse(Buffer.from(body!, "base64url").toString()) as Record<string, unknown>;
    const names = Object.keys(claims);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), fc.jsonValue(), async (name, value) => {
        fc.pre(JSON.stringify(value) !== JSON.stringify(claims[name]));
        const altered = Buffer.from(JSON.stringify({ ...claims, [name]: value })).toString("base64url");
        await expect(verifyReceipt(`${header}.${altered}.${signature}`, jwks)).rejects.toThrow(ReceiptVerificationError);
      }),
      { numRuns: 300 },
    );
    // Dropping a claim, or re-serialising the same claims, is an alteration too.
    for (const name of names) {
      const { [name]: _dropped, ...rest } = claims;
      await expect(verifyReceipt(`${header}.${Buffer.from(JSON.stringify(rest)).toString("base64url")}.${signature}`, jwks)).rejects.toThrow(/signature does not match/);
    }
    await expect(verifyReceipt(`${header}.${Buffer.from(JSON.stringify(claims, null, 1)).toString("base64url")}.${signature}`, jwks)).rejects.toThrow(/signature does not match/);
  });

  it("explains each way a receipt fails", async () => {
    const { privateJwk } = ed25519Pem();
    const other = readSigningKeys({ HITL_SIGNING_KEY: JSON.stringify(privateJwk) });
    const signer = createReceiptSigner(() => loadKeyRing({ configured: NONE, store, issuer: ISSUER }));
    const jwks = await signer.jwks();
    const foreign = await createReceiptSigner(() => loadKeyRing({ configured: (other as { keys: ConfiguredKeys }).keys, store, issuer: ISSUER })).sign(decided());
    const good = await signer.sign(decided());
    await expect(verifyReceipt("not a jws", jwks)).rejects.toThrow("The receipt is not a compact JWS (three base64url parts separated by dots).");
    await expect(verifyReceipt(foreign, jwks)).rejects.toThrow(`The receipt was signed with key ${keyId((other as { keys: ConfiguredKeys }).keys.signing!)}, which the key set does not hold.`);
    await expect(verifyReceipt(good, jwks, { issuer: "https://other.example" })).rejects.toThrow(`The receipt was issued by ${ISSUER}, not https://other.example.`);
    await expect(verifyReceipt(good, jwks, { requestId: "req_other" })).rejects.toThrow("The receipt is for request req_receipt0001, not req_other.");
    const [, body, signature] = good.split(".");
    const noneHeader = Buffer.from(JSON.stringify({ alg: "none", typ: "hitl-receipt+jwt", kid: jwks.keys[0]!.kid })).toString("base64url");
    await expect(verifyReceipt(`${noneHeader}.${body}.${signature}`, jwks)).rejects.toThrow('The receipt\'s header must be {"alg":"EdDSA","typ":"hitl-receipt+jwt","kid":…}.');
    // A signature over claims that are not a version 1 receipt.
    const ring = await loadKeyRing({ configured: NONE, store, issuer: ISSUER });
    const v2 = await signPayload({ ...receiptPayload(decided(), ISSUER), v: 2 } as unknown as ReceiptPayload, ring.current);
    await expect(verifyReceipt(v2, jwks)).rejects.toThrow("The receipt's claim v is missing or not what a version 1 receipt holds.");
  });
});

describe("keys", () => {
  let dir: string;
  let store: Store;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hitl-keys-"));
    store = await createEmbeddedStore({ dir, fsync: false });
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("reads HITL_SIGNING_KEY as PKCS#8 PEM (escaped newlines too) or a private JWK, with the thumbprint as kid", () => {
    const key = ed25519Pem();
    for (const value of [key.privatePem, key.privatePem.replace(/\n/g, "\\n"), JSON.stringify(key.privateJwk)]) {
      const read = readSigningKeys({ HITL_SIGNING_KEY: value });
      expect("keys" in read && keyId(read.keys.signing!)).toBe(key.kid);
    }
  });

  it("refuses what is not one Ed25519 private key, naming the variable and never the value", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const key = ed25519Pem();
    const message =
      "HITL_SIGNING_KEY: must be one Ed25519 private key, as PKCS#8 PEM (-----BEGIN PRIVATE KEY-----) or a JWK with kty OKP, crv Ed25519, x and d (e.g. `openssl genpkey -algorithm ed25519`)";
    for (const value of [rsa, key.publicPem, `${key.privatePem}${ed25519Pem().privatePem}`, "secret-ish-words", JSON.stringify({ ...key.privateJwk, d: undefined })]) {
      const read = readSigningKeys({ HITL_SIGNING_KEY: value });
      expect(read).toEqual({ errors: [message] });
    }
    expect(readSigningKeys({ HITL_RETIRED_SIGNING_KEYS: "nope" })).toEqual({
      errors: ['HITL_RETIRED_SIGNING_KEYS: must be Ed25519 keys, as PEM blocks (PUBLIC KEY or PRIVATE KEY) or JSON (a JWK, an array of JWKs, or a JWK Set {"keys": [...]})'],
    });
  });

  it("generates one key into the store on first use and keeps using it", async () => {
    const first = await loadKeyRing({ configured: NONE, store, issuer: ISSUER });
    const again = await loadKeyRing({ configured: NONE, store, issuer: ISSUER });
    expect(again.current.kid).toBe(first.current.kid);
    expect(first.published).toEqual([first.current.publicJwk]);
    expect(JSON.parse((await store.setting(GENERATED_KEY_SETTING))!)).toMatchObject({ kty: "OKP", crv: "Ed25519" });
  });

  it("keeps old receipts verifiable across a rotation: generated key, then HITL_SIGNING_KEY, then a new one with the old one retired", async () => {
    const request = decided();
    const generated = createReceiptSigner(() => loadKeyRing({ configured: NONE, store, issuer: ISSUER }));
    const firstReceipt = await generated.sign(request);

    const second = ed25519Pem();
    const configured = readSigningKeys({ HITL_SIGNING_KEY: second.privatePem }) as { keys: ConfiguredKeys };
    const secondSigner = createReceiptSigner(() => loadKeyRing({ configured: configured.keys, store, issuer: ISSUER }));
    const secondReceipt = await secondSigner.sign(request);
    const secondJwks = await secondSigner.jwks();
    // The signing key first, then the store's generated key, still published.
    expect(secondJwks.keys.map((key) => key.kid)).toEqual([second.kid, (await generated.jwks()).keys[0]!.kid]);

    const third = ed25519Pem();
    const rotated = readSigningKeys({ HITL_SIGNING_KEY: JSON.stringify(third.privateJwk), HITL_RETIRED_SIGNING_KEYS: second.publicPem }) as { keys: ConfiguredKeys };
    const thirdSigner = createReceiptSigner(() => loadKeyRing({ configured: rotated.keys, store, issuer: ISSUER }));
    const thirdReceipt = await thirdSigner.sign(request);
    const jwks = await thirdSigner.jwks();
    expect(jwks.keys.map((key) => key.kid)).toEqual([third.kid, second.kid, (await generated.jwks()).keys[0]!.kid]);
    for (const receipt of [firstReceipt, secondReceipt, thirdReceipt]) expect(await verifyReceipt(receipt, jwks)).toEqual(receiptPayload(request, ISSUER));
    // Retired keys are only published: the new receipt is signed by the new key.
    expect(JSON.parse(Buffer.from(thirdReceipt.split(".")[0]!, "base64url").toString()).kid).toBe(third.kid);
  });

  it("reads retired keys as PEM blocks or a JWK Set, publishing only their public parts", async () => {
    const a = ed25519Pem();
    const b = ed25519Pem();
    const jwkSet = JSON.stringify({ keys: [{ kty: "OKP", crv: "Ed25519", x: b.privateJwk.x }] });
    for (const value of [`${a.publicPem}\n${b.privatePem}`, jwkSet]) {
      const read = readSigningKeys({ HITL_RETIRED_SIGNING_KEYS: value }) as { keys: ConfiguredKeys };
      const ring = await loadKeyRing({ configured: read.keys, store, issuer: ISSUER });
      for (const jwk of ring.published) expect(Object.keys(jwk).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);
      expect(ring.published.map((jwk) => jwk.kid)).toContain(b.kid);
    }
  });
});
