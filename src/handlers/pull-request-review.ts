import type { Context } from "probot";
import { isBot } from "../core/authorize.js";
import { answerDecisionOutcomes } from "./answer-decisions.js";
import type { HandlerDeps } from "./handler-deps.js";


const ACTION_BY_STATE: Record<string, "approve" | "reject"> = { approved: "approve", changes_requested: "reject" };

/**
 * An approving review approves; a review requesting changes rejects; comments do nothing. A
 * review counts only on the commit the request is on (GitHub sends it as `commit_id`).
 */
export function handlePullRequestReview(deps: HandlerDeps) {
  return async ({ payload }: Context<"pull_request_review.submitted">): Promise<void> => {
    const action = ACTION_BY_STATE[payload.review.state.toLowerCase()];
    const user = payload.review.user;
    if (!action || !user || isBot({ login: user.login, type: user.type ?? "User" })) return;
    const outcomes = await deps.engine.decideFromGitHub({
      repo: payload.repository.full_name,
      number: payload.pull_request.number,
      actor: { login: user.login, type: user.type ?? "User" },
      action,
      justification: payload.review.body?.trim() || null,
      via: "review",
      headSha: payload.review.commit_id,
      ...(payload.pull_request.user ? { pullRequestAuthor: payload.pull_request.user.login } : {}),
    });
    await answerDecisionOutcomes(outcomes, { github: deps.github, log: deps.log, login: user.login, action, number: payload.pull_request.number });
  };
}

/** A dismissed review takes back the approval it gave, while the pull request is open. */
export function handlePullRequestReviewDismissed(deps: HandlerDeps) {
  return async ({ payload }: Context<"pull_request_review.dismissed">): Promise<void> => {
    const reviewer = payload.review.user?.login;
    if (!reviewer || payload.pull_request.state !== "open") return;
    const repo = payload.repository.full_name;
    const { number } = payload.pull_request;
    const reopened = await deps.engine.reviewDismissed(repo, number, reviewer, payload.sender.login);
    if (reopened.length) deps.log.info({ repo, number, reviewer, requests: reopened.map((r) => r.id) }, "a dismissed review took its approval back");
  };
}
