import { bodyObject, issueIn, optionalString, repoFrom, requiredString, stringList } from "./lookup.js";
import { GitHubError, notFound, paginate, route, validationFailed, type Reply, type Route, type RouteContext } from "./router.js";
import { isReactionContent } from "./shapes.js";
import {
  allocateId,
  ensureLabel,
  isCollaborator,
  newIssue,
  nextIssueNumber,
  type CommentRecord,
  type IssueRecord,
  type ReactionRecord,
  type RepoRecord,
} from "./state.js";

const STATE_REASONS = ["completed", "not_planned", "reopened"];

export const issueRoutes: Route[] = [
  route("POST", "/repos/:owner/:repo/issues", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const body = bodyObject(req);
    const title = requiredString(body.title, "Issue", "title");
    const issue = newIssue(ctx.state, nextIssueNumber(repo), title, optionalString(body.body, "Issue", "body") ?? null, ctx.actor, ctx.now());
    issue.labels = setLabels(ctx, repo, stringList(body.labels, "Issue", "labels") ?? []);
    issue.assignees = strictAssignees(repo, assigneesFrom(body));
    repo.issues.push(issue);
    return { status: 201, body: ctx.shapes.issue(repo, issue) };
  }),

  route("GET", "/repos/:owner/:repo/issues", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const { state = "open", labels, creator, assignee, sort = "created", direction = "desc" } = req.query;
    const wantedLabels = labels ? labels.split(",").map((l) => l.trim().toLowerCase()) : [];
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    const matches = repo.issues.filter(
      (i) =>
        (state === "all" || i.state === state) &&
        wantedLabels.every((l) => i.labels.some((have) => have.toLowerCase() === l)) &&
        (creator === undefined || same(i.user, creator)) &&
        (assignee === undefined ||
          (assignee === "none" ? i.assignees.length === 0 : assignee === "*" ? i.assignees.length > 0 : i.assignees.some((a) => same(a, assignee)))),
    );
    const key = sort === "updated" ? "updatedAt" : "createdAt";
    const sign = direction === "asc" ? 1 : -1;
    matches.sort((a, b) => sign * (a[key].localeCompare(b[key]) || a.number - b.number));
    return paginate(req, ctx, matches.map((i) => ctx.shapes.issue(repo, i)));
  }),

  route("GET", "/repos/:owner/:repo/issues/:number", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    return { status: 200, body: ctx.shapes.issue(repo, issueIn(repo, req.params.number)) };
  }),

  route("PATCH", "/repos/:owner/:repo/issues/:number", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const issue = issueIn(repo, req.params.number);
    const body = bodyObject(req);
    const title = optionalString(body.title, "Issue", "title");
    if (title !== undefined) issue.title = title;
    if (body.body !== undefined) issue.body = body.body === null ? null : (optionalString(body.body, "Issue", "body") ?? null);
    const labels = stringList(body.labels, "Issue", "labels");
    if (labels) issue.labels = setLabels(ctx, repo, labels);
    if (body.assignees !== undefined || body.assignee !== undefined) issue.assignees = strictAssignees(repo, assigneesFrom(body));
    changeState(issue, body.state, body.state_reason, ctx.now());
    touch(issue, ctx);
    return { status: 200, body: ctx.shapes.issue(repo, issue) };
  }),

  route("GET", "/repos/:owner/:repo/issues/:number/comments", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const issue = issueIn(repo, req.params.number);
    // `since` keeps the comments updated at or after it; the order stays by creation.
    const since = req.query.since === undefined ? null : sinceTime(req.query.since);
    const listed = issue.comments.filter((c) => since === null || Date.parse(c.updatedAt) >= since);
    return paginate(req, ctx, listed.map((c) => ctx.shapes.comment(repo, issue, c)));
  }),

  route("POST", "/repos/:owner/:repo/issues/:number/comments", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const issue = issueIn(repo, req.params.number);
    const text = requiredString(bodyObject(req).body, "IssueComment", "body");
    const now = ctx.now();
    const comment: CommentRecord = { id: allocateId(ctx.state), body: text, user: ctx.actor, createdAt: now, updatedAt: now, reactions: [] };
    issue.comments.push(comment);
    touch(issue, ctx);
    return { status: 201, body: ctx.shapes.comment(repo, issue, comment) };
  }),

  route("GET", "/repos/:owner/:repo/issues/comments/:id", (req, ctx) => {
    const { repo, issue, comment } = commentFrom(req.params.id, repoFrom(req, ctx));
    return { status: 200, body: ctx.shapes.comment(repo, issue, comment) };
  }),

  route("PATCH", "/repos/:owner/:repo/issues/comments/:id", (req, ctx) => {
    const { repo, issue, comment } = commentFrom(req.params.id, repoFrom(req, ctx));
    comment.body = requiredString(bodyObject(req).body, "IssueComment", "body");
    comment.updatedAt = ctx.now();
    return { status: 200, body: ctx.shapes.comment(repo, issue, comment) };
  }),

  route("DELETE", "/repos/:owner/:repo/issues/comments/:id", (req, ctx) => {
    const { issue, comment } = commentFrom(req.params.id, repoFrom(req, ctx));
    issue.comments.splice(issue.comments.indexOf(comment), 1);
    return { status: 204 };
  }),

  route("GET", "/repos/:owner/:repo/issues/:number/labels", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    return labelList(ctx, repo, issueIn(repo, req.params.number));
  }),

  ...(["POST", "PUT"] as const).map((method) =>
    route(method, "/repos/:owner/:repo/issues/:number/labels", (req, ctx) => {
      const repo = repoFrom(req, ctx);
      const issue = issueIn(repo, req.params.number);
      const raw = Array.isArray(req.body) ? req.body : bodyObject(req).labels;
      const names = stringList(raw ?? [], "Label", "labels") ?? [];
      issue.labels = setLabels(ctx, repo, method === "PUT" ? names : [...issue.labels, ...names]);
      touch(issue, ctx);
      return labelList(ctx, repo, issue);
    }),
  ),

  route("DELETE", "/repos/:owner/:repo/issues/:number/labels", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const issue = issueIn(repo, req.params.number);
    issue.labels = [];
    touch(issue, ctx);
    return { status: 204 };
  }),

  route("DELETE", "/repos/:owner/:repo/issues/:number/labels/:name", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const issue = issueIn(repo, req.params.number);
    const wanted = (req.params.name ?? "").toLowerCase();
    const index = issue.labels.findIndex((l) => l.toLowerCase() === wanted);
    if (index === -1) throw new GitHubError(404, "Label does not exist");
    issue.labels.splice(index, 1);
    touch(issue, ctx);
    return labelList(ctx, repo, issue);
  }),

  route("POST", "/repos/:owner/:repo/issues/:number/assignees", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const issue = issueIn(repo, req.params.number);
    // GitHub drops people who cannot be assigned here instead of failing.
    const added = (stringList(bodyObject(req).assignees, "Issue", "assignees") ?? []).filter((login) => isCollaborator(repo, login));
    issue.assignees = unique([...issue.assignees, ...added]);
    touch(issue, ctx);
    return { status: 201, body: ctx.shapes.issue(repo, issue) };
  }),

  route("DELETE", "/repos/:owner/:repo/issues/:number/assignees", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const issue = issueIn(repo, req.params.number);
    const removed = (stringList(bodyObject(req).assignees, "Issue", "assignees") ?? []).map((l) => l.toLowerCase());
    issue.assignees = issue.assignees.filter((a) => !removed.includes(a.toLowerCase()));
    touch(issue, ctx);
    return { status: 200, body: ctx.shapes.issue(repo, issue) };
  }),

  route("GET", "/repos/:owner/:repo/assignees/:username", (req, ctx) =>
    isCollaborator(repoFrom(req, ctx), req.params.username ?? "") ? { status: 204 } : notFound(),
  ),

  route("POST", "/repos/:owner/:repo/issues/comments/:id/reactions", (req, ctx) => {
    const { comment } = commentFrom(req.params.id, repoFrom(req, ctx));
    return react(ctx, comment.reactions, bodyObject(req).content);
  }),

  route("GET", "/repos/:owner/:repo/issues/comments/:id/reactions", (req, ctx) => {
    const { comment } = commentFrom(req.params.id, repoFrom(req, ctx));
    const content = req.query.content;
    return paginate(req, ctx, comment.reactions.filter((r) => content === undefined || r.content === content).map(ctx.shapes.reaction));
  }),

  route("POST", "/repos/:owner/:repo/issues/:number/reactions", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    return react(ctx, issueIn(repo, req.params.number).reactions, bodyObject(req).content);
  }),
];

/** GitHub takes an ISO 8601 time and answers 422 with this message for anything else. */
function sinceTime(value: string): number {
  const parsed = ISO_8601.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(parsed)) throw new GitHubError(422, "The since parameter needs to be in ISO 8601 format: YYYY-MM-DDTHH:MM:SSZ");
  return parsed;
}
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function assigneesFrom(body: Record<string, unknown>): string[] {
  const list = stringList(body.assignees, "Issue", "assignees") ?? [];
  const single = optionalString(body.assignee ?? undefined, "Issue", "assignee");
  return unique(single ? [single, ...list] : list);
}

function strictAssignees(repo: RepoRecord, logins: string[]): string[] {
  const invalid = logins.filter((login) => !isCollaborator(repo, login));
  if (invalid.length > 0) validationFailed(...invalid.map((value) => ({ value, resource: "Issue", field: "assignees", code: "invalid" })));
  return logins;
}

function setLabels(ctx: RouteContext, repo: RepoRecord, names: string[]): string[] {
  return unique(names.map((name) => ensureLabel(ctx.state, repo, name).name));
}

function labelList(ctx: RouteContext, repo: RepoRecord, issue: IssueRecord): Reply {
  return { status: 200, body: issue.labels.map((name) => ctx.shapes.label(repo, ensureLabel(ctx.state, repo, name))) };
}

function changeState(issue: IssueRecord, state: unknown, reason: unknown, now: string): void {
  if (state !== undefined && state !== "open" && state !== "closed") validationFailed({ resource: "Issue", field: "state", code: "invalid" });
  if (reason !== undefined && reason !== null && !STATE_REASONS.includes(String(reason))) {
    validationFailed({ resource: "Issue", field: "state_reason", code: "invalid" });
  }
  if (state === "closed" && issue.state === "open") {
    issue.state = "closed";
    issue.closedAt = now;
    issue.stateReason = typeof reason === "string" ? reason : "completed";
  } else if (state === "open" && issue.state === "closed") {
    issue.state = "open";
    issue.closedAt = null;
    issue.stateReason = "reopened";
  } else if (typeof reason === "string") {
    issue.stateReason = reason;
  }
}

function commentFrom(id: string | undefined, repo: RepoRecord): { repo: RepoRecord; issue: IssueRecord; comment: CommentRecord } {
  for (const issue of repo.issues) {
    const comment = issue.comments.find((c) => String(c.id) === id);
    if (comment) return { repo, issue, comment };
  }
  return notFound();
}

function react(ctx: RouteContext, reactions: ReactionRecord[], content: unknown): Reply {
  if (!isReactionContent(content)) return validationFailed({ resource: "Reaction", field: "content", code: "invalid" });
  const existing = reactions.find((r) => r.content === content && r.user === ctx.actor);
  if (existing) return { status: 200, body: ctx.shapes.reaction(existing) };
  const reaction: ReactionRecord = { id: allocateId(ctx.state), content, user: ctx.actor, createdAt: ctx.now() };
  reactions.push(reaction);
  return { status: 201, body: ctx.shapes.reaction(reaction) };
}

function touch(issue: IssueRecord, ctx: RouteContext): void {
  issue.updatedAt = ctx.now();
}

function unique(values: string[]): string[] {
  const seen = new Set<string>();
  return values.filter((v) => !seen.has(v.toLowerCase()) && seen.add(v.toLowerCase()));
}
