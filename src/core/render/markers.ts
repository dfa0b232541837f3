import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Hidden markers let hitl find its own issue or comment again: the issue an earlier try created,
 * and the outcome comment a retried update already posted. Only hitl can write one that counts:
 * - each carries the request id and an HMAC of it under the app's marker key, which only the
 *   process holds (a marker copied from one request does not name another);
 * - each is read only where hitl puts it: a request marker as the first line of an issue body,
 *   an outcome marker as the last line of a comment. Agent text never starts or ends either (it
 *   is always inside a sentence hitl writes) and cannot write `<!--` outside a code span;
 * - the surfaces also check that GitHub says the app wrote the issue or comment.
 */

const MAC_LENGTH = 22; // 128 bits, base64url
const REQUEST_LINE = /^<!-- hitl:request:([A-Za-z0-9_-]{1,100}):([A-Za-z0-9_-]+) -->(?:\r?\n|$)/;

function mac(kind: "request" | "outcome", id: string, key: string): string {
  return createHmac("sha256", key).update(`hitl:${kind}:${id}`).digest("base64url").slice(0, MAC_LENGTH);
}

function sameMac(given: string, expected: string): boolean {
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/** The first line of a request's issue body. */
export function requestMarker(id: string, key: string): string {
  return `<!-- hitl:request:${id}:${mac("request", id, key)} -->`;
}

/** The request id of the marker a body starts with, when it is signed with `key`; otherwise null. */
export function findRequestMarker(body: string, key: string): string | null {
  const match = REQUEST_LINE.exec(body);
  if (!match) return null;
  const [, id, given] = match as unknown as [string, string, string];
  return sameMac(given, mac("request", id, key)) ? id : null;
}

/** The last line of the comment that shows a request's outcome, so a retried update does not post it twice. */
export function outcomeMarker(id: string, key: string): string {
  return `<!-- hitl:outcome:${id}:${mac("outcome", id, key)} -->`;
}

/** Whether a comment ends with the outcome marker of this request, signed with `key`. */
export function endsWithOutcomeMarker(body: string, id: string, key: string): boolean {
  const last = body.trimEnd().split(/\r?\n/).at(-1) ?? "";
  return sameMac(last, outcomeMarker(id, key));
}
