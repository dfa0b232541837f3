import { verifyReceipt } from "../client/verify-receipt.js";
import { canonicalJson } from "../core/context-hash.js";
import type { ApprovalRequest } from "../core/types.js";
import { receiptPayload, type ReceiptPayload } from "../receipts/receipt-payload.js";
import type { PublicJwk } from "../receipts/signing-keys.js";
import type { ReceiptCheck } from "./report-schema.js";

/** The first claim (in the payload's order) whose value differs between the two. */
function firstDifference(signed: ReceiptPayload, stored: ReceiptPayload): keyof ReceiptPayload | null {
  for (const name of Object.keys(stored) as (keyof ReceiptPayload)[]) {
    if (name === "iss") continue;
    if (canonicalJson(signed[name]) !== canonicalJson(stored[name])) return name;
  }
  return null;
}

/**
 * A decided request's receipt: signed by a published key, and saying what the store says of the
 * decision. A stored decision changed after it was signed (or a receipt moved from another
 * request) fails the second test, naming the claim that differs.
 */
export async function checkReceipt(request: ApprovalRequest, jwks: { keys: PublicJwk[] }): Promise<ReceiptCheck> {
  const jws = request.decision?.receipt;
  if (!request.decision || !jws) return { status: "missing", reason: null, kid: null, payload: null };
  let signed: ReceiptPayload;
  try {
    signed = (await verifyReceipt(jws, jwks)) as ReceiptPayload;
  } catch (error) {
    return { status: "invalid", reason: error instanceof Error ? error.message : String(error), kid: null, payload: null };
  }
  const kid = JSON.parse(Buffer.from(jws.split(".")[0]!, "base64url").toString("utf8")).kid as string;
  let stored: ReceiptPayload;
  try {
    stored = receiptPayload(request, signed.iss);
  } catch (error) {
    return { status: "invalid", reason: error instanceof Error ? error.message : String(error), kid, payload: null };
  }
  const differs = firstDifference(signed, stored);
  if (differs) {
    return { status: "invalid", reason: `its claim ${differs} is ${canonicalJson(signed[differs])}, but the stored decision says ${canonicalJson(stored[differs])}.`, kid, payload: null };
  }
  return { status: "valid", reason: null, kid, payload: signed };
}

/** Every decided request's receipt check, by request id. */
export async function checkReceipts(requests: ApprovalRequest[], jwks: { keys: PublicJwk[] }): Promise<Map<string, ReceiptCheck>> {
  const checks = new Map<string, ReceiptCheck>();
  for (const request of requests) if (request.decision) checks.set(request.id, await checkReceipt(request, jwks));
  return checks;
}
