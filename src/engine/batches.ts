import { createHash } from "node:crypto";
import { batchSlot, placeInBatch, type BatchConfig } from "../core/batch.js";
import { splitApprovers } from "../core/authorize.js";
import { renderEscalationComment, renderWarningComment } from "../core/render/comments.js";
import { renderBatchBody, renderBatchTitle } from "../core/render/batch.js";
import { currentApprovers } from "../core/schedule.js";
import type { ApprovalRequest, AuditEvent, BatchMembership, SurfaceRef } from "../core/types.js";
import { MAX_DURATION_MS } from "../core/duration.js";
import { CAS_ATTEMPTS, type EngineContext } from "./context.js";

/** How long one replica may hold a batch while it posts or rewrites its issue. */
const BATCH_LOCK_MS = 60_000;
/** How often, and how far apart, a replica tries a batch's lock another one holds before leaving it to a retry. */
const LOCK_TRIES = 10;
const LOCK_PAUSE_MS = 200;
/** How long the digest of a batch issue's body is remembered (a lost one costs one more edit). */
const BODY_DIGEST_TTL_MS = 7 * 86_400_000;

/** The hold that keeps every batch's rewrites back. */
const EVERY_BATCH = "*";

const rowKey = (batchId: string, row: number) => `batch:${batchId}:row:${row}`;
const issueKey = (batchId: string) => `batch:${batchId}:issue`;
const startedKey = (batchId: string) => `batch:${batchId}:posting`;
const digestKey = (batchId: string) => `batch:${batchId}:body`;

/**
 * A batch's keys (its group's counter, its rows, its posting mark and issue) are read only to
 * post a member or attach it to the issue: while a member is pending and not yet shown, which
 * its deadline bounds. So each is kept until the latest of its window's end plus MAX_DURATION
 * (the longest relative deadline) and the deadlines of the members that wrote it, and a day more
 * for retries and clock skew; a member with a later deadline lengthens the counter's expiry.
 * After that the Redis store forgets them: its memory follows pending batches, not history.
 */
const BATCH_KEYS_MARGIN_MS = 86_400_000;

function batchKeysExpiry(windowEnd: Date, members: ApprovalRequest[], now: Date): { ttlMs: number } {
  const until = Math.max(windowEnd.getTime() + MAX_DURATION_MS, ...members.map((member) => Date.parse(member.deadline)).filter(Number.isFinite));
  // At least the margin: a ttl not above 0 would keep the key forever.
  return { ttlMs: Math.max(until - now.getTime(), 0) + BATCH_KEYS_MARGIN_MS };
}

const digest = (closed: boolean, body: string) => createHash("sha256").update(`${closed}\n${body}`).digest("base64url");

/**
 * Batches (`.hitl.yml` `batch:`): pending issue requests of one group collected into one issue,
 * a table with a row each. Forming them needs no new store operation and is atomic across
 * replicas: a request's place is one `takeUse` on its group's counter (numbers 1…max_size are the
 * first batch of the window, the next max_size the second …), its row is recorded with
 * `createSetting` (written once), and the issue, once posted, too: the first replica's issue is
 * the batch's, and a retry after a crash finds it by its signed marker. Each row stays its own
 * request: decided, escalated and expired on its own, the table showing it.
 */
export function createBatches(ctx: EngineContext) {
  const { store, github, clock, newId, log, audit, job, channelJobs, commit, mustGet } = ctx;
  const holder = newId("batcher");
  const posting = new Map<string, Promise<void>>();
  const refreshing = new Map<string, { again: boolean; done: Promise<void> }>();
  /** Batches a command is deciding row by row in this process right now. */
  const holds = new Map<string, Promise<void>>();

  /** A batch's lock, waiting briefly for another replica's post or rewrite to finish; false if it did not. */
  async function acquire(lock: string): Promise<boolean> {
    for (let i = 0; i < LOCK_TRIES; i++) {
      if (await store.acquireLock(lock, holder, BATCH_LOCK_MS)) return true;
      await new Promise((resolve) => setTimeout(resolve, LOCK_PAUSE_MS));
    }
    return false;
  }

  async function membersOf(batch: BatchMembership): Promise<ApprovalRequest[]> {
    const last = Math.min(batch.first + batch.maxSize - 1, await store.uses(batch.counter));
    const rows = Array.from({ length: Math.max(0, last - batch.first + 1) }, (_, i) => i + 1);
    const found = await Promise.all(
      rows.map(async (row) => {
        const id = await store.setting(rowKey(batch.id, row));
        const request = id === null ? null : await store.get(id);
        // A row whose request took another one (a retry after a crash) is left empty.
        return request?.batch?.id === batch.id && request.batch.row === row ? request : null;
      }),
    );
    return found.filter((request): request is ApprovalRequest => request !== null);
  }

  /** Shows a member on the batch's issue: its surface is the issue, audited with the batch and row. */
  async function attach(member: ApprovalRequest, surface: SurfaceRef, shownAt: Date): Promise<void> {
    let current = member;
    for (let i = 0; i < CAS_ATTEMPTS; i++) {
      if (current.surfaceRef || !current.batch) return;
      const ended = current.status !== "pending";
      const batch = { ...current.batch, shownAt: shownAt.toISOString() };
      const next: ApprovalRequest = { ...current, batch, surfaceRef: ended ? { ...surface, openedAfterEnd: true } : surface, updatedAt: clock().toISOString() };
      const details = { ...surface, batch_id: current.batch.id, row: current.batch.row };
      const stored = await commit(next, current.version, [audit(next, "surface_opened", { type: "system", reason: "batch issue opened" }, details)], ended ? [] : channelJobs(next, "surface_opened"));
      if (stored) return;
      current = await mustGet(current.id);
    }
    throw new Error(`Could not record the batch issue of ${member.id} after ${CAS_ATTEMPTS} attempts`);
  }

  async function postOnce(member: ApprovalRequest & { batch: BatchMembership }): Promise<void> {
    const { id } = member.batch;
    const lock = `batch-post:${id}`;
    if (!(await acquire(lock))) throw new Error(`batch ${id} is being posted by another replica`);
    let surface: SurfaceRef | null;
    try {
      surface = parseRef(await store.setting(issueKey(id)));
      const members = await membersOf(member.batch);
      // Rows joining an issue already posted show from now on (the next rewrite of its table).
      let shownAt = clock();
      if (!surface) {
        const waiting = members.filter((request) => request.status === "pending");
        // Every row ended before the batch was due (decided in another channel): nothing to show.
        if (waiting.length === 0) return;
        const started = (await store.setting(startedKey(id))) !== null;
        const keep = batchKeysExpiry(new Date(member.batch.postAt), [member, ...members], clock());
        if (!started) await store.createSetting(startedKey(id), clock().toISOString(), keep);
        const body = renderBatchBody(id, members);
        const assignees = [...new Set(waiting.flatMap((request) => splitApprovers(currentApprovers(request)).users))];
        shownAt = clock();
        const opened = await github.openBatchIssue(member.installationId, member.repo, { id, title: renderBatchTitle(members), body, assignees }, { search: started });
        surface = parseRef(await store.createSetting(issueKey(id), JSON.stringify(opened), keep))!;
        await store.putCached(digestKey(id), digest(false, body), BODY_DIGEST_TTL_MS);
        log.info({ batchId: id, repo: member.repo, number: surface.number, rows: members.length }, "posted a batch issue");
      }
      for (const request of members) await attach(request, surface, shownAt);
    } finally {
      await store.releaseLock(lock, holder).catch(() => undefined);
    }
    // Rows that changed while the issue was being posted, and rows that joined late, show now.
    await refresh({ ...member, surfaceRef: surface });
  }

  /**
   * Rewrites the batch's table when it changed, in one call; several changes at once are folded
   * into one rewrite, and a command deciding several rows here holds rewrites until its last row.
   */
  async function refresh(member: ApprovalRequest): Promise<void> {
    const id = member.batch!.id;
    await Promise.all([holds.get(id), holds.get(EVERY_BATCH)]);
    const running = refreshing.get(id);
    if (running) {
      running.again = true;
      return running.done;
    }
    const entry = { again: false, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        do {
          entry.again = false;
          await refreshOnce(member);
        } while (entry.again);
      } finally {
        refreshing.delete(id);
      }
    })();
    refreshing.set(id, entry);
    return entry.done;
  }

  async function refreshOnce(member: ApprovalRequest): Promise<void> {
    const id = member.batch!.id;
    const surface = member.surfaceRef;
    if (!surface) return;
    const lock = `batch-sync:${id}`;
    if (!(await acquire(lock))) throw new Error(`batch ${id} is being updated by another replica`);
    try {
      const members = (await store.findBySurface(member.repo, surface.number)).filter((request) => request.batch?.id === id);
      const body = renderBatchBody(id, members);
      const closed = members.every((request) => request.status !== "pending");
      const now = digest(closed, body);
      if ((await store.getCached(digestKey(id))) === now) return;
      await github.updateBatchIssue(member.installationId, member.repo, surface.number, { id, body, closed });
      await store.putCached(digestKey(id), now, BODY_DIGEST_TTL_MS);
    } finally {
      await store.releaseLock(lock, holder).catch(() => undefined);
    }
  }

  return {
    /**
     * Runs `decide` (a command deciding several rows) with table rewrites held in this process until
     * it is done, so the rows it decides show in one edit: the batch's, or every batch's for `null`
     * (a selection of rows from anywhere, such as a channel deciding several requests at once).
     */
    async holding<T>(batchId: string | null, decide: () => Promise<T>): Promise<T> {
      batchId ??= EVERY_BATCH;
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      const before = holds.get(batchId);
      const mine = before ? before.then(() => held) : held;
      holds.set(batchId, mine);
      try {
        return await decide();
      } finally {
        release();
        if (holds.get(batchId) === mine) holds.delete(batchId);
      }
    },

    /**
     * Puts a pending issue request into its group's batch, or returns null when it is shown on its
     * own (no `batch:`, critical, stages, due before the batch posts …). The request's
     * `open_surface` job moves to when its batch is due.
     */
    async join(request: ApprovalRequest, config: BatchConfig | undefined): Promise<ApprovalRequest | null> {
      const placed = batchSlot(request, config, clock());
      if (!placed.ok) return null;
      const { slot } = placed;
      const keep = batchKeysExpiry(slot.postAt, [request], clock());
      const seq = await store.takeUse(slot.counter, Number.MAX_SAFE_INTEGER, keep);
      if (seq === null) return null;
      const { id, row, first } = placeInBatch(slot, seq);
      await store.createSetting(rowKey(id, row), request.id, keep);
      // The last row fills the batch: it posts now rather than at the end of the window.
      const postAt = row === slot.maxSize ? clock() : slot.postAt;
      const batch: BatchMembership = { id, row, postAt: postAt.toISOString(), counter: slot.counter, first, maxSize: slot.maxSize };
      let current = request;
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        const next: ApprovalRequest = { ...current, batch, updatedAt: clock().toISOString() };
        const stored = await commit(next, current.version, [], [job(next, "open_surface", "created", postAt)]);
        if (stored) return stored;
        // Another write came first (a decision from a channel, a notification record): the row is still this request's.
        current = await mustGet(request.id);
        if (current.status !== "pending" || current.batch || current.surfaceRef) return current;
      }
      return current;
    },

    /** Posts the member's batch once it is due (or joins the issue already posted); the member as stored then. */
    async postIfDue(member: ApprovalRequest & { batch: BatchMembership }): Promise<ApprovalRequest> {
      if (Date.parse(member.batch.postAt) > clock().getTime()) return member;
      const id = member.batch.id;
      let running = posting.get(id);
      if (!running) {
        running = postOnce(member).finally(() => posting.delete(id));
        posting.set(id, running);
      }
      await running;
      return mustGet(member.id);
    },

    /**
     * A row changed (decided, expired, escalated …): the table is rewritten, once for changes that
     * come together. An escalation or reminder still mentions the row's new approvers in a comment.
     */
    async syncRow(request: ApprovalRequest, reason: AuditEvent): Promise<void> {
      const surface = request.surfaceRef;
      if (!surface || !request.batch) return;
      // The table first: a retry after it failed posts the comment once.
      await refresh(request);
      const now = clock();
      const row = `Row ${request.batch.row}: `;
      if (request.status === "pending" && (reason === "escalated" || reason === "delegated")) {
        const message = reason === "delegated" ? "The deadline passed and the request was delegated to you." : (request.escalation.ladder[request.escalation.level - 1]?.message ?? null);
        await github.reply(request.installationId, request.repo, surface.number, row + renderEscalationComment(request, { level: request.escalation.level, approvers: currentApprovers(request), message }, now));
      } else if (request.status === "pending" && reason === "warned") {
        await github.reply(request.installationId, request.repo, surface.number, row + renderWarningComment(request, now));
      }
    },
  };
}

function parseRef(stored: string | null): SurfaceRef | null {
  return stored === null ? null : (JSON.parse(stored) as SurfaceRef);
}

export type Batches = ReturnType<typeof createBatches>;
