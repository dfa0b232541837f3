import type { Context } from "probot";
import type { HandlerDeps } from "./handler-deps.js";

/** An approving review approves; a review requesting changes rejects; comments do nothing. */
export function handlePullRequestReview(deps: HandlerDeps) {
  return async ({ payload }: Context<"pull_request_review.submitted">): Promise<void> => {
    const { review, pull_request: pull } = payload;
    await deps.engine.decideFromReview({
      id: review.id,
      repo: payload.repository.full_name,
      number: pull.number,
      state: review.state,
      body: review.body ?? null,
      user: review.user ? { login: review.user.login, type: review.user.type ?? "User" } : null,
      submittedAt: review.submitted_at ?? null,
      ...(pull.user ? { pullRequestAuthor: pull.user.login } : {}),
    });
  };
}
