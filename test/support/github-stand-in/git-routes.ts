import { createHash } from "node:crypto";
import { bodyObject, repoFrom, requiredString } from "./lookup.js";
import { GitHubError, notFound, validationFailed, route, type Route } from "./router.js";
import { allocateId, newIssue, nextIssueNumber, type RepoRecord } from "./state.js";

/**
 * Branches, commits of one file and new pull requests, as GitHub validates them. A branch is a
 * key of `repo.files`; its head commit's sha is a hash of its files, and each commit's files are
 * also kept under that sha, so `contents?ref=<sha>` reads the tree of that commit.
 */

const SHA = /^[0-9a-f]{40}$/;

/** The sha of a branch's head: a hash of its name and files. */
export function headSha(repo: RepoRecord, branch: string): string {
  return createHash("sha1").update(JSON.stringify([repo.fullName, branch, repo.files[branch] ?? {}])).digest("hex");
}

function blobSha(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** The branch whose head is `sha`, if any. */
function branchAt(repo: RepoRecord, sha: string): string | undefined {
  return Object.keys(repo.files).find((name) => !SHA.test(name) && headSha(repo, name) === sha);
}

const refBody = (apiUrl: string, repo: RepoRecord, branch: string) => ({
  ref: `refs/heads/${branch}`,
  node_id: `REF_${branch}`,
  url: `${apiUrl}/repos/${repo.fullName}/git/refs/heads/${branch}`,
  object: { type: "commit", sha: headSha(repo, branch), url: `${apiUrl}/repos/${repo.fullName}/git/commits/${headSha(repo, branch)}` },
});

export const gitRoutes: Route[] = [
  route("GET", "/repos/:owner/:repo/git/ref/:ref+", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const ref = req.params.ref ?? "";
    if (!ref.startsWith("heads/")) return notFound();
    const branch = ref.slice("heads/".length);
    if (!(branch in repo.files) || SHA.test(branch)) return notFound();
    return { status: 200, body: refBody(ctx.apiUrl, repo, branch) };
  }),

  route("POST", "/repos/:owner/:repo/git/refs", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const body = bodyObject(req);
    const ref = requiredString(body.ref, "Reference", "ref");
    const sha = requiredString(body.sha, "Reference", "sha");
    if (!/^refs\/heads\/[^\s~^:?*[\\]+$/.test(ref) || ref.split("/").length < 3) throw new GitHubError(422, "Reference name is not valid");
    const branch = ref.slice("refs/heads/".length);
    if (branch in repo.files) throw new GitHubError(422, "Reference already exists");
    const from = SHA.test(sha) ? branchAt(repo, sha) : undefined;
    if (from === undefined) throw new GitHubError(422, "Object does not exist");
    repo.files[branch] = structuredClone(repo.files[from]!);
    repo.files[headSha(repo, branch)] = structuredClone(repo.files[branch]!);
    return { status: 201, body: refBody(ctx.apiUrl, repo, branch) };
  }),

  route("PUT", "/repos/:owner/:repo/contents/:path+", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const path = req.params.path ?? "";
    const body = bodyObject(req);
    const message = requiredString(body.message, "Commit", "message");
    const content = requiredString(body.content, "Commit", "content");
    if (!/^[A-Za-z0-9+/=\s]*$/.test(content)) throw new GitHubError(422, "content is not valid Base64");
    const branch = body.branch === undefined ? repo.defaultBranch : requiredString(body.branch, "Commit", "branch");
    const files = repo.files[branch];
    if (!files) throw new GitHubError(404, `Branch ${branch} not found`);
    const existing = files[path];
    if (existing !== undefined && body.sha === undefined) throw new GitHubError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.');
    if (existing !== undefined && body.sha !== blobSha(existing)) throw new GitHubError(409, `${path} does not match ${String(body.sha)}`);
    const text = Buffer.from(content, "base64").toString("utf8");
    files[path] = text;
    const commit = headSha(repo, branch);
    repo.files[commit] = structuredClone(files);
    return {
      status: existing === undefined ? 201 : 200,
      body: {
        content: { type: "file", name: path.split("/").at(-1), path, sha: blobSha(text), size: Buffer.byteLength(text, "utf8") },
        commit: { sha: commit, message, html_url: `https://github.com/${repo.fullName}/commit/${commit}` },
      },
    };
  }),

  route("POST", "/repos/:owner/:repo/pulls", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const body = bodyObject(req);
    const title = requiredString(body.title, "PullRequest", "title");
    const head = requiredString(body.head, "PullRequest", "head");
    const base = requiredString(body.base, "PullRequest", "base");
    const headBranch = head.includes(":") ? head.slice(head.indexOf(":") + 1) : head;
    if (!(headBranch in repo.files) || SHA.test(headBranch)) return validationFailed({ resource: "PullRequest", field: "head", code: "invalid" });
    if (!(base in repo.files) || SHA.test(base)) return validationFailed({ resource: "PullRequest", field: "base", code: "invalid" });
    if (JSON.stringify(repo.files[headBranch]) === JSON.stringify(repo.files[base])) {
      return validationFailed({ resource: "PullRequest", code: "custom", message: `No commits between ${base} and ${headBranch}` });
    }
    const open = repo.pulls.find((pull) => pull.headRef === headBranch && pull.baseRef === base && repo.issues.find((issue) => issue.number === pull.number)?.state === "open");
    if (open) return validationFailed({ resource: "PullRequest", code: "custom", message: `A pull request already exists for ${repo.owner}:${headBranch}.` });
    const number = nextIssueNumber(repo);
    const issue = newIssue(ctx.state, number, title, typeof body.body === "string" ? body.body : null, ctx.actor, ctx.now());
    issue.isPullRequest = true;
    repo.issues.push(issue);
    const changed = Object.keys({ ...repo.files[headBranch], ...repo.files[base] }).filter((path) => repo.files[headBranch]![path] !== repo.files[base]![path]);
    const pull = {
      id: allocateId(ctx.state),
      number,
      headSha: headSha(repo, headBranch),
      headRef: headBranch,
      baseRef: base,
      baseSha: headSha(repo, base),
      merged: false,
      mergedAt: null,
      draft: body.draft === true,
      additions: 0,
      deletions: 0,
      changedFiles: changed.length,
      files: changed.map((filename) => ({ filename, status: repo.files[base]![filename] === undefined ? ("added" as const) : ("modified" as const), additions: 0, deletions: 0 })),
      requestedReviewers: [],
      requestedTeams: [],
      reviews: [],
    };
    repo.pulls.push(pull);
    return { status: 201, body: ctx.shapes.pull(repo, pull) };
  }),
];
