import { readFileSync } from "node:fs";
import { ReceiptVerificationError, verifyReceipt } from "../client/index.js";
import type { ReceiptKeySet, ReceiptPayload } from "../client/index.js";

export interface ReceiptVerifyArgs {
  /** The receipt, or `@FILE` holding it. */
  receipt: string;
  /** A file holding the key set, or its URL; absent: `<HITL_URL>/.well-known/jwks.json`. */
  jwks: string | undefined;
  hitlUrl: string | undefined;
  issuer: string | undefined;
  requestId: string | undefined;
}

export type ReceiptVerdict = { valid: true; claims: ReceiptPayload } | { valid: false; reason: string };

/** A problem with the command's input (not with the receipt): exit 3. */
export class ReceiptInputError extends Error {}

async function loadJwks(source: string): Promise<ReceiptKeySet> {
  let text: string;
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source, { headers: { accept: "application/jwk-set+json" } });
    if (!response.ok) throw new ReceiptInputError(`--jwks ${source}: HTTP ${response.status}`);
    text = await response.text();
  } else {
    try {
      text = readFileSync(source, "utf8");
    } catch (error) {
      throw new ReceiptInputError(`--jwks ${source}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
    }
  }
  try {
    const parsed = JSON.parse(text) as ReceiptKeySet;
    if (!Array.isArray(parsed.keys)) throw new Error("no keys");
    return parsed;
  } catch {
    throw new ReceiptInputError(`--jwks ${source}: not a JWK Set ({"keys": [...]})`);
  }
}

/** `hitl receipt verify`: checks a receipt against a key set, offline when the key set is a file. */
export async function verifyReceiptCommand(args: ReceiptVerifyArgs): Promise<ReceiptVerdict> {
  let receipt = args.receipt;
  if (receipt.startsWith("@")) {
    try {
      receipt = readFileSync(receipt.slice(1), "utf8").trim();
    } catch {
      throw new ReceiptInputError(`${args.receipt}: cannot read that file`);
    }
  }
  const source = args.jwks ?? (args.hitlUrl ? `${args.hitlUrl.replace(/\/+$/, "")}/.well-known/jwks.json` : undefined);
  if (!source) throw new ReceiptInputError("Give the key set: --jwks FILE (offline) or --jwks URL, or set HITL_URL.");
  const jwks = await loadJwks(source);
  try {
    return { valid: true, claims: await verifyReceipt(receipt, jwks, { issuer: args.issuer, requestId: args.requestId }) };
  } catch (error) {
    if (error instanceof ReceiptVerificationError) return { valid: false, reason: error.message };
    throw error;
  }
}

/** One line about verified claims. */
export function describeClaims(claims: ReceiptPayload): string {
  const people = claims.deciders.length > 0 ? ` (people: ${claims.deciders.join(", ")})` : "";
  return `valid: ${claims.request_id} in ${claims.repo} ${claims.status} (${claims.action}) by ${claims.decider.kind} ${claims.decider.id} via ${claims.via} at ${claims.decided_at}${people}; issued by ${claims.iss}`;
}
