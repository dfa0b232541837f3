import { formatTime, truncate } from "../core/render/format.js";
import { inertText, visibleJson } from "../core/render/inert.js";
import { humanizeDuration } from "../core/duration.js";
import type { ApprovalRequest } from "../core/types.js";
import type { ChannelOutcome } from "../engine/decide-request.js";
import { Html, html } from "../channels/html.js";
import { decisionInputs, factsCard, layersCard } from "../channels/links/link-pages.js";
import { actionFact, describeOutcome, inert, requestFacts } from "../channels/request-facts.js";
import type { BatchResult, Queue } from "./desk-service.js";
import { filterQuery, NO_TYPE, SINGLE_STAGE, type FacetCount, type QueueFilter } from "./queue.js";

/**
 * The desk's pages: server-rendered, one stylesheet and one script from the app, no inline
 * script or style (the Content-Security-Policy forbids both). Agent text is inert and escaped
 * (request-facts.ts, html.ts).
 */

export interface DeskPage {
  status: number;
  title: string;
  body: Html;
}

/** Who is signed in, for the header, and where the desk's paths start. */
export interface Chrome {
  /** `/desk`, or `<HITL_PUBLIC_URL's path>/desk`. */
  base: string;
  login: string | null;
  csrf: string | null;
  current?: "queue" | "recent";
}

export function renderDeskDocument(page: DeskPage, chrome: Chrome): string {
  const { base, login, csrf } = chrome;
  const nav = (href: string, label: string, key: Chrome["current"]) => html`<a href="${href}"${chrome.current === key ? html` aria-current="page"` : ""}>${label}</a>`;
  const header = html`<header><div class="bar"><a class="brand" href="${base}">hitl · approver's desk</a>${
    login && csrf
      ? html`<nav aria-label="Desk">${nav(base, "Queue", "queue")} ${nav(`${base}/recent`, "Decided recently", "recent")}</nav><span class="who">Signed in as ${login}</span><form method="post" action="${base}/logout"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" aria-label="Sign out ${login}">Sign out</button></form>`
      : ""
  }</div></header>`;
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${page.title} · hitl desk</title><link rel="stylesheet" href="${base}/assets/desk.css"><script src="${base}/assets/desk.js" defer></script></head><body data-events="${base}/events"><a class="skip" href="#main">Skip to content</a>${header}<main id="main">${page.body}<p id="live" class="small" role="status" aria-live="polite"></p></main></body></html>`.value}`;
}

export function offPage(): DeskPage {
  return {
    status: 404,
    title: "The desk is off",
    body: html`<section class="card notice"><h1>The approver's desk is off</h1><p>To turn it on, set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (the GitHub App's OAuth credentials; Probot's setup writes them to .env) and HITL_PUBLIC_URL (where people reach this hitl), then restart.</p><p>Its sign-in callback is HITL_PUBLIC_URL followed by /desk/callback: add it to the GitHub App's callback URLs.</p></section>`,
  };
}

export function signInPage(base: string, next: string, problem?: string): DeskPage {
  return {
    status: problem ? 400 : 200,
    title: "Sign in",
    body: html`${problem ? html`<section class="card bad" role="alert"><h2>Not signed in</h2><p>${problem}</p></section>` : ""}<section class="card"><h1>The approver's desk</h1><p>Every request waiting for you, in one place: decide one, or several at once.</p><p>Sign in with your GitHub account. The desk shows only the requests you may decide.</p><p><a class="button neutral" href="${base}/login?next=${encodeURIComponent(next)}">Sign in with GitHub</a></p></section>`,
  };
}

export function signedOutPage(base: string): DeskPage {
  return { status: 200, title: "Signed out", body: html`<section class="card done"><h1>Signed out</h1><p>Your session on this desk has ended.</p><p><a href="${base}">Sign in again</a></p></section>` };
}

export function problemPage(status: number, title: string, text: string, base: string): DeskPage {
  return { status, title, body: html`<section class="card bad" role="alert"><h1>${title}</h1><p>${text}</p><p><a href="${base}">Back to the queue</a></p></section>` };
}

const timeLeft = (request: ApprovalRequest, now: Date) => {
  const left = Date.parse(request.deadline) - now.getTime();
  return left > 0 ? `${humanizeDuration(left)} left` : "deadline passed";
};

function facetList(name: string, label: string, values: FacetCount[], filter: QueueFilter, key: keyof QueueFilter, base: string, show: (value: string) => string = (v) => v): Html {
  if (values.length === 0) return html``;
  const link = (value: string | undefined, text: string, count: number) => {
    const next = { ...filter, [key]: value };
    if (value === undefined) delete next[key];
    const query = filterQuery(next);
    const current = filter[key] === value;
    return html`<li><a href="${base}${query ? `?${query}` : ""}" aria-current="${current ? "true" : "false"}"><span>${text}</span><span class="count" aria-label="${count} requests">${count}</span></a></li>`;
  };
  const total = values.reduce((sum, facet) => sum + facet.count, 0);
  return html`<h2 id="f-${name}">${label}</h2><ul aria-labelledby="f-${name}">${link(undefined, "Any", total)}${values.map((facet) => link(facet.value, show(facet.value), facet.count))}</ul>`;
}

/** A request as a form names it, `id:contextHash[:headSha]`: what the page showed. */
const itemValue = (request: ApprovalRequest) => `${request.id}:${request.contextHash}${request.surfaceRef?.headSha ? `:${request.surfaceRef.headSha}` : ""}`;

export function queuePage(input: { base: string; csrf: string; queue: Queue; filter: QueueFilter; now: Date }): DeskPage {
  const { base, queue, filter, now } = input;
  const { counts } = queue;
  const query = filterQuery(filter);
  const mineLink = (on: boolean, text: string, count: number) => {
    const next = filterQuery({ ...filter, mine: on || undefined });
    return html`<li><a href="${base}${next ? `?${next}` : ""}" aria-current="${Boolean(filter.mine) === on ? "true" : "false"}"><span>${text}</span><span class="count" aria-label="${count} requests">${count}</span></a></li>`;
  };
  const filters = html`<nav class="card filters" aria-label="Filters">
<h2 id="f-mine">Whose turn</h2><ul aria-labelledby="f-mine">${mineLink(false, "All I may decide", counts.all)}${mineLink(true, "Waiting on me", counts.mine)}</ul>
${facetList("priority", "Priority", counts.priority, filter, "priority", base)}
${facetList("repo", "Repository", counts.repo, filter, "repo", base, (v) => inert(v, 100))}
${facetList("type", "Type", counts.type, filter, "type", base, (v) => (v === NO_TYPE ? "no type" : inert(v, 100)))}
${facetList("stage", "Stage", counts.stage, filter, "stage", base, (v) => (v === SINGLE_STAGE ? "one decision" : `stage ${inert(v, 100)}`))}
</nav>`;
  const rows = queue.rows.map(({ request, waitsOnMe, stage }) => {
    const facts = requestFacts(request, now);
    const label = `row-${request.id}`;
    return html`<li class="row p-${request.priority}" data-watch="${request.id}:${request.version}" data-on-change="remove">
<input type="checkbox" name="item" value="${itemValue(request)}" form="batch" aria-labelledby="${label}">
<div><h3 id="${label}"><a href="${base}/r/${encodeURIComponent(request.id)}">${facts.task}</a></h3>
<p class="meta"><span class="tag ${request.priority}">${request.priority}</span>${request.requestType ? html`<span class="tag">${inert(request.requestType, 100)}</span>` : ""}${stage !== SINGLE_STAGE ? html`<span class="tag">stage ${inert(stage, 100)}</span>` : ""}${waitsOnMe ? html`<span class="tag">waiting on you</span>` : ""} ${inert(request.repo, 200)} · asked by ${facts.requestedBy}</p></div>
<p class="left">${timeLeft(request, now)}</p></li>`;
  });
  const empty = counts.all === 0 ? "Nothing waits for you. New requests show here as they come." : "No request matches these filters.";
  const list =
    queue.rows.length === 0
      ? html`<section class="card"><p class="empty">${empty}</p></section>`
      : html`<ul class="rows" aria-label="Requests">${rows}</ul>
<form id="batch" class="batch" method="post" action="${base}/batch${query ? `?${query}` : ""}">
<input type="hidden" name="csrf" value="${input.csrf}">
<label class="all"><input type="checkbox" id="select-all"> Select every request shown</label>
<label class="all"><input type="checkbox" name="all" value="1"> All ${queue.rows.length} matching this filter</label>
${queue.rows.map(({ request }) => html`<input type="hidden" name="shown" value="${itemValue(request)}">`)}
<div class="grow"><label for="batch-justification">Justification for the selected requests</label><input id="batch-justification" name="justification" maxlength="2000" autocomplete="off"></div>
<button type="submit" name="action" value="approve">Approve selected</button><button type="submit" name="action" value="reject" class="reject">Reject selected</button>
</form>`;
  return {
    status: 200,
    title: "Queue",
    body: html`<h1>${queue.rows.length === counts.all ? `${counts.all} ${counts.all === 1 ? "request waits" : "requests wait"} for you` : `${queue.rows.length} of ${counts.all} requests match`}</h1>
${queue.truncated ? html`<p class="small">Only the first 500 pending requests were read; decide some to see the rest.</p>` : ""}
${queue.unchecked ? html`<p class="card notice" role="alert">GitHub did not answer for some requests just now, so they are not shown. Reload to try again.</p>` : ""}
<div class="layout">${filters}<div>${list}</div></div>`,
  };
}

export interface RequestPageInput {
  base: string;
  csrf: string;
  /** With its sensitive values opened when the person may decide it. */
  request: ApprovalRequest;
  mayDecide: boolean;
  history: ApprovalRequest[];
  now: Date;
  problem?: string;
  given?: { justification?: string; reasonCode?: string; fields?: Record<string, string> };
}

export function requestPage(input: RequestPageInput): DeskPage {
  const { request, base, now } = input;
  const facts = requestFacts(request, now);
  const votes = request.votes ?? [];
  const approving = facts.actions.some((action) => action.kind === "approve");
  const rejecting = facts.actions.some((action) => action.kind === "reject");
  const decision =
    request.status !== "pending"
      ? html`<section class="card done"><h2>No longer waiting</h2><p>${describeOutcome(request)}</p></section>`
      : input.mayDecide
        ? html`<form method="post" class="card" data-watch="${request.id}:${request.version}" data-on-change="disable">
<h2>Decide</h2>
<p class="live" data-live hidden></p>
<input type="hidden" name="csrf" value="${input.csrf}">
<input type="hidden" name="context_hash" value="${request.contextHash}">
${request.surfaceRef?.headSha ? html`<input type="hidden" name="head_sha" value="${request.surfaceRef.headSha}">` : ""}
${decisionInputs(request, facts, { approving, rejecting, given: input.given ?? {} })}
<div class="actions">${facts.actions.map((action) => html`<button type="submit" name="action" value="${action.id}"${action.kind === "reject" ? html` class="reject"` : ""}>${action.title}</button>`)}</div>
</form>`
        : "";
  const impacts = facts.actions.filter((action) => action.impact);
  return {
    status: input.problem ? 422 : 200,
    title: facts.task,
    body: html`<div class="narrow">${input.problem ? html`<section class="card bad" role="alert"><h2>Not decided yet</h2><p>${input.problem}</p></section>` : ""}
<p><a href="${base}">← Queue</a></p>
${factsCard(facts)}
${layersCard(request, "desk")}
${(request.sections?.length ?? 0) > 0 ? html`<section class="card"><h2>For review</h2>${(request.sections ?? []).map((section) => html`<h3>${inert(section.title, 200)}</h3>${section.text ? html`<p>${inert(section.text, 2_000)}</p>` : ""}${section.data !== undefined ? html`<pre><code>${inertText(truncate(visibleJson(section.data), 2_000))}</code></pre>` : ""}`)}</section>` : ""}
<section class="card"><h2>About this request</h2><dl><dt>Repository</dt><dd>${inert(request.repo, 200)}</dd><dt>Type</dt><dd>${request.requestType ? inert(request.requestType, 100) : "none"}</dd><dt>Opened</dt><dd>${formatTime(request.createdAt)}</dd>${request.onBehalfOf ? html`<dt>On behalf of</dt><dd>${inert(request.onBehalfOf, 100)}</dd>` : ""}${request.riskScore !== null ? html`<dt>Risk score</dt><dd>${request.riskScore}</dd>` : ""}${request.confidence !== null ? html`<dt>Agent's confidence</dt><dd>${request.confidence}</dd>` : ""}${facts.url ? html`<dt>On GitHub</dt><dd><a href="${facts.url}" rel="noreferrer">${facts.url}</a></dd>` : ""}</dl>
${impacts.length > 0 ? html`<h2>What each action does</h2><dl>${impacts.map((action) => html`<dt>${action.title}</dt><dd>${action.impact}</dd>`)}</dl>` : ""}</section>
${(request.stages?.length ?? 0) > 0 ? html`<section class="card"><h2>Votes so far</h2>${votes.length === 0 ? html`<p class="empty">No votes yet.</p>` : html`<ul class="votes">${votes.map((vote) => html`<li>${inert(vote.by, 100)} voted ${actionFact(request, request.availableActions.find((a) => a.id === vote.action) ?? { id: vote.action, label: vote.action }).title} in stage ${inert(vote.stage, 100)} on ${formatTime(vote.at)}${vote.justification ? html`: ${inert(vote.justification, 300)}` : ""}</li>`)}</ul>`}</section>` : ""}
${decision}
<section class="card"><h2>Earlier requests of this type</h2>${input.history.length === 0 ? html`<p class="empty">None in this repository.</p>` : html`<ul class="history">${input.history.map((other) => html`<li>${inert(other.taskDescription, 200)}: ${describeOutcome(other)}</li>`)}</ul>`}</section></div>`,
  };
}

/** What a decision from the request page did, or why it did nothing. */
export function outcomePage(outcome: ChannelOutcome, login: string, action: string, base: string): DeskPage {
  const back = html`<p><a href="${base}">Back to the queue</a></p>`;
  const page = (status: number, title: string, text: string, kind = "bad", more: Html | string = "") => ({ status, title, body: html`<section class="card ${kind}" role="${kind === "done" ? "status" : "alert"}"><h1>${title}</h1><p>${text}</p>${more}</section>${back}` });
  switch (outcome.type) {
    case "decided": {
      const fact = actionFact(outcome.request, outcome.request.availableActions.find((a) => a.id === action) ?? { id: action, label: action === "reject" ? "Reject" : "Approve" });
      return page(200, fact.kind === "reject" ? "Rejected" : "Approved", `${login} decided ${fact.title}. The agent is told now.`, "done");
    }
    case "voted":
      return page(200, "Your vote counts", `${login} voted. The request waits for more approvals.`, "done");
    case "already_decided":
      return page(409, "Someone decided first", `Nothing was decided by you: ${describeOutcome(outcome.request)}`);
    case "stale":
    case "old_head":
      return page(409, "This request changed since you opened it", "Nothing was decided. Look at it again before deciding.", "bad", html`<p><a href="${base}/r/${encodeURIComponent(outcome.request.id)}">Open it again</a></p>`);
    case "refused":
      return page(403, "You may not decide this request", outcome.reason === "not_approver" ? "You are not among those who may decide it. Nothing was decided." : "The agent, the person it acts for and the author of the change never decide their own request. Nothing was decided.");
    case "vote_refused":
      return page(409, "Your vote was not counted", outcome.reason === "counted_earlier" ? "Your vote counted in an earlier stage, and one person counts in one stage only." : outcome.reason === "stage_closed" ? "The open stage has timed out." : "You have no vote to withdraw.");
    case "past_deadline":
      return page(410, "The deadline has passed", "Nothing was decided; the request's fallback applies.");
    case "unknown_action":
      return page(400, "This request does not offer that action", "Nothing was decided.");
    case "not_found":
      return page(404, "This request does not exist", "Nothing was decided.");
    case "needs_input":
      return page(422, "Not decided yet", problemText(outcome));
  }
}

export function problemText(outcome: Extract<ChannelOutcome, { type: "needs_input" }>): string {
  const problem = outcome.problem;
  if (problem.type === "edits") return `${problem.problems.map((p) => inert(p, 300)).join("; ")}.`;
  return problem.missing === "reason_code" ? `Rejecting needs a reason code (${problem.policy.reasons.map((r) => inert(r, 100)).join(", ")}).` : `A justification of at least ${problem.policy.minLength} characters is needed.`;
}

function batchLine(result: BatchResult): { ok: boolean; text: string } {
  if (result.result === "not_yours") return { ok: false, text: `${result.id}: not yours to decide; nothing was decided.` };
  if (result.result === "choose") return { ok: false, text: `${inert(result.request.taskDescription, 200)}: it offers more than one such action; decide it on its own page.` };
  const { outcome } = result;
  const task = "request" in outcome ? inert(outcome.request.taskDescription, 200) : result.id;
  switch (outcome.type) {
    case "decided":
      return { ok: true, text: `${task}: ${describeOutcome(outcome.request).replace(/ on \d.*$/, "")}.` };
    case "voted":
      return { ok: false, text: `${task}: your vote counts; the quorum is still open.` };
    case "already_decided":
      return { ok: false, text: `${task}: decided meanwhile (${describeOutcome(outcome.request).replace(/\.$/, "")}).` };
    case "stale":
    case "old_head":
      return { ok: false, text: `${task}: it changed since the queue was shown; look at it again.` };
    case "refused":
      return { ok: false, text: `${task}: not yours to decide.` };
    case "needs_input":
      return { ok: false, text: `${task}: ${problemText(outcome)}` };
    case "vote_refused":
      return { ok: false, text: `${task}: your vote was not counted.` };
    case "past_deadline":
      return { ok: false, text: `${task}: the deadline has passed.` };
    case "unknown_action":
      return { ok: false, text: `${task}: it does not offer that action.` };
    case "not_found":
      return { ok: false, text: `${result.id}: not yours to decide; nothing was decided.` };
  }
}

export function batchPage(input: { base: string; batchId: string; results: BatchResult[]; kind: "approve" | "reject" }): DeskPage {
  const lines = input.results.map(batchLine);
  const done = lines.filter((line) => line.ok);
  const not = lines.filter((line) => !line.ok);
  const verb = input.kind === "approve" ? "Approved" : "Rejected";
  return {
    status: 200,
    title: "Batch decided",
    body: html`<section class="card ${not.length === 0 ? "done" : "notice"}" role="status"><h1>${verb} ${done.length} of ${lines.length}</h1><p class="small">Batch ${input.batchId}: each request was decided on its own and its audit entry names the batch.</p>
${done.length > 0 ? html`<h2>Decided</h2><ul class="results">${done.map((line) => html`<li>${line.text}</li>`)}</ul>` : ""}
${not.length > 0 ? html`<h2>Could not be decided</h2><ul class="results">${not.map((line) => html`<li>${line.text}</li>`)}</ul>` : ""}</section>
<p><a href="${input.base}">Back to the queue</a></p>`,
  };
}

export function recentPage(input: { base: string; requests: ApprovalRequest[] }): DeskPage {
  return {
    status: 200,
    title: "Decided recently",
    body: html`<h1>Decided recently</h1><section class="card">${
      input.requests.length === 0
        ? html`<p class="empty">You have not decided anything lately.</p>`
        : html`<ul class="history">${input.requests.map((request) => html`<li><a href="${input.base}/r/${encodeURIComponent(request.id)}">${inert(request.taskDescription, 200)}</a> (${inert(request.repo, 200)}): ${describeOutcome(request)}</li>`)}</ul>`
    }</section>`,
  };
}
