import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkCsrf, cookieNames, csrfToken, newSession, openSession, openState, safeNext, sealSession, sealState } from "../../src/desk/session.js";

const KEY = randomBytes(32);
const NOW = new Date("2026-11-24T09:00:00.000Z");

describe("desk sessions", () => {
  it("opens only a session signed with its key, unchanged and not over", () => {
    const session = newSession("alice", NOW);
    const cookie = sealSession(KEY, session);
    expect(openSession(KEY, cookie, NOW)).toEqual(session);
    expect(session.expiresAt - NOW.getTime()).toBe(12 * 3_600_000);
    expect(openSession(randomBytes(32), cookie, NOW)).toBeNull();
    expect(openSession(KEY, cookie, new Date(session.expiresAt))).toBeNull();
    const [payload, signature] = cookie.split(".");
    const changed = Buffer.from(JSON.stringify({ ...session, login: "mallory" })).toString("base64url");
    expect(openSession(KEY, `${changed}.${signature}`, NOW)).toBeNull();
    expect(openSession(KEY, `${payload}.${signature}.x`, NOW)).toBeNull();
    expect(openSession(KEY, "", NOW)).toBeNull();
    expect(openSession(KEY, null, NOW)).toBeNull();
  });

  it("gives each session its own CSRF token", () => {
    const one = newSession("alice", NOW);
    const two = newSession("alice", NOW);
    expect(csrfToken(KEY, one)).not.toBe(csrfToken(KEY, two));
    expect(checkCsrf(KEY, one, csrfToken(KEY, one))).toBe(true);
    expect(checkCsrf(KEY, one, csrfToken(KEY, two))).toBe(false);
    expect(checkCsrf(KEY, one, null)).toBe(false);
    expect(checkCsrf(KEY, one, "")).toBe(false);
  });

  it("keeps the sign-in's state and where to go after in a signed pre-session cookie that expires", () => {
    const cookie = sealState(KEY, { state: "s1", next: "/desk/recent", expiresAt: NOW.getTime() + 600_000 });
    expect(openState(KEY, cookie, NOW)).toEqual({ state: "s1", next: "/desk/recent" });
    expect(openState(KEY, cookie, new Date(NOW.getTime() + 600_000))).toBeNull();
    expect(openState(randomBytes(32), cookie, NOW)).toBeNull();
    // A session cookie is not a state cookie, nor the other way round.
    expect(openSession(KEY, cookie, NOW)).toBeNull();
    expect(openState(KEY, sealSession(KEY, newSession("alice", NOW)), NOW)).toBeNull();
  });

  it.each([
    ["/desk", "/desk"],
    ["/desk/recent", "/desk/recent"],
    ["/desk/r/req_abc-1", "/desk/r/req_abc-1"],
    ["/desk?type=refund&mine=1", "/desk?type=refund&mine=1"],
    ["https://evil.example/desk", "/desk"],
    ["//evil.example", "/desk"],
    ["/desk//evil.example", "/desk"],
    ["/desk/\\evil.example", "/desk"],
    ["/deskevil", "/desk"],
    ["/desk/r/x#frag", "/desk"],
    ["/api/v1/requests", "/desk"],
    [null, "/desk"],
  ])("sends %s back as %s after sign-in", (next, expected) => {
    expect(safeNext(next)).toBe(expected);
  });

  it("names its cookies __Host- and Secure over https only", () => {
    expect(cookieNames("https://hitl.example.com")).toEqual({ session: "__Host-hitl_desk", state: "__Host-hitl_desk_state", secure: true });
    expect(cookieNames("http://127.0.0.1:3000")).toEqual({ session: "hitl_desk", state: "hitl_desk_state", secure: false });
  });
});
