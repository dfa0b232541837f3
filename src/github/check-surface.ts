import { splitApprovers } from "../core/authorize.js";
import { renderCheckRun, renderCheckRunConclusion } from "../core/render/check-run.js";
import { renderDecisionComment, renderEscalationComment, renderReviewDismissedComment, renderStaleComment, renderWarningComment } from "../core/render/comments.js";
import { currentApprovers } from "../core/schedule.js";
import { openStageApprovers, renderStageOpenedComment } from "../core/render/votes.js";
import type { ApprovalRequest, AuditEvent, SurfaceRef } from "../core/types.js";
import { hasStatus, splitRepo, type Octokit } from "./octokit.js";

export const CHECK_NAME = "hitl/approval";

/** The check run as it should look for the request's current state. */
function checkRunFields(request: ApprovalRequest, now: Date) {
  if (request.status === "pending") {
    const run = renderCheckRun(request, { now, recent: [] });
    return { status: "in_progress" as const, output: { title: run.title, summary: run.summary, text: run.text }, actions: run.actions };
  }
  const done = renderCheckRunConclusion(request);
  return {
    status: "completed" as const,
    conclusion: done.conclusion,
    completed_at: request.decision?.decidedAt ?? now.toISOString(),
    output: { title: done.title, summary: done.summary },
    actions: [],
  };
}

/**
 * Asks the approvers to review. Users who cannot be requested (the author, or no access) make
 * GitHub answer 422; the check run still gates the merge, so that is logged, not fatal.
 */
async function requestReviewers(octokit: Octokit, request: ApprovalRequest, number: number, approvers: string[], author: string | null): Promise<void> {
  const { owner, repo } = splitRepo(request.repo);
  const { users, teams } = splitApprovers(approvers);
  const reviewers = users.filter((user) => user.toLowerCase() !== author?.toLowerCase());
  const team_reviewers = teams.filter((team) => team.org.toLowerCase() === owner.toLowerCase()).map((team) => team.slug);
  if (reviewers.length === 0 && team_reviewers.length === 0) return;
  try {
    await octokit.rest.pulls.requestReviewers({ owner, repo, pull_number: number, reviewers, team_reviewers });
  } catch (error) {
    if (!hasStatus(error, 422)) throw error;
  }
}

/** Creates the `hitl/approval` check run on the head commit and requests the approvers' review. */
export async function openCheckRun(octokit: Octokit, request: ApprovalRequest, context: { now: Date; attempt: number; pull?: PullSummary }): Promise<SurfaceRef> {
  if (request.surface.type !== "pull_request") throw new Error(`request ${request.id} is not on a pull request`);
  const number = request.surface.number;
  const pull = context.pull ?? (await readPull(octokit, request.repo, number));
  const existing = context.attempt > 1 ? await findCheckRun(octokit, request, pull.headSha) : null;
  const checkRunId = existing ?? (await createCheckRun(octokit, request, pull.headSha, context.now));
  await requestReviewers(octokit, request, number, currentApprovers(request), pull.author);
  return { type: "pull_request", number, url: pull.url, checkRunId, headSha: pull.headSha, author: pull.author };
}

type PullSummary = { headSha: string; author: string; url: string };

async function readPull(octokit: Octokit, repoName: string, number: number): Promise<PullSummary> {
  const { owner, repo } = splitRepo(repoName);
  const { data } = await octokit.rest.pulls.get({ owner, repo, pull_number: number });
  return { headSha: data.head.sha, author: data.user?.login ?? "", url: data.html_url };
}

async function createCheckRun(octokit: Octokit, request: ApprovalRequest, headSha: string, now: Date): Promise<number> {
  const { owner, repo } = splitRepo(request.repo);
  const { data } = await octokit.rest.checks.create({ owner, repo, name: CHECK_NAME, head_sha: headSha, external_id: request.id, ...checkRunFields(request, now) });
  return data.id;
}

async function findCheckRun(octokit: Octokit, request: ApprovalRequest, headSha: string): Promise<number | null> {
  const { owner, repo } = splitRepo(request.repo);
  const { data } = await octokit.rest.checks.listForRef({ owner, repo, ref: headSha, check_name: CHECK_NAME, per_page: 100 });
  return data.check_runs.find((run) => run.external_id === request.id)?.id ?? null;
}

/** Who held the request before its current level: the level below, or the first approvers. */
function previousApprovers(request: ApprovalRequest): string[] {
  const level = request.escalation.level;
  return level >= 2 ? (request.escalation.ladder[level - 2]?.approvers ?? []) : request.approvers;
}

/** Makes the pull request show what just happened to the request. */
export async function syncCheckRun(octokit: Octokit, request: ApprovalRequest, reason: AuditEvent, now: Date): Promise<SurfaceRef | null> {
  const ref = request.surfaceRef;
  if (!ref?.checkRunId || !ref.headSha) return null;
  const { owner, repo } = splitRepo(request.repo);
  const issue = { owner, repo, issue_number: ref.number };
  switch (reason) {
    case "stale":
    case "head_changed":
    case "review_dismissed": {
      // New commits: the check run on the new head is the one branch protection looks at. A
      // dismissed approval: GitHub never lets a completed check run change again, so a new one
      // on the same head takes over (the latest check run of a name is the one that counts).
      const checkRunId = await createCheckRun(octokit, request, ref.headSha, now);
      if (reason === "stale") {
        await requestReviewers(octokit, request, ref.number, currentApprovers(request), null);
        await octokit.rest.issues.createComment({ ...issue, body: renderStaleComment(request, ref.headSha) });
      }
      if (reason === "review_dismissed" && request.status === "pending") {
        await octokit.rest.issues.createComment({ ...issue, body: renderReviewDismissedComment(request) });
      }
      return { ...ref, checkRunId };
    }
    case "escalated":
    case "delegated": {
      const { users, teams } = splitApprovers(previousApprovers(request));
      const earlier = { reviewers: users, team_reviewers: teams.map((team) => team.slug) };
      if (earlier.reviewers.length || earlier.team_reviewers.length) {
        await octokit.rest.pulls.removeRequestedReviewers({ owner, repo, pull_number: ref.number, ...earlier }).catch((error: unknown) => {
          if (!hasStatus(error, 422)) throw error;
        });
      }
      const approvers = currentApprovers(request);
      await requestReviewers(octokit, request, ref.number, approvers, null);
      const step = request.escalation.ladder[request.escalation.level - 1];
      const message = reason === "delegated" ? "The deadline passed and the request was delegated to you." : (step?.message ?? null);
      await octokit.rest.issues.createComment({ ...issue, body: renderEscalationComment(request, { level: request.escalation.level, approvers, message }, now) });
      return null;
    }
    case "warned":
      await octokit.rest.issues.createComment({ ...issue, body: renderWarningComment(request, now) });
      return null;
    case "superseded":
      // The approval's completed run cannot change; the follow-up's own run, created on the
      // head after it, is the latest of the name and so the one branch protection reads.
      await octokit.rest.issues.createComment({ ...issue, body: renderDecisionComment(request) });
      return null;
    case "stage_opened":
      await octokit.rest.checks.update({ owner, repo, check_run_id: ref.checkRunId, ...checkRunFields(request, now) });
      await requestReviewers(octokit, request, ref.number, openStageApprovers(request, now), ref.author ?? null);
      await octokit.rest.issues.createComment({ ...issue, body: renderStageOpenedComment(request, now) });
      return null;
    default:
      await octokit.rest.checks.update({ owner, repo, check_run_id: ref.checkRunId, ...checkRunFields(request, now) });
      return null;
  }
}
