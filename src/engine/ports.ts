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
   * means an earlier try may have half-succeeded.
   */
  syncSurface(request: ApprovalRequest, reason: AuditEvent, attempt?: number): Promise<SurfaceRef | null>;
  /**
   * Whether `login` may decide: one of `approvers` (users, or members of `@org/team`), or, when
   * `approvers` is empty, anyone with write access to the repository.
   */
  mayDecide(installationId: number, repo: string, login: string, approvers: string[]): Promise<boolean>;
  /** A comment on an issue or pull request; best effort, for answers to people. */
  reply(installationId: number, repo: string, number: number, body: string): Promise<void>;
}

/** The slice of a pino logger the app uses. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}
