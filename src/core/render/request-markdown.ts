import { actionKind } from "../decide.js";
import { formatDuration, humanizeDuration } from "../duration.js";
import type { ActionOption, ApprovalRequest, Decider, Decision, Drift, FinalStatus } from "../types.js";
import {
  codeCell,
  codeFence,
  codeSpan,
  describeFallback,
  formatTime,
  listWords,
  mention,
  quietMention,
  safeCell,
  safeInline,
  sentence,
  stripFinalStop,
  truncate,
} from "./format.js";
import { inertText, visibleJson } from "./inert.js";
import { requestMarker } from "./markers.js";
import { predictionText } from "./prediction.js";
import { deploymentSection } from "./deployment.js";
import { choiceSection, editableSection, feedbackLine, reviewSections } from "./presentation.js";

export { renderRequestTitle } from "./title.js";
export { renderStatusLine } from "./status-line.js";
import { renderStatusLine } from "./status-line.js";
import { renderRequestTitle } from "./title.js";
import { tallyRegion } from "./votes.js";
import { viaWords } from "./via.js";
import { sensitiveNotice } from "../../sensitive/sensitive-fields.js";
import { hiddenNames, hiddenNotice } from "../../sensitive/hidden-fields.js";

export interface RenderContext {
  now: Date;
  /** The last decided requests of the same request type in this repository, newest first, at most 5. */
  recent: ApprovalRequest[];
  appName?: string;
}

/** GitHub's limit on an issue body, a comment and a check run's summary or text. */
export const MARKDOWN_LIMIT = 65_536;
const RECENT_LIMIT = 5;
// Room kept for what follows the decision data (rule line, warning, folded details), which is
// small and bounded because every agent string in it is cut.
const DATA_MARGIN = 256;

const DEFAULT_ACTIONS: ActionOption[] = [
  { id: "approve", label: "Approve" },
  { id: "reject", label: "Reject" },
];

/** The issue's title (see title.ts): what is needed, how urgent, by when, the task cut to fit. */
export function renderIssueTitle(request: ApprovalRequest, now: Date): string {
  return renderRequestTitle(request, now);
}

/**
 * The issue body, in the order a person reads it on a phone: hitl's signed marker (hidden,
 * markers.ts), the status line (edited in place on every change of state), the summary, the
 * decision data, what each action does, how to decide in two lines, and the rest folded. The
 * body stays under GitHub's limit by cutting the decision data.
 */
export function renderRequestBody(request: ApprovalRequest, context: RenderContext & { markerKey: string }): string {
  const summary = renderRequestSummary(request, context.now, { outlook: false });
  const head = [requestMarker(request.id, context.markerKey), renderStatusLine(request, context.now), "", summary].join("\n");
  return `${head}\n\n${renderRequestDetails(request, context, "issue", MARKDOWN_LIMIT - head.length - 2)}`;
}

/**
 * One paragraph: who asks, for what, why, how urgent, and when it expires with what happens
 * then; once decided, the decision instead of the deadline (`outlook: false` leaves both out,
 * for a body whose status line says it).
 */
/** Who asks: the agent by name, or, for a deployment, the workflow (GitHub asks on its behalf). */
function asker(request: ApprovalRequest): string {
  return request.deployment ? "A deployment workflow" : codeSpan(truncate(request.requestedBy, 100));
}

export function renderRequestSummary(request: ApprovalRequest, now: Date, options: { outlook?: boolean } = {}): string {
  const parts = [
    `${asker(request)} asks for approval: **${safeInline(request.taskDescription, 1000)}**.`,
    sentence(`Why: ${safeInline(request.approvalReason)}`),
    `Priority: ${request.priority}.`,
    ...(options.outlook === false ? [] : [outlook(request, now)]),
  ];
  return parts.join(" ");
}

function outlook(request: ApprovalRequest, now: Date): string {
  if (request.status !== "pending") return describeDecision(request, { ping: false });
  const deadline = formatTime(request.deadline);
  const fallback = describeFallback(request.fallback);
  return Date.parse(request.deadline) <= now.getTime()
    ? sentence(`The deadline, ${deadline}, has passed, so ${fallback}`)
    : sentence(`If nobody decides by ${deadline}, ${fallback}`);
}

/**
 * Everything after the summary, shared by the issue body and the check run's text: what changed
 * (a follow-up), the decision data, what each action does, how to decide, the tally (issue), and
 * then what only some read: approving with changes, the review sections, rule hints, and folded
 * history and metadata. `limit` is the room left; the decision data is cut to fit it.
 */
export function renderRequestDetails(
  request: ApprovalRequest,
  context: RenderContext,
  surface: "issue" | "check_run",
  limit = MARKDOWN_LIMIT,
): string {
  const before = [deploymentSection(request), supersedesSection(request), detailSection(request), "### Decision data"].filter((part): part is string => part !== null).join("\n\n");
  const editable = request.status === "pending" ? editableSection(request) : null;
  const after = [
    choiceSection(request, offeredActions(request), (action) => kindWord(request, action)),
    howToDecide(request, surface, context.appName ?? "hitl"),
    surface === "issue" ? tallyRegion(request, context.now) : null,
    editable === null ? null : folded("Approve with changes", editable),
    reviewSections(request),
    closestRuleLine(request),
    predictionLine(request),
    configErrorLine(request),
    recentSection(request, context.recent),
    metadataSection(request),
  ]
    .filter((part): part is string => part !== null)
    .join("\n\n");
  const room = limit - before.length - after.length - 4 - DATA_MARGIN;
  const text = [before, decisionData(request, room), after].filter((part) => part !== "").join("\n\n");
  // Only an absurd number of actions or recent decisions gets here.
  return text.length <= limit ? text : `${text.slice(0, limit - 60)}\n\n*The rest is cut to fit GitHub's size limit.*`;
}

/** The most characters the agent's `detail` takes on the issue, as rendered. */
const DETAIL_ROOM = 24_000;

/**
 * The agent's `detail` layer: its paragraphs as inert plain text (no markup, link or mention),
 * cut to `DETAIL_ROOM`.
 */
function detailSection(request: ApprovalRequest): string | null {
  const detail = request.layers?.detail;
  if (detail === undefined) return null;
  const lines = ["### Detail"];
  let used = 0;
  for (const paragraph of detail.split(/\n\s*\n/).filter((part) => part.trim() !== "")) {
    const text = safeInline(paragraph, DETAIL_ROOM);
    if (used + text.length > DETAIL_ROOM) {
      // What is left of the room, in characters that stay within it once escaped (an escape is at most 6).
      const left = Math.floor((DETAIL_ROOM - used) / 6);
      if (left >= 100) lines.push(safeInline(paragraph, left));
      lines.push(`*The detail is cut here. All of it is at ${codeSpan(`GET /api/v1/requests/${request.id}/context`)}.*`);
      break;
    }
    lines.push(text);
    used += text.length + 2;
  }
  return lines.join("\n\n");
}

function folded(summary: string, content: string): string {
  return [`<details><summary>${summary}</summary>`, "", content, "", "</details>"].join("\n");
}

/** Drifted fields shown on a follow-up; the rest are counted. */
const DRIFT_FIELDS_SHOWN = 20;

/**
 * A follow-up: what changed since the approval it asks again about. Field names and values are
 * the agent's, so each is an inert code span, cut short.
 */
function supersedesSection(request: ApprovalRequest): string | null {
  if (!request.supersedes) return null;
  const { id, drift } = request.supersedes;
  return [
    "### What changed since the earlier approval",
    "",
    `This request asks again about request ${codeSpan(id)}, which was approved, because the agent's context is no longer what was approved.`,
    "",
    ...driftLines(drift),
  ].join("\n");
}

function driftLines(drift: Drift): string[] {
  const value = (side: "approved" | "current", field: { approved?: unknown; current?: unknown }) =>
    Object.hasOwn(field, side) ? codeSpan(truncate(visibleJson(field[side]), 100)) : "*absent*";
  const lines = drift.fields.slice(0, DRIFT_FIELDS_SHOWN).map((field) => `- ${codeSpan(truncate(field.field, 100))}: approved ${value("approved", field)}, now ${value("current", field)}`);
  if (drift.fields.length > DRIFT_FIELDS_SHOWN) lines.push(`- …and ${drift.fields.length - DRIFT_FIELDS_SHOWN} more fields.`);
  if (drift.head) {
    const commit = (sha: string | null) => (sha === null ? "*none*" : codeSpan(sha.slice(0, 40)));
    lines.push(`- The pull request's head: approved on ${commit(drift.head.approved)}, now ${commit(drift.head.current)}.`);
  }
  if (drift.age) lines.push(`- The approval is ${humanizeDuration(drift.age.ms)} old; it holds for ${humanizeDuration(drift.age.maxMs)}.`);
  return lines;
}

/** The actions a person can take: the agent's, or approve and reject when it gave none. */
export function offeredActions(request: ApprovalRequest): ActionOption[] {
  return request.availableActions.length > 0 ? request.availableActions : DEFAULT_ACTIONS;
}

/**
 * The commands that decide this request: `/approve` and `/reject` always work; every other
 * action is taken with `/choose <id>`. Labels are safe markdown.
 */
export function decisionCommands(request: ApprovalRequest): { id: string; command: string; label: string }[] {
  const labelOf = (id: string, fallback: string) => {
    const action = request.availableActions.find((a) => a.id === id);
    return action ? safeInline(action.label, 200) : fallback;
  };
  const others = request.availableActions
    .filter((a) => a.id !== "approve" && a.id !== "reject")
    .map((a) => ({ id: a.id, command: codeSpan(`/choose ${a.id} [reason]`), label: safeInline(a.label, 200) }));
  return [
    { id: "approve", command: codeSpan("/approve [reason]"), label: labelOf("approve", "Approve") },
    { id: "reject", command: codeSpan("/reject [reason]"), label: labelOf("reject", "Reject") },
    ...others,
  ];
}

/** "`/approve [reason]`, `/reject [reason]` or `/choose refund-half [reason]`". */
export function decisionCommandList(request: ApprovalRequest): string {
  return listWords(
    decisionCommands(request).map((c) => c.command),
    "or",
  );
}

/**
 * The decision in one or two sentences: what, by whom, when and why. `ping` decides whether
 * a human decider is mentioned (a fresh comment) or only named (a body that is edited later).
 */
export function describeDecision(request: ApprovalRequest, options: { ping: boolean }): string {
  const described = describeOutcome(request, options);
  if (request.status !== "superseded") return described;
  const followUp = request.supersededBy ? ` in request ${codeSpan(request.supersededBy)}` : "";
  return `${described} It no longer holds: the agent's context changed, so it asked again${followUp}.`;
}

function describeOutcome(request: ApprovalRequest, options: { ping: boolean }): string {
  const decision = request.decision;
  if (!decision) return request.status === "pending" ? "No decision yet." : `${capitalise(request.status)}.`;
  const at = formatTime(decision.decidedAt);
  const why = decision.justification === null ? "" : stripFinalStop(safeInline(decision.justification));
  const because = why ? `: ${why}` : "";
  const edited = editedSentence(decision);

  switch (decision.decidedBy.type) {
    case "fallback":
      return sentence(`Nobody decided by ${formatTime(request.deadline)}, so ${describeFallback(decision.fallback ?? request.fallback)}`);
    case "system": {
      const reason = why || stripFinalStop(safeInline(decision.decidedBy.reason));
      const how = decision.via === "auto_approve" ? " automatically" : "";
      return sentence(`${capitalise(decision.status)}${how}${actionPart(request, decision)} on ${at}${reason ? `: ${reason}` : ""}`);
    }
    default:
      return sentence(`${capitalise(decision.status)} by ${deciderName(decision.decidedBy, options.ping)}${viaWords(decision.via)}${actionPart(request, decision)}${reasonPart(decision)} on ${at}${because}`) + edited;
  }
}

/** Who decided, as markdown. Only a human decider can ping, and only when asked to. */
export function deciderName(decider: Decider, ping: boolean): string {
  switch (decider.type) {
    case "human":
      return ping ? mention(decider.login) : quietMention(decider.login);
    case "rule":
      return `rule ${codeSpan(decider.id)}`;
    case "prediction":
      return "prediction from people's past decisions";
    case "agent":
      return `the agent ${codeSpan(truncate(decider.name, 100))}`;
    case "fallback":
      return `the fallback (${decider.fallback})`;
    case "system":
      return "hitl";
  }
}

/** Everyone asked so far: the first approvers and those of every escalation level reached. */
export function askedApprovers(request: ApprovalRequest): string[] {
  const reached = request.escalation.ladder.slice(0, request.escalation.level).flatMap((step) => step.approvers);
  const seen = new Set<string>();
  return [...request.approvers, ...reached].filter((who) => {
    const key = who.replace(/^@/, "").toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function actionPart(request: ApprovalRequest, decision: Decision): string {
  if (decision.action === "approve" || decision.action === "reject") return "";
  if (decision.status !== "approved" && decision.status !== "rejected") return "";
  const action = request.availableActions.find((a) => a.id === decision.action);
  const label = action ? `**${safeInline(action.label, 200)}** ` : "";
  return ` with ${label}(${codeSpan(decision.action)})`;
}

function reasonPart(decision: Decision): string {
  return decision.reasonCode ? ` (reason ${codeSpan(decision.reasonCode)})` : "";
}

function editedSentence(decision: Decision): string {
  const entries = Object.entries(decision.editedFields ?? {});
  if (entries.length === 0) return "";
  const changes = entries.map(([field, value]) => `${codeSpan(field)} to ${codeSpan(truncate(visibleJson(value), 100))}`);
  return ` They changed ${listWords(changes)}.`;
}

function capitalise(status: FinalStatus | "pending"): string {
  return status.charAt(0).toUpperCase() + status.slice(1);
}

/** "approves" or "rejects": what taking an offered action does to the request. */
export function kindWord(request: ApprovalRequest, action: ActionOption): "approves" | "rejects" {
  return actionKind({ availableActions: offeredActions(request) }, action.id) === "reject" ? "rejects" : "approves";
}

/**
 * How to decide, in two lines: what to post (or press), and who counts. A third only when every
 * decision must carry a justification or a reason code.
 */
function howToDecide(request: ApprovalRequest, surface: "issue" | "check_run", appName: string): string {
  if (request.status !== "pending") return "**How to decide:** this request is closed; commands posted now are answered, not applied.";
  const what =
    surface === "issue"
      ? "**How to decide:** post a new comment that starts with one of the commands above; the rest of the comment is your reason."
      : "**How to decide:** press a button above, submit a review (**Approve** approves, **Request changes** rejects), or post a comment on the pull request that starts with one of the commands above; the rest of the comment is your reason.";
  const who = request.approvers.length > 0 ? listWords(request.approvers.map(mention)) : "anyone with write access to this repository";
  const counting = request.stages
    ? `Each valid command is a vote in the open stage (see **Approvals** below); your latest vote stands and ${codeSpan("/retract")} withdraws it.`
    : `The first valid decision wins and ${safeInline(appName, 50)} tells the agent.`;
  const feedback = feedbackLine(request);
  return [what, `**Who may decide:** ${who} (never bots, the requester or an edited comment). ${counting}`, ...(feedback ? [feedback] : [])].join("\n\n");
}

function decisionData(request: ApprovalRequest, room: number): string {
  const code = (path: string) => codeSpan(truncate(path, 100));
  const notices = [
    ...(request.sensitive ? [sensitiveNotice(request.sensitive.paths, code)] : []),
    ...(request.hidden ? [hiddenNotice(hiddenNames(request.hidden, code))] : []),
  ];
  return [decisionDataOnly(request, room - notices.reduce((sum, notice) => sum + notice.length + 2, 0)), ...notices].join("\n\n");
}

function decisionDataOnly(request: ApprovalRequest, room: number): string {
  const entries = Object.entries(request.decisionData);
  if (entries.length === 0) return "No decision data was given.";
  const allScalar = entries.every(([, value]) => value === null || ["string", "number", "boolean"].includes(typeof value));
  return allScalar ? dataTable(request, entries, room) : dataJson(request, room);
}

function dataTable(request: ApprovalRequest, entries: [string, unknown][], room: number): string {
  const lines = ["| field | value |", "| --- | --- |"];
  let used = lines.join("\n").length;
  for (const [index, [field, value]] of entries.entries()) {
    const row = `| ${safeCell(field, 200)} | ${scalarCell(value)} |`;
    if (used + row.length + 1 > room) {
      lines.push("", cutNote(request, `${entries.length - index} more fields are not shown`));
      break;
    }
    lines.push(row);
    used += row.length + 1;
  }
  return lines.join("\n");
}

function scalarCell(value: unknown): string {
  if (typeof value === "string") return value === "" ? '`""`' : safeCell(value);
  return String(value);
}

function dataJson(request: ApprovalRequest, room: number): string {
  const json = visibleJson(request.decisionData, 2);
  const block = codeFence(json, "json");
  if (block.length <= room) return block;
  const fits: string[] = [];
  let used = 100;
  for (const line of json.split("\n")) {
    if (used + line.length + 1 > room) break;
    fits.push(line);
    used += line.length + 1;
  }
  fits.push("…");
  return `${codeFence(fits.join("\n"), "json")}\n\n${cutNote(request, `The data is cut here; it has ${String(json.length).replace(/\B(?=(\d{3})+$)/g, ",")} characters in all`)}`;
}

function cutNote(request: ApprovalRequest, what: string): string {
  return `*${what}. The full data is at ${codeSpan(`GET /api/v1/requests/${request.id}`)}.*`;
}

function closestRuleLine(request: ApprovalRequest): string | null {
  const id = request.evaluation?.closestRuleId;
  if (!id) return null;
  const trace = request.evaluation?.rules.find((rule) => rule.ruleId === id);
  const reasons = (trace?.reasons ?? []).map((reason) => stripFinalStop(safeInline(reason, 300)));
  return sentence(`Closest delegation rule: ${codeSpan(id)}${reasons.length > 0 ? ` — ${reasons.join("; ")}` : ""}`);
}

/** `.hitl.yml` `predict:`: how people would likely decide, while it waits for them. */
function predictionLine(request: ApprovalRequest): string | null {
  const text = request.status === "pending" ? predictionText(request.prediction) : null;
  return text === null ? null : `> [!NOTE]\n> ${safeInline(text, 1500)}`;
}

function configErrorLine(request: ApprovalRequest): string | null {
  const error = request.evaluation?.configError;
  if (!error) return null;
  return `> [!WARNING]\n> ${sentence(`This repository's ${codeSpan(".hitl.yml")} could not be used, so no delegation rule applied: ${stripFinalStop(safeInline(error, 1000))}`)}`;
}

function recentSection(request: ApprovalRequest, recent: ApprovalRequest[]): string | null {
  const decided = recent.filter((r) => r.decision !== null).slice(0, RECENT_LIMIT);
  if (decided.length === 0) return null;
  const type = request.requestType ? ` on ${safeInline(request.requestType, 100)} requests` : "";
  const rows = decided.map((r) => {
    const decision = r.decision!;
    const url = r.surfaceRef?.url;
    const when = url && /^https:\/\/[^\s()<>]+$/.test(url) ? `[${formatTime(decision.decidedAt)}](${url})` : formatTime(decision.decidedAt);
    const justification = decision.justification === null ? "" : safeCell(decision.justification, 200);
    return `| ${when} | ${decisionCell(r, decision)} | ${deciderCell(decision.decidedBy)} | ${justification} |`;
  });
  return [
    `<details><summary>Recent decisions${type} (${decided.length})</summary>`,
    "",
    "| when | decision | by | justification |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
    "</details>",
  ].join("\n");
}

function decisionCell(request: ApprovalRequest, decision: Decision): string {
  if (decision.action === "approve" || decision.action === "reject" || decision.status === "cancelled") return decision.status;
  if (decision.status === "expired") return `expired (${decision.fallback?.type ?? request.fallback.type})`;
  return `${decision.status}: ${safeCell(decision.action, 100)}`;
}

function deciderCell(decider: Decider): string {
  switch (decider.type) {
    case "human":
      return safeCell(`@${decider.login}`, 100);
    case "rule":
      return `rule ${codeCell(decider.id)}`;
    case "prediction":
      return "prediction";
    case "agent":
      return `agent ${safeCell(decider.name, 100)}`;
    case "fallback":
      return "fallback";
    case "system":
      return "hitl";
  }
}

function metadataSection(request: ApprovalRequest): string {
  const rows: [string, string][] = [
    ["id", codeCell(request.id)],
    ["request type", request.requestType === null ? "none" : codeCell(request.requestType)],
    ["risk score", request.riskScore === null ? "not given" : String(request.riskScore)],
    ["confidence", request.confidence === null ? "not given" : String(request.confidence)],
    // It covers the sensitive values too: shown with the rest, it would let a reader confirm a guess of one.
    ["context hash", request.sensitive ? "not shown (the request has sensitive fields)" : request.hidden ? "not shown (the request has fields not shown on GitHub)" : codeCell(request.contextHash)],
    ["created at", formatTime(request.createdAt)],
    ["deadline", formatTime(request.deadline)],
    ["escalation ladder", escalationCell(request)],
  ];
  return [
    "<details><summary>Request details</summary>",
    "",
    "| field | value |",
    "| --- | --- |",
    ...rows.map(([field, value]) => `| ${field} | ${value} |`),
    "",
    "</details>",
  ].join("\n");
}

function escalationCell(request: ApprovalRequest): string {
  const { ladder, level } = request.escalation;
  if (ladder.length === 0) return "none";
  const steps = ladder.map((step) => {
    const who = step.approvers.length > 0 ? step.approvers.map((a) => safeCell(`@${a.replace(/^@/, "")}`, 100)).join(", ") : "nobody new";
    return `after ${formatDuration(step.afterMs)}: ${who}`;
  });
  return `${steps.join("; ")}${level > 0 ? ` (level ${level} reached)` : ""}`;
}
