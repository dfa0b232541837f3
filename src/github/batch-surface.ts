import { findRequestMarker, requestMarker } from "../core/render/markers.js";
import type { SurfaceRef } from "../core/types.js";
import { writtenBy, type AppSelf } from "./app-self.js";
import { createIssue, PENDING_LABEL } from "./issue-surface.js";
import { splitRepo, type Octokit } from "./octokit.js";

/** A batch issue as the engine hands it over: the body below hitl's marker, which names the batch. */
export interface BatchIssue {
  id: string;
  title: string;
  body: string;
  assignees: string[];
}

/**
 * Opens a batch's issue. `search`: an earlier try may have created it (GitHub may create an issue
 * whose answer never arrived), so hitl's own open issue whose body starts with the batch's signed
 * marker is used instead of a second one.
 */
export async function openBatchIssue(octokit: Octokit, repo: string, batch: BatchIssue, options: { search: boolean; self: AppSelf }): Promise<SurfaceRef> {
  const { owner, repo: name } = splitRepo(repo);
  if (options.search) {
    const { data } = await octokit.rest.issues.listForRepo({ owner, repo: name, labels: PENDING_LABEL, state: "open", sort: "created", direction: "desc", per_page: 100 });
    const found = data.find((issue) => !issue.pull_request && writtenBy(options.self, issue) && findRequestMarker(issue.body ?? "", options.self.markerKey) === batch.id);
    if (found) return { type: "issue", number: found.number, url: found.html_url };
  }
  const params = { owner, repo: name, title: batch.title, body: `${requestMarker(batch.id, options.self.markerKey)}\n${batch.body}`, labels: [PENDING_LABEL, "hitl:batch"] };
  return createIssue(octokit, params, batch.assignees.slice(0, 10));
}

/** Rewrites the batch's table in one call, closing the issue once every row has ended. */
export async function updateBatchIssue(octokit: Octokit, repo: string, number: number, batch: { id: string; body: string; closed: boolean }, self: AppSelf): Promise<void> {
  const { owner, repo: name } = splitRepo(repo);
  await octokit.rest.issues.update({
    owner,
    repo: name,
    issue_number: number,
    body: `${requestMarker(batch.id, self.markerKey)}\n${batch.body}`,
    ...(batch.closed ? { state: "closed" as const, state_reason: "completed" as const, labels: ["hitl:batch"] } : {}),
  });
}
