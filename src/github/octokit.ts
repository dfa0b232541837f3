import { ProbotOctokit } from "probot";

export type Octokit = InstanceType<typeof ProbotOctokit>;

/** Gives an Octokit for an installation, or for the app itself (JWT) without one. */
export type OctokitFactory = (installationId?: number) => Promise<Octokit>;

export function splitRepo(repo: string): { owner: string; repo: string } {
  const [owner = "", name = ""] = repo.split("/");
  return { owner, repo: name };
}

/** GitHub answered with this HTTP status (Octokit's RequestError carries it). */
export function hasStatus(error: unknown, ...statuses: number[]): boolean {
  return typeof error === "object" && error !== null && "status" in error && statuses.includes((error as { status: number }).status);
}

/** A GitHub call that has not answered by then fails, so one quiet connection cannot stall a job batch. */
export const GITHUB_TIMEOUT_MS = 30_000;

/**
 * Probot's Octokit with a deadline on every call; `extra` adds options (tests turn off
 * Octokit's own retries and write spacing with it).
 */
export function hitlOctokit(extra: Record<string, unknown> = {}, timeoutMs = GITHUB_TIMEOUT_MS): typeof ProbotOctokit {
  const fetchWithTimeout: typeof fetch = (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    return fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
  };
  return ProbotOctokit.defaults((options: { request?: Record<string, unknown> }) => ({
    ...options,
    ...extra,
    request: { ...options.request, fetch: fetchWithTimeout },
  }));
}
