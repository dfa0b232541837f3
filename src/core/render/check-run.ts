import { viaWords } from "./via.js";
import type { ActionOption, ApprovalRequest } from "../types.js";
import { formatTime, truncate } from "./format.js";
import { inertText } from "./inert.js";
import { renderTally } from "./votes.js";
import { describeDecision, kindWord, offeredActions, renderRequestDetails, renderRequestSummary, type RenderContext } from "./request-markdown.js";
import { renderStatusLine } from "./status-line.js";

/** GitHub's limits on a check run's title and requested actions. */
const TITLE_LIMIT = 255;
const TEXT_LIMIT = 65_535;
const MAX_ACTIONS = 3;
const LABEL_LIMIT = 20;
const DESCRIPTION_LIMIT = 40;
const IDENTIFIER_LIMIT = 20;

export interface CheckRunAction {
  label: string;
  description: string;
  identifier: string;
}

export interface CheckRunOutput {
  name: "hitl/approval";
  title: string;
  summary: string;
  text: string;
  actions: CheckRunAction[];
}

export interface CheckRunConclusion {
  conclusion: "success" | "failure";
  title: string;
  summary: string;
}

/** The `hitl/approval` check run on a pull request. Buttons are offered only while the request is pending. */
export function renderCheckRun(request: ApprovalRequest, context: RenderContext): CheckRunOutput {
  return {
    name: "hitl/approval",
    title: checkRunTitle(request),
    summary: withTally(`${renderStatusLine(request, context.now)}\n\n${renderRequestSummary(request, context.now, { outlook: false })}`, request, context.now),
    text: renderRequestDetails(request, context, "check_run", TEXT_LIMIT),
    actions: request.status === "pending" ? buttons(request) : [],
  };
}

/**
 * How the check run ends: `success` only for an approval. GitHub counts `neutral` and `skipped`
 * as passing a required check, so every other outcome (rejected, expired, cancelled, superseded) is `failure`.
 */
export function renderCheckRunConclusion(request: ApprovalRequest): CheckRunConclusion {
  const conclusion = request.status === "approved" ? "success" : "failure";
  return { conclusion, title: checkRunTitle(request), summary: withTally(describeDecision(request, { ping: true }), request, new Date(request.updatedAt)) };
}

/** The summary with the tally of a request with stages after it. */
function withTally(summary: string, request: ApprovalRequest, now: Date): string {
  const tally = renderTally(request, now);
  return tally === null ? summary : truncate(`${summary}\n\n${tally}`, TEXT_LIMIT);
}

/** The action a requested-action button stands for, or null when the identifier is not one of this request's. */
export function actionForIdentifier(request: ApprovalRequest, identifier: string): ActionOption | null {
  return identifiers(request).find((entry) => entry.identifier === identifier)?.action ?? null;
}

function buttons(request: ApprovalRequest): CheckRunAction[] {
  const rank = (action: ActionOption) => (action.id === "approve" ? 0 : action.id === "reject" ? 1 : 2);
  return identifiers(request)
    .sort((a, b) => rank(a.action) - rank(b.action))
    .slice(0, MAX_ACTIONS)
    .map(({ action, identifier }) => ({
      label: buttonLabel(request, action),
      description: truncate(buttonDescription(request, action), DESCRIPTION_LIMIT),
      identifier,
    }));
}

/**
 * "Approve: Refund": what pressing the button does, then the agent's label (unless it only says
 * that). GitHub shows a button's label alone, its description only on hover, so a label of the
 * agent's own ("Reject" on an action that approves) must never be all a person sees.
 */
function buttonLabel(request: ApprovalRequest, action: ActionOption): string {
  const verb = kindWord(request, action) === "rejects" ? "Reject" : "Approve";
  const label = inertText(action.label);
  return label === "" || label.toLowerCase() === verb.toLowerCase() ? verb : truncate(`${verb}: ${label}`, LABEL_LIMIT);
}

/** "Approves: Customer gets $120 back": what pressing the button does, then its impact. */
function buttonDescription(request: ApprovalRequest, action: ActionOption): string {
  const kind = kindWord(request, action);
  const impact = inertText(action.impact ?? "");
  return `${kind.charAt(0).toUpperCase()}${kind.slice(1)}${impact ? `: ${impact}` : ""}`;
}

/**
 * A stable identifier per action: its id when it fits GitHub's 20 characters, else `a<n>` from
 * its position (with a suffix should an action already be called that). Recomputed from the
 * request, so a button click maps back without storing anything.
 */
function identifiers(request: ApprovalRequest): { action: ActionOption; identifier: string }[] {
  const actions = offeredActions(request);
  const fits = (id: string) => id.length > 0 && id.length <= IDENTIFIER_LIMIT;
  const taken = new Set(actions.map((a) => a.id).filter(fits));
  return actions.map((action, index) => {
    if (fits(action.id)) return { action, identifier: action.id };
    let identifier = `a${index + 1}`;
    for (let n = 2; taken.has(identifier); n += 1) identifier = `a${index + 1}-${n}`;
    taken.add(identifier);
    return { action, identifier };
  });
}

function checkRunTitle(request: ApprovalRequest): string {
  const decision = request.decision;
  if (request.status === "superseded") return truncate(`Superseded: asked again${request.supersededBy ? ` in ${request.supersededBy}` : ""}`, TITLE_LIMIT);
  if (request.status === "pending" || !decision) {
    if (request.status !== "pending") return capitalise(request.status);
    return truncate(`Approval needed: ${inertText(request.taskDescription)}`, TITLE_LIMIT);
  }
  const status = capitalise(decision.status);
  const action =
    decision.action === "approve" || decision.action === "reject" || decision.status === "expired" || decision.status === "cancelled"
      ? ""
      : ` (${inertText(request.availableActions.find((a) => a.id === decision.action)?.label ?? decision.action)})`;
  const by = decision.decidedBy;
  switch (by.type) {
    case "human":
      return truncate(`${status}${action} by @${by.login}${viaWords(decision.via)}`, TITLE_LIMIT);
    case "rule":
      return truncate(`${status}${action} by rule ${by.id}`, TITLE_LIMIT);
    case "prediction":
      return truncate(`${status}${action} by prediction from past decisions`, TITLE_LIMIT);
    case "agent":
      return truncate(`${status}${action} by ${inertText(by.name)}`, TITLE_LIMIT);
    case "fallback":
      return `${status}: nobody decided by ${formatTime(request.deadline)}`;
    case "system":
      if (decision.status === "cancelled") return truncate(`${status}: ${inertText(by.reason).replace(/\.$/, "")}`, TITLE_LIMIT);
      return truncate(`${status}${action}${decision.via === "auto_approve" ? " automatically" : ""}`, TITLE_LIMIT);
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
