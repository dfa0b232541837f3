import { hasStatus, splitRepo, type Octokit } from "./octokit.js";

export interface DeploymentReview {
  environment: string;
  state: "approved" | "rejected";
  comment: string;
}

/**
 * Answers a workflow run's deployment protection rule for one environment
 * (`POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule`), on the
 * installation's own API host. `gone`: the run no longer waits on the environment because it was
 * cancelled or deleted (GitHub answers 404, or 422 for a run that ended cancelled). A 422 for a
 * run that goes on means an earlier try's answer was taken: `answered`.
 */
export async function reviewDeployment(octokit: Octokit, repo: string, runId: number, review: DeploymentReview): Promise<"answered" | "gone"> {
  const { owner, repo: name } = splitRepo(repo);
  try {
    await octokit.rest.actions.reviewCustomGatesForRun({ owner, repo: name, run_id: runId, environment_name: review.environment, state: review.state, comment: review.comment });
    return "answered";
  } catch (error) {
    if (hasStatus(error, 404)) return "gone";
    if (!hasStatus(error, 422)) throw error;
  }
  try {
    const { data } = await octokit.rest.actions.getWorkflowRun({ owner, repo: name, run_id: runId });
    return data.conclusion === "cancelled" ? "gone" : "answered";
  } catch (error) {
    if (hasStatus(error, 404)) return "gone";
    throw error;
  }
}

/** The REST API base the app's clients call, e.g. `https://api.github.com` (GitHub Enterprise Server: `https://HOST/api/v3`). */
export function apiBaseUrl(octokit: Octokit): string {
  return String(octokit.request.endpoint.DEFAULTS.baseUrl);
}
