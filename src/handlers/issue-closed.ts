import type { Context } from "probot";
import { canonicalRepo } from "../core/repo-name.js";
import type { HandlerDeps } from "./handler-deps.js";

/**
 * A request's issue closed by hand while the request waits: reopened with a reply, or a rejection
 * where `.hitl.yml` says `close_means: reject` (engine/issue-events.ts). hitl's own close, which
 * follows every decision, is left alone, so closing never loops.
 */
export function handleIssueClosed(deps: HandlerDeps) {
  return async ({ payload }: Context<"issues.closed">): Promise<void> => {
    const { issue, sender } = payload;
    if (issue.pull_request) return;
    if (sender.type === "Bot" && sender.login === (await deps.ownLogin())) return;
    const repo = canonicalRepo(payload.repository.full_name);
    const result = await deps.engine.issueClosed({
      repo,
      number: issue.number,
      actor: { login: sender.login, type: sender.type ?? "User" },
      ...(issue.closed_at ? { closedAt: issue.closed_at } : {}),
    });
    if (result.type === "reopened") deps.log.info({ repo, number: issue.number, requestId: result.request.id, closer: sender.login, why: result.why.type }, "a request's issue was closed by hand; reopened it");
    if (result.type === "decided") deps.log.info({ repo, number: issue.number, requestId: result.request.id, closer: sender.login, status: result.request.status }, "a request's issue was closed by hand");
  };
}

/**
 * A request's issue deleted, or transferred to another repository: the pending requests on it are
 * posted again in their own repository.
 */
export function handleIssueGone(deps: HandlerDeps) {
  return async ({ payload }: Context<"issues.deleted" | "issues.transferred">): Promise<void> => {
    const repo = canonicalRepo(payload.repository.full_name);
    const to =
      payload.action === "transferred"
        ? { repo: canonicalRepo(payload.changes.new_repository.full_name), number: payload.changes.new_issue.number, url: payload.changes.new_issue.html_url ?? null }
        : undefined;
    await deps.engine.issueGone({ repo, number: payload.issue.number, how: payload.action, ...(to ? { to } : {}) });
  };
}
