import { bodyObject, optionalString, repoFrom, requiredString } from "./lookup.js";
import { notFound, paginate, route, validationFailed, type Route, type RouteContext } from "./router.js";
import { allocateId, type CheckRunAction, type CheckRunOutput, type CheckRunRecord } from "./state.js";

const STATUSES = ["queued", "in_progress", "completed", "waiting", "requested", "pending"];
const CONCLUSIONS = ["action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"];
const MAX_TEXT = 65_535;

export const checkRoutes: Route[] = [
  route("POST", "/repos/:owner/:repo/check-runs", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const body = bodyObject(req);
    const run: CheckRunRecord = {
      id: allocateId(ctx.state),
      name: requiredString(body.name, "CheckRun", "name"),
      headSha: requiredString(body.head_sha, "CheckRun", "head_sha"),
      status: "queued",
      conclusion: null,
      externalId: null,
      detailsUrl: null,
      startedAt: ctx.now(),
      completedAt: null,
      output: { title: null, summary: null, text: null, annotationsCount: 0 },
      actions: [],
      appId: ctx.installationId === undefined ? null : ctx.state.app.id,
    };
    applyChanges(run, body, ctx);
    repo.checkRuns.push(run);
    return { status: 201, body: ctx.shapes.checkRun(repo, run) };
  }),

  route("PATCH", "/repos/:owner/:repo/check-runs/:id", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const run = repo.checkRuns.find((r) => String(r.id) === req.params.id) ?? notFound();
    const body = bodyObject(req);
    const name = optionalString(body.name, "CheckRun", "name");
    if (name !== undefined) run.name = name;
    applyChanges(run, body, ctx);
    return { status: 200, body: ctx.shapes.checkRun(repo, run) };
  }),

  route("GET", "/repos/:owner/:repo/check-runs/:id", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const run = repo.checkRuns.find((r) => String(r.id) === req.params.id) ?? notFound();
    return { status: 200, body: ctx.shapes.checkRun(repo, run) };
  }),

  route("GET", "/repos/:owner/:repo/commits/:ref/check-runs", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const ref = (req.params.ref ?? "").replace(/^refs\/heads\//, "");
    const sha = repo.pulls.find((p) => p.headRef === ref)?.headSha ?? ref;
    const { check_name: checkName, status, filter = "latest" } = req.query;
    let runs = repo.checkRuns.filter(
      (r) => r.headSha === sha && (checkName === undefined || r.name === checkName) && (status === undefined || r.status === status),
    );
    if (filter === "latest") runs = runs.filter((r) => !runs.some((other) => other.name === r.name && other.id > r.id));
    runs.sort((a, b) => b.id - a.id);
    return paginate(req, ctx, runs.map((r) => ctx.shapes.checkRun(repo, r)), (page) => ({ total_count: runs.length, check_runs: page }));
  }),
];

/**
 * Validates and applies the fields POST and PATCH share; a conclusion completes the run, as on
 * GitHub. A completed run keeps its status and conclusion for good (GitHub: "once a check run
 * transitions to completed, it's not possible to modify its status nor its conclusion"), so a
 * change to either is refused; sending the same ones again is harmless.
 */
function applyChanges(run: CheckRunRecord, body: Record<string, unknown>, ctx: RouteContext): void {
  const status = optionalString(body.status, "CheckRun", "status");
  const conclusion = body.conclusion === null ? undefined : optionalString(body.conclusion, "CheckRun", "conclusion");
  if (status !== undefined && !STATUSES.includes(status)) validationFailed({ resource: "CheckRun", field: "status", code: "invalid" });
  if (conclusion !== undefined && !CONCLUSIONS.includes(conclusion)) {
    validationFailed({ resource: "CheckRun", field: "conclusion", code: "invalid" });
  }
  if (run.status === "completed") {
    if (status !== undefined && status !== "completed") validationFailed({ resource: "CheckRun", field: "status", code: "invalid" });
    if (conclusion !== undefined && conclusion !== run.conclusion) validationFailed({ resource: "CheckRun", field: "conclusion", code: "invalid" });
  }
  if (status === "completed" && conclusion === undefined && run.conclusion === null) {
    validationFailed({ resource: "CheckRun", field: "conclusion", code: "missing_field" });
  }
  const externalId = optionalString(body.external_id, "CheckRun", "external_id");
  if (externalId !== undefined) run.externalId = externalId;
  const detailsUrl = optionalString(body.details_url, "CheckRun", "details_url");
  if (detailsUrl !== undefined) run.detailsUrl = detailsUrl;
  const startedAt = optionalString(body.started_at, "CheckRun", "started_at");
  if (startedAt !== undefined) run.startedAt = startedAt;
  if (body.output !== undefined) run.output = outputFrom(body.output, run.output);
  if (body.actions !== undefined) run.actions = actionsFrom(body.actions);
  if (conclusion !== undefined) {
    run.status = "completed";
    run.conclusion = conclusion;
    run.completedAt = optionalString(body.completed_at, "CheckRun", "completed_at") ?? ctx.now();
  } else if (status !== undefined) {
    run.status = status;
    if (status !== "completed") {
      run.conclusion = null;
      run.completedAt = null;
    }
  }
}

function outputFrom(value: unknown, previous: CheckRunOutput): CheckRunOutput {
  if (typeof value !== "object" || value === null) return validationFailed({ resource: "CheckRun", field: "output", code: "invalid" });
  const output = value as Record<string, unknown>;
  const title = requiredString(output.title, "CheckRun", "output.title");
  const summary = requiredString(output.summary, "CheckRun", "output.summary");
  const text = optionalString(output.text, "CheckRun", "output.text");
  if (summary.length > MAX_TEXT) validationFailed({ resource: "CheckRun", field: "output.summary", code: "too_long" });
  if (text !== undefined && text.length > MAX_TEXT) validationFailed({ resource: "CheckRun", field: "output.text", code: "too_long" });
  const annotations = Array.isArray(output.annotations) ? output.annotations.length : 0;
  if (annotations > 50) validationFailed({ resource: "CheckRun", field: "output.annotations", code: "too_long" });
  for (const annotation of Array.isArray(output.annotations) ? (output.annotations as Record<string, unknown>[]) : []) {
    // GitHub: a title of at most 255 characters, a message of at most 64 KB.
    if (typeof annotation.title === "string" && annotation.title.length > 255) validationFailed({ resource: "CheckRun", field: "output.annotations.title", code: "too_long" });
    if (typeof annotation.message !== "string") validationFailed({ resource: "CheckRun", field: "output.annotations.message", code: "missing_field" });
    if (Buffer.byteLength(annotation.message as string) > 64 * 1024) validationFailed({ resource: "CheckRun", field: "output.annotations.message", code: "too_long" });
  }
  return { title, summary, text: text ?? null, annotationsCount: previous.annotationsCount + annotations };
}

function actionsFrom(value: unknown): CheckRunAction[] {
  if (!Array.isArray(value)) return validationFailed({ resource: "CheckRun", field: "actions", code: "invalid" });
  if (value.length > 3) validationFailed({ resource: "CheckRun", field: "actions", code: "too_long" });
  return value.map((item: unknown, index) => {
    const action = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
    const field = (name: string, max: number) => {
      const text = requiredString(action[name], "CheckRun", `actions[${index}].${name}`);
      if (text.length > max) validationFailed({ resource: "CheckRun", field: `actions[${index}].${name}`, code: "too_long" });
      return text;
    };
    return { label: field("label", 20), description: field("description", 40), identifier: field("identifier", 20) };
  });
}
