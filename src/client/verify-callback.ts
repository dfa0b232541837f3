import { CallbackVerificationError } from "./errors.js";
import type { Callback } from "./types.js";

export interface VerifyOptions {
  /** How old `sent_at` may be, and how far ahead (clock skew), in seconds (default 300). */
  toleranceSeconds?: number;
  /** Defaults to the current time. */
  now?: Date;
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? value[0] : value;
}

function hexBytes(hex: string): Uint8Array<ArrayBuffer> | null {
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return null;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/**
 * Checks a callback from hitl before anything acts on it: the `X-Hitl-Signature-256` HMAC-SHA256
 * of the raw body under the agent's token (Web Crypto, compared in constant time), a `sent_at`
 * within the tolerance (an old one is a replay), and the `X-Hitl-Delivery` header naming the
 * body's `delivery_id`. Returns the parsed body; a receiver should still act once per `delivery_id`.
 */
export async function verifyCallback(rawBody: string | Uint8Array, headers: HeaderBag, token: string, options: VerifyOptions = {}): Promise<Callback> {
  const bytes = typeof rawBody === "string" ? new TextEncoder().encode(rawBody) : new Uint8Array(rawBody);
  const signature = /^sha256=([0-9a-f]{64})$/.exec(header(headers, "x-hitl-signature-256") ?? "");
  const expected = signature ? hexBytes(signature[1]!) : null;
  if (!expected) throw new CallbackVerificationError("The callback has no X-Hitl-Signature-256: sha256=<hex> header.");
  const key = await globalThis.crypto.subtle.importKey("raw", new TextEncoder().encode(token), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  if (!(await globalThis.crypto.subtle.verify("HMAC", key, expected, bytes))) throw new CallbackVerificationError("The callback's signature does not match its body under this token.");

  let body: Callback;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes)) as Callback;
  } catch {
    throw new CallbackVerificationError("The callback's body is not JSON.");
  }
  const sentAt = Date.parse(body.sent_at);
  const tolerance = (options.toleranceSeconds ?? 300) * 1000;
  const now = (options.now ?? new Date()).getTime();
  if (!Number.isFinite(sentAt) || Math.abs(now - sentAt) > tolerance) {
    throw new CallbackVerificationError(`The callback was sent at ${body.sent_at}, outside ${tolerance / 1000} s of now: a replay, or a clock far off.`);
  }
  const delivery = header(headers, "x-hitl-delivery");
  if (typeof body.delivery_id !== "string" || (delivery !== undefined && delivery !== body.delivery_id)) {
    throw new CallbackVerificationError("The callback's X-Hitl-Delivery header does not name its body's delivery_id.");
  }
  return body;
}
