import type { ProbotOctokit } from "probot";

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
