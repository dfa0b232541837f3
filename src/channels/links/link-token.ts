import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { ApprovalRequest } from "../../core/types.js";

/**
 * One-click link tokens: `<payload>.<signature>`, both base64url. The payload is JSON naming the
 * request, what the person was shown (`binding`), the recipient's login, the action (or none: the
 * page offers every action), when it expires and a nonce that makes it single-use. The signature
 * is HMAC-SHA256 (cut to 128 bits) keyed by the link key and labelled with the token's purpose, so
 * a token of one purpose never verifies as another. Nothing in it is secret; it cannot be changed.
 */

export interface LinkClaims {
  requestId: string;
  /** `linkBinding(request)` when the link was made: a link of a request that changed since is stale. */
  binding: string;
  /** The GitHub login the link was sent to; the decision is made as this login. */
  login: string;
  /** The action the link takes; null: the page lets the person pick one (SMS). */
  action: string | null;
  /** Milliseconds since the epoch (whole seconds). */
  expiresAt: number;
  /** Random: the key of the link's one use in the store. */
  nonce: string;
  /** Where the link was sent, as the decision's `via` says: `link` (email) or `sms`. */
  via: "link" | "sms";
}

export type LinkReading = { ok: true; claims: LinkClaims } | { ok: false; reason: "malformed" | "forged" | "expired"; claims?: LinkClaims };

/** A link lives until the request's deadline, and never longer than this. */
export const LINK_LIFETIME_MS = 24 * 3_600_000;

const SIGNATURE_BYTES = 16;
const MAX_TOKEN_LENGTH = 2_048;

/** The link key: `HITL_LINK_SECRET`, or derived from the marker key so no new secret is needed. */
export function linkKeyFrom(secret: string): Buffer {
  return createHmac("sha256", secret).update("hitl link key").digest();
}

function sign(key: Buffer, purpose: string, text: string): string {
  return createHmac("sha256", key).update(`${purpose}\n${text}`).digest().subarray(0, SIGNATURE_BYTES).toString("base64url");
}

/** Constant-time comparison of two strings (of any lengths). */
export function sameSecret(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}

/**
 * What a link is bound to besides the request id: what the person was shown (the context hash)
 * and, on a pull request, the commit. New commits or a re-shown context make old links stale.
 * (Not the request's `version`: that moves with every bookkeeping write, such as the recovery
 * cursor, which would make every link stale within minutes.)
 */
export function linkBinding(request: Pick<ApprovalRequest, "contextHash" | "surfaceRef">): string {
  return createHash("sha256")
    .update(`${request.contextHash}\n${request.surfaceRef?.headSha ?? ""}`)
    .digest()
    .subarray(0, 9)
    .toString("base64url");
}

/** When a link made at `now` for `request` stops working: the deadline or 24 h, whichever is first. */
export function linkExpiry(request: Pick<ApprovalRequest, "deadline">, now: Date): number {
  const deadline = Date.parse(request.deadline);
  const cap = now.getTime() + LINK_LIFETIME_MS;
  return Math.floor((Number.isNaN(deadline) ? cap : Math.min(deadline, cap)) / 1000) * 1000;
}

export function newNonce(): string {
  return randomBytes(9).toString("base64url");
}

export function signLink(key: Buffer, claims: LinkClaims): string {
  const payload = Buffer.from(
    JSON.stringify({ r: claims.requestId, b: claims.binding, u: claims.login, a: claims.action, x: claims.expiresAt / 1000, n: claims.nonce, ...(claims.via === "sms" ? { v: "sms" } : {}) }),
  ).toString("base64url");
  return `${payload}.${sign(key, "link", payload)}`;
}

/** The claims of a link, when its signature holds and it has not expired at `now`. */
export function readLink(key: Buffer, token: string, now: Date): LinkReading {
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) return { ok: false, reason: "malformed" };
  const [payload, signature] = token.split(".") as [string, string];
  if (!sameSecret(signature, sign(key, "link", payload))) return { ok: false, reason: "forged" };
  const claims = parseClaims(payload);
  if (!claims) return { ok: false, reason: "malformed" };
  if (now.getTime() >= claims.expiresAt) return { ok: false, reason: "expired", claims };
  return { ok: true, claims };
}

function parseClaims(payload: string): LinkClaims | null {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  const { r, b, u, a, x, n, v } = (raw ?? {}) as Record<string, unknown>;
  const text = (value: unknown): value is string => typeof value === "string" && value.length > 0 && value.length <= 200;
  if (!text(r) || !text(b) || !text(u) || !(a === null || text(a)) || typeof x !== "number" || !Number.isFinite(x) || !text(n) || !(v === undefined || v === "sms")) return null;
  return { requestId: r, binding: b, login: u, action: a, expiresAt: x * 1000, nonce: n, via: v === "sms" ? "sms" : "link" };
}

/**
 * The confirmation form's CSRF token: an HMAC of the link token under its own purpose, so it is
 * only valid with the link it was made for and cannot be made without the key.
 */
export function csrfTokenFor(key: Buffer, linkToken: string): string {
  return sign(key, "csrf", linkToken);
}

/** The store key of a link's one use. */
export const linkUseKey = (claims: Pick<LinkClaims, "nonce">) => `link:${claims.nonce}`;

/**
 * Email reply tokens, short enough for an address's local part (`reply+<token>@…`): the request
 * id, the recipient's login, the request's binding (cut to 48 bits) and the expiry in base 36, then
 * a 96-bit signature, joined by dots.
 * Logins and request ids hold no dots.
 */
export interface ReplyClaims {
  requestId: string;
  login: string;
  /** The first 8 characters of `linkBinding(request)` when the email was sent: new commits make it stale. */
  binding: string;
  expiresAt: number;
}

/** The part of a request's binding a reply address carries. */
export const replyBinding = (request: Pick<ApprovalRequest, "contextHash" | "surfaceRef">) => linkBinding(request).slice(0, 8);

const REPLY_SIGNATURE_BYTES = 12;

export function signReply(key: Buffer, claims: ReplyClaims): string {
  const body = `${claims.requestId}.${claims.login}.${claims.binding}.${Math.floor(claims.expiresAt / 1000).toString(36)}`;
  return `${body}.${createHmac("sha256", key).update(`reply\n${body}`).digest().subarray(0, REPLY_SIGNATURE_BYTES).toString("base64url")}`;
}

export function readReply(key: Buffer, token: string, now: Date): { ok: true; claims: ReplyClaims } | { ok: false; reason: "malformed" | "forged" | "expired" } {
  const parts = token.split(".");
  if (token.length > 200 || parts.length !== 5 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) return { ok: false, reason: "malformed" };
  const [requestId, login, binding, expires, signature] = parts as [string, string, string, string, string];
  const body = `${requestId}.${login}.${binding}.${expires}`;
  const expected = createHmac("sha256", key).update(`reply\n${body}`).digest().subarray(0, REPLY_SIGNATURE_BYTES).toString("base64url");
  if (!sameSecret(signature, expected)) return { ok: false, reason: "forged" };
  const expiresAt = parseInt(expires, 36) * 1000;
  if (!Number.isFinite(expiresAt)) return { ok: false, reason: "malformed" };
  if (now.getTime() >= expiresAt) return { ok: false, reason: "expired" };
  return { ok: true, claims: { requestId, login, binding, expiresAt } };
}
