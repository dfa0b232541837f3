import type { Context } from "probot";
import { isBot } from "../core/authorize.js";
import { parseCommand } from "../core/commands.js";
import { canonicalRepo } from "../core/repo-name.js";
import { answerDecisionOutcomes } from "./answer-decisions.js";
import type { HandlerDeps } from "./handler-deps.js";


/** `/approve`, `/reject` or `/choose <id>` in a comment on an issue or pull request. */
export function handleIssueComment(deps: HandlerDeps) {
  return async ({ payload }: Context<"issue_comment.created" | "issue_comment.edited">): Promise<void> => {
    const command = parseCommand(payload.comment.body ?? "");
    if (!command) return;
    const user = payload.comment.user;
    if (!user || isBot({ login: user.login, type: user.type ?? "User" })) {
      deps.log.debug({ login: user?.login }, "command from a bot ignored");
      return;
    }
    const action = command.type === "choose" ? command.actionId : command.type;
    const outcomes = await deps.engine.decideFromGitHub({
      repo: canonicalRepo(payload.repository.full_name),
      number: payload.issue.number,
      actor: { login: user.login, type: user.type ?? "User" },
      action,
      justification: command.justification,
      via: "comment",
      edited: payload.action === "edited",
      ...(payload.issue.pull_request && payload.issue.user ? { pullRequestAuthor: payload.issue.user.login } : {}),
    });
    if (outcomes.length === 0) {
      deps.log.debug({ repo: payload.repository.full_name, number: payload.issue.number }, "command on an issue with no approval request");
      return;
    }
    await answerDecisionOutcomes(outcomes, { github: deps.github, log: deps.log, login: user.login, action, number: payload.issue.number });
  };
}
