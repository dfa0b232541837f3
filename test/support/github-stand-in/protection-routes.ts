import { bodyObject, optionalString, repoFrom, requiredString } from "./lookup.js";
import { GitHubError, notFound, route, validationFailed, type Route, type RouteContext } from "./router.js";
import { allocateId, type CommitStatusRecord, type RepoRecord, type RequiredCheck } from "./state.js";

const STATUS_STATES = ["error", "failure", "pending", "success"] as const;
/** What GitHub counts as a passing required check run (docs: "successful, skipped, or neutral"). */
const PASSING_CONCLUSIONS = ["success", "neutral", "skipped"];

/**
 * Branch protection's required status checks, commit statuses, and the verdict a merge gets.
 * Not modelled: `strict` (up to date with the base), reviews, rulesets, administrators.
 */
export const protectionRoutes: Route[] = [
  route("PUT", "/repos/:owner/:repo/branches/:branch/protection", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const body = bodyObject(req);
    for (const field of ["required_status_checks", "enforce_admins", "required_pull_request_reviews", "restrictions"]) {
      if (!(field in body)) validationFailed({ resource: "Branch", field, code: "missing_field" });
    }
    const branch = req.params.branch ?? "";
    const checks = body.required_status_checks;
    repo.protection[branch] = { requiredStatusChecks: checks === null ? null : requiredChecksFrom(checks, repo, { strictRequired: true }) };
    return { status: 200, body: protectionShape(repo, branch, ctx) };
  }),

  route("GET", "/repos/:owner/:repo/branches/:branch/protection/required_status_checks", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const branch = req.params.branch ?? "";
    if (!repo.protection[branch]?.requiredStatusChecks) notFound("Required status checks not enabled");
    return { status: 200, body: requiredChecksShape(repo, branch, ctx) };
  }),

  route("PATCH", "/repos/:owner/:repo/branches/:branch/protection/required_status_checks", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const branch = req.params.branch ?? "";
    const protection = repo.protection[branch] ?? notFound("Branch not protected");
    const current = protection.requiredStatusChecks ?? { strict: false, checks: [] };
    protection.requiredStatusChecks = requiredChecksFrom(bodyObject(req), repo, { current });
    return { status: 200, body: requiredChecksShape(repo, branch, ctx) };
  }),

  route("POST", "/repos/:owner/:repo/statuses/:sha", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const body = bodyObject(req);
    const state = requiredString(body.state, "Status", "state");
    if (!(STATUS_STATES as readonly string[]).includes(state)) validationFailed({ resource: "Status", field: "state", code: "invalid" });
    const status: CommitStatusRecord = {
      id: allocateId(ctx.state),
      sha: req.params.sha ?? "",
      state: state as CommitStatusRecord["state"],
      context: optionalString(body.context, "Status", "context") ?? "default",
      description: optionalString(body.description, "Status", "description") ?? null,
      targetUrl: optionalString(body.target_url, "Status", "target_url") ?? null,
      appId: ctx.installationId === undefined ? null : ctx.state.app.id,
      createdAt: ctx.now(),
    };
    repo.statuses.push(status);
    return { status: 201, body: { id: status.id, url: `${ctx.apiUrl}/repos/${repo.fullName}/statuses/${status.sha}`, state: status.state, context: status.context, description: status.description, target_url: status.targetUrl, created_at: status.createdAt, updated_at: status.createdAt } };
  }),
];

/**
 * Why GitHub would refuse to merge `sha` into `branch`, or null when the required checks pass.
 * Per required check, the latest check run of that name and the latest commit status of that
 * context from an allowed source count; either passing satisfies it.
 */
export function mergeBlockedBy(repo: RepoRecord, branch: string, sha: string): string | null {
  for (const required of repo.protection[branch]?.requiredStatusChecks?.checks ?? []) {
    const allowed = (appId: number | null) => required.appId === null || appId === required.appId;
    const run = repo.checkRuns.filter((r) => r.headSha === sha && r.name === required.context && allowed(r.appId)).at(-1);
    const status = repo.statuses.filter((s) => s.sha === sha && s.context === required.context && allowed(s.appId)).at(-1);
    if ((run?.status === "completed" && PASSING_CONCLUSIONS.includes(run.conclusion ?? "")) || status?.state === "success") continue;
    const waiting = (run && run.status !== "completed") || (!run && status?.state === "pending");
    return `Required status check "${required.context}" is ${!run && !status ? "expected" : waiting ? "pending" : "failing"}.`;
  }
  return null;
}

/**
 * `checks: [{context, app_id}]`, or the deprecated `contexts: [...]`. Without `app_id`, GitHub
 * picks the app that most recently provided the check (any source when none did); `-1` is any.
 */
function requiredChecksFrom(value: unknown, repo: RepoRecord, options: { strictRequired?: boolean; current?: { strict: boolean; checks: RequiredCheck[] } }) {
  if (typeof value !== "object" || value === null) return validationFailed({ resource: "Branch", field: "required_status_checks", code: "invalid" });
  const body = value as Record<string, unknown>;
  if (body.strict !== undefined && typeof body.strict !== "boolean") validationFailed({ resource: "Branch", field: "strict", code: "invalid" });
  if (options.strictRequired && body.strict === undefined) validationFailed({ resource: "Branch", field: "strict", code: "missing_field" });
  if (body.checks !== undefined && body.contexts !== undefined) throw new GitHubError(422, "Only one of contexts or checks can be provided");
  let checks = options.current?.checks ?? [];
  if (body.contexts !== undefined) {
    if (!Array.isArray(body.contexts) || body.contexts.some((c) => typeof c !== "string")) validationFailed({ resource: "Branch", field: "contexts", code: "invalid" });
    checks = (body.contexts as string[]).map((context) => ({ context, appId: recentApp(repo, context) }));
  }
  if (body.checks !== undefined) {
    if (!Array.isArray(body.checks)) return validationFailed({ resource: "Branch", field: "checks", code: "invalid" });
    checks = body.checks.map((item: unknown, index) => {
      const check = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
      const context = requiredString(check.context, "Branch", `checks[${index}].context`);
      if (check.app_id !== undefined && !Number.isInteger(check.app_id)) validationFailed({ resource: "Branch", field: `checks[${index}].app_id`, code: "invalid" });
      const appId = check.app_id === undefined ? recentApp(repo, context) : check.app_id === -1 ? null : (check.app_id as number);
      return { context, appId };
    });
  }
  return { strict: (body.strict as boolean | undefined) ?? options.current?.strict ?? false, checks };
}

function recentApp(repo: RepoRecord, context: string): number | null {
  const sources = [...repo.checkRuns.filter((r) => r.name === context), ...repo.statuses.filter((s) => s.context === context)];
  return sources.sort((a, b) => a.id - b.id).at(-1)?.appId ?? null;
}

function requiredChecksShape(repo: RepoRecord, branch: string, ctx: RouteContext) {
  const checks = repo.protection[branch]?.requiredStatusChecks ?? { strict: false, checks: [] };
  const url = `${ctx.apiUrl}/repos/${repo.fullName}/branches/${branch}/protection/required_status_checks`;
  return {
    url,
    strict: checks.strict,
    contexts: checks.checks.map((c) => c.context),
    contexts_url: `${url}/contexts`,
    checks: checks.checks.map((c) => ({ context: c.context, app_id: c.appId })),
  };
}

function protectionShape(repo: RepoRecord, branch: string, ctx: RouteContext) {
  return {
    url: `${ctx.apiUrl}/repos/${repo.fullName}/branches/${branch}/protection`,
    ...(repo.protection[branch]?.requiredStatusChecks ? { required_status_checks: requiredChecksShape(repo, branch, ctx) } : {}),
  };
}
