import type { Context } from "probot";
import { DeliveryInHandError } from "./deliveries.js";
import { canonicalRepo } from "../core/repo-name.js";
import type { HandlerDeps } from "./handler-deps.js";

/**
 * An approving review approves; a review requesting changes rejects; comments do nothing. A
 * review counts only on the commit the request is on (GitHub sends it as `commit_id`).
 */
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
      commitId: review.commit_id,
      ...(pull.user ? { pullRequestAuthor: pull.user.login } : {}),
    });
    // Another copy (recovery, or a handler the store failed) holds it: not acknowledged, so never lost to that copy failing.
    if (result === "in_hand") throw new DeliveryInHandError(id);
  };
}

/** A dismissed review takes back the approval it gave, while the pull request is open. */
export function handlePullRequestReviewDismissed(deps: HandlerDeps) {
  return async ({ payload }: Context<"pull_request_review.dismissed">): Promise<void> => {
    const reviewer = payload.review.user?.login;
    if (!reviewer || payload.pull_request.state !== "open") return;
    const repo = canonicalRepo(payload.repository.full_name);
    const { number } = payload.pull_request;
    const reopened = await deps.engine.reviewDismissed(repo, number, reviewer, payload.sender.login);
    if (reopened.length) deps.log.info({ repo, number, reviewer, requests: reopened.map((r) => r.id) }, "a dismissed review took its approval back");
  };
}
