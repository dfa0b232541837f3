import type { IssueComment, Listing, PullReview } from "../engine/ports.js";
import { hasStatus, splitRepo, type Octokit } from "./octokit.js";

/** GitHub's largest page. */
export const PAGE_SIZE = 100;

/**
 * One page of a list, asked for conditionally: with the ETag of the last answer GitHub answers
 * 304 when nothing changed, which does not count against the rate limit. Null then.
 */
async function conditionally<T>(etag: string | null, read: (headers: Record<string, string>) => Promise<{ data: T[]; headers: { etag?: string } }>): Promise<{ data: T[]; etag: string | null } | null> {
  try {
    const { data, headers } = await read(etag ? { "if-none-match": etag } : {});
    return { data, etag: headers.etag ?? null };
  } catch (error) {
    if (hasStatus(error, 304)) return null;
    throw error;
  }
}

/** The comments on issue or pull request `number` updated at or after `since`, oldest first; one page. */
export async function listIssueComments(octokit: Octokit, repo: string, number: number, cursor: { since: string; etag: string | null }): Promise<Listing<IssueComment> | null> {
  const { owner, repo: name } = splitRepo(repo);
  const page = await conditionally(cursor.etag, (headers) =>
    octokit.rest.issues.listComments({ owner, repo: name, issue_number: number, since: cursor.since, per_page: PAGE_SIZE, headers }),
  );
  if (!page) return null;
  return {
    etag: page.etag,
    full: page.data.length >= PAGE_SIZE,
    items: page.data.map((c) => ({
      id: c.id,
      body: c.body ?? "",
      user: c.user ? { login: c.user.login, type: c.user.type } : null,
      createdAt: c.created_at,
      updatedAt: c.updated_at,
    })),
  };
}

/** Page `page` of the reviews on pull request `number`, oldest first. */
export async function listPullReviews(octokit: Octokit, repo: string, number: number, cursor: { page: number; etag: string | null }): Promise<Listing<PullReview> | null> {
  const { owner, repo: name } = splitRepo(repo);
  const page = await conditionally(cursor.etag, (headers) =>
    octokit.rest.pulls.listReviews({ owner, repo: name, pull_number: number, per_page: PAGE_SIZE, page: cursor.page, headers }),
  );
  if (!page) return null;
  return {
    etag: page.etag,
    full: page.data.length >= PAGE_SIZE,
    items: page.data.map((r) => ({
      id: r.id,
      state: r.state,
      body: r.body?.trim() ? r.body : null,
      user: r.user ? { login: r.user.login, type: r.user.type } : null,
      submittedAt: r.submitted_at ?? null,
      commitId: r.commit_id ?? null,
    })),
  };
}
