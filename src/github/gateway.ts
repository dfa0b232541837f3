import { canonicalRepo } from "../core/repo-name.js";
import type { ApprovalRequest } from "../core/types.js";
import type { GitHubGateway, LoadedConfig, PullRequestInfo } from "../engine/ports.js";
import { openCheckRun, syncCheckRun } from "./check-surface.js";
import { appBotLogin, type AppSelf } from "./app-self.js";
import { loadConfig } from "./config-reader.js";
import { proposeConfigChange, pullFrom } from "./config-pull-request.js";
import { apiBaseUrl, reviewDeployment } from "./deployment-review.js";
import { openIssue, syncIssue } from "./issue-surface.js";
import { openBatchIssue, updateBatchIssue } from "./batch-surface.js";
import { listIssueComments, listPullReviews } from "./listings.js";
import { hasStatus, splitRepo, type OctokitFactory } from "./octokit.js";
import { mayDecide, permissionOf } from "./permissions.js";

const INSTALLATION_TTL_MS = 10 * 60_000;
/** `.hitl.yml` is re-read at most this often per repository (a push that changes it clears it). */
export const CONFIG_TTL_MS = 30_000;

export interface GitHubGatewayOptions {
  octokit: OctokitFactory;
  clock: () => Date;
  /** The app's id and marker key, to sign its markers and know its own issues and comments. */
  self: AppSelf;
  /** How long a loaded `.hitl.yml` is reused; 0 reads it on every request. */
  configTtlMs?: number;
}

/** The engine's view of GitHub, on Octokit clients from the factory (Probot's `app.auth`). */
export function createGitHubGateway(options: GitHubGatewayOptions): GitHubGateway & { forgetConfig(repo: string): void } {
  const { octokit, clock, self } = options;
  const configTtlMs = options.configTtlMs ?? CONFIG_TTL_MS;
  const installations = new Map<string, { id: number; until: number }>();
  const configs = new Map<string, { loaded: Promise<LoadedConfig>; until: number }>();
  /** The app's own login: only its pull requests are a suggestion's. */
  const ownLogin = appBotLogin(() => octokit());

  return {
    async installationId(asked) {
      const repo = canonicalRepo(asked);
      const cached = installations.get(repo);
      if (cached && cached.until > clock().getTime()) return cached.id;
      const { owner, repo: name } = splitRepo(repo);
      try {
        const app = await octokit();
        const { data } = await app.rest.apps.getRepoInstallation({ owner, repo: name });
        installations.set(repo, { id: data.id, until: clock().getTime() + INSTALLATION_TTL_MS });
        return data.id;
      } catch (error) {
        if (hasStatus(error, 404)) return null;
        throw error;
      }
    },

    loadConfig(installationId, asked) {
      const repo = canonicalRepo(asked);
      const now = clock().getTime();
      const cached = configs.get(repo);
      if (cached && cached.until > now) return cached.loaded;
      const loaded = octokit(installationId).then((client) => loadConfig(client, repo));
      // Concurrent requests share one read; a failed read is not remembered.
      if (configTtlMs > 0) {
        configs.set(repo, { loaded, until: now + configTtlMs });
        loaded.catch(() => configs.delete(repo));
      }
      return loaded;
    },

    forgetConfig(repo) {
      configs.delete(canonicalRepo(repo));
    },

    async pullRequest(installationId, repo, number, pullOptions = {}): Promise<PullRequestInfo | null> {
      const client = await octokit(installationId);
      const { owner, repo: name } = splitRepo(repo);
      try {
        const { data } = await client.rest.pulls.get({ owner, repo: name, pull_number: number });
        const files = pullOptions.withFiles ? (await client.rest.pulls.listFiles({ owner, repo: name, pull_number: number, per_page: 100 })).data : null;
        return {
          number: data.number,
          state: data.state === "open" ? "open" : "closed",
          merged: Boolean(data.merged),
          author: data.user?.login ?? "",
          headSha: data.head.sha,
          url: data.html_url,
          additions: data.additions,
          deletions: data.deletions,
          changedFiles: data.changed_files,
          ...(files ? { files: files.map((f) => ({ filename: f.filename, status: f.status, additions: f.additions, deletions: f.deletions })) } : {}),
        };
      } catch (error) {
        if (hasStatus(error, 404)) return null;
        throw error;
      }
    },

    async openSurface(request: ApprovalRequest, context) {
      const client = await octokit(request.installationId);
      const now = clock();
      return request.surface.type === "pull_request"
        ? openCheckRun(client, request, { now, attempt: context.attempt, pull: context.pull })
        : openIssue(client, request, { ...context, now, self });
    },

    async syncSurface(request, reason, attempt = 1, context = {}) {
      const client = await octokit(request.installationId);
      const now = clock();
      if (request.surfaceRef?.type === "pull_request") return syncCheckRun(client, request, reason, now);
      await syncIssue(client, request, reason, { now, attempt, self, recent: context.recent ?? [] });
      return null;
    },

    async openBatchIssue(installationId, repo, batch, batchOptions) {
      return openBatchIssue(await octokit(installationId), repo, batch, { ...batchOptions, self });
    },

    async updateBatchIssue(installationId, repo, number, batch) {
      await updateBatchIssue(await octokit(installationId), repo, number, batch, self);
    },

    async mayDecide(installationId, repo, login, approvers) {
      return mayDecide(await octokit(installationId), repo, login, approvers);
    },

    async reply(installationId, repo, number, body) {
      const { owner, repo: name } = splitRepo(repo);
      const client = await octokit(installationId);
      await client.rest.issues.createComment({ owner, repo: name, issue_number: number, body });
    },

    async reopen(installationId, repo, number) {
      const { owner, repo: name } = splitRepo(repo);
      const client = await octokit(installationId);
      await client.rest.issues.update({ owner, repo: name, issue_number: number, state: "open" });
    },

    async react(installationId, repo, commentId, content) {
      const { owner, repo: name } = splitRepo(repo);
      const client = await octokit(installationId);
      await client.rest.reactions.createForIssueComment({ owner, repo: name, comment_id: commentId, content });
    },

    async listComments(installationId, repo, number, cursor) {
      return listIssueComments(await octokit(installationId), repo, number, cursor);
    },

    async reviewDeployment(installationId, repo, runId, review) {
      return reviewDeployment(await octokit(installationId), repo, runId, review);
    },

    async apiBaseUrl() {
      return apiBaseUrl(await octokit());
    },

    async listReviews(installationId, repo, number, cursor) {
      return listPullReviews(await octokit(installationId), repo, number, cursor);
    },

    async proposeConfigChange(installationId, repo, change) {
      return proposeConfigChange(await octokit(installationId), canonicalRepo(repo), change, await ownLogin());
    },

    async configPullRequest(installationId, repo, branch) {
      return pullFrom(await octokit(installationId), canonicalRepo(repo), branch, await ownLogin());
    },

    async permission(installationId, repo, login) {
      return permissionOf(await octokit(installationId), repo, login);
    },
  };
}
