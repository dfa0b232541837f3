import { nextDueAt } from "../core/schedule.js";
import { hasStages, retractVote, stagedNextAt } from "../core/vote.js";
import type { ApprovalRequest, AuditEvent, Decider } from "../core/types.js";
import { CAS_ATTEMPTS, type EngineContext } from "./context.js";
import { initialCursor } from "./recovery.js";

/** New commits on a pull request, dismissed reviews, and the check runs that follow the head commit. */
export function createPushes(ctx: EngineContext) {
  const { store, clock, audit, job, commit, mustGet } = ctx;

  /**
   * An approval taken back: the request waits for a decision again, its surface shows it, and the
   * agent is told. One compare-and-set; null when another write came first.
   */
  function backToPending(current: ApprovalRequest, changed: ApprovalRequest, event: AuditEvent, actor: Decider, details: Record<string, unknown>) {
    const next: ApprovalRequest = {
      ...changed,
      status: "pending",
      decision: null,
      escalation: { ...changed.escalation, nextAt: nextDueAt(changed.escalation, changed.createdAt, changed.deadline) },
    };
    if (hasStages(next)) next.escalation.nextAt = stagedNextAt(next, clock());
    const entry = audit(next, event, actor, { ...details, previous: current.decision });
    return commit(next, current.version, [entry], [job(next, "sync_surface", event), ...(next.callbackUrl ? [job(next, "callback", event)] : [])]);
  }

  /**
   * A dismissed review on a request with stages withdraws the reviewer's review votes: from the
   * open stage while it is pending; from the approval, which goes back to pending, once decided.
   */
  function withdrawReviewVote(current: ApprovalRequest & { stages: NonNullable<ApprovalRequest["stages"]> }, login: string, actor: Decider, details: Record<string, unknown>) {
    const now = clock();
    if (current.status === "pending") {
      const result = retractVote(current, login, now, "review");
      if (!result.ok) return undefined;
      return commit(result.request, current.version, [audit(result.request, "vote_retracted", actor, details)], [job(result.request, "sync_surface", "vote_retracted")]);
    }
    const byReview = (vote: { by: string; via: string }) => vote.by.toLowerCase() === login && vote.via === "review";
    if (current.status !== "approved" || !(current.votes ?? []).some(byReview)) return undefined;
    const changed = { ...current, votes: (current.votes ?? []).filter((vote) => !byReview(vote)), updatedAt: now.toISOString() };
    return backToPending(current, changed, "review_dismissed", actor, details);
  }

  /** One request's move to the new head, as a compare-and-set; null when another write came first. */
  function moveToHead(current: ApprovalRequest, headSha: string): Promise<ApprovalRequest | null> {
    const now = clock();
    const ref = current.surfaceRef!;
    const invalidate = current.status === "approved" && current.invalidateOnPush;
    const moved: ApprovalRequest = { ...current, surfaceRef: { ...ref, headSha }, updatedAt: now.toISOString() };
    if (current.invalidateOnPush) {
      // What was said before this push approved the old head: recovery must not apply it to the
      // new one (a webhook would have, and the push would have made it stale). Whole seconds,
      // rounded up: a comment within the push's second is not taken on trust.
      const notBefore = new Date(Math.ceil(now.getTime() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
      moved.recovery = { ...(current.recovery ?? initialCursor(current)), notBefore };
    }
    // Votes on a request with stages approved the old head too: with invalidation they all go.
    const staleVotes = current.invalidateOnPush && hasStages(current) && (current.votes?.length ?? 0) > 0;
    if (staleVotes) moved.votes = [];
    if (!invalidate && !staleVotes) return commit(moved, current.version, [], [job(moved, "sync_surface", "head_changed")]);
    return backToPending(current, moved, "stale", { type: "system", reason: `new commits pushed (${headSha.slice(0, 7)})` }, { headSha });
  }

  /** Applies `change` to each request on the pull request, retrying lost compare-and-sets; `change` returns undefined to skip one. */
  async function eachOnPullRequest(
    repo: string,
    number: number,
    change: (current: ApprovalRequest) => Promise<ApprovalRequest | null> | undefined,
  ): Promise<ApprovalRequest[]> {
    const changed: ApprovalRequest[] = [];
    for (const found of await store.findBySurface(repo, number)) {
      let current = found;
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        if (current.surfaceRef?.type !== "pull_request") break;
        const write = change(current);
        if (!write) break;
        const stored = await write;
        if (stored) {
          changed.push(stored);
          break;
        }
        current = await mustGet(current.id);
      }
    }
    return changed;
  }

  return {
    /**
     * New commits on a pull request. An approval that must not outlive a push goes back to
     * pending and the approvers are asked again; every other request's state moves to the new
     * head commit, so branch protection sees it there (an approval only when it still counts).
     * Cancelled and superseded requests stay behind: a superseded one's follow-up is on the
     * pull request too, and its check run must stay the latest of the name.
     */
    pushedTo(repo: string, number: number, headSha: string): Promise<ApprovalRequest[]> {
      const staysBehind = (current: ApprovalRequest) => current.status === "cancelled" || current.status === "superseded";
      return eachOnPullRequest(repo, number, (current) => (current.surfaceRef?.headSha === headSha || staysBehind(current) ? undefined : moveToHead(current, headSha)));
    },

    /**
     * An approving review was dismissed: the requests that review approved wait for a decision
     * again, so the check run no longer passes.
     */
    reviewDismissed(repo: string, number: number, reviewer: string, dismissedBy: string): Promise<ApprovalRequest[]> {
      const login = reviewer.toLowerCase();
      return eachOnPullRequest(repo, number, (current) => {
        const actor: Decider = { type: "system", reason: `the approving review by @${reviewer} was dismissed by @${dismissedBy}` };
        if (hasStages(current)) return withdrawReviewVote(current, login, actor, { reviewer, dismissedBy });
        const decision = current.decision;
        const approvedByReviewer =
          current.status === "approved" && decision?.via === "review" && decision.decidedBy.type === "human" && decision.decidedBy.login.toLowerCase() === login;
        if (!approvedByReviewer) return undefined;
        const changed = { ...current, updatedAt: clock().toISOString() };
        return backToPending(current, changed, "review_dismissed", actor, { reviewer, dismissedBy });
      });
    },

    /** Records a surface reference that changed while the surface was updated. */
    async recordSurface(id: string, surfaceRef: ApprovalRequest["surfaceRef"]): Promise<void> {
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        const current = await mustGet(id);
        const next = { ...current, surfaceRef, updatedAt: clock().toISOString() };
        if (await store.update(next, current.version)) return;
      }
      throw new Error(`Could not record the new surface of ${id}`);
    },
  };
}
