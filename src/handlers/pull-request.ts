import type { Context } from "probot";
import { canonicalRepo } from "../core/repo-name.js";
import type { HandlerDeps } from "./handler-deps.js";


/**
 * Closing a pull request without merging cancels its requests; new commits may make approvals
 * stale. A reopened pull request may be on a new head, so reopening is treated as a push: a
 * cancelled or superseded request stays behind (its check run failing), every other one follows the head.
 */
export function handlePullRequest(deps: HandlerDeps) {
  return async ({ payload }: Context<"pull_request.synchronize" | "pull_request.reopened" | "pull_request.closed">): Promise<void> => {
    const repo = canonicalRepo(payload.repository.full_name);
    const { number } = payload.pull_request;
    if (payload.action === "synchronize" || payload.action === "reopened") {
      const changed = await deps.engine.pushedTo(repo, number, payload.pull_request.head.sha);
      if (changed.length) deps.log.info({ repo, number, requests: changed.map((r) => r.id) }, "requests moved to the new head commit");
      return;
    }
    if (payload.action === "closed" && !payload.pull_request.merged) {
      const onSurface = await deps.engine.onSurface(repo, number);
      for (const request of onSurface.filter((r) => r.status === "pending")) {
        await deps.engine.cancelBySystem(request, "The pull request was closed without being merged.", "pull_request_closed");
      }
    }
  };
}
