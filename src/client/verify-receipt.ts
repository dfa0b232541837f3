import { compactVerify, createLocalJWKSet, decodeProtectedHeader, errors, type JSONWebKeySet } from "jose";
import { ReceiptVerificationError } from "./errors.js";
import type { ReceiptPayload } from "./types.js";

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
 * `hitl-receipt+jwt`, signed by one of the keys in `jwks` (hitl's `/.well-known/jwks.json`, kept
 * wherever the verifier trusts it), whose claims are a version 1 receipt. Returns the claims; throws
 * ReceiptVerificationError saying what failed. Needs neither the hitl server nor its store.
 */
export async function verifyReceipt(jws: string, jwks: JSONWebKeySet, options: VerifyReceiptOptions = {}): Promise<ReceiptPayload> {
  if (typeof jws !== "string" || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(jws.trim())) {
    throw new ReceiptVerificationError("The receipt is not a compact JWS (three base64url parts separated by dots).");
  }
  let header;
  try {
    header = decodeProtectedHeader(jws.trim());
  } catch {
    throw new ReceiptVerificationError("The receipt's header is not base64url JSON.");
  }
  if (header.alg !== "EdDSA" || header.typ !== RECEIPT_TYPE || typeof header.kid !== "string") {
    throw new ReceiptVerificationError(`The receipt's header must be {"alg":"EdDSA","typ":"${RECEIPT_TYPE}","kid":…}.`);
  }
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(jws.trim(), createLocalJWKSet(jwks), { algorithms: ["EdDSA"] }));
  } catch (error) {
    if (error instanceof errors.JWKSNoMatchingKey) throw new ReceiptVerificationError(`The receipt was signed with key ${header.kid}, which the key set does not hold.`);
    if (error instanceof errors.JWSSignatureVerificationFailed) throw new ReceiptVerificationError(`The receipt's signature does not match its content under key ${header.kid}: it was altered, or signed by another key.`);
    throw new ReceiptVerificationError(`The receipt could not be verified: ${error instanceof Error ? error.message : String(error)}`);
  }
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  } catch {
    throw new ReceiptVerificationError("The receipt's claims are not JSON.");
  }
  if (!isObject(claims)) throw new ReceiptVerificationError("The receipt's claims are not a JSON object.");
  for (const [name, valid] of Object.entries(RECEIPT_CLAIMS)) {
    if (!valid(claims[name])) throw new ReceiptVerificationError(`The receipt's claim ${name} is missing or not what a version 1 receipt holds.`);
  }
  const receipt = claims as unknown as ReceiptPayload;
  if (receipt.sub !== receipt.request_id) throw new ReceiptVerificationError("The receipt's sub and request_id differ.");
  if (options.issuer !== undefined && receipt.iss !== options.issuer) throw new ReceiptVerificationError(`The receipt was issued by ${receipt.iss}, not ${options.issuer}.`);
  if (options.requestId !== undefined && receipt.request_id !== options.requestId) throw new ReceiptVerificationError(`The receipt is for request ${receipt.request_id}, not ${options.requestId}.`);
  return receipt;
}
