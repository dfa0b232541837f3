import { stageBar, stagesAhead, type Stage } from "../aggregate.js";
import type { ApprovalRequest } from "../types.js";
import { currentApprovers } from "../schedule.js";
import { hasStages, outcomeOf, type VoteRefusal } from "../vote.js";
import { viaWords } from "./via.js";
import { codeCell, codeSpan, formatTime, listWords, mention, quietMention, safeCell, safeInline } from "./format.js";

/** "2 approvals", "all 3 of @a, @b, @c", "a weight of 5": what a stage needs for one action. */
export function describeRule(stage: Stage): string {
  if (stage.weights) {
    const weights = Object.entries(stage.weights).map(([who, weight]) => `${quietMention(who)} ${weight}`);
    return `votes weighing ${stageBar(stage)} in all (${listWords(weights)})`;
  }
  const bar = stageBar(stage);
  const who = stage.approvers.length > 0 ? ` of ${listWords(stage.approvers.map(quietMention))}` : "";
  if (stage.required === "all") return `all ${bar}${who}`;
  if (stage.required === "majority") return `a majority (${bar})${who}`;
  return `${bar} ${bar === 1 ? "approval" : "approvals"}${who}`;
}

/**
 * The path and the tally of a request with stages, for the issue body and the check run: stages
 * done, the stage open with every vote standing in it, and the stages that may follow. Edited
 * in place on every vote, so nobody gets a comment per vote. Null for a request one approval decides.
 */
export function renderTally(request: ApprovalRequest, now: Date): string | null {
  if (!hasStages(request)) return null;
  const votes = request.votes ?? [];
  const outcome = request.decision?.path ? null : outcomeOf(request, now);
  const done = request.decision?.path ?? outcome?.done ?? [];
  const lines = ["### Approvals", ""];
  for (const end of done) {
    const how = end.why === "timeout_partial" ? "timed out with partial approval" : end.kind === "reject" ? "rejected" : "approved";
    lines.push(`- ✅ ${safeInline(end.stage, 100)}: ${how} with ${codeSpan(end.action)} on ${formatTime(end.at)}`);
  }
  if (outcome?.type === "open") {
    const stage = outcome.stage;
    const closes = outcome.closesAt ? `, closes ${formatTime(outcome.closesAt)}` : "";
    const veto = stage.reject === "veto" ? "one rejection rejects" : "rejections must reach a majority of that";
    lines.push(`- ⏳ **${safeInline(stage.name, 100)}** (open): needs ${describeRule(stage)} for one action; ${veto}${closes}.`);
    const ahead = stagesAhead(request.stages, outcome.index);
    if (ahead.length > 0) lines.push(`- May follow: ${listWords(ahead.map((name) => safeInline(name, 100)))}.`);
  }
  const shown = votes.filter((vote) => request.status !== "pending" || outcome?.type !== "open" || vote.stage === outcome.stage.name || done.some((end) => end.stage === vote.stage));
  if (shown.length === 0) return [...lines, "", "No votes yet."].join("\n");
  lines.push("", "| stage | who | action | when |", "| --- | --- | --- | --- |");
  for (const vote of shown) lines.push(`| ${safeCell(vote.stage, 100)} | ${safeCell(`@${vote.by}${viaWords(vote.via)}`, 100)} | ${codeCell(vote.action)} | ${formatTime(vote.at)} |`);
  return lines.join("\n");
}

/** Why a vote (or `/retract`) was not applied. */
export function renderVoteRefusedReply(login: string, reason: Exclude<VoteRefusal, "not_pending" | "unknown_action" | "past_deadline">): string {
  switch (reason) {
    case "no_vote":
      return `${mention(login)}, you have no vote in the open stage of this request, so there is nothing to retract.`;
    case "counted_earlier":
      return `${mention(login)}, your vote counted in an earlier stage of this request, and one person counts in one stage only, so this vote was not applied.`;
    case "stage_closed":
      return `${mention(login)}, the open stage of this request has timed out, so your vote was not applied. hitl applies the stage's timeout shortly.`;
  }
}

const TALLY_START = /<!-- hitl:tally:v(\d+) -->/;
const TALLY_END = "<!-- /hitl:tally -->";

/**
 * The tally between the hidden markers a vote's update replaces; agent text can never write
 * `<!--` (inert.ts). The start marker holds the request's version, so an update that reads an
 * older request than the one already shown leaves the body alone.
 */
export function tallyRegion(request: ApprovalRequest, now: Date): string | null {
  const tally = renderTally(request, now);
  return tally === null ? null : `<!-- hitl:tally:v${request.version} -->\n${tally}\n${TALLY_END}`;
}

/** The issue body with its tally brought up to date, or null when the body has none or already shows a later version. */
export function replaceTally(body: string, request: ApprovalRequest, now: Date): string | null {
  const start = TALLY_START.exec(body);
  const end = start ? body.indexOf(TALLY_END, start.index) : -1;
  const region = tallyRegion(request, now);
  if (!start || end < 0 || region === null || Number(start[1]) > request.version) return null;
  return `${body.slice(0, start.index)}${region}${body.slice(end + TALLY_END.length)}`;
}

/** Posted once when a stage opens: its approvers are mentioned, so they are asked once. */
export function renderStageOpenedComment(request: ApprovalRequest, now: Date): string {
  const outcome = hasStages(request) ? outcomeOf(request, now) : null;
  if (outcome?.type !== "open") return "The next stage of this request is open.";
  const stage = outcome.stage;
  const asked = openStageApprovers(request, now);
  const who = asked.length > 0 ? `${listWords(asked.map(mention))}, stage` : "Stage";
  const previous = outcome.done.at(-1);
  const after = previous ? ` after ${safeInline(previous.stage, 100)} approved` : "";
  return `${who} **${safeInline(stage.name, 100)}** of this request is open${after}. It needs ${describeRule(stage)} for one action. Vote with ${codeSpan("/approve [reason]")} or ${codeSpan("/reject [reason]")}; ${codeSpan("/retract")} withdraws your vote while the stage is open.`;
}

/** Who to assign or ask for review when a stage opens: its own approvers, else those who hold the request now. */
export function openStageApprovers(request: ApprovalRequest, now: Date): string[] {
  const outcome = hasStages(request) ? outcomeOf(request, now) : null;
  if (outcome?.type !== "open") return [];
  return outcome.stage.approvers.length > 0 ? outcome.stage.approvers : currentApprovers(request);
}
