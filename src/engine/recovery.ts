import type { ApprovalRequest, RecoveryCursor } from "../core/types.js";
import type { Engine, EngineDeps } from "./engine.js";
import type { InputResult } from "./github-decisions.js";
import type { Listing } from "./ports.js";

/** Requests looked at per pass: at most this many comment listings, and as many review listings. */
export const RECOVERY_PER_PASS = 10;
/** The pending requests the pass chooses from (the most urgent, by the store's pending order). */
const PENDING_SCAN = 1_000;
/** Longer than a pass with slow answers from GitHub; a pass that overruns it is harmless (claims). */
const LOCK_TTL_MS = 5 * 60_000;
const WRITE_ATTEMPTS = 3;

export interface RecoveryResult {
  /** False when another replica holds the recovery lock. */
  ran: boolean;
  checked: number;
  /** Listing calls made, and how many of them GitHub answered 304. */
  listings: number;
  notModified: number;
  /** Comments and reviews carrying a decision that this pass handled: applied, or answered why not. */
  handled: number;
}

/** GitHub's times have whole seconds; a request opened within a second may show a comment's time. */
const floorToSecond = (iso: string) => new Date(Math.floor(Date.parse(iso) / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The cursor of a request the pass has not looked at yet. */
export function initialCursor(request: ApprovalRequest): RecoveryCursor {
  return {
    checkedAt: "",
    notBefore: floorToSecond(request.createdAt),
    comments: { since: floorToSecond(request.createdAt), lastId: 0, etag: null },
    reviews: request.surfaceRef?.type === "pull_request" ? { page: 1, lastId: 0, etag: null } : null,
  };
}

/**
 * GitHub does not redeliver a webhook it could not deliver (our 5xx while the store was down, a
 * timeout, an outage on its side). This pass reads, for the pending requests least recently
 * looked at, the comments (and reviews) on their surface it has not seen, and applies the
 * decisions they carry through the same path as the webhooks. Listings are conditional, so a
 * surface where nothing changed costs a 304; each comment and review is claimed once by its id,
 * so one its webhook already handled is neither applied nor answered again.
 */
export function createRecovery(deps: EngineDeps, engine: Engine, owner: string, options: { perPass?: number } = {}) {
  const { store, github, clock, log } = deps;
  const perPass = options.perPass ?? RECOVERY_PER_PASS;

  /**
   * Hands the new items (after `lastId`, made at or after `notBefore`) to `decide` in order.
   * Stops at one being handled elsewhere right now, so it is read again next time.
   */
  async function walk<T extends { id: number }>(items: T[], lastId: number, madeAt: (item: T) => string | null, notBefore: number, decide: (item: T) => Promise<InputResult>, result: RecoveryResult) {
    let last = lastId;
    for (const item of items) {
      if (item.id <= lastId) continue;
      const made = madeAt(item);
      if (made === null || Date.parse(made) >= notBefore) {
        const outcome = await decide(item);
        if (outcome === "in_hand") return { last, complete: false };
        if (outcome === "handled") result.handled += 1;
      }
      last = Math.max(last, item.id);
    }
    return { last, complete: true };
  }

  function counted<T>(listing: Listing<T> | null, result: RecoveryResult): Listing<T> | null {
    result.listings += 1;
    if (listing === null) result.notModified += 1;
    return listing;
  }

  async function check(request: ApprovalRequest, result: RecoveryResult): Promise<RecoveryCursor> {
    const ref = request.surfaceRef!;
    const { installationId, repo } = request;
    const cursor = request.recovery ?? initialCursor(request);
    const notBefore = Date.parse(cursor.notBefore);
    let { comments, reviews } = cursor;

    const commentPage = counted(await github.listComments(installationId, repo, ref.number, comments), result);
    if (commentPage) {
      const walked = await walk(commentPage.items, comments.lastId, (c) => c.createdAt, notBefore, (c) => engine.decideFromComment({ ...c, repo, number: ref.number }), result);
      const lastItem = commentPage.items.at(-1);
      // A full page may have more after it: list from its last comment's time next (less a
      // second, in case GitHub's `since` is exclusive), without an ETag.
      const since = commentPage.full && lastItem && walked.complete ? floorToSecond(new Date(Date.parse(lastItem.createdAt) - 1_000).toISOString()) : comments.since;
      comments = { since, lastId: walked.last, etag: walked.complete && !commentPage.full ? commentPage.etag : null };
    }

    if (ref.type === "pull_request") {
      reviews ??= { page: 1, lastId: 0, etag: null };
      const reviewPage = counted(await github.listReviews(installationId, repo, ref.number, reviews), result);
      if (reviewPage) {
        // A review of an earlier commit does not approve the head when a push makes approvals stale.
        const current = reviewPage.items.filter((r) => !request.invalidateOnPush || r.commitId === ref.headSha);
        const walked = await walk(current, reviews.lastId, (r) => r.submittedAt, notBefore, (r) => engine.decideFromReview({ ...r, repo, number: ref.number }), result);
        const next = reviewPage.full && walked.complete;
        reviews = { page: next ? reviews.page + 1 : reviews.page, lastId: walked.last, etag: walked.complete && !next ? reviewPage.etag : null };
      }
    }
    return { checkedAt: clock().toISOString(), notBefore: cursor.notBefore, comments, reviews };
  }

  /** Stores the cursor on the request (not a state change: no audit entry, no job, same `updatedAt`). */
  async function remember(id: string, cursor: RecoveryCursor): Promise<void> {
    for (let i = 0; i < WRITE_ATTEMPTS; i++) {
      const current = await store.get(id);
      if (!current) return;
      // A push during the pass may have moved `notBefore` on; keep the later one.
      const notBefore = [cursor.notBefore, current.recovery?.notBefore ?? ""].sort().at(-1)!;
      if (await store.update({ ...current, recovery: { ...cursor, notBefore } }, current.version)) return;
    }
  }

  return async function recover(): Promise<RecoveryResult> {
    const result: RecoveryResult = { ran: false, checked: 0, listings: 0, notModified: 0, handled: 0 };
    if (!(await store.acquireLock("recovery", owner, LOCK_TTL_MS))) return result;
    result.ran = true;
    try {
      const pending = await store.list({ status: "pending", limit: PENDING_SCAN });
      const chosen = pending
        .filter((request) => request.surfaceRef !== null)
        .sort((a, b) => (a.recovery?.checkedAt ?? "").localeCompare(b.recovery?.checkedAt ?? "") || a.createdAt.localeCompare(b.createdAt))
        .slice(0, perPass);
      for (const request of chosen) {
        result.checked += 1;
        let cursor: RecoveryCursor;
        try {
          cursor = await check(request, result);
        } catch (error) {
          log.warn({ err: error, requestId: request.id }, "recovery could not read a request's surface; it is read again on a later pass");
          // Still counts as looked at, so one failing surface does not hold up the others.
          cursor = { ...(request.recovery ?? initialCursor(request)), checkedAt: clock().toISOString() };
        }
        await remember(request.id, cursor);
      }
    } finally {
      await store.releaseLock("recovery", owner);
    }
    return result;
  };
}
