import { ReceiptVerificationError } from "./errors.js";
import type { ReceiptPayload } from "./types.js";

/** An Ed25519 public key of a key set, as `/.well-known/jwks.json` lists them. */
export interface ReceiptJwk {
  kty: string;
  crv?: string;
  x?: string;
  kid?: string;
  alg?: string;
  use?: string;
}

/** A JWK Set: `/.well-known/jwks.json`. */
export interface ReceiptKeySet {
  keys: ReceiptJwk[];
}

/** The JWS header's `typ` every hitl receipt carries. */
export const RECEIPT_TYPE = "hitl-receipt+jwt";

export interface VerifyReceiptOptions {
  /** Refuse a receipt issued by another hitl (its `iss`: HITL_PUBLIC_URL, or `github-app:<APP_ID>`). */
  issuer?: string;
  /** Refuse a receipt for another request. */
  requestId?: string;
}

const isString = (value: unknown) => typeof value === "string";
const isNullableString = (value: unknown) => value === null || typeof value === "string";
const isObject = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value);

/** Version 1's claims and what each must be; the server's zod schema (receiptPayloadSchema) is the full definition. */
export const RECEIPT_CLAIMS: Record<keyof ReceiptPayload, (value: unknown) => boolean> = {
  v: (value) => value === 1,
  iss: isString,
  sub: isString,
  iat: (value) => Number.isInteger(value),
  request_id: isString,
  repo: isString,
  context_hash: isString,
  approved_context_hash: isNullableString,
  action: isString,
  status: (value) => value === "approved" || value === "rejected" || value === "expired" || value === "cancelled",
  edited_fields: (value) => value === null || isObject(value),
  via: isString,
  decider: (value) => isObject(value) && isString((value as { kind?: unknown }).kind) && isString((value as { id?: unknown }).id),
  deciders: (value) => Array.isArray(value) && value.every(isString),
  votes: (value) => value === null || (Array.isArray(value) && value.every(isObject)),
  stage: isNullableString,
  requested_by: isString,
  on_behalf_of: isNullableString,
  head_sha: isNullableString,
  decided_at: isString,
};

/**
 * Verifies a decision receipt offline: an Ed25519 (`EdDSA`) compact JWS, of type
 * `hitl-receipt+jwt`, signed by the key of the set that its `kid` names (hitl's
 * `/.well-known/jwks.json`, kept wherever the verifier trusts it), whose claims are a version 1
 * receipt. Web Crypto only. Returns the claims; throws ReceiptVerificationError saying what
 * failed. Needs neither the hitl server nor its store.
 */
export async function verifyReceipt(jws: string, jwks: ReceiptKeySet, options: VerifyReceiptOptions = {}): Promise<ReceiptPayload> {
  const parts = typeof jws === "string" ? jws.trim().split(".") : [];
  if (parts.length !== 3 || !parts.every((part) => /^[A-Za-z0-9_-]+$/.test(part))) {
    throw new ReceiptVerificationError("The receipt is not a compact JWS (three base64url parts separated by dots).");
  }
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = parseJson(base64url(encodedHeader));
  if (!isObject(header)) throw new ReceiptVerificationError("The receipt's header is not base64url JSON.");
  const { alg, typ, kid, crit } = header as { alg?: unknown; typ?: unknown; kid?: unknown; crit?: unknown };
  if (alg !== "EdDSA" || typ !== RECEIPT_TYPE || typeof kid !== "string" || crit !== undefined) {
    throw new ReceiptVerificationError(`The receipt's header must be {"alg":"EdDSA","typ":"${RECEIPT_TYPE}","kid":…}.`);
  }
  const jwk = (Array.isArray(jwks?.keys) ? jwks.keys : []).find((candidate) => candidate.kid === kid && candidate.kty === "OKP" && candidate.crv === "Ed25519" && typeof candidate.x === "string");
  if (!jwk) throw new ReceiptVerificationError(`The receipt was signed with key ${kid}, which the key set does not hold.`);
  let key: CryptoKey;
  try {
    key = await globalThis.crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x as string }, { name: "Ed25519" }, false, ["verify"]);
  } catch {
    throw new ReceiptVerificationError(`Key ${kid} of the key set is not a usable Ed25519 public key.`);
  }
  const signed = new TextEncoder().encode(`${encodedHeader}.${encodedPayload}`);
  if (!(await globalThis.crypto.subtle.verify({ name: "Ed25519" }, key, base64url(encodedSignature), signed))) {
    throw new ReceiptVerificationError(`The receipt's signature does not match its content under key ${kid}: it was altered, or signed by another key.`);
  }
  const claims = parseJson(base64url(encodedPayload));
  if (!isObject(claims)) throw new ReceiptVerificationError("The receipt's claims are not a JSON object.");
  for (const [name, valid] of Object.entries(RECEIPT_CLAIMS)) {
    if (!valid((claims as Record<string, unknown>)[name])) throw new ReceiptVerificationError(`The receipt's claim ${name} is missing or not what a version 1 receipt holds.`);
  }
  const receipt = claims as unknown as ReceiptPayload;
  if (receipt.sub !== receipt.request_id) throw new ReceiptVerificationError("The receipt's sub and request_id differ.");
  if (options.issuer !== undefined && receipt.iss !== options.issuer) throw new ReceiptVerificationError(`The receipt was issued by ${receipt.iss}, not ${options.issuer}.`);
  if (options.requestId !== undefined && receipt.request_id !== options.requestId) throw new ReceiptVerificationError(`The receipt is for request ${receipt.request_id}, not ${options.requestId}.`);
  return receipt;
}

function base64url(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}
