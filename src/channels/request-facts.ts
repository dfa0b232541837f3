import { actionKind } from "../core/decide.js";
import { humanizeDuration } from "../core/duration.js";
import { describeEditable } from "../core/edited-fields.js";
import { inertText, oneLine, visibleJson } from "../core/render/inert.js";
import { formatTime, truncate } from "../core/render/format.js";
import { offeredActions } from "../core/render/request-markdown.js";
import { predictionText } from "../core/render/prediction.js";
import type { ActionOption, ApprovalRequest, Fallback } from "../core/types.js";

/**
 * What a person needs to decide a request outside GitHub, as plain text that is already inert
 * (one line, no invisible characters, nothing that links or mentions: see core/render/inert.ts).
 * HTML renderers escape it on top; the plain-text email uses it as is.
 */
export interface RequestFacts {
  requestedBy: string;
  task: string;
  /** The agent's one-line `context.summary`, which messages lead with; null when it sent none. */
  summary: string | null;
  reason: string;
  priority: string;
  /** `1 Dec 2026 12:00 UTC (in 3 hours)`, or `… (passed)`. */
  deadline: string;
  /** What happens when nobody decides, e.g. `the request is aborted: nobody answered`. */
  fallback: string;
  /** Top-level decision data, values as JSON; at most `DATA_ROWS` rows (the rest counted in `moreData`). */
  data: { field: string; value: string }[];
  moreData: number;
  actions: ActionFact[];
  /** Fields a person may change when approving, with their bounds. */
  editable: { field: string; /** The field's own name, for the form (escaped there, never shown). */ name: string; type: "number" | "string" | "boolean"; options: { value: string; label: string }[] | null; bounds: string; current: string }[];
  /** Where the request lives on GitHub, when it was posted. */
  url: string | null;
  /** `.hitl.yml` `predict:`: how people would likely decide it, with its evidence; null: none. */
  prediction: string | null;
}

export interface ActionFact {
  id: string;
  label: string;
  kind: "approve" | "reject";
  /** `Approve: Refund` — what it does first, so a label cannot pass for the opposite. */
  title: string;
  impact: string | null;
}

const DATA_ROWS = 30;
const VALUE_LENGTH = 300;

export const inert = (text: string, max = 1_000) => inertText(truncate(oneLine(text), max));

export function actionFact(request: ApprovalRequest, action: ActionOption): ActionFact {
  const kind = actionKind({ availableActions: offeredActions(request) }, action.id) === "reject" ? "reject" : "approve";
  const label = inert(action.label, 200);
  return { id: action.id, label, kind, title: `${kind === "reject" ? "Reject" : "Approve"}: ${label}`, impact: action.impact ? inert(action.impact, 500) : null };
}

export function requestFacts(request: ApprovalRequest, now: Date): RequestFacts {
  const entries = Object.entries(request.decisionData);
  const left = Date.parse(request.deadline) - now.getTime();
  return {
    // GitHub asks for a deployment's workflow: its internal requester name means nothing to people.
    requestedBy: request.deployment ? "A deployment workflow" : inert(request.requestedBy, 100),
    task: inert(request.taskDescription),
    summary: request.layers?.summary === undefined ? null : inert(request.layers.summary, 500),
    reason: inert(request.approvalReason),
    priority: request.priority,
    deadline: `${formatTime(request.deadline)} (${left > 0 ? `in ${humanizeDuration(left)}` : "passed"})`,
    fallback: describePlainFallback(request.fallback),
    data: entries.slice(0, DATA_ROWS).map(([field, value]) => ({ field: inert(field, 100), value: inertText(truncate(visibleJson(value), VALUE_LENGTH)) })),
    moreData: Math.max(0, entries.length - DATA_ROWS),
    actions: offeredActions(request).map((action) => actionFact(request, action)),
    editable: Object.entries(request.editableFields ?? {}).map(([field, spec]) => ({
      field: inert(field, 100),
      name: field,
      type: spec.type,
      // The value is sent back as it is (escaped in HTML); only the label is shown.
      options: spec.type === "boolean" ? [{ value: "true", label: "true" }, { value: "false", label: "false" }] : spec.type === "string" && spec.enum ? spec.enum.map((option) => ({ value: option, label: inert(option, 200) })) : null,
      bounds: inert(describeEditable(spec), 300),
      current: inertText(truncate(visibleJson(request.decisionData[field] ?? null), VALUE_LENGTH)),
    })),
    url: request.surfaceRef?.url ?? null,
    prediction: request.status === "pending" ? nullable(predictionText(request.prediction)) : null,
  };
}

const nullable = (text: string | null) => (text === null ? null : inert(text, 1_500));

/** The fallback in plain words, to follow "If nobody decides by then, ". */
export function describePlainFallback(fallback: Fallback): string {
  const because = (reason: string | undefined) => (reason ? `: ${inert(reason, 300).replace(/[\s.]+$/, "")}` : "");
  switch (fallback.type) {
    case "abort":
      return `the request is aborted${because(fallback.reason)}`;
    case "use_default":
      return `the default action "${inert(fallback.action, 100)}" is taken${because(fallback.reason)}`;
    case "degrade":
      return `the agent continues in degraded mode "${inert(fallback.mode, 100)}"${because(fallback.reason)}`;
    case "delegate":
      return `the request is handed on${fallback.approvers?.length ? ` to ${fallback.approvers.map((who) => inert(who, 100)).join(", ")}` : ""}${because(fallback.reason)}`;
    case "retry_with_modification":
      return `the agent retries with changes${because(fallback.reason)}`;
  }
}

const VIA_WORDS: Record<string, string> = {
  comment: "on GitHub",
  review: "with a review",
  check_run: "with the check run's button",
  link: "with a one-click link",
  email: "by email reply",
  sms: "from a text message",
  slack: "on Slack",
  desk: "on the approver's desk",
};

/** "Approved by alice with a one-click link on 1 Dec 2026 09:30 UTC." — how a request ended, in plain words. */
export function describeOutcome(request: ApprovalRequest): string {
  const decision = request.decision;
  const status = request.status.charAt(0).toUpperCase() + request.status.slice(1);
  if (!decision) return `${status}.`;
  const who = decision.decidedBy;
  const by =
    who.type === "human"
      ? ` by ${who.login}`
      : who.type === "rule"
        ? ` by rule ${inert(who.id, 100)}`
        : who.type === "prediction"
          ? " by prediction from people's past decisions"
          : who.type === "fallback"
            ? " by its fallback"
            : who.type === "agent"
              ? " by the agent"
              : "";
  const via = who.type === "human" && VIA_WORDS[decision.via] ? ` ${VIA_WORDS[decision.via]}` : "";
  return `${status}${by}${via} on ${formatTime(decision.decidedAt)}.`;
}
