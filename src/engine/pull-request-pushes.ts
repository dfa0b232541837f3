import { nextDueAt } from "../core/schedule.js";
import type { ApprovalRequest } from "../core/types.js";
import { CAS_ATTEMPTS, type EngineContext } from "./context.js";
import { initialCursor } from "./recovery.js";

/** New commits on a pull request, and the check runs that follow the head commit. */
export function createPushes(ctx: EngineContext) {
  const { store, clock, audit, job, commit, mustGet } = ctx;

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
    if (!invalidate) return commit(moved, current.version, [], [job(moved, "sync_surface", "head_changed")]);
    const next: ApprovalRequest = {
      ...moved,
      status: "pending",
      decision: null,
      escalation: { ...moved.escalation, nextAt: nextDueAt(moved.escalation, moved.createdAt, moved.deadline) },
    };
    const entry = audit(next, "stale", { type: "system", reason: `new commits pushed (${headSha.slice(0, 7)})` }, { headSha, previous: current.decision });
    return commit(next, current.version, [entry], [job(next, "sync_surface", "stale"), ...(next.callbackUrl ? [job(next, "callback", "stale")] : [])]);
  }

  return {
    /**
     * New commits on a pull request. An approval that must not outlive a push goes back to
     * pending and the approvers are asked again; every other request's state moves to the new
     * head commit, so branch protection sees it there.
     */
    async pushedTo(repo: string, number: number, headSha: string): Promise<ApprovalRequest[]> {
      const changed: ApprovalRequest[] = [];
      for (const found of await store.findBySurface(repo, number)) {
        let current = found;
        for (let i = 0; i < CAS_ATTEMPTS; i++) {
          const ref = current.surfaceRef;
          if (!ref || ref.type !== "pull_request" || ref.headSha === headSha || current.status === "cancelled") break;
          const stored = await moveToHead(current, headSha);
          if (stored) {
            changed.push(stored);
            break;
          }
          current = await mustGet(current.id);
        }
      }
      return changed;
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
