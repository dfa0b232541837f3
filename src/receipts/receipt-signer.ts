import { CompactSign } from "jose";
import type { ApprovalRequest } from "../core/types.js";
import { RECEIPT_TYPE, receiptPayload, type ReceiptPayload } from "./receipt-payload.js";
import type { KeyRing, PublicJwk, SigningKey } from "./signing-keys.js";

/** A compact JWS over the claims: header `{"alg":"EdDSA","kid","typ":"hitl-receipt+jwt"}`. */
export function signPayload(payload: ReceiptPayload, key: SigningKey): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: RECEIPT_TYPE }).sign(key.privateKey);
}

export interface ReceiptSigner {
  /** The receipt of a request that has just been decided. */
  sign(request: ApprovalRequest): Promise<string>;
  /** Every public key receipts may be signed with, the signing one first. */
  jwks(): Promise<{ keys: PublicJwk[] }>;
  issuer(): Promise<string>;
}

/**
 * Signs with the keys `load` gives, loaded once on first use (and tried again on the next use
 * when loading failed, e.g. the store did not answer).
 */
export function createReceiptSigner(load: () => Promise<KeyRing>): ReceiptSigner {
  let ring: Promise<KeyRing> | null = null;
  const keys = () =>
    (ring ??= load().catch((error: unknown) => {
      ring = null;
      throw error;
    }));
  return {
    async sign(request) {
      const { issuer, current } = await keys();
      return signPayload(receiptPayload(request, issuer), current);
    },
    async jwks() {
      return { keys: (await keys()).published };
    },
    async issuer() {
      return (await keys()).issuer;
    },
  };
}
