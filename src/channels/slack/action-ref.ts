import { createHmac, timingSafeEqual } from "node:crypto";

/** What a Slack button stands for: one action on one request, on the head commit it was shown for. */
export interface ActionRef {
  requestId: string;
  action: string;
  headSha?: string;
}

const keyFrom = (signingSecret: string) => createHmac("sha256", signingSecret).update("hitl slack button").digest();
const mac = (key: Buffer, data: string) => createHmac("sha256", key).update(data).digest("base64url").slice(0, 32);

/**
 * A button's `value`: the reference as base64url JSON, and a MAC of it keyed from the signing
 * secret. Slack returns it as it was sent; the MAC makes sure it is one hitl wrote, so a
 * crafted payload cannot name another request or action even with the signing secret's help
 * elsewhere (a second app sharing the workspace cannot forge one either).
 */
export function signActionRef(signingSecret: string, ref: ActionRef): string {
  const data = Buffer.from(JSON.stringify({ r: ref.requestId, a: ref.action, ...(ref.headSha ? { h: ref.headSha } : {}) })).toString("base64url");
  return `${data}.${mac(keyFrom(signingSecret), data)}`;
}

/** The reference a button's value holds, or null when it is not one hitl signed. */
export function readActionRef(signingSecret: string, value: unknown): ActionRef | null {
  if (typeof value !== "string" || value.length > 2000) return null;
  const [data, given, ...rest] = value.split(".");
  if (!data || !given || rest.length > 0) return null;
  const expected = Buffer.from(mac(keyFrom(signingSecret), data));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return null;
  try {
    const parsed = JSON.parse(Buffer.from(data, "base64url").toString("utf8")) as { r?: unknown; a?: unknown; h?: unknown };
    if (typeof parsed.r !== "string" || typeof parsed.a !== "string") return null;
    return { requestId: parsed.r, action: parsed.a, ...(typeof parsed.h === "string" ? { headSha: parsed.h } : {}) };
  } catch {
    return null;
  }
}
