import { predictionText } from "../../core/render/prediction.js";
import { actionKind } from "../../core/decide.js";
import { formatTime, truncate } from "../../core/render/format.js";
import { inertChatText, slackText } from "../../core/render/inert.js";
import { viaWords } from "../../core/render/via.js";
import type { ActionOption, ApprovalRequest, NotificationEvent } from "../../core/types.js";
import { signActionRef } from "./action-ref.js";

/** Slack's documented limits (Block Kit reference), which the stand-in in the tests enforces too. */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  buttonText: 75,
  actionsElements: 25,
  contextElements: 10,
  value: 2000,
  actionId: 255,
} as const;

/** Shown on a field or an impact beyond which the rest is on GitHub. */
const FIELD_CHARS = 300;

export type Block = Record<string, unknown>;
export interface SlackMessage {
  /** The notification's fallback text (and what screen readers and notifications show). */
  text: string;
  blocks: Block[];
}

/** Agent text, inert and escaped for mrkdwn, cut to `max` characters first. */
const agentText = (text: string, max: number) => slackText(truncate(inertChatText(text), max));
const plain = (text: string, max: number) => ({ type: "plain_text", text: truncate(text, max), emoji: false });
const mrkdwn = (text: string) => ({ type: "mrkdwn", text: truncate(text, SLACK_LIMITS.sectionText) });

const HEADINGS: Record<NotificationEvent, string> = {
  opened: "Approval needed",
  warning: "Deadline near",
  escalated: "Escalated",
  decided: "Decided",
  expired: "Expired",
};

function dataFields(request: ApprovalRequest): Block | null {
  const entries = Object.entries(request.decisionData);
  if (entries.length === 0) return null;
  const shown = entries.length > SLACK_LIMITS.sectionFields ? entries.slice(0, SLACK_LIMITS.sectionFields - 1) : entries;
  // Escaping can make a field five times longer (`&` is `&amp;`): cut to the field's own limit, or Slack refuses the whole message.
  const fields = shown.map(([name, value]) => ({
    type: "mrkdwn",
    text: truncate(`*${agentText(name, 100)}*\n${agentText(typeof value === "string" ? value : JSON.stringify(value) ?? "null", FIELD_CHARS)}`, SLACK_LIMITS.fieldText),
  }));
  if (shown.length < entries.length) fields.push(mrkdwn(`_${entries.length - shown.length} more on GitHub_`));
  return { type: "section", fields };
}

function impacts(request: ApprovalRequest): Block | null {
  if (request.availableActions.length === 0) return null;
  const lines = request.availableActions.map((action) => `• *${slackText(actionTitle(request, action))}*${action.impact ? `: ${agentText(action.impact, FIELD_CHARS)}` : ""}`);
  return { type: "section", text: mrkdwn(lines.join("\n")) };
}

function summary(request: ApprovalRequest): Block[] {
  const where = request.surfaceRef?.url ? ` · <${request.surfaceRef.url}|${request.surfaceRef.type === "pull_request" ? "Pull request" : "Issue"} #${request.surfaceRef.number}>` : "";
  const lines = [
    `*Why:* ${agentText(request.approvalReason, 1000)}`,
    `*Priority:* ${request.priority} · *Deadline:* ${formatTime(request.deadline)}`,
    `*Asked by:* ${request.deployment ? "a deployment workflow" : agentText(request.requestedBy, 100)} in ${slackText(request.repo)}${where}`,
  ];
  const prediction = request.status === "pending" ? predictionText(request.prediction) : null;
  if (prediction !== null) lines.push(agentText(prediction, 1500));
  // The agent's one-line summary leads, in a block of its own so its escaping cannot crowd out the facts.
  const lead: Block[] = request.layers?.summary === undefined ? [] : [{ type: "section", text: mrkdwn(agentText(request.layers.summary, 500)) }];
  return [...lead, { type: "section", text: mrkdwn(lines.join("\n")) }, ...[dataFields(request), impacts(request)].filter((block): block is Block => block !== null)];
}

/**
 * "Approve: Refund": what pressing does, then the agent's label (unless it only says that), as
 * on GitHub's buttons. A button shows its label alone, so an approving action labelled "Reject"
 * must never be all a person reads; and a label that is only spaces or invisible characters
 * still leaves the button its text (Slack refuses an empty one, and with it the whole message).
 */
export function actionTitle(request: ApprovalRequest, action: ActionOption): string {
  const verb = actionKind(request, action.id) === "reject" ? "Reject" : "Approve";
  const label = inertChatText(action.label);
  return label === "" || label.toLowerCase() === verb.toLowerCase() ? verb : truncate(`${verb}: ${label}`, SLACK_LIMITS.buttonText);
}

/** Whether a decision from Slack must come with more than a button press: a justification, a reason code, or edits. */
export function needsForm(request: ApprovalRequest): boolean {
  return Boolean((request.feedback && (request.feedback.minLength > 0 || request.feedback.reasons.length > 0)) || Object.keys(request.editableFields ?? {}).length > 0);
}

function buttons(request: ApprovalRequest, signingSecret: string): Block {
  const actions = request.availableActions.slice(0, SLACK_LIMITS.actionsElements);
  return {
    type: "actions",
    block_id: "hitl_actions",
    elements: actions.map((action, index) => {
      const kind = actionKind(request, action.id);
      return {
        type: "button",
        action_id: `hitl_decide_${index}`,
        text: plain(actionTitle(request, action), SLACK_LIMITS.buttonText),
        value: signActionRef(signingSecret, { requestId: request.id, action: action.id, ...(request.surfaceRef?.headSha ? { headSha: request.surfaceRef.headSha } : {}) }),
        ...(kind === "approve" ? { style: "primary" } : kind === "reject" ? { style: "danger" } : {}),
      };
    }),
  };
}

/** A message that asks for a decision: the summary, the data, each action's impact, the deadline, a button per action. */
export function requestMessage(request: ApprovalRequest, event: NotificationEvent, signingSecret: string): SlackMessage {
  const heading = `${HEADINGS[event]}: ${inertChatText(request.taskDescription)}`;
  const level = event === "escalated" ? ` It has reached escalation level ${request.escalation.level}.` : "";
  const form = needsForm(request) ? " A button opens a form for what a decision must carry." : "";
  const blocks: Block[] = [
    { type: "header", text: plain(heading, SLACK_LIMITS.headerText) },
    ...summary(request),
    buttons(request, signingSecret),
    { type: "context", elements: [mrkdwn(`Request \`${request.id}\`.${level}${form} A decision here counts as your decision on GitHub.`)] },
  ];
  return { text: truncate(`${slackText(heading)} (${request.priority}, deadline ${formatTime(request.deadline)})`, 3000), blocks };
}

/** One sentence of how the request ended, for Slack. */
export function outcomeSentence(request: ApprovalRequest): string {
  const decision = request.decision;
  const status = request.status.charAt(0).toUpperCase() + request.status.slice(1);
  if (!decision) return `${status}.`;
  const label = request.availableActions.find((action) => action.id === decision.action)?.label;
  const chose = label && decision.action !== "approve" && decision.action !== "reject" ? ` (${agentText(label, 75)})` : "";
  const at = formatTime(decision.decidedAt);
  switch (decision.decidedBy.type) {
    case "human":
      return `${status}${chose} by ${slackText(decision.decidedBy.login)}${viaWords(decision.via)} on ${at}.`;
    case "rule":
      return `${status}${chose} by rule ${agentText(decision.decidedBy.id, 100)} on ${at}.`;
    case "prediction":
      return `${status} on ${at} by prediction from people's past decisions.`;
    case "fallback":
      return `Nobody decided by ${formatTime(request.deadline)}: the fallback applied (${decision.action}).`;
    case "agent":
      return `${status} by the agent ${agentText(decision.decidedBy.name, 100)} on ${at}.`;
    case "system":
      return `${status} on ${at}: ${agentText(decision.decidedBy.reason, 300)}`;
  }
}

/** A message that no longer asks anything: how the request ended, with the summary, and no buttons. */
export function outcomeMessage(request: ApprovalRequest): SlackMessage {
  const sentence = outcomeSentence(request);
  const heading = `${request.status.charAt(0).toUpperCase() + request.status.slice(1)}: ${inertChatText(request.taskDescription)}`;
  const blocks: Block[] = [
    { type: "header", text: plain(heading, SLACK_LIMITS.headerText) },
    { type: "section", text: mrkdwn(`*${sentence}*`) },
    ...summary(request),
    { type: "context", elements: [mrkdwn(`Request \`${request.id}\`. Nothing is left to decide here.`)] },
  ];
  return { text: truncate(`${slackText(heading)}. ${sentence}`, 3000), blocks };
}
