import { formatTime } from "../../core/render/format.js";
import type { ApprovalRequest } from "../../core/types.js";
import { Html, html } from "../html.js";
import { actionFact, inert, requestFacts, type ActionFact, type RequestFacts } from "../request-facts.js";
import { unpackFull } from "../../core/context-layers.js";
import { visibleJson } from "../../core/render/inert.js";

/**
 * The pages behind one-click links: server-rendered, inline CSS, no script and nothing loaded
 * from elsewhere, readable on a phone. Agent text is inert and escaped (request-facts.ts, html.ts).
 */

export interface Page {
  status: number;
  title: string;
  body: Html;
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;background:#f6f8fa;color:#1f2328;font:16px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif}
main{max-width:640px;margin:0 auto;padding:16px}
.card{background:#fff;border:1px solid #d1d9e0;border-radius:8px;padding:16px;margin:0 0 16px}
.eyebrow{margin:0 0 4px;color:#59636e;font-size:13px;text-transform:uppercase;letter-spacing:.04em}
h1{font-size:22px;line-height:1.3;margin:0 0 8px;overflow-wrap:anywhere}
h2{font-size:16px;margin:0 0 8px}
p{margin:0 0 8px;overflow-wrap:anywhere}
dl{margin:0}dt{color:#59636e;font-size:13px}dd{margin:0 0 8px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:14px}
td{border-top:1px solid #d1d9e0;padding:6px 4px;vertical-align:top;overflow-wrap:anywhere}
td:first-child{color:#59636e;width:35%}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace}
label{display:block;font-weight:600;margin:16px 0 4px}
form>label:first-of-type,form>h2:first-of-type{margin-top:0}
.hint{font-weight:400;color:#59636e;font-size:13px}
input,select,textarea{width:100%;font:inherit;padding:10px;border:1px solid #d1d9e0;border-radius:6px;background:#fff}
textarea{min-height:88px}
.choice{display:flex;gap:8px;align-items:flex-start;font-weight:400;border:1px solid #d1d9e0;border-radius:6px;padding:10px;margin:8px 0}
.choice input{width:auto;margin-top:5px}
button{width:100%;margin-top:16px;padding:14px;font-family:inherit;font-weight:600;font-size:17px;line-height:1.2;border:0;border-radius:6px;color:#fff;background:#1f883d}
button.reject{background:#cf222e}
button.neutral{background:#24292f}
.approve{border-left:6px solid #1f883d}.reject-card{border-left:6px solid #cf222e}
.notice{border-left:6px solid #9a6700}
.small{font-size:13px;color:#59636e}
`;

/** The whole document, with the page's status kept beside it by the handler. */
export function renderDocument(page: Page): string {
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer"><meta name="robots" content="noindex"><title>${page.title} · hitl</title><style>${new Html(STYLE)}</style></head><body><main>${page.body}</main></body></html>`.value}`;
}

/** What the request is: the card the link pages and the desk both show first. */
export function factsCard(facts: RequestFacts): Html {
  return html`<section class="card">
<p class="eyebrow">Decision needed · ${facts.priority} priority</p>
<h1>${facts.task}</h1>
${facts.summary === null ? "" : html`<p>${facts.summary}</p>
`}<p>${facts.requestedBy} asks for approval. Why: ${facts.reason}</p>
<dl><dt>Deadline</dt><dd>${facts.deadline}</dd><dt>If nobody decides by then</dt><dd>${facts.fallback}</dd></dl>
${facts.prediction ? html`<p class="small">${facts.prediction}</p>` : ""}
</section>
${facts.data.length > 0 ? html`<section class="card"><h2>Decision data</h2><table>${facts.data.map((row) => html`<tr><td><code>${row.field}</code></td><td><code>${row.value}</code></td></tr>`)}</table>${facts.moreData > 0 ? html`<p class="small">${facts.moreData} more fields are on the request.</p>` : ""}</section>` : ""}`;
}

/** The largest full context layer the page shows itself; a larger one is on the desk. */
export const PAGE_FULL_BYTES = 64 * 1024;

/** The largest full context layer the desk shows on its request page. */
export const DESK_FULL_BYTES = 2 * 1024 * 1024;

/**
 * The agent's `detail` (inert paragraphs) and `full` layers (folded JSON, when small enough), for
 * the person deciding: the one-click page shows up to PAGE_FULL_BYTES, the desk up to DESK_FULL_BYTES.
 */
export function layersCard(request: ApprovalRequest, where: "page" | "desk" = "page"): Html | string {
  const layers = request.layers;
  if (!layers || (layers.detail === undefined && !layers.full)) return "";
  const paragraphs = (layers.detail ?? "").split(/\n\s*\n/).filter((part) => part.trim() !== "").map((part) => html`<p>${inert(part, 20_000)}</p>`);
  const full = layers.full;
  const fullPart = !full
    ? ""
    : full.bytes <= (where === "desk" ? DESK_FULL_BYTES : PAGE_FULL_BYTES)
      ? html`<details><summary>Full context (${full.bytes.toLocaleString("en")} bytes)</summary><pre style="white-space:pre-wrap;overflow-wrap:anywhere"><code>${visibleJson(unpackFull(full), 2)}</code></pre></details>`
      : where === "desk"
        ? html`<p class="small">The full context (${full.bytes.toLocaleString("en")} bytes) is too large to show here: ask the requesting agent, which reads it with GET /api/v1/requests/${request.id}/context.</p>`
        : html`<p class="small">The full context (${full.bytes.toLocaleString("en")} bytes) is too large for this page: see it on the approver's desk, or ask the requesting agent.</p>`;
  return html`<section class="card"><h2>Detail</h2>${paragraphs}${fullPart}</section>`;
}

function actionCard(action: ActionFact): Html {
  return html`<section class="card ${action.kind === "reject" ? "reject-card" : "approve"}"><p class="eyebrow">What confirming does</p><h2>${action.title}</h2><p>${action.impact ?? (action.kind === "reject" ? "Rejects the request." : "Approves the request.")}</p></section>`;
}

export interface ConfirmInput {
  request: ApprovalRequest;
  /** The link's action; null offers every action. */
  action: string | null;
  login: string;
  csrf: string;
  expiresAt: number;
  now: Date;
  /** Shown above the form when a first try needs more (a justification too short, a bad value). */
  problem?: string;
  /** What the person typed, kept when the page is shown again. */
  given?: { justification?: string; reasonCode?: string; fields?: Record<string, string> };
}

/** The page a GET shows: what the request is, what the action does, and a form that confirms it. */
export function confirmPage(input: ConfirmInput): Page {
  const { request } = input;
  const facts = requestFacts(request, input.now);
  const chosen = input.action === null ? null : (facts.actions.find((action) => action.id === input.action) ?? null);
  const offered = chosen ? [chosen] : facts.actions;
  const approving = offered.some((action) => action.kind === "approve");
  const rejecting = offered.some((action) => action.kind === "reject");
  const form = html`<form method="post" class="card">
<input type="hidden" name="csrf" value="${input.csrf}">
${chosen ? html`<input type="hidden" name="action" value="${chosen.id}">` : html`<h2>Choose</h2>${offered.map((action) => html`<label class="choice"><input type="radio" name="action" value="${action.id}" required><span><strong>${action.title}</strong><br><span class="hint">${action.impact ?? ""}</span></span></label>`)}`}
${decisionInputs(request, facts, { approving, rejecting, given: input.given ?? {} })}
<button type="submit"${chosen ? (chosen.kind === "reject" ? html` class="reject"` : "") : html` class="neutral"`}>${chosen ? `Confirm: ${chosen.title}` : "Confirm"}</button>
</form>`;
  return {
    status: 200,
    title: chosen ? `Confirm: ${chosen.title}` : "Decide",
    body: html`${input.problem ? html`<section class="card notice"><h2>Not decided yet</h2><p>${input.problem}</p></section>` : ""}
${factsCard(facts)}
${layersCard(request)}
${chosen ? actionCard(chosen) : ""}
${form}
<p class="small">This link was sent to ${input.login}. Confirming decides as ${input.login}, exactly as their comment on GitHub would. It works once, until ${formatTime(new Date(input.expiresAt).toISOString())}.${facts.url ? html` The request on GitHub: <span>${facts.url}</span>` : ""}</p>`,
  };
}

/**
 * The inputs of a decision form besides its action: the editable fields (approvals only), the
 * reason code (rejections, where the request's feedback asks for one) and the justification.
 */
export function decisionInputs(request: ApprovalRequest, facts: RequestFacts, options: { approving: boolean; rejecting: boolean; given: NonNullable<ConfirmInput["given"]>; disabled?: boolean }): Html {
  const { approving, rejecting, given } = options;
  const minLength = request.feedback?.minLength ?? 0;
  const reasons = request.feedback?.reasons ?? [];
  const editable = approving ? facts.editable : [];
  return html`${editable.map((field) => {
    const value = given.fields?.[field.name] ?? "";
    const id = `field-${editable.indexOf(field)}`;
    const label = html`<label for="${id}">Change ${field.field} <span class="hint">(${field.bounds}; now ${field.current}${rejecting ? "; approvals only" : ""})</span></label>`;
    if (field.options) {
      return html`${label}<select id="${id}" name="field:${field.name}"><option value="">keep it</option>${field.options.map((option) => html`<option value="${option.value}"${option.value === value ? html` selected` : ""}>${option.label}</option>`)}</select>`;
    }
    return html`${label}<input id="${id}" name="field:${field.name}" value="${value}"${field.type === "number" ? html` inputmode="decimal"` : ""} placeholder="leave empty to keep it">`;
  })}
${rejecting && reasons.length > 0 ? html`<label for="reason-code">Reason code <span class="hint">(needed to reject)</span></label><select id="reason-code" name="reason_code"><option value="">—</option>${reasons.map((code) => html`<option${given.reasonCode === code ? html` selected` : ""}>${code}</option>`)}</select>` : ""}
<label for="justification">Justification <span class="hint">(${minLength > 0 ? `required, at least ${minLength} characters` : "optional"})</span></label>
<textarea id="justification" name="justification" maxlength="2000">${given.justification ?? ""}</textarea>`;
}

/** Why a link decided nothing, with the HTTP status the page is sent with. */
export type LinkRefusal =
  | "invalid"
  | "expired"
  | "used"
  | "stale"
  | "decided"
  | "gone"
  | "csrf"
  | "not_allowed"
  | "requester"
  | "past_deadline"
  | "unknown_action";

const REFUSALS: Record<LinkRefusal, { status: number; title: string; text: string }> = {
  invalid: { status: 400, title: "This link is not valid", text: "The link is incomplete or was changed after it was sent. Nothing was decided. Open the link from the message again, or decide on GitHub." },
  expired: { status: 410, title: "This link has expired", text: "Links work until the request's deadline, and for 24 hours at most. Nothing was decided. A newer message may carry a fresh link, or decide on GitHub." },
  used: { status: 410, title: "This link was already used", text: "Each link works once. Nothing more was decided. The request shows what was decided." },
  stale: { status: 409, title: "This request changed since the link was sent", text: "What you would have approved is no longer what the request shows, so nothing was decided. Look at the request again before deciding." },
  decided: { status: 410, title: "This request is already decided", text: "Nothing more was decided." },
  gone: { status: 410, title: "This request no longer exists", text: "Nothing was decided." },
  csrf: { status: 403, title: "This confirmation could not be checked", text: "The form did not come from the page this link opens (or cookies are off). Nothing was decided. Open the link again and confirm from that page." },
  not_allowed: { status: 403, title: "You may not decide this request", text: "Nothing was decided." },
  requester: { status: 403, title: "You may not decide this request", text: "The agent, the person it acts for and the author of the change never decide their own request. Nothing was decided." },
  past_deadline: { status: 410, title: "The deadline has passed", text: "Nothing was decided; the request's fallback applies." },
  unknown_action: { status: 400, title: "This request does not offer that action", text: "Nothing was decided." },
};

/** A page saying why nothing was decided; `detail` adds a sentence of hitl's own (already safe text). */
export function refusalPage(reason: LinkRefusal, detail?: string): Page {
  const { status, title, text } = REFUSALS[reason];
  return { status, title, body: html`<section class="card notice"><h1>${title}</h1><p>${text}</p>${detail ? html`<p>${detail}</p>` : ""}</section>` };
}

/** After a decision or a vote: what it did. */
export function donePage(request: ApprovalRequest, action: string, login: string, voted: boolean): Page {
  const fact = actionFact(request, request.availableActions.find((a) => a.id === action) ?? { id: action, label: action === "reject" ? "Reject" : "Approve" });
  const title = voted ? "Your vote counts" : fact.kind === "reject" ? "Rejected" : "Approved";
  const text = voted
    ? `${login} voted ${fact.title}. The request waits for more approvals.`
    : `${login} decided ${fact.title}. The agent is told now.`;
  return { status: 200, title, body: html`<section class="card ${fact.kind === "reject" ? "reject-card" : "approve"}"><h1>${title}</h1><p>${text}</p></section>${factsCard(requestFacts(request, new Date(request.updatedAt)))}` };
}
