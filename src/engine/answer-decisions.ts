import { renderAlreadyDecidedReply, renderNeedsInputReply, renderNotAllowedReply, renderOldHeadReply, renderPastDeadlineReply, renderUnknownActionReply } from "../core/render/comments.js";
import { renderVoteRefusedReply } from "../core/render/votes.js";
import type { DecisionOutcome } from "./decide-request.js";
import type { GitHubGateway, Logger } from "./ports.js";

/**
 * Tells a person why their decision did not count. A decision that did count is shown by the
 * surface update, so it needs no reply. Replies are best effort: the decision never waits on them.
 */
export async function answerDecisionOutcomes(
  outcomes: DecisionOutcome[],
  context: { github: GitHubGateway; log: Logger; login: string; action: string; number: number },
): Promise<void> {
  const replies = new Set<string>();
  for (const outcome of outcomes) {
    if (outcome.type === "refused") replies.add(renderNotAllowedReply(context.login, outcome.reason, outcome.allowed));
    else if (outcome.type === "unknown_action") replies.add(renderUnknownActionReply(context.login, context.action, outcome.request));
    else if (outcome.type === "already_decided") replies.add(renderAlreadyDecidedReply(context.login, outcome.request));
    else if (outcome.type === "past_deadline") replies.add(renderPastDeadlineReply(context.login, outcome.request));
    else if (outcome.type === "needs_input") replies.add(renderNeedsInputReply(context.login, outcome.problem));
    else if (outcome.type === "vote_refused") replies.add(renderVoteRefusedReply(context.login, outcome.reason));
    else if (outcome.type === "old_head") replies.add(renderOldHeadReply(context.login, outcome.headSha, outcome.request));
  }
  const first = outcomes[0]?.request;
  if (!first) return;
  for (const body of replies) {
    await context.github.reply(first.installationId, first.repo, context.number, body).catch((error: unknown) => {
      context.log.warn({ err: error, requestId: first.id }, "could not reply to the decider");
    });
  }
}
