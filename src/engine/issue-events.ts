import type { Actor } from "../core/authorize.js";
import type { CloseRefusal } from "../core/render/comments.js";
import { renderReopenedReply } from "../core/render/comments.js";
import type { ApprovalRequest, SurfaceRef } from "../core/types.js";
import { CAS_ATTEMPTS, type EngineContext } from "./context.js";
import type { DecisionOutcome, GitHubDecision } from "./decide-request.js";

/** What became of a request's issue someone closed by hand. */
export type ClosedResult = { type: "not_a_request" } | { type: "decided"; request: ApprovalRequest } | { type: "reopened"; request: ApprovalRequest; why: CloseRefusal };

/** Where a request's issue went: deleted, or transferred to another repository. */
export interface IssueGone {
  repo: string;
  number: number;
  how: "deleted" | "transferred";
  /** A transfer: the issue's new home, as the webhook says it. */
  to?: { repo: string; number: number; url: string | null };
}

const pendingOnIssue = (requests: ApprovalRequest[], number: number) =>
  requests.filter((r) => r.status === "pending" && r.surfaceRef?.type === "issue" && r.surfaceRef.number === number);

/**
 * What people do to a request's issue besides commenting: closing it by hand, deleting it, or
 * transferring it to another repository. None leaves a pending request without a place to decide.
 */
export function createIssueEvents(ctx: EngineContext, decideFromGitHub: (input: GitHubDecision) => Promise<DecisionOutcome[]>) {
  const { store, github, clock, log, audit, job, commit, mustGet } = ctx;

  /** Why a close that went through the decision path left the request pending. */
  function refusalOf(outcomes: DecisionOutcome[]): CloseRefusal {
    for (const outcome of outcomes) {
      if (outcome.type === "refused") return { type: "refused", reason: outcome.reason };
      if (outcome.type === "needs_input") return { type: "needs_input" };
      if (outcome.type === "voted") return { type: "voted" };
      if (outcome.type === "past_deadline") return { type: "past_deadline" };
    }
    return { type: "reopen_only" };
  }

  return {
    /**
     * Someone other than hitl closed a request's issue. With `.hitl.yml`'s `close_means: reject`
     * the close is a `/reject` by that person, through the same checks (the requester, its agent
     * and bots never count); otherwise, or when it did not end the request, the issue is reopened
     * with a one-line reply saying how to decide.
     */
    async issueClosed(input: { repo: string; number: number; actor: Actor; closedAt?: string }): Promise<ClosedResult> {
      const [first] = pendingOnIssue(await store.findBySurface(input.repo, input.number), input.number);
      if (!first) return { type: "not_a_request" };
      const loaded = await github.loadConfig(first.installationId, input.repo);
      let why: CloseRefusal = { type: "reopen_only" };
      // A batch issue holds many requests: closing it never rejects them all.
      if (loaded.config?.close_means === "reject" && !first.batch) {
        const outcomes = await decideFromGitHub({
          repo: input.repo,
          number: input.number,
          actor: input.actor,
          action: "reject",
          justification: null,
          via: "issue_closed",
          ...(input.closedAt ? { madeAt: input.closedAt } : {}),
        });
        const decided = outcomes.find((outcome) => outcome.type === "decided");
        why = refusalOf(outcomes);
        const [still] = pendingOnIssue(await store.findBySurface(input.repo, input.number), input.number);
        if (!still) return decided ? { type: "decided", request: decided.request } : { type: "not_a_request" };
      }
      const request = (await store.get(first.id)) ?? first;
      if (request.status !== "pending") return { type: "decided", request };
      await github.reopen(request.installationId, input.repo, input.number);
      await github.reply(request.installationId, input.repo, input.number, renderReopenedReply(input.actor.login, request, why)).catch((error: unknown) => {
        log.warn({ err: error, requestId: request.id }, "could not explain why the issue was reopened");
      });
      return { type: "reopened", request, why };
    },

    /**
     * A request's issue was deleted or transferred away: each pending request on it is posted again
     * in its own repository, as a new issue (its `open_surface` job), and the audit trail says where
     * the old one went.
     */
    async issueGone(gone: IssueGone): Promise<ApprovalRequest[]> {
      const moved: ApprovalRequest[] = [];
      for (const found of pendingOnIssue(await store.findBySurface(gone.repo, gone.number), gone.number)) {
        let current = found;
        for (let i = 0; i < CAS_ATTEMPTS; i++) {
          if (current.status !== "pending" || current.surfaceRef?.type !== "issue" || current.surfaceRef.number !== gone.number) break;
          const from: SurfaceRef = current.surfaceRef;
          // The new issue has its own comments: recovery starts over there, from the request's opening.
          // A row of a batch is posted again in a batch of its own time, or alone.
          const { recovery: _recovery, batch: _batch, ...rest } = current;
          const next: ApprovalRequest = { ...rest, surfaceRef: null, updatedAt: clock().toISOString() };
          const reason = gone.how === "deleted" ? `issue #${gone.number} was deleted` : `issue #${gone.number} was transferred to ${gone.to?.repo ?? "another repository"}`;
          const details = { how: gone.how, from, ...(gone.to ? { to: gone.to } : {}) };
          const stored = await commit(next, current.version, [audit(next, "surface_moved", { type: "system", reason }, details)], [job(next, "open_surface", "surface_moved")]);
          if (stored) {
            moved.push(stored);
            log.info({ requestId: stored.id, repo: gone.repo, number: gone.number, how: gone.how }, "a request's issue went away; posting the request again");
            break;
          }
          current = await mustGet(current.id);
        }
      }
      return moved;
    },
  };
}
