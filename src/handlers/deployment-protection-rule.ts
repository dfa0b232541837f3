import type { Context } from "probot";
import { checkDeploymentCallback } from "../core/deployment.js";
import { canonicalRepo } from "../core/repo-name.js";
import type { HandlerDeps } from "./handler-deps.js";

const SHA = /^[0-9a-f]{40}$/i;

/** What the event carries besides its declared fields: real deliveries also have the run's `sha` and `ref` at the top. */
interface Extra {
  sha?: unknown;
  ref?: unknown;
}

/**
 * A workflow run waits on an environment that has hitl as its deployment protection rule: open a
 * request for it. Its callback URL must be the GitHub API's review endpoint for this repository;
 * an event whose URL points anywhere else is refused and logged, and never answered.
 */
export function handleDeploymentProtectionRule(deps: HandlerDeps) {
  return async ({ payload }: Context<"deployment_protection_rule.requested">): Promise<void> => {
    const repo = canonicalRepo(payload.repository.full_name);
    const extra = payload as Extra;
    const environment = payload.environment ?? payload.deployment?.environment;
    const installationId = payload.installation?.id;
    const sha = payload.deployment?.sha ?? extra.sha;
    const refused = (reason: string, details: Record<string, unknown> = {}) => deps.log.warn({ repo, environment, ...details }, `deployment_protection_rule refused: ${reason}`);
    if (!installationId) return refused("the event names no installation");
    if (typeof environment !== "string" || environment === "") return refused("the event names no environment");
    if (typeof sha !== "string" || !SHA.test(sha)) return refused("the event names no commit sha");
    const callback = checkDeploymentCallback(payload.deployment_callback_url, await deps.github.apiBaseUrl(), repo);
    if (!callback.ok) return refused(callback.reason, { callbackUrl: String(payload.deployment_callback_url ?? "").slice(0, 300) });
    const ref = payload.deployment?.ref ?? (typeof extra.ref === "string" ? extra.ref : sha);
    const web = new URL(payload.repository.html_url).origin;
    const opened = await deps.engine.openDeployment({
      repo,
      installationId,
      deployment: {
        environment,
        ref,
        sha: sha.toLowerCase(),
        runId: callback.runId,
        runUrl: `${web}/${repo}/actions/runs/${callback.runId}`,
        commitUrl: `${web}/${repo}/commit/${sha.toLowerCase()}`,
        deploymentId: payload.deployment?.id ?? null,
        creator: payload.deployment?.creator?.login ?? null,
        sender: payload.sender?.login ?? null,
        event: payload.event ?? null,
      },
      pullRequestAuthors: (payload.pull_requests ?? []).map((pull) => pull.user?.login).filter((login): login is string => typeof login === "string"),
    });
    if (opened.type === "refused") {
      // Fails closed: the run is told at once rather than left waiting for an answer that never comes.
      deps.log.error({ repo, environment, runId: callback.runId, reason: opened.reason }, "deployment_protection_rule: .hitl.yml gives no usable policy for this deployment; rejected");
      await deps.github.reviewDeployment(installationId, repo, callback.runId, { environment, state: "rejected", comment: `Rejected by hitl: .hitl.yml gives no usable policy for ${environment}. Fix the file and re-run the job.` });
    } else if (opened.type === "replayed") deps.log.info({ repo, environment, runId: callback.runId, requestId: opened.request.id }, "deployment_protection_rule: this deployment already has a request; ignored");
  };
}
