import { isBot, type Actor } from "../core/authorize.js";
import { parseBatchCommand, parseCommand, selectRows } from "../core/commands.js";
import { renderBatchReply, renderBatchUsageReply, renderRowProblemsReply, type RowOutcome } from "../core/render/batch.js";
import type { ApprovalRequest, BatchMembership } from "../core/types.js";
import type { Batches } from "./batches.js";
import { answerDecisionOutcomes } from "./answer-decisions.js";
import type { EngineContext } from "./context.js";
import type { GitHubDecision, DecisionOutcome } from "./decide-request.js";

/** A comment on an issue or pull request, from its webhook or found by recovery. */
export interface CommentInput {
  id: number;
  repo: string;
  number: number;
  body: string;
  user: Actor | null;
  createdAt: string;
  updatedAt: string;
  /** The webhook said `edited`; a comment whose `updatedAt` differs from `createdAt` is edited too. */
  edited?: boolean;
  pullRequestAuthor?: string;
}

/** A submitted review on a pull request, from its webhook or found by recovery. */
export interface ReviewInput {
  id: number;
  repo: string;
  number: number;
  /** `approved` / `APPROVED`, `changes_requested`, `commented`, `dismissed`. */
  state: string;
  body: string | null;
  user: Actor | null;
  submittedAt: string | null;
  /** The commit reviewed: a review of another commit than the request's does not decide. */
  commitId?: string | null;
  pullRequestAuthor?: string;
}

/**
 * `handled`: applied and answered now or before (by its webhook or by recovery); `ignored`: no
 * decision in it; `in_hand`: being handled right now elsewhere (recovery looks again later).
 */
export type InputResult = "handled" | "ignored" | "in_hand";

/**
 * Above Probot's 9 s webhook timeout, so one handler is not overtaken by another copy; short, so
 * a claim whose release was lost (the store went away) holds the comment back only briefly.
 */
const CLAIM_TTL_MS = 60_000;
const ACTION_BY_REVIEW_STATE: Record<string, "approve" | "reject"> = { approved: "approve", changes_requested: "reject" };

/**
 * The one path from a comment or review to a decision, for webhooks and recovery alike: the
 * command is parsed and bots are dropped before any I/O, then the comment (or review) is
 * claimed in the store by its id, so however many times it arrives (webhook, redelivery,
 * recovery) it is applied and answered once.
 */
export function createGitHubDecisions(ctx: EngineContext, decideFromGitHub: (input: GitHubDecision) => Promise<DecisionOutcome[]>, batches: Pick<Batches, "holding">) {
  const { store, github, log } = ctx;

  async function once(key: string, decision: GitHubDecision): Promise<InputResult> {
    return claimed(key, async () => {
      const outcomes = await decideFromGitHub(decision);
      if (outcomes.length === 0) log.debug({ repo: decision.repo, number: decision.number }, "decision on an issue with no pending approval request");
      return () => answerDecisionOutcomes(outcomes, { github, log, login: decision.actor.login, action: decision.action, number: decision.number });
    });
  }

  /** Runs `decide` once per key, however often the input arrives, then its answer. */
  async function claimed(key: string, decide: () => Promise<() => Promise<void>>): Promise<InputResult> {
    const claim = await store.claimDelivery(key, CLAIM_TTL_MS);
    if (claim === "done") return "handled";
    if (claim === "in_hand") return "in_hand";
    let answer: () => Promise<void>;
    try {
      answer = await decide();
    } catch (error) {
      // Released, so a redelivery or the next recovery pass tries again; if the store is what
      // failed, the claim lapses by itself.
      await store.finishDelivery(key, false).catch(() => undefined);
      throw error;
    }
    await answer();
    await store.finishDelivery(key, true).catch((error: unknown) => {
      // The decision is written; only the memory of having answered is missing until the claim lapses.
      log.warn({ err: error, key }, "could not record a handled comment or review");
    });
    return "handled";
  }

  /**
   * A command on a batch issue names its rows (`/approve 1,3-5`, `/approve all`, `/reject 2`).
   * Each row goes through the one decision path on its own, with the batch's id, so who may
   * decide it, its feedback and its deadline are its own; one reply says what became of each row.
   * Rows are the stored rows of the requests, never read from the text.
   */
  async function decideRows(comment: CommentInput, members: ApprovalRequest[]): Promise<string | null> {
    const login = comment.user!.login;
    const command = parseBatchCommand(comment.body);
    if (!command) return null;
    if (command.type === "unsupported") return renderBatchUsageReply(login);
    const rows = members.map((member) => member.batch!.row);
    const selected = selectRows(command.rows, rows);
    if (!selected.ok) return renderRowProblemsReply(login, selected.problems, rows);
    const results: { row: number; outcome: RowOutcome }[] = [];
    for (const row of selected.rows) {
      const member = members.find((candidate) => candidate.batch!.row === row)!;
      if (!shownBefore(member.batch!, comment.createdAt)) {
        results.push({ row, outcome: { type: "not_shown" } });
        continue;
      }
      const [outcome] = await decideFromGitHub({
        repo: comment.repo,
        number: comment.number,
        actor: comment.user!,
        action: command.type,
        justification: command.justification,
        via: "comment",
        edited: Boolean(comment.edited) || comment.updatedAt !== comment.createdAt,
        madeAt: comment.createdAt,
        requestId: member.id,
        batchId: member.batch!.id,
      });
      results.push({ row, outcome: rowOutcome(outcome) });
    }
    return renderBatchReply(login, command, results);
  }

  /** The one reply to a batch command; best effort. */
  async function replyOnBatch(comment: CommentInput, first: ApprovalRequest, body: string | null): Promise<void> {
    if (body === null) return;
    await github.reply(first.installationId, first.repo, comment.number, body).catch((error: unknown) => {
      log.warn({ err: error, batchId: first.batch?.id }, "could not reply to a batch command");
    });
  }

  return {
    /** `/approve`, `/reject` or `/choose <id>` in a comment. */
    async decideFromComment(comment: CommentInput): Promise<InputResult> {
      const command = parseCommand(comment.body);
      if (!command) return "ignored";
      if (!comment.user || isBot(comment.user)) {
        log.debug({ login: comment.user?.login }, "command from a bot ignored");
        return "ignored";
      }
      const key = `comment:${comment.id}:${comment.updatedAt}`;
      const batch = (await store.findBySurface(comment.repo, comment.number)).filter((request) => request.batch && request.surfaceRef?.number === comment.number);
      if (batch.length > 0) {
        return claimed(key, async () => {
          const body = await batches.holding(batch[0]!.batch!.id, () => decideRows(comment, batch));
          return () => replyOnBatch(comment, batch[0]!, body);
        });
      }
      return once(key, {
        repo: comment.repo,
        number: comment.number,
        actor: comment.user,
        action: command.type === "choose" ? command.actionId : command.type,
        justification: command.justification,
        via: "comment",
        commentId: comment.id,
        edited: Boolean(comment.edited) || comment.updatedAt !== comment.createdAt,
        ...(comment.pullRequestAuthor ? { pullRequestAuthor: comment.pullRequestAuthor } : {}),
        madeAt: comment.createdAt,
      });
    },

    /** An approving review approves; one requesting changes rejects; other reviews do nothing. */
    async decideFromReview(review: ReviewInput): Promise<InputResult> {
      const action = ACTION_BY_REVIEW_STATE[review.state.toLowerCase()];
      if (!action || !review.user || isBot(review.user)) return "ignored";
      return once(`review:${review.id}`, {
        repo: review.repo,
        number: review.number,
        actor: review.user,
        action,
        justification: review.body?.trim() || null,
        via: "review",
        ...(review.commitId ? { headSha: review.commitId } : {}),
        ...(review.pullRequestAuthor ? { pullRequestAuthor: review.pullRequestAuthor } : {}),
        ...(review.submittedAt ? { madeAt: review.submittedAt } : {}),
      });
    },
  };
}

/** The row was on the issue when the comment was made (whole seconds, as GitHub dates comments). */
function shownBefore(batch: BatchMembership, madeAt: string): boolean {
  return batch.shownAt === undefined || Math.floor(Date.parse(batch.shownAt) / 1000) * 1000 <= Date.parse(madeAt);
}

function rowOutcome(outcome: DecisionOutcome | undefined): RowOutcome {
  if (!outcome) return { type: "later" };
  switch (outcome.type) {
    case "decided":
    case "already_decided":
      return { type: outcome.type, status: outcome.request.status };
    case "refused":
      return { type: "refused", reason: outcome.reason, allowed: outcome.allowed };
    case "needs_input":
      return { type: "needs_input", problem: outcome.problem };
    case "vote_refused":
      return { type: "vote_refused", reason: outcome.reason };
    case "voted":
    case "unknown_action":
    case "past_deadline":
      return { type: outcome.type };
    case "old_head":
      return { type: "unknown_action" };
  }
}
