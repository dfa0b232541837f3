import { CONFIG_PATHS, readFile } from "./config-reader.js";
import { hasStatus, splitRepo, type Octokit } from "./octokit.js";
import type { ConfigChange, ConfigPullRequest } from "../engine/ports.js";

/**
 * Opens a pull request that changes the repository's policy file on its own branch, or answers
 * the one the app already opened from that branch: the branch name is the change's identity, so
 * asking twice never opens two. The file is read from the default branch and edited by
 * `change.edit`. Anyone who can push knows the branch's name: a branch that exists without the
 * app's pull request holds what someone else wrote, so nothing is opened from it (null).
 */
export async function proposeConfigChange(octokit: Octokit, repoName: string, change: ConfigChange, ownLogin: string | null): Promise<ConfigPullRequest | null> {
  const { owner, repo } = splitRepo(repoName);
  const existing = await pullFrom(octokit, repoName, change.branch, ownLogin);
  if (existing) return { ...existing, created: false };
  const { data: info } = await octokit.rest.repos.get({ owner, repo });
  const base = info.default_branch;
  let path: string = CONFIG_PATHS[0];
  let current: string | null = null;
  for (const candidate of CONFIG_PATHS) {
    current = await readFile(octokit, repoName, candidate);
    if (current !== null) {
      path = candidate;
      break;
    }
  }
  const text = change.edit(current === null ? null : { path, text: current });
  const { data: head } = await octokit.rest.git.getRef({ owner, repo, ref: `heads/${base}` });
  const branchExists = await octokit.rest.git.getRef({ owner, repo, ref: `heads/${change.branch}` }).then(
    () => true,
    (error: unknown) => {
      if (hasStatus(error, 404)) return false;
      throw error;
    },
  );
  if (branchExists) return null;
  await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${change.branch}`, sha: head.object.sha });
  const sha = current === null ? undefined : await blobSha(octokit, repoName, path, change.branch);
  await octokit.rest.repos.createOrUpdateFileContents({
    owner,
    repo,
    path,
    branch: change.branch,
    message: change.message,
    content: Buffer.from(text, "utf8").toString("base64"),
    ...(sha ? { sha } : {}),
  });
  const { data: pull } = await octokit.rest.pulls.create({ owner, repo, title: change.title, head: change.branch, base, body: change.bodyFor(path) });
  return { number: pull.number, url: pull.html_url, created: true };
}

/** The pull request the app (`ownLogin`, `<slug>[bot]`) opened from `branch`; anyone else's is not it. */
export async function pullFrom(octokit: Octokit, repoName: string, branch: string, ownLogin: string | null): Promise<Omit<ConfigPullRequest, "created"> | null> {
  if (ownLogin === null) return null;
  const { owner, repo } = splitRepo(repoName);
  const { data } = await octokit.rest.pulls.list({ owner, repo, head: `${owner}:${branch}`, state: "all", per_page: 100 });
  const pull = data.find((candidate) => candidate.user?.type === "Bot" && candidate.user.login.toLowerCase() === ownLogin.toLowerCase());
  return pull ? { number: pull.number, url: pull.html_url } : null;
}

async function blobSha(octokit: Octokit, repoName: string, path: string, ref: string): Promise<string | undefined> {
  const { owner, repo } = splitRepo(repoName);
  const { data } = await octokit.rest.repos.getContent({ owner, repo, path, ref });
  return !Array.isArray(data) && "sha" in data ? data.sha : undefined;
}
