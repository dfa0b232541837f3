import { splitApprovers } from "../core/authorize.js";
import { hasStatus, splitRepo, type Octokit } from "./octokit.js";

const WRITE_OR_ABOVE = new Set(["admin", "maintain", "write"]);

/**
 * Whether `login` may decide. Users in `approvers` are matched without an API call; teams cost
 * one membership look-up each (until one matches); an empty list means write access or above.
 */
export async function mayDecide(octokit: Octokit, repoName: string, login: string, approvers: string[]): Promise<boolean> {
  const { owner, repo } = splitRepo(repoName);
  if (approvers.length === 0) {
    try {
      const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: login });
      return WRITE_OR_ABOVE.has(data.role_name ?? data.permission) || WRITE_OR_ABOVE.has(data.permission);
    } catch (error) {
      if (hasStatus(error, 404)) return false;
      throw error;
    }
  }
  const { users, teams } = splitApprovers(approvers);
  if (users.some((user) => user.toLowerCase() === login.toLowerCase())) return true;
  for (const team of teams) {
    try {
      const { data } = await octokit.rest.teams.getMembershipForUserInOrg({ org: team.org, team_slug: team.slug, username: login });
      if (data.state === "active") return true;
    } catch (error) {
      if (!hasStatus(error, 404)) throw error;
    }
  }
  return false;
}

/** The person's role on the repository (`admin`, `maintain`, `write`, `triage`, `read`), or `none`. */
export async function permissionOf(octokit: Octokit, repoName: string, login: string): Promise<string> {
  const { owner, repo } = splitRepo(repoName);
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: login });
    return data.role_name ?? data.permission;
  } catch (error) {
    if (hasStatus(error, 404)) return "none";
    throw error;
  }
}
