import type { Context } from "probot";
import { DeliveryInHandError } from "./deliveries.js";
import { canonicalRepo } from "../core/repo-name.js";
import type { HandlerDeps } from "./handler-deps.js";
import { parseSuggestCommand } from "../insights/suggest-command.js";

/** `/approve`, `/reject` or `/choose <id>` in a comment on an issue or pull request. */
export function handleIssueComment(deps: HandlerDeps) {
  return async ({ id, payload }: Context<"issue_comment.created" | "issue_comment.edited">): Promise<void> => {
    const { comment, issue } = payload;
    const suggest = payload.action === "created" ? parseSuggestCommand(comment.body ?? "") : null;
    if (suggest) {
      const user = comment.user ? { login: comment.user.login, type: comment.user.type ?? "User" } : null;
      const outcome = await deps.engine.suggestFromComment({ repo: canonicalRepo(payload.repository.full_name), number: issue.number, user, id: suggest.id });
      deps.log.info({ repo: payload.repository.full_name, number: issue.number, outcome }, "answered /hitl suggest");
      return;
    }
    const result = await deps.engine.decideFromComment({
      id: comment.id,
      repo: canonicalRepo(payload.repository.full_name),
      number: issue.number,
      body: comment.body ?? "",
      user: comment.user ? { login: comment.user.login, type: comment.user.type ?? "User" } : null,
      createdAt: comment.created_at,
      updatedAt: comment.updated_at,
      edited: payload.action === "edited",
      ...(issue.pull_request && issue.user ? { pullRequestAuthor: issue.user.login } : {}),
    });
    // Another copy (recovery, or a handler the store failed) holds it: not acknowledged, so never lost to that copy failing.
    if (result === "in_hand") throw new DeliveryInHandError(id);
  };
}
