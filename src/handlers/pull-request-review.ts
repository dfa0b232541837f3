import type { Context } from "probot";
import { DeliveryInHandError } from "./deliveries.js";
import { canonicalRepo } from "../core/repo-name.js";
import type { HandlerDeps } from "./handler-deps.js";

/** An approving review approves; a review requesting changes rejects; comments do nothing. */
export function handlePullRequestReview(deps: HandlerDeps) {
  return async ({ id, payload }: Context<"pull_request_review.submitted">): Promise<void> => {
    const { review, pull_request: pull } = payload;
    const result = await deps.engine.decideFromReview({
      id: review.id,
      repo: canonicalRepo(payload.repository.full_name),
      number: pull.number,
      state: review.state,
      body: review.body ?? null,
      user: review.user ? { login: review.user.login, type: review.user.type ?? "User" } : null,
      submittedAt: review.submitted_at ?? null,
      ...(pull.user ? { pullRequestAuthor: pull.user.login } : {}),
    });
    // Another copy (recovery, or a handler the store failed) holds it: not acknowledged, so never lost to that copy failing.
    if (result === "in_hand") throw new DeliveryInHandError(id);
  };
}
