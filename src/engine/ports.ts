import type { ApprovalRequest, AuditEvent, SurfaceRef } from "../core/types.js";
import type { HitlConfig } from "../config/schema.js";

/** The repository's `.hitl.yml` as loaded from its default branch. */
export interface LoadedConfig {
  /** Null when the repository has no file, or when it is broken (then `error` says why). */
  config: HitlConfig | null;
  /** A readable report of what is wrong with the file; no rule from a broken file applies. */
  error: string | null;
  /** The file it came from, e.g. `.hitl.yml`. */
  file: string | null;
}

/** A pull request as the engine needs to know it. */
export interface PullRequestInfo {
  number: number;
  state: "open" | "closed";
  merged: boolean;
  author: string;
  headSha: string;
  url: string;
  additions: number;
  deletions: number;
  changedFiles: number;
  /** Only when asked for: the changed files, at most 100. */
  files?: { filename: string; status: string; additions: number; deletions: number }[];
}

/** A comment on an issue or pull request, as a listing shows it. */
export interface IssueComment {
  id: number;
  body: string;
  /** Null for a deleted account ("ghost"). */
  user: { login: string; type: string } | null;
  createdAt: string;
  /** Differs from `createdAt` once the comment was edited. */
  updatedAt: string;
}

/** A submitted review on a pull request, as a listing shows it. */
export interface PullReview {
  id: number;
  /** `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`, … */
  state: string;
  body: string | null;
  user: { login: string; type: string } | null;
  submittedAt: string | null;
  /** The commit reviewed. */
  commitId: string | null;
}

/** One page of a listing GitHub answered with content (a 304 is null instead). */
export interface Listing<T> {
  items: T[];
  /** For the next conditional request. */
  etag: string | null;
  /** The page was full: there may be more after it. */
  full: boolean;
}

/** A change to the repository's policy file, proposed as a pull request from its own branch. */
export interface ConfigChange {
  /** The branch it is made on; one pull request per branch, so the same change is never opened twice. */
  branch: string;
  title: string;
  /** The pull request's body, for the file it changes (`.hitl.yml` or `.github/hitl.yml`). */
  bodyFor(file: string): string;
  /** The commit message. */
  message: string;
  /** The new text, from the file on the default branch (null when it has none); throws to refuse. */
  edit(file: { path: string; text: string } | null): string;
}

export interface ConfigPullRequest {
  number: number;
  url: string;
  /** False when the pull request from that branch already existed and was answered again. */
  created: boolean;
}

/**
 * Everything the engine asks of GitHub, as plain data. Only `src/github/` implements it, so the
 * engine never sees Octokit.
 */
export interface GitHubGateway {
  /** The app's installation on `owner/name`, or null when the app is not installed there. */
  installationId(repo: string): Promise<number | null>;
  loadConfig(installationId: number, repo: string): Promise<LoadedConfig>;
  pullRequest(installationId: number, repo: string, number: number, options?: { withFiles?: boolean }): Promise<PullRequestInfo | null>;
  /**
   * Posts the request on its surface. `attempt` > 1 means an earlier try may have half-succeeded.
   * `pull` is the pull request as just read, when the caller has it.
   */
  openSurface(request: ApprovalRequest, context: { recent: ApprovalRequest[]; attempt: number; pull?: PullRequestInfo }): Promise<SurfaceRef>;
  /**
   * Makes the surface show the request's current state after `reason`. Returns the surface
   * reference when it changed (a new check run on a new head commit), else null. `attempt` > 1
   * means an earlier try may have half-succeeded. `recent`: the recent decisions the issue body
   * shows, for a change that rewrites it.
   */
  syncSurface(request: ApprovalRequest, reason: AuditEvent, attempt?: number, context?: { recent?: ApprovalRequest[] }): Promise<SurfaceRef | null>;
  /**
   * Posts a batch issue (`.hitl.yml` `batch:`): `body` goes below hitl's signed marker for the
   * batch's id. `search`: an earlier try may have created it, so that one is returned instead.
   */
  openBatchIssue(installationId: number, repo: string, batch: { id: string; title: string; body: string; assignees: string[] }, options: { search: boolean }): Promise<SurfaceRef>;
  /** Rewrites a batch issue's table in one call; `closed` closes it too (every row has ended). */
  updateBatchIssue(installationId: number, repo: string, number: number, batch: { id: string; body: string; closed: boolean }): Promise<void>;
  /**
   * Whether `login` may decide: one of `approvers` (users, or members of `@org/team`), or, when
   * `approvers` is empty, anyone with write access to the repository.
   */
  mayDecide(installationId: number, repo: string, login: string, approvers: string[]): Promise<boolean>;
  /** A comment on an issue or pull request; best effort, for answers to people. */
  reply(installationId: number, repo: string, number: number, body: string): Promise<void>;
  /** Reopens an issue someone closed while its request waits. */
  reopen(installationId: number, repo: string, number: number): Promise<void>;
  /** A reaction (`+1`, …) on an issue or pull request comment; best effort. */
  react(installationId: number, repo: string, commentId: number, content: "+1"): Promise<void>;
  /**
   * The comments on issue or pull request `number` updated at or after `since`, oldest first,
   * one page. Asked with `If-None-Match: etag`; null when GitHub answers 304 (nothing changed).
   */
  listComments(installationId: number, repo: string, number: number, cursor: { since: string; etag: string | null }): Promise<Listing<IssueComment> | null>;
  /**
   * Answers a workflow run's deployment protection rule for an environment. `gone`: the run was
   * cancelled (or deleted) and no longer waits for an answer.
   */
  reviewDeployment(installationId: number, repo: string, runId: number, review: { environment: string; state: "approved" | "rejected"; comment: string }): Promise<"answered" | "gone">;
  /** The GitHub REST API the app talks to, e.g. `https://api.github.com`; a deployment's callback URL must point there. */
  apiBaseUrl(): Promise<string>;
  /** Page `page` of the reviews on pull request `number`, oldest first; null on a 304 for `etag`. */
  listReviews(installationId: number, repo: string, number: number, cursor: { page: number; etag: string | null }): Promise<Listing<PullReview> | null>;
  /**
   * Opens a pull request with a change to `.hitl.yml`, or answers the one the app already opened
   * from its branch; null when the branch exists without such a pull request (someone else pushed it).
   */
  proposeConfigChange(installationId: number, repo: string, change: ConfigChange): Promise<ConfigPullRequest | null>;
  /** The pull request the app itself opened from `branch`, in any state; null when there is none. */
  configPullRequest(installationId: number, repo: string, branch: string): Promise<{ number: number; url: string } | null>;
  /** The person's permission on the repository: `admin`, `maintain`, `write`, `triage`, `read` or `none`. */
  permission(installationId: number, repo: string, login: string): Promise<string>;
}

/** The slice of a pino logger the app uses. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}
