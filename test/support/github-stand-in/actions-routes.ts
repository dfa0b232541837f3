import { bodyObject, optionalString, repoFrom } from "./lookup.js";
import { GitHubError, notFound, route, validationFailed, type Route, type RouteContext, type StandInRequest } from "./router.js";
import type { RepoRecord, WorkflowRunRecord } from "./state.js";

const REVIEW_STATES = ["approved", "rejected"];

/**
 * Workflow runs waiting on environments that have the app as a custom deployment protection
 * rule, and the app's answer (`POST …/actions/runs/{run_id}/deployment_protection_rule`), with
 * what GitHub checks: an installation token of the app on that repository, `environment_name`
 * required, `state` one of `approved` and `rejected` (or a `comment` alone), and a run that still
 * waits on that environment.
 */
export const actionsRoutes: Route[] = [
  route("GET", "/repos/:owner/:repo/actions/runs/:run_id", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    return { status: 200, body: runShape(repo, runIn(repo, req), ctx) };
  }),

  route("POST", "/repos/:owner/:repo/actions/runs/:run_id/deployment_protection_rule", (req, ctx) => {
    if (ctx.installationId === undefined) throw new GitHubError(403, "Resource not accessible by integration");
    const repo = repoFrom(req, ctx);
    const run = runIn(repo, req);
    const body = bodyObject(req);
    const environment = body.environment_name;
    if (typeof environment !== "string" || environment === "") validationFailed({ resource: "DeploymentProtectionRule", field: "environment_name", code: "missing_field" });
    const state = body.state;
    if (state !== undefined && !REVIEW_STATES.includes(String(state))) validationFailed({ resource: "DeploymentProtectionRule", field: "state", code: "invalid", value: state });
    const comment = optionalString(body.comment, "DeploymentProtectionRule", "comment");
    if (state === undefined && comment === undefined) validationFailed({ resource: "DeploymentProtectionRule", field: "comment", code: "missing_field" });
    const waiting = run.waitingOn.find((name) => name.toLowerCase() === (environment as string).toLowerCase());
    if (run.status === "completed" || !waiting) throw new GitHubError(422, "No pending deployment requests to approve or reject");
    run.reviews.push({ environment: waiting, state: (state as "approved" | "rejected" | undefined) ?? null, comment: comment ?? null, installationId: ctx.installationId, at: ctx.now() });
    if (state !== undefined) run.waitingOn = run.waitingOn.filter((name) => name !== waiting);
    return { status: 204 };
  }),
];

function runIn(repo: RepoRecord, req: StandInRequest): WorkflowRunRecord {
  return repo.runs.find((run) => String(run.id) === req.params.run_id) ?? notFound();
}

function runShape(repo: RepoRecord, run: WorkflowRunRecord, ctx: RouteContext) {
  return {
    id: run.id,
    name: "deploy",
    node_id: `WFR_${run.id}`,
    head_branch: repo.defaultBranch,
    head_sha: run.headSha,
    path: ".github/workflows/deploy.yml",
    run_number: 1,
    run_attempt: 1,
    event: "push",
    status: run.status,
    conclusion: run.conclusion,
    url: `${ctx.apiUrl}/repos/${repo.fullName}/actions/runs/${run.id}`,
    html_url: `https://github.com/${repo.fullName}/actions/runs/${run.id}`,
    created_at: run.createdAt,
    updated_at: run.createdAt,
  };
}
