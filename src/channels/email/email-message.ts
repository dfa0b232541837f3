import { formatTime, truncate } from "../../core/render/format.js";
import type { ApprovalRequest } from "../../core/types.js";
import { html, Html } from "../html.js";
import { describeOutcome, inert, requestFacts, type ActionFact, type RequestFacts } from "../request-facts.js";

/**
 * The emails hitl sends a person: one asking for a decision (with a link per action and a reply
 * address), and one saying how the request ended. Plain text and HTML say the same; agent text
 * is inert and, in HTML, escaped. Pure: the links and the time are passed in.
 */

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export interface ActionLink {
  action: ActionFact;
  url: string;
}

/**
 * `Decision needed (high priority) by 1 Dec 2026 12:00 UTC: Refund order 1234`. One line (no CR or
 * LF can reach the header), at most 200 characters. The sender makes every later mail to a person
 * answer their first (`Re: …`), so mail clients keep one thread.
 */
export function emailSubject(request: ApprovalRequest): string {
  return truncate(`Decision needed (${request.priority} priority) by ${formatTime(request.deadline)}: ${inert(request.taskDescription, 150)}`, 200);
}

/** The first line of a mail asking for a decision (a reply that quotes it unmarked ends there: see reply-command.ts). */
export const INTRO: Record<"opened" | "escalated" | "warning", string> = {
  opened: "A decision is needed from you.",
  escalated: "Nobody has decided yet, so this request now comes to you.",
  warning: "The deadline is near and nobody has decided yet.",
};

const BUTTON = (kind: "approve" | "reject") =>
  `display:block;margin:0 0 10px;padding:14px 16px;border-radius:6px;color:#ffffff;background:${kind === "reject" ? "#cf222e" : "#1f883d"};font-weight:600;font-size:16px;text-decoration:none;text-align:center`;
const BOX = "border:1px solid #d1d9e0;border-radius:8px;padding:16px;margin:0 0 16px;background:#ffffff";
const MUTED = "color:#59636e;font-size:13px";

function document(title: string, body: Html): string {
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head><body style="margin:0;padding:0;background:#f6f8fa"><div style="max-width:600px;margin:0 auto;padding:16px;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#1f2328">${body}</div></body></html>`.value}`;
}

function factsHtml(facts: RequestFacts): Html {
  return html`<div style="${BOX}">
<p style="margin:0 0 4px;${MUTED};text-transform:uppercase;letter-spacing:.04em">Decision needed · ${facts.priority} priority</p>
<h1 style="font-size:21px;line-height:1.3;margin:0 0 8px">${facts.task}</h1>
${facts.summary === null ? "" : html`<p style="margin:0 0 8px">${facts.summary}</p>
`}<p style="margin:0 0 8px">${facts.requestedBy} asks for approval. Why: ${facts.reason}</p>
<p style="margin:0"><strong>Deadline:</strong> ${facts.deadline}<br><strong>If nobody decides by then:</strong> ${facts.fallback}</p>
${facts.prediction ? html`<p style="margin:8px 0 0;${MUTED}">${facts.prediction}</p>` : ""}
</div>
${facts.data.length > 0 ? html`<div style="${BOX}"><p style="margin:0 0 8px;font-weight:600">Decision data</p><table role="presentation" style="border-collapse:collapse;width:100%;font-size:14px">${facts.data.map((row) => html`<tr><td style="border-top:1px solid #d1d9e0;padding:6px 4px;vertical-align:top;color:#59636e;width:35%;word-break:break-word"><code>${row.field}</code></td><td style="border-top:1px solid #d1d9e0;padding:6px 4px;vertical-align:top;word-break:break-word"><code>${row.value}</code></td></tr>`)}</table>${facts.moreData > 0 ? html`<p style="margin:8px 0 0;${MUTED}">${facts.moreData} more fields are on the request.</p>` : ""}</div>` : ""}`;
}

function factsText(facts: RequestFacts): string[] {
  return [
    facts.task,
    "",
    ...(facts.summary === null ? [] : [facts.summary, ""]),
    `${facts.requestedBy} asks for approval. Why: ${facts.reason}`,
    `Priority: ${facts.priority}`,
    `Deadline: ${facts.deadline}`,
    `If nobody decides by then: ${facts.fallback}`,
    ...(facts.prediction ? [facts.prediction] : []),
    ...(facts.data.length > 0 ? ["", "Decision data:", ...facts.data.map((row) => `  ${row.field}: ${row.value}`), ...(facts.moreData > 0 ? [`  (${facts.moreData} more fields are on the request)`] : [])] : []),
  ];
}

export interface DecisionEmailInput {
  event: "opened" | "escalated" | "warning";
  login: string;
  links: ActionLink[];
  /** `reply+<token>@…`; null when replies are not taken. */
  replyAddress: string | null;
  /** When the links stop working. */
  linksExpireAt: number;
  now: Date;
}

/** The email that asks for a decision: summary, data, one link per action with its impact, the deadline. */
export function decisionEmail(request: ApprovalRequest, input: DecisionEmailInput): EmailContent {
  const facts = requestFacts(request, input.now);
  const subject = emailSubject(request);
  const intro = INTRO[input.event];
  const until = formatTime(new Date(input.linksExpireAt).toISOString());
  const words = ["approve", "reject", ...facts.actions.filter((a) => a.id !== "approve" && a.id !== "reject").map((a) => `choose ${inert(a.id, 100)}`)];
  const replyHelp = input.replyAddress ? `Or reply to this email with ${words.slice(0, -1).join(", ")} or ${words.at(-1)} on the first line; the rest of your reply is your reason.` : null;
  const gitHub = facts.url ? `On GitHub: ${facts.url}` : null;
  const text = [
    intro,
    "",
    ...factsText(facts),
    "",
    "Decide (each link opens a page to confirm on; it works once, until " + until + "):",
    ...input.links.flatMap((link) => ["", `${link.action.title}${link.action.impact ? ` — ${link.action.impact}` : ""}`, link.url]),
    "",
    ...(replyHelp ? [replyHelp, ""] : []),
    `Sent to ${input.login}; deciding here counts as ${input.login}'s decision.`,
    ...(gitHub ? [gitHub] : []),
    "",
  ].join("\n");
  const body = html`<p style="margin:0 0 12px">${intro}</p>
${factsHtml(facts)}
<div style="${BOX}"><p style="margin:0 0 12px;font-weight:600">Decide</p>
${input.links.map((link) => html`<a href="${link.url}" style="${BUTTON(link.action.kind)}">${link.action.title}</a><p style="margin:-4px 0 14px;${MUTED}">${link.action.impact ?? (link.action.kind === "reject" ? "Rejects the request." : "Approves the request.")}</p>`)}
<p style="margin:0;${MUTED}">Each button opens a page to confirm on. It works once, until ${until}.</p></div>
${replyHelp ? html`<p style="margin:0 0 8px;${MUTED}">${replyHelp}</p>` : ""}
<p style="margin:0;${MUTED}">Sent to ${input.login}; deciding here counts as ${input.login}'s decision.${gitHub ? html` ${gitHub}` : ""}</p>`;
  return { subject, text, html: document(subject, body) };
}

/** The email that says how the request ended; it carries no links (those are dead now). */
export function outcomeEmail(request: ApprovalRequest, input: { login: string; now: Date }): EmailContent {
  const facts = requestFacts(request, input.now);
  const subject = emailSubject(request);
  const outcome = describeOutcome(request);
  const justification = request.decision?.justification ? `Reason: ${inert(request.decision.justification)}` : null;
  const closing = "The links in earlier emails no longer work.";
  const text = [outcome, ...(justification ? [justification] : []), "", facts.task, "", closing, ...(facts.url ? [`On GitHub: ${facts.url}`] : []), ""].join("\n");
  const body = html`<div style="${BOX}"><h1 style="font-size:21px;line-height:1.3;margin:0 0 8px">${outcome}</h1>${justification ? html`<p style="margin:0 0 8px">${justification}</p>` : ""}<p style="margin:0">${facts.task}</p></div><p style="margin:0;${MUTED}">${closing}${facts.url ? html` On GitHub: ${facts.url}` : ""}</p>`;
  return { subject, text, html: document(subject, body) };
}
