import type { Context } from "probot";
import { canonicalRepo } from "../core/repo-name.js";
import { checkConfigAt, isConfigPath } from "../github/config-check.js";
import type { Octokit } from "../github/octokit.js";
import type { Logger } from "../engine/ports.js";

/** A push to the default branch that touches the policy file: check it on the pushed commit. */
export function handleConfigPush(deps: { log: Logger; forgetConfig: (repo: string) => void }) {
  return async (context: Context<"push">): Promise<void> => {
    const { payload } = context;
    if (payload.deleted || payload.ref !== `refs/heads/${payload.repository.default_branch}`) return;
    const changed = payload.commits.flatMap((commit) => [...(commit.added ?? []), ...(commit.modified ?? []), ...(commit.removed ?? [])]);
    if (changed.some(isConfigPath)) deps.forgetConfig(canonicalRepo(payload.repository.full_name));
    const touched = new Set(payload.commits.flatMap((commit) => [...(commit.added ?? []), ...(commit.modified ?? [])]).filter(isConfigPath));
    for (const path of touched) {
      const valid = await checkConfigAt(context.octokit as unknown as Octokit, payload.repository.full_name, payload.after, path);
      deps.log.info({ repo: payload.repository.full_name, sha: payload.after, path, valid }, "checked policy file on push");
    }
  };
}

/** A pull request that changes the policy file: check the proposed file on its head commit. */
export function handleConfigPullRequest(deps: { log: Logger }) {
  return async (context: Context<"pull_request.opened" | "pull_request.synchronize" | "pull_request.reopened">): Promise<void> => {
    const { payload } = context;
    const octokit = context.octokit as unknown as Octokit;
    const { owner, repo } = context.repo();
    const files = await octokit.paginate(octokit.rest.pulls.listFiles, { owner, repo, pull_number: payload.pull_request.number, per_page: 100 });
    for (const file of files.filter((f) => f.status !== "removed" && isConfigPath(f.filename))) {
      const valid = await checkConfigAt(octokit, payload.repository.full_name, payload.pull_request.head.sha, file.filename);
      deps.log.info({ repo: payload.repository.full_name, pull: payload.pull_request.number, path: file.filename, valid }, "checked policy file on pull request");
    }
  };
}
