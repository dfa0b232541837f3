import { describe, expect, it } from "vitest";
import {
  csrfTokenFor,
  linkBinding,
  linkExpiry,
  linkKeyFrom,
  readLink,
  readReply,
  replyBinding,
  signLink,
  signReply,
  type LinkClaims,
} from "../../src/channels/links/link-token.js";
import { makeRequest } from "../support/fixtures.js";

const KEY = linkKeyFrom("link-secret-for-tests-0123456789abcdef");
const NOW = new Date("2026-11-24T10:00:00.000Z");
const CLAIMS: LinkClaims = { requestId: "req_abc", binding: "bind123", login: "alice", action: "approve", expiresAt: Date.parse("2026-11-25T10:00:00.000Z"), nonce: "nonce1", via: "link" };

/** Changes one character of the token's payload (keeping it base64url). */
const tamper = (token: string, at: number) => token.slice(0, at) + (token[at] === "A" ? "B" : "A") + token.slice(at + 1);

describe("link tokens", () => {
  it("reads back what was signed", () => {
    expect(readLink(KEY, signLink(KEY, CLAIMS), NOW)).toEqual({ ok: true, claims: CLAIMS });
    const sms = { ...CLAIMS, action: null, via: "sms" as const };
    expect(readLink(KEY, signLink(KEY, sms), NOW)).toEqual({ ok: true, claims: sms });
  });

  it("refuses a token whose payload or signature was changed, or that another key signed", () => {
    const token = signLink(KEY, CLAIMS);
    expect(readLink(KEY, tamper(token, 5), NOW)).toEqual({ ok: false, reason: "forged" });
    expect(readLink(KEY, tamper(token, token.length - 3), NOW)).toEqual({ ok: false, reason: "forged" });
    expect(readLink(linkKeyFrom("another-secret-0123456789abcdefghij"), token, NOW)).toEqual({ ok: false, reason: "forged" });
    // The recipient swapped for another login, re-encoded with the old signature.
    const [, signature] = token.split(".");
    const swapped = Buffer.from(JSON.stringify({ r: "req_abc", b: "bind123", u: "mallory", a: "approve", x: CLAIMS.expiresAt / 1000, n: "nonce1" })).toString("base64url");
    expect(readLink(KEY, `${swapped}.${signature}`, NOW)).toEqual({ ok: false, reason: "forged" });
  });

  it("refuses malformed tokens without throwing", () => {
    for (const token of ["", "abc", "a.b.c", "é.x", "x".repeat(5000), `${Buffer.from("not json").toString("base64url")}.x`]) {
      expect(readLink(KEY, token, NOW).ok).toBe(false);
    }
  });

  it("expires at its expiry, not a second later", () => {
    const token = signLink(KEY, CLAIMS);
    expect(readLink(KEY, token, new Date(CLAIMS.expiresAt - 1000)).ok).toBe(true);
    expect(readLink(KEY, token, new Date(CLAIMS.expiresAt))).toMatchObject({ ok: false, reason: "expired" });
  });

  it("expires at the deadline or after 24 hours, whichever is first", () => {
    expect(new Date(linkExpiry({ deadline: "2026-11-24T12:00:00.000Z" }, NOW)).toISOString()).toBe("2026-11-24T12:00:00.000Z");
    expect(new Date(linkExpiry({ deadline: "2026-12-24T12:00:00.000Z" }, NOW)).toISOString()).toBe("2026-11-25T10:00:00.000Z");
  });

  it("makes CSRF tokens that are bound to the link and never pass for a link signature", () => {
    const token = signLink(KEY, CLAIMS);
    const csrf = csrfTokenFor(KEY, token);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(csrfTokenFor(KEY, signLink(KEY, { ...CLAIMS, nonce: "nonce2" }))).not.toBe(csrf);
    expect(token.endsWith(csrf)).toBe(false);
  });

  it("binds to what was shown and the pull request's head, not to the stored version", () => {
    const request = makeRequest();
    const later: typeof request = { ...request, version: 7 };
    expect(linkBinding(later)).toBe(linkBinding(request));
    expect(linkBinding({ ...request, contextHash: "1".repeat(64) })).not.toBe(linkBinding(request));
    const onPull = { ...request, surfaceRef: { type: "pull_request" as const, number: 4, url: null, headSha: "a".repeat(40) } };
    expect(linkBinding({ ...onPull, surfaceRef: { ...onPull.surfaceRef, headSha: "b".repeat(40) } })).not.toBe(linkBinding(onPull));
  });
});

describe("reply tokens", () => {
  const claims = { requestId: "req_Ab-9_x", login: "alice", binding: replyBinding(makeRequest()), expiresAt: Date.parse("2026-11-25T10:00:00.000Z") };

  it("fit in an address's local part with a usual login and request id", () => {
    const token = signReply(KEY, { ...claims, requestId: "req_" + "A".repeat(16) });
    expect(`reply+${token}`.length).toBeLessThanOrEqual(64 + 4);
    expect(token).toMatch(/^[A-Za-z0-9_.-]+$/);
  });

  it("read back, and refuse changes, other keys and expiry", () => {
    const token = signReply(KEY, claims);
    expect(readReply(KEY, token, NOW)).toEqual({ ok: true, claims });
    expect(readReply(KEY, token.replace("alice", "mallo"), NOW)).toEqual({ ok: false, reason: "forged" });
    expect(readReply(linkKeyFrom("another-secret-0123456789abcdefghij"), token, NOW)).toEqual({ ok: false, reason: "forged" });
    expect(readReply(KEY, token, new Date(claims.expiresAt))).toEqual({ ok: false, reason: "expired" });
    expect(readReply(KEY, "a.b", NOW)).toEqual({ ok: false, reason: "malformed" });
  });

  it("never verifies as a link token, nor a link token as a reply token", () => {
    expect(readLink(KEY, signReply(KEY, claims), NOW).ok).toBe(false);
    expect(readReply(KEY, signLink(KEY, CLAIMS), NOW).ok).toBe(false);
  });
});
