import type { Context } from "probot";
import { canonicalRepo } from "../core/repo-name.js";
import type { HandlerDeps } from "./handler-deps.js";

/**
 * hitl changes a request's issue body only to keep its tally of votes, and anyone with write
 * access may edit it (the agent's own GitHub account among them): once someone else edits the
 * title or body, people no longer read what the agent asked. The pending requests on that issue
 * are cancelled, so nobody approves edited text; the agent asks again.
 */
export function handleIssueEdited(deps: HandlerDeps) {
  return async ({ payload }: Context<"issues.edited">): Promise<void> => {
    const { changes, issue } = payload;
    if (!changes.title && !changes.body) return;
    if (payload.sender.type === "Bot" && payload.sender.login === (await deps.ownLogin())) return;
    const repo = canonicalRepo(payload.repository.full_name);
    const reason = `Its title or description was edited on GitHub by ${payload.sender.login}, so it no longer shows what the agent asked.`;
    for (const request of await deps.engine.onSurface(repo, issue.number)) {
      if (request.status !== "pending" || request.surfaceRef?.type !== "issue") continue;
      await deps.engine.cancelBySystem(request, reason, "issue_edited");
      deps.log.info({ repo, number: issue.number, requestId: request.id, editor: payload.sender.login }, "a request's issue was edited; the request was cancelled");
    }
  };
}
