import { splitApprovers } from "../core/authorize.js";
import { renderDecisionComment, renderEscalationComment, renderWarningComment } from "../core/render/comments.js";
import { endsWithOutcomeMarker, findRequestMarker, outcomeMarker } from "../core/render/markers.js";
import { renderIssueTitle, renderRequestBody } from "../core/render/request-markdown.js";
import { finalEvent } from "../core/decide.js";
import { currentApprovers } from "../core/schedule.js";
import { openStageApprovers, renderStageOpenedComment, replaceTally } from "../core/render/votes.js";
import type { ApprovalRequest, AuditEvent, SurfaceRef } from "../core/types.js";
import { writtenBy, type AppSelf } from "./app-self.js";
import { hasStatus, splitRepo, type Octokit } from "./octokit.js";

export const PENDING_LABEL = "hitl:pending";
export const statusLabel = (status: ApprovalRequest["status"]) => `hitl:${status}`;
export const priorityLabel = (request: ApprovalRequest) => `priority:${request.priority}`;

/** Users can be assigned; teams are mentioned in the body instead. GitHub allows ten assignees. */
function assigneesOf(approvers: string[]): string[] {
  return splitApprovers(approvers).users.slice(0, 10);
}

/**
 * Opens the issue for a request: title from the task, the context as the body, labelled and
 * assigned. On a retry it first looks for an issue an earlier try created (GitHub may have
 * created it even though the answer never arrived), so a request never gets two issues.
 */
export async function openIssue(
  octokit: Octokit,
  request: ApprovalRequest,
  context: { recent: ApprovalRequest[]; attempt: number; now: Date; self: AppSelf },
): Promise<SurfaceRef> {
  const { owner, repo } = splitRepo(request.repo);
  if (context.attempt > 1) {
    const existing = await findIssueFor(octokit, request, context.self);
    if (existing) return existing;
  }
  const params = {
    owner,
    repo,
    title: renderIssueTitle(request, context.now),
    body: renderRequestBody(request, { now: context.now, recent: context.recent, markerKey: context.self.markerKey }),
    labels: [PENDING_LABEL, priorityLabel(request)],
  };
  return createIssue(octokit, params, assigneesOf(currentApprovers(request)));
}

/**
 * Creates an issue assigned to `assignees` where GitHub allows it: a 422 (someone cannot be
 * assigned here, having no access) creates it unassigned; the issue still names them.
 */
export async function createIssue(
  octokit: Octokit,
  params: { owner: string; repo: string; title: string; body: string; labels: string[] },
  assignees: string[],
): Promise<SurfaceRef> {
  try {
    const { data } = await octokit.rest.issues.create({ ...params, ...(assignees.length ? { assignees } : {}) });
    return { type: "issue", number: data.number, url: data.html_url };
  } catch (error) {
    if (!(assignees.length && hasStatus(error, 422))) throw error;
    const { data } = await octokit.rest.issues.create(params);
    return { type: "issue", number: data.number, url: data.html_url };
  }
}

/** hitl's own open issue for the request: written by the app, its body starting with the request's signed marker. */
async function findIssueFor(octokit: Octokit, request: ApprovalRequest, self: AppSelf): Promise<SurfaceRef | null> {
  const { owner, repo } = splitRepo(request.repo);
  const { data } = await octokit.rest.issues.listForRepo({ owner, repo, labels: PENDING_LABEL, state: "open", sort: "created", direction: "desc", per_page: 100 });
  const issue = data.find(
    (candidate) => !candidate.pull_request && writtenBy(self, candidate) && findRequestMarker(candidate.body ?? "", self.markerKey) === request.id,
  );
  return issue ? { type: "issue", number: issue.number, url: issue.html_url } : null;
}

/** Whether the app already posted the request's outcome comment (it ends with the signed outcome marker). */
async function hasOutcomeComment(octokit: Octokit, request: ApprovalRequest, self: AppSelf): Promise<boolean> {
  const { owner, repo } = splitRepo(request.repo);
  // A superseded request's comment follows its approval's, which carries the same marker.
  const since = request.status === "superseded" ? request.updatedAt : (request.decision?.decidedAt ?? request.updatedAt);
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: request.surfaceRef!.number, since, per_page: 100 });
  return comments.some((comment) => writtenBy(self, comment) && endsWithOutcomeMarker(comment.body ?? "", request.id, self.markerKey));
}

/**
 * Makes the issue show what just happened to the request. A change of state rewrites the body (its
 * status line first) in the same call that closes the issue or moves its assignees, so keeping the
 * body true costs no call of its own. `recent` is what the body showed of recent decisions.
 */
export async function syncIssue(
  octokit: Octokit,
  request: ApprovalRequest,
  reason: AuditEvent,
  context: { now: Date; attempt: number; self: AppSelf; recent: ApprovalRequest[] },
): Promise<void> {
  if (!request.surfaceRef) return;
  const { now, attempt, self } = context;
  const { owner, repo } = splitRepo(request.repo);
  const issue = { owner, repo, issue_number: request.surfaceRef.number };
  const body = () => renderRequestBody(request, { now, recent: context.recent, markerKey: self.markerKey });
  const event = reason === "surface_opened" && request.status !== "pending" ? finalEvent(request) : reason;
  switch (event) {
    case "decided":
    case "expired":
    case "cancelled":
    case "superseded": {
      // Closing is safe to repeat, so it goes first; the comment is posted once, even when a
      // retry follows an answer that was lost.
      await octokit.rest.issues.update({
        ...issue,
        state: "closed",
        state_reason: request.status === "approved" ? "completed" : "not_planned",
        labels: [statusLabel(request.status), priorityLabel(request)],
        body: body(),
      });
      if (attempt > 1 && (await hasOutcomeComment(octokit, request, self))) return;
      await octokit.rest.issues.createComment({ ...issue, body: `${renderDecisionComment(request)}\n\n${outcomeMarker(request.id, self.markerKey)}` });
      return;
    }
    case "escalated":
    case "delegated": {
      const approvers = currentApprovers(request);
      await octokit.rest.issues.update({ ...issue, assignees: assigneesOf(approvers), body: body() });
      const step = request.escalation.ladder[request.escalation.level - 1];
      const message = reason === "delegated" ? "The deadline passed and the request was delegated to you." : (step?.message ?? null);
      await octokit.rest.issues.createComment({ ...issue, body: renderEscalationComment(request, { level: request.escalation.level, approvers, message }, now) });
      return;
    }
    case "warned":
      await octokit.rest.issues.createComment({ ...issue, body: renderWarningComment(request, now) });
      return;
    case "voted":
    case "vote_retracted":
      await updateTally(octokit, issue, request, now);
      return;
    case "stage_opened": {
      await updateTally(octokit, issue, request, now);
      const approvers = openStageApprovers(request, now);
      if (approvers.length > 0) await octokit.rest.issues.update({ ...issue, assignees: assigneesOf(approvers) });
      // Posted on each try; a retry after a lost answer may post it twice, as escalation does.
      await octokit.rest.issues.createComment({ ...issue, body: renderStageOpenedComment(request, now) });
      return;
    }
    default:
      return;
  }
}

/** Edits the tally in the issue body in place: a vote never posts a comment of its own. */
async function updateTally(octokit: Octokit, issue: { owner: string; repo: string; issue_number: number }, request: ApprovalRequest, now: Date): Promise<void> {
  const { data } = await octokit.rest.issues.get(issue);
  const body = replaceTally(data.body ?? "", request, now);
  if (body !== null && body !== data.body) await octokit.rest.issues.update({ ...issue, body });
}
