import { buildRequest } from "../core/build-request.js";
import { deploymentAnswer, deploymentPolicy, deploymentRequestInput, DEPLOYMENT_REQUESTER } from "../core/deployment.js";
import { effectivePolicy } from "../core/effective-policy.js";
import type { ApprovalRequest, DeploymentRef, Evaluation } from "../core/types.js";
import { CAS_ATTEMPTS, type EngineContext } from "./context.js";
import { OPEN_SURFACE_GRACE_MS, retryDelayMs } from "./retry-policy.js";

/** A `deployment_protection_rule` event, after the handler checked its callback URL. */
export interface DeploymentEvent {
  repo: string;
  installationId: number;
  /** Everything but `policy`, which the repository's `.hitl.yml` settles. */
  deployment: Omit<DeploymentRef, "policy" | "answer">;
  /** The authors of the pull requests the run is for (a `pull_request` run deploys their code): they never approve it. */
  pullRequestAuthors?: string[];
}

export type DeploymentOpening = { type: "opened" | "replayed"; request: ApprovalRequest } | { type: "refused"; reason: string };

/**
 * Deployments gated like requests: opening one for a workflow run waiting on an environment,
 * and answering GitHub once it ends. People decide on the issue like any request; the request's
 * final jobs include `deployment_review`, which calls `answerDeployment`.
 */
export function createDeployments(ctx: EngineContext, resume: (requestId: string, attempt: number) => Promise<void>) {
  const { store, github, clock, newId, log, audit, job, commit, mustGet } = ctx;

  return {
    /**
     * Opens the request for a deployment, once per run, environment and deployment: a redelivered
     * event gets the first request back (`replayed`). Rules never decide it; its issue is posted
     * inline, or by the safety-net job when GitHub does not answer.
     */
    async openDeployment(event: DeploymentEvent): Promise<DeploymentOpening> {
      const loaded = await github.loadConfig(event.installationId, event.repo);
      const { config, entry, priority } = deploymentPolicy(loaded.config, event.deployment.environment);
      const deployment: DeploymentRef = { ...event.deployment, policy: entry };
      const input = deploymentRequestInput(event.repo, deployment, priority);
      const now = clock();
      const settled = effectivePolicy(config, input, now);
      // A file the schema accepted always settles; anything else fails closed, with the reason.
      if (!settled.ok) return { type: "refused", reason: settled.violations.map((v) => `${v.path}: ${v.message}`).join("; ") };
      const requesters = [deployment.creator, deployment.sender, ...(event.pullRequestAuthors ?? [])].filter((login): login is string => Boolean(login)).map((login) => login.toLowerCase());
      const built = buildRequest(input, settled.policy, { id: newId("req"), now, requestedBy: DEPLOYMENT_REQUESTER, installationId: event.installationId, agentLogins: [...new Set(requesters)] });
      const evaluation: Evaluation = { outcome: { type: "human", reason: "a person decides every deployment" }, rules: [], closestRuleId: null, configError: loaded.error };
      const request: ApprovalRequest = { ...built, deployment, evaluation };
      const safetyNet = job(request, "open_surface", "created", new Date(now.getTime() + OPEN_SURFACE_GRACE_MS));
      const details = { environment: deployment.environment, ref: deployment.ref, sha: deployment.sha, run_id: deployment.runId, creator: deployment.creator, sender: deployment.sender, policy: entry };
      const { request: stored, created } = await store.create(request, { audit: [audit(request, "created", { type: "system", reason: "deployment protection rule" }, details)], jobs: [safetyNet] });
      if (!created) return { type: "replayed", request: stored };
      try {
        await resume(stored.id, 1);
        await store.completeJob(safetyNet.id);
      } catch (error) {
        log.warn({ err: error, requestId: stored.id }, "could not post the deployment's issue yet; it will be retried");
        await store.retryJob(safetyNet.id, new Date(clock().getTime() + retryDelayMs(1)), error instanceof Error ? error.message : String(error));
      }
      return { type: "opened", request: (await store.get(stored.id)) ?? stored };
    },

    /**
     * Tells GitHub how a deployment's request ended, once. A run cancelled meanwhile (GitHub no
     * longer waits on it) ends the request as cancelled, with the answer it would have had.
     */
    async answerDeployment(requestId: string): Promise<void> {
      let current = await mustGet(requestId);
      const deployment = current.deployment;
      if (!deployment || current.status === "pending" || deployment.answer) return;
      const { state, comment } = deploymentAnswer(current, current.surfaceRef?.url ?? null);
      const outcome = await github.reviewDeployment(current.installationId, current.repo, deployment.runId, { environment: deployment.environment, state, comment });
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        const at = clock().toISOString();
        const details = { run_id: deployment.runId, environment: deployment.environment, state, comment };
        if (outcome === "answered") {
          const next: ApprovalRequest = { ...current, deployment: { ...deployment, answer: { state, at, taken: true } }, updatedAt: at };
          if (await commit(next, current.version, [audit(next, "deployment_answered", { type: "system", reason: "deployment protection rule" }, details)], [])) return;
        } else {
          const reason = `workflow run ${deployment.runId} was cancelled before hitl could answer GitHub, so nothing was deployed to ${deployment.environment}`;
          const next: ApprovalRequest = { ...current, status: "cancelled", deployment: { ...deployment, answer: { state, at, taken: false } }, updatedAt: at };
          if (await commit(next, current.version, [audit(next, "cancelled", { type: "system", reason }, { ...details, would_have_answered: state })], [])) {
            if (current.surfaceRef) {
              await github.reply(current.installationId, current.repo, current.surfaceRef.number, `The workflow run was cancelled before hitl could tell GitHub, so nothing was deployed to ${deployment.environment}. The decision is kept in the audit trail.`).catch((error: unknown) => log.warn({ err: error, requestId }, "could not say on the issue that the run was cancelled"));
            }
            return;
          }
        }
        current = await mustGet(requestId);
        if (current.deployment?.answer || current.status === "pending") return;
      }
      throw new Error(`could not record GitHub's answer for ${requestId} after ${CAS_ATTEMPTS} attempts`);
    },
  };
}
