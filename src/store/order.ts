import { PRIORITIES, type ApprovalRequest, type Priority } from "../core/types.js";

/**
 * The orderings and derived index keys every store adapter shares, so the embedded store and
 * the Redis store answer the same query in the same order.
 */

/** Epoch milliseconds of an ISO time. */
export function toMs(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an ISO time: ${JSON.stringify(iso)}`);
  return ms;
}

/** 0 for critical, 3 for low: pending lists start with the lowest rank. */
export function urgencyRank(priority: Priority): number {
  return PRIORITIES.length - 1 - PRIORITIES.indexOf(priority);
}

/**
 * One number that orders pending requests by urgency, then oldest first. Creation times stay
 * below 1e13 ms until the year 2286, so the rank never bleeds into the time.
 */
export function pendingScore(request: ApprovalRequest): number {
  return urgencyRank(request.priority) * 1e13 + toMs(request.createdAt);
}

/** Newest first; equal times fall back to the id, descending. */
export function compareNewest(a: ApprovalRequest, b: ApprovalRequest): number {
  return toMs(b.createdAt) - toMs(a.createdAt) || compareIds(b.id, a.id);
}

/**
 * Redis orders sorted-set members with equal scores byte-wise; for the ASCII ids hitl makes,
 * code-unit order is the same.
 */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The issue or pull request number a request is shown on: the posted surface once there is one,
 * else the pull request the agent named; null for an issue not yet opened.
 */
export function surfaceNumber(request: ApprovalRequest): number | null {
  if (request.surfaceRef) return request.surfaceRef.number;
  return request.surface.type === "pull_request" ? request.surface.number : null;
}

/** When the sweep must look at the request, or null when it is not waiting on the sweep. */
export function dueMs(request: ApprovalRequest): number | null {
  if (request.status !== "pending" || request.escalation.nextAt === null) return null;
  return toMs(request.escalation.nextAt);
}

/** An unambiguous key for (agent, idempotency key); both parts may contain any character. */
export function idempotencyIndexKey(requestedBy: string, key: string): string {
  return `${encodeURIComponent(requestedBy)}:${encodeURIComponent(key)}`;
}
