import type { Context } from "probot";
import { isBot } from "../core/authorize.js";
import { canonicalRepo } from "../core/repo-name.js";
import { answerDecisionOutcomes } from "./answer-decisions.js";
import type { HandlerDeps } from "./handler-deps.js";


const ACTION_BY_STATE: Record<string, "approve" | "reject"> = { approved: "approve", changes_requested: "reject" };

/** An approving review approves; a review requesting changes rejects; comments do nothing. */
export function handlePullRequestReview(deps: HandlerDeps) {
  return async ({ payload }: Context<"pull_request_review.submitted">): Promise<void> => {
    const action = ACTION_BY_STATE[payload.review.state.toLowerCase()];
    const user = payload.review.user;
    if (!action || !user || isBot({ login: user.login, type: user.type ?? "User" })) return;
    const outcomes = await deps.engine.decideFromGitHub({
      repo: canonicalRepo(payload.repository.full_name),
      number: payload.pull_request.number,
      actor: { login: user.login, type: user.type ?? "User" },
      action,
      justification: payload.review.body?.trim() || null,
      via: "review",
      ...(payload.pull_request.user ? { pullRequestAuthor: payload.pull_request.user.login } : {}),
    });
    await answerDecisionOutcomes(outcomes, { github: deps.github, log: deps.log, login: user.login, action, number: payload.pull_request.number });
  };
}
