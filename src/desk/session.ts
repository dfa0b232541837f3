import { createHmac, randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { sameSecret } from "../channels/links/link-token.js";

/**
 * The desk's sessions: a signed cookie (HMAC-SHA256 under a key every replica shares) naming
 * the GitHub login and when the session ends. Nothing else is kept: signing out clears the
 * cookie, and a session lasts `SESSION_LIFETIME_MS` at most.
 */

export const SESSION_LIFETIME_MS = 12 * 3_600_000;
/** The sign-in round trip through GitHub must be done within this. */
export const STATE_LIFETIME_MS = 10 * 60_000;

export interface Session {
  login: string;
  /** A random id: the CSRF token is derived from it, so each session has its own. */
  sid: string;
  expiresAt: number;
}

export interface CookieNames {
  session: string;
  state: string;
  secure: boolean;
}

/** `__Host-` cookies (no Domain, Path=/, Secure) when the desk is served over https. */
export function cookieNames(publicUrl: string): CookieNames {
  const secure = new URL(publicUrl).protocol === "https:";
  return secure ? { session: "__Host-hitl_desk", state: "__Host-hitl_desk_state", secure } : { session: "hitl_desk", state: "hitl_desk_state", secure };
}

const mac = (key: Buffer, purpose: string, text: string) => createHmac("sha256", key).update(`${purpose}\n${text}`).digest("base64url");

export function sealSession(key: Buffer, session: Session): string {
  const payload = Buffer.from(JSON.stringify(session)).toString("base64url");
  return `${payload}.${mac(key, "session", payload)}`;
}

/** The session a cookie carries, or null when it is missing, forged, signed with another key or over. */
export function openSession(key: Buffer, value: string | null, now: Date): Session | null {
  if (!value) return null;
  const [payload = "", signature = "", ...rest] = value.split(".");
  if (rest.length > 0 || !sameSecret(signature, mac(key, "session", payload))) return null;
  try {
    const session = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Partial<Session>;
    if (typeof session.login !== "string" || typeof session.sid !== "string" || typeof session.expiresAt !== "number") return null;
    if (session.expiresAt <= now.getTime()) return null;
    return { login: session.login, sid: session.sid, expiresAt: session.expiresAt };
  } catch {
    return null;
  }
}

export function newSession(login: string, now: Date): Session {
  return { login, sid: randomBytes(16).toString("base64url"), expiresAt: now.getTime() + SESSION_LIFETIME_MS };
}

/** The session's CSRF token, carried by every form and compared in constant time. */
export const csrfToken = (key: Buffer, session: Session) => mac(key, "csrf", session.sid);

export const checkCsrf = (key: Buffer, session: Session, given: string | null) => sameSecret(given ?? "", csrfToken(key, session));

/** The pre-session cookie of a sign-in: the OAuth `state` and where to go after, signed. */
export function sealState(key: Buffer, state: { state: string; next: string; expiresAt: number }): string {
  const payload = Buffer.from(JSON.stringify(state)).toString("base64url");
  return `${payload}.${mac(key, "state", payload)}`;
}

export function openState(key: Buffer, value: string | null, now: Date): { state: string; next: string } | null {
  if (!value) return null;
  const [payload = "", signature = ""] = value.split(".");
  if (!sameSecret(signature, mac(key, "state", payload))) return null;
  try {
    const parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { state?: unknown; next?: unknown; expiresAt?: unknown };
    if (typeof parsed.state !== "string" || typeof parsed.next !== "string" || typeof parsed.expiresAt !== "number" || parsed.expiresAt <= now.getTime()) return null;
    return { state: parsed.state, next: safeNext(parsed.next) };
  } catch {
    return null;
  }
}

/** Only a path of the desk itself: anything else (another site, `//host`, `/\host`) goes to the queue. */
export function safeNext(next: string | null | undefined): string {
  if (!next || !/^\/desk(?:\/[A-Za-z0-9_\-/]*)?(?:\?[A-Za-z0-9_\-.=&%+]*)?$/.test(next) || next.includes("//")) return "/desk";
  return next;
}

export function cookieValue(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return null;
}

export function setCookie(names: CookieNames, name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${names.secure ? "; Secure" : ""}`;
}
