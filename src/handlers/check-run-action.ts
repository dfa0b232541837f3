import type { Context } from "probot";
import { isBot } from "../core/authorize.js";
import { actionForIdentifier } from "../core/render/check-run.js";
import { canonicalRepo } from "../core/repo-name.js";
import { HitlError } from "../engine/errors.js";
import { answerDecisionOutcomes } from "../engine/answer-decisions.js";
import type { HandlerDeps } from "./handler-deps.js";


/**
 * A button on the `hitl/approval` check run; the check run's external id names the request. A
 * button on the check run of an earlier commit is answered, not applied; one on a check run
 * another app made (an agent's app can name its run `hitl/approval` and give it any external id)
 * is ignored.
 */
export function handleCheckRunAction(deps: HandlerDeps) {
  return async ({ payload }: Context<"check_run.requested_action">): Promise<void> => {
    const identifier = payload.requested_action?.identifier;
    const requestId = payload.check_run.external_id;
    if (!identifier || !requestId || isBot({ login: payload.sender.login, type: payload.sender.type ?? "User" })) return;
    if (payload.check_run.app?.id !== deps.appId) {
      deps.log.info({ requestId, appId: payload.check_run.app?.id }, "button on another app's check run ignored");
      return;
    }
    const request = await deps.engine.get(requestId).catch((error: unknown) => {
      if (error instanceof HitlError) return null;
      throw error;
    });
    if (!request?.surfaceRef || request.repo !== canonicalRepo(payload.repository.full_name)) {
      deps.log.info({ requestId, repo: payload.repository.full_name }, "check run action for an unknown request ignored");
      return;
    }
    const action = actionForIdentifier(request, identifier)?.id;
    if (!action) {
      deps.log.info({ requestId, identifier }, "check run action with an unknown identifier ignored");
      return;
    }
    const outcomes = await deps.engine.decideFromGitHub({
      repo: request.repo,
      number: request.surfaceRef.number,
      actor: { login: payload.sender.login, type: payload.sender.type ?? "User" },
      action,
      justification: null,
      via: "check_run",
      requestId,
      headSha: payload.check_run.head_sha,
    });
    await answerDecisionOutcomes(outcomes, { github: deps.github, log: deps.log, login: payload.sender.login, action, number: request.surfaceRef.number });
  };
}
