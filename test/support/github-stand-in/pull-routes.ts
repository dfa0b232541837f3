import { bodyObject, pullIn, repoFrom, stringList } from "./lookup.js";
import { GitHubError, paginate, route, type Route } from "./router.js";
import { mergeBlockedBy } from "./protection-routes.js";
import { isCollaborator, teamMembers } from "./state.js";

export const pullRoutes: Route[] = [
  route("GET", "/repos/:owner/:repo/pulls", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const wanted = req.query.state ?? "open";
    // `head=owner:branch`, as GitHub takes it: only pull requests from that branch.
    const head = req.query.head;
    const pulls = repo.pulls.filter(
      (p) => (wanted === "all" || repo.issues.find((i) => i.number === p.number)?.state === wanted) && (head === undefined || head === `${repo.owner}:${p.headRef}`),
    );
    return paginate(req, ctx, pulls.map((p) => ctx.shapes.pull(repo, p)));
  }),

  route("GET", "/repos/:owner/:repo/pulls/:number", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    return { status: 200, body: ctx.shapes.pull(repo, pullIn(repo, req.params.number)) };
  }),

  route("GET", "/repos/:owner/:repo/pulls/:number/files", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const pull = pullIn(repo, req.params.number);
    const files = pull.files.map((f) => ({
      sha: "0".repeat(40),
      filename: f.filename,
      status: f.status,
      additions: f.additions,
      deletions: f.deletions,
      changes: f.additions + f.deletions,
      blob_url: `https://github.com/${repo.fullName}/blob/${pull.headSha}/${f.filename}`,
      raw_url: `https://github.com/${repo.fullName}/raw/${pull.headSha}/${f.filename}`,
      contents_url: `${ctx.apiUrl}/repos/${repo.fullName}/contents/${f.filename}?ref=${pull.headSha}`,
      ...(f.patch === undefined ? {} : { patch: f.patch }),
    }));
    return paginate(req, ctx, files);
  }),

  route("GET", "/repos/:owner/:repo/pulls/:number/reviews", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const pull = pullIn(repo, req.params.number);
    return paginate(req, ctx, pull.reviews.map((review) => ctx.shapes.review(repo, pull, review)));
  }),

  route("PUT", "/repos/:owner/:repo/pulls/:number/merge", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const pull = pullIn(repo, req.params.number);
    const issue = repo.issues.find((i) => i.number === pull.number);
    if (pull.merged || issue?.state !== "open") throw new GitHubError(405, "Pull Request is not mergeable");
    const blocked = mergeBlockedBy(repo, pull.baseRef, pull.headSha);
    if (blocked) throw new GitHubError(405, blocked);
    pull.merged = true;
    pull.mergedAt = ctx.now();
    Object.assign(issue, { state: "closed", closedAt: ctx.now(), updatedAt: ctx.now() });
    return { status: 200, body: { sha: pull.headSha, merged: true, message: "Pull Request successfully merged" } };
  }),

  route("GET", "/repos/:owner/:repo/pulls/:number/requested_reviewers", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const pull = pullIn(repo, req.params.number);
    return {
      status: 200,
      body: {
        users: pull.requestedReviewers.map(ctx.shapes.user),
        teams: pull.requestedTeams.map((slug) => ctx.shapes.team(repo.owner, slug)),
      },
    };
  }),

  route("POST", "/repos/:owner/:repo/pulls/:number/requested_reviewers", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const pull = pullIn(repo, req.params.number);
    const author = repo.issues.find((i) => i.number === pull.number)?.user ?? "";
    const body = bodyObject(req);
    const reviewers = stringList(body.reviewers, "PullRequest", "reviewers") ?? [];
    const teams = stringList(body.team_reviewers, "PullRequest", "team_reviewers") ?? [];
    if (reviewers.some((login) => login.toLowerCase() === author.toLowerCase())) {
      throw new GitHubError(422, "Review cannot be requested from pull request author.");
    }
    const strangers = [
      ...reviewers.filter((login) => !isCollaborator(repo, login)),
      ...teams.filter((slug) => teamMembers(ctx.state, repo.owner, slug) === undefined),
    ];
    if (strangers.length > 0) {
      throw new GitHubError(
        422,
        `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${repo.fullName} repository.`,
      );
    }
    pull.requestedReviewers = union(pull.requestedReviewers, reviewers);
    pull.requestedTeams = union(pull.requestedTeams, teams);
    return { status: 201, body: ctx.shapes.pull(repo, pull) };
  }),

  route("DELETE", "/repos/:owner/:repo/pulls/:number/requested_reviewers", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const pull = pullIn(repo, req.params.number);
    const body = bodyObject(req);
    const reviewers = (stringList(body.reviewers, "PullRequest", "reviewers") ?? []).map((l) => l.toLowerCase());
    const teams = (stringList(body.team_reviewers, "PullRequest", "team_reviewers") ?? []).map((s) => s.toLowerCase());
    pull.requestedReviewers = pull.requestedReviewers.filter((l) => !reviewers.includes(l.toLowerCase()));
    pull.requestedTeams = pull.requestedTeams.filter((s) => !teams.includes(s.toLowerCase()));
    return { status: 200, body: ctx.shapes.pull(repo, pull) };
  }),
];

function union(current: string[], added: string[]): string[] {
  const result = [...current];
  for (const value of added) if (!result.some((v) => v.toLowerCase() === value.toLowerCase())) result.push(value);
  return result;
}
