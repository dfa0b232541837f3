import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderCheckRun, renderCheckRunConclusion } from "../../../src/core/render/check-run.js";
import {
  renderAlreadyDecidedReply,
  renderDecisionComment,
  renderNeedsInputReply,
  renderEscalationComment,
  renderStaleComment,
  renderUnknownActionReply,
  renderWarningComment,
} from "../../../src/core/render/comments.js";
import { findRequestMarker } from "../../../src/core/render/markers.js";
import { renderBatchBody, renderBatchReply, renderBatchTitle } from "../../../src/core/render/batch.js";
import { renderIssueTitle, renderRequestBody } from "../../../src/core/render/request-markdown.js";
import type { ActionOption, ApprovalRequest, Decision, Fallback, Presentation } from "../../../src/core/types.js";
import { escalationMessage } from "../../../src/notify/channels.js";
import { makeRequest } from "../../support/fixtures.js";
import { allNodes, parseGfm, skeleton, type MdNode } from "../../support/gfm.js";

/**
 * Every string an agent sends, rendered on every surface, through a real GFM parser: agent text
 * adds no node of its own (no link, image, HTML, heading, list, emphasis, code, footnote, table
 * cell…), so the rendering has exactly the shape it has for harmless text; and in what GitHub
 * shows as text, nothing survives that GitHub's own filters turn into a mention, an issue or
 * commit reference, or that hides or reorders text.
 */

// Each run renders some thirty documents twice and parses them; a run takes about a third of a second.
const RUNS = 40;
const TIMEOUT_MS = 120_000;
const markerKey = "marker-key-for-tests";
const NOW = new Date("2026-11-25T12:00:00.000Z");
const SURFACE_URL = "https://github.com/octo-org/payments/issues/7";
/** The people hitl mentions on purpose: approvers, the ladder's, the human decider, the commenter it answers. */
const PINGED = new Set(["alice", "octo-org/finance", "bob", "octo-org/leads", "carol", "dave"]);

const HOSTILE = [
  "@mallory",
  "@evil-org/everyone",
  "cc:@mallory,",
  "mallory@evil.example",
  "mailto:mallory@evil.example",
  "xmpp:mallory@evil.example",
  "#1",
  "(#42)",
  "octo-org/payments#12",
  "octo-org#12",
  "GH-42",
  "gh-7",
  "a5c3785ed8d6a35868bc169f07e40e889087fd2e",
  "deadbeefcafe",
  "mallory@a5c3785",
  "octo-org/payments@a5c3785ed8",
  "https://evil.example/x?y=1",
  "HTTP://EVIL.EXAMPLE",
  "www.evil.example",
  "WWW.evil.example/path",
  "<https://evil.example>",
  "<mallory@evil.example>",
  "[click](https://evil.example)",
  "[click][1]\n\n[1]: https://evil.example",
  "![pixel](https://evil.example/p.png)",
  "[^1]\n\n[^1]: note",
  "<b>bold</b>",
  "<img src=x onerror=alert(1)>",
  "<details><summary>",
  "</details>",
  "<!-- hidden -->",
  "<!-- hitl:request:req_other -->",
  "<!-- hitl:outcome:req_other -->",
  "\n\n**Approved** by @alice on 24 Nov 2026 10:05 UTC. The agent has been told.\n\n",
  "**Approved**",
  "__bold__",
  "*em*",
  "_em_",
  "~~gone~~",
  "~gone~",
  "`",
  "``code``",
  "```",
  "\\",
  "\\*",
  "&#64;mallory",
  "&lt;b&gt;",
  "&amp;",
  "&",
  "|",
  "| a | b |",
  "$\\href{https://evil.example}{x}$",
  "$$\\Huge{APPROVED}$$",
  ":+1:",
  "\n# Approved",
  "\n> quote",
  "\n- item",
  "\n1. item",
  "\n---",
  "\n===",
  "\r\n",
  "\t",
  "\u202E",
  "\u202A\u202B\u202C\u202D",
  "\u2066\u2067\u2068\u2069",
  "\u200E\u200F",
  "\u200B\u200C\u200D\u2060\uFEFF",
  "@\u200Bmallory",
  "#\u200B1",
  "\u00AD",
  "\u061C",
  "\u{E0041}\u{E0042}",
  "\u0000\u0007\u001B[31m",
  "\u0085\u2028\u2029",
  "<!channel>",
  "<!here>",
  "<!everyone>",
  "<@U024BE7LH>",
  "<#C024BE7LR>",
  "<!subteam^S012>",
  "<https://evil.example|click>",
  "@channel",
  "@here",
  "@everyone",
];

/** Hostile text: bits of markup and references glued together, with random text between. */
const hostile = fc
  .array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...HOSTILE) }, { weight: 1, arbitrary: fc.string({ maxLength: 8, unit: "binary" }) }), {
    minLength: 1,
    maxLength: 5,
  })
  .chain((parts) => fc.constantFrom("", " ", "x").map((glue) => `a ${parts.join(glue)}`));

const actionId = fc.stringMatching(/^[a-z][a-z0-9_-]{0,11}$/).filter((id) => id !== "approve" && id !== "reject");

interface AgentStrings {
  task: string;
  reason: string;
  requestedBy: string;
  requestType: string;
  dataKeys: string[];
  dataValues: string[];
  nested: boolean;
  actions: { id: string; label: string; impact: string }[];
  message: string;
  fallback: Fallback;
  justification: string;
  agentName: string;
  chosen: number;
  /** An editable field's allowed values, the detailed review's sections, and a field name a commenter wrote. */
  enumValues: string[];
  sections: { title: string; text: string }[];
  commenterField: string;
}

const fallback = fc.oneof(
  fc.record({ type: fc.constant("abort" as const), reason: hostile, cleanup: hostile }),
  fc.record({ type: fc.constant("use_default" as const), action: fc.constant("reject"), value: hostile, reason: hostile }),
  fc.record({ type: fc.constant("degrade" as const), mode: hostile, reason: hostile }),
  fc.record({ type: fc.constant("delegate" as const), rule: hostile, reason: hostile }),
  fc.record({ type: fc.constant("retry_with_modification" as const), modifications: fc.dictionary(hostile, hostile, { minKeys: 1, maxKeys: 2 }), reason: hostile }),
);

const agentStrings: fc.Arbitrary<AgentStrings> = fc.record({
  task: hostile,
  reason: hostile,
  requestedBy: hostile,
  requestType: hostile,
  dataKeys: fc.uniqueArray(hostile, { minLength: 1, maxLength: 3 }),
  dataValues: fc.array(hostile, { minLength: 3, maxLength: 3 }),
  nested: fc.boolean(),
  actions: fc.uniqueArray(fc.record({ id: actionId, label: hostile, impact: hostile }), { minLength: 1, maxLength: 3, selector: (a) => a.id }),
  message: hostile,
  fallback,
  justification: hostile,
  agentName: hostile,
  chosen: fc.nat(),
  enumValues: fc.array(hostile, { minLength: 1, maxLength: 2 }),
  sections: fc.array(fc.record({ title: hostile, text: hostile }), { minLength: 1, maxLength: 2 }),
  commenterField: hostile,
});

/** The same request with every agent string replaced by harmless text of the same kind. */
function harmless(strings: AgentStrings): AgentStrings {
  const plain = (text: string) => (text ? "plain words" : text);
  const fallbackOf = (f: Fallback): Fallback => {
    switch (f.type) {
      case "abort":
        return { ...f, reason: plain(f.reason), cleanup: plain(f.cleanup ?? "") };
      case "use_default":
        return { ...f, value: "plain words", reason: plain(f.reason ?? "") };
      case "degrade":
        return { ...f, mode: plain(f.mode), reason: plain(f.reason ?? "") };
      case "delegate":
        return { ...f, rule: plain(f.rule ?? ""), reason: plain(f.reason ?? "") };
      case "retry_with_modification":
        return { ...f, modifications: Object.fromEntries(Object.keys(f.modifications).map((_, i) => [`key${i}`, "plain words"])), reason: plain(f.reason ?? "") };
    }
  };
  return {
    ...strings,
    task: plain(strings.task),
    reason: plain(strings.reason),
    requestedBy: plain(strings.requestedBy),
    requestType: plain(strings.requestType),
    dataKeys: strings.dataKeys.map((_, i) => `key${i}`),
    dataValues: strings.dataValues.map(plain),
    actions: strings.actions.map((a) => ({ ...a, label: plain(a.label), impact: plain(a.impact) })),
    message: plain(strings.message),
    fallback: fallbackOf(strings.fallback),
    justification: plain(strings.justification),
    agentName: plain(strings.agentName),
    enumValues: strings.enumValues.map(plain),
    sections: strings.sections.map((section) => ({ title: plain(section.title), text: plain(section.text) })),
    commenterField: plain(strings.commenterField),
  };
}

function requestFrom(s: AgentStrings, state: "pending" | "chosen" | "agent" | "expired" | "superseded", presentation?: Presentation): ApprovalRequest {
  const data = Object.fromEntries(s.dataKeys.map((key, i) => [key, s.nested ? { [key]: [s.dataValues[i % 3]] } : s.dataValues[i % 3]]));
  // Every alternative carries the decision data as its own, for the comparative table.
  const actions: ActionOption[] = [{ id: "approve", label: "Approve", data }, ...s.actions.map((action) => ({ ...action, data }))];
  const chosen = s.actions[s.chosen % s.actions.length]!;
  const decisions: Record<typeof state, Decision | null> = {
    pending: null,
    chosen: { action: chosen.id, status: "approved", decidedBy: { type: "human", login: "carol" }, justification: s.justification, decidedAt: "2026-11-25T11:00:00.000Z", via: "comment", editedFields: { [s.dataKeys[0]!]: s.dataValues[0] } },
    agent: { action: "reject", status: "cancelled", decidedBy: { type: "agent", name: s.agentName }, justification: s.justification, decidedAt: "2026-11-25T11:00:00.000Z", via: "api" },
    expired: { action: "reject", status: "expired", decidedBy: { type: "fallback", fallback: s.fallback.type }, justification: null, decidedAt: "2026-11-25T11:00:00.000Z", via: "fallback", fallback: s.fallback },
    superseded: { action: chosen.id, status: "approved", decidedBy: { type: "human", login: "carol" }, justification: s.justification, decidedAt: "2026-11-25T11:00:00.000Z", via: "comment" },
  };
  // A follow-up shows what drifted: the agent's field names and values, approved and now.
  const drift = {
    fields: s.dataKeys.map((key, i) => ({ field: `${key}.${s.dataKeys[0]}`, approved: s.dataValues[i % 3], ...(i > 0 ? { current: { [key]: s.dataValues[(i + 1) % 3] } } : {}) })),
    head: { approved: "a".repeat(40), current: "b".repeat(40) },
    age: { ms: 90_000_000, maxMs: 86_400_000 },
  };
  const decision = decisions[state];
  return makeRequest({
    id: "req_inert000001",
    taskDescription: s.task,
    approvalReason: s.reason,
    requestedBy: s.requestedBy,
    requestType: s.requestType,
    decisionData: data,
    availableActions: actions,
    fallback: s.fallback,
    approvers: ["alice", "@octo-org/finance"],
    escalation: {
      ladder: [{ afterMs: 3_600_000, approvers: ["bob", "@octo-org/leads"], message: s.message, notify: ["slack"] }],
      warningBeforeMs: null,
      level: 1,
      warned: false,
      nextAt: null,
    },
    surfaceRef: { type: "issue", number: 7, url: SURFACE_URL },
    status: state === "superseded" ? "superseded" : (decision?.status ?? "pending"),
    decision,
    editableFields: { [s.dataKeys[0]!]: { type: "string", enum: s.enumValues }, [s.dataKeys.at(-1)!]: { type: "number", minimum: 0 } },
    feedback: { minLength: 10, reasons: ["too_high", "fraud"] },
    ...(presentation ? { presentation } : {}),
    ...(presentation === "detailed_review" ? { sections: s.sections.map((section, i) => ({ ...section, data: i === 0 ? data : Object.fromEntries(s.dataKeys.map((key, j) => [key, Array.from({ length: 6 }, () => s.dataValues[j % 3])])) })) } : {}),
    supersedes: state === "pending" ? { id: "req_first00001", drift } : null,
    supersededBy: state === "superseded" ? "req_next000001" : null,
  });
}

/** One batch holding the request in every state, a row each. */
function batchRows(s: AgentStrings) {
  const states = ["pending", "chosen", "agent", "expired", "superseded"] as const;
  return states.map((state, i) => ({ ...requestFrom(s, state), batch: { id: "bat_inert0001", row: i + 1, postAt: NOW.toISOString(), counter: "batch:x", first: 1, maxSize: 5 } }));
}

/** Everything a markdown surface shows for one request, labelled. */
function markdownSurfaces(s: AgentStrings): [string, string][] {
  const recent = [requestFrom(s, "chosen")];
  const out: [string, string][] = [];
  for (const state of ["pending", "chosen", "agent", "expired", "superseded"] as const) {
    const request = requestFrom(s, state);
    const run = renderCheckRun(request, { now: NOW, recent });
    out.push(
      [`${state} issue body`, renderRequestBody(request, { now: NOW, recent, markerKey })],
      [`${state} check run summary`, run.summary],
      [`${state} check run text`, run.text],
      [`${state} check run conclusion`, renderCheckRunConclusion(request).summary],
      [`${state} decision comment`, renderDecisionComment(request)],
      [`${state} already decided reply`, renderAlreadyDecidedReply("dave", request)],
    );
  }
  for (const presentation of ["binary", "multiple_choice", "detailed_review", "comparative"] as const) {
    const request = requestFrom(s, "pending", presentation);
    out.push([`${presentation} issue body`, renderRequestBody(request, { now: NOW, recent, markerKey })], [`${presentation} check run text`, renderCheckRun(request, { now: NOW, recent }).text]);
  }
  const pending = requestFrom(s, "pending");
  const step = pending.escalation.ladder[0]!;
  out.push(
    ["escalation comment", renderEscalationComment(pending, { level: 1, approvers: step.approvers, message: step.message }, NOW)],
    ["warning comment", renderWarningComment(pending, NOW)],
    ["stale comment", renderStaleComment(pending, "f".repeat(40))],
    ["unknown action reply", renderUnknownActionReply("dave", s.task, pending)],
    ["changes refused reply", renderNeedsInputReply("dave", { type: "edits", problems: [`${s.commenterField} may not be changed`, `${s.dataKeys[0]} must be one of ${s.enumValues.join(", ")}`] })],
    ["batch issue body", renderBatchBody("bat_inert0001", batchRows(s))],
    ["batch reply", renderBatchReply("dave", { type: "approve", rows: { type: "all" } }, [{ row: 1, outcome: { type: "needs_input", problem: { type: "edits", problems: [`${s.commenterField} may not be changed`] } } }])],
  );
  return out;
}

/** Plain-text surfaces: the issue title, check run titles and button labels. */
function plainSurfaces(s: AgentStrings): [string, string][] {
  const out: [string, string][] = [];
  for (const state of ["pending", "chosen", "agent", "expired", "superseded"] as const) {
    const request = requestFrom(s, state);
    const run = renderCheckRun(request, { now: NOW, recent: [] });
    out.push([`${state} issue title`, renderIssueTitle(request, NOW)], [`${state} check run title`, run.title], [`${state} conclusion title`, renderCheckRunConclusion(request).title]);
    for (const button of run.actions) out.push([`${state} button label`, button.label], [`${state} button description`, button.description]);
  }
  out.push(["batch issue title", renderBatchTitle(batchRows(s))]);
  return out;
}

const HITL_HTML = [/^<!-- hitl:request:req_inert000001(:[\w-]+)? -->$/, /^<details><summary>(Request details|Approve with changes|Recent decisions[^<>]* \(\d+\)|Data \(\d+ lines\))<\/summary>$/, /^<\/details>$/];

// Zero-width and direction characters, and the other invisible "format" characters.
const INVISIBLE = /[\p{Cf}\p{Cc}\u115F\u1160\u3164\uFFA0]/u;
// hitl's own joiner, put right after what would otherwise start a link, mention or reference.
const JOINER = /(?<=[@#:\-<wW0-9a-fA-F])\u200D/gu;

/** What no text people are shown may contain; `text` has hitl's own mentions already removed. */
function referenceProblems(text: string): string[] {
  const checks: [string, RegExp][] = [
    ["mention", /@[A-Za-z0-9]/],
    ["issue reference", /#\d/],
    ["GH- reference", /[A-Za-z]-\d/],
    ["commit SHA", /[0-9a-fA-F]{7}/],
    ["URL", /:\/\/|www\./i],
  ];
  const problems = checks.filter(([, pattern]) => pattern.test(text)).map(([what]) => what);
  return INVISIBLE.test(text.replace(JOINER, "")) ? ["invisible or direction character", ...problems] : problems;
}

/** hitl's own mentions of the people it means to ping, taken out before looking for others. */
function withoutPings(text: string): string {
  return text.replace(/(?<![A-Za-z0-9])@([A-Za-z0-9][A-Za-z0-9-]*(?:\/[A-Za-z0-9][\w.-]*)?)/g, (match, who: string) =>
    PINGED.has(who.replace(/\.+$/, "")) ? match.slice(who.length + 1) : match,
  );
}

/** The text GitHub shows: text nodes, and the text of HTML with its entities read. */
function shownText(tree: MdNode): string {
  const decode = (html: string) =>
    html
      .replace(/<[^>]*>/g, " ")
      .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&amp;/g, "&");
  return allNodes(tree)
    .flatMap((node) => (node.type === "text" ? [node.value ?? ""] : node.type === "html" ? [decode(node.value ?? "")] : []))
    .join(" ");
}

describe("agent text is inert on every surface", () => {
  it("adds no markdown node, link, HTML or marker of its own", () => {
    fc.assert(
      fc.property(agentStrings, (s) => {
        const expected = markdownSurfaces(harmless(s));
        markdownSurfaces(s).forEach(([label, markdown], i) => {
          const tree = parseGfm(markdown);
          expect(skeleton(tree), label).toBe(skeleton(parseGfm(expected[i]![1])));
          for (const node of allNodes(tree)) {
            if (node.type === "link") expect(node.url, label).toBe(SURFACE_URL);
            if (node.type === "html") expect(HITL_HTML.some((re) => re.test(node.value ?? "")), `${label}: ${node.value}`).toBe(true);
          }
        });
        const body = renderRequestBody(requestFrom(s, "pending"), { now: NOW, recent: [], markerKey });
        expect(findRequestMarker(body, markerKey)).toBe("req_inert000001");
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);

  it("leaves nothing GitHub would turn into a mention or reference, and nothing invisible", () => {
    fc.assert(
      fc.property(agentStrings, (s) => {
        for (const [label, markdown] of markdownSurfaces(s)) {
          const tree = parseGfm(markdown);
          const shown = withoutPings(shownText(tree));
          expect(referenceProblems(shown), `${label}: ${shown}`).toEqual([]);
          const code = allNodes(tree)
            .filter((node) => node.type === "inlineCode" || node.type === "code")
            .map((node) => node.value ?? "");
          expect(code.filter((value) => INVISIBLE.test(value.replace(/\n/g, ""))), label).toEqual([]);
        }
        for (const [label, text] of plainSurfaces(s)) {
          expect(referenceProblems(withoutPings(text)), `${label}: ${text}`).toEqual([]);
          expect(text, label).not.toMatch(/[\r\n]/);
        }
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);

  it("sends Slack and webhooks text that pings, links and hides nothing", () => {
    fc.assert(
      fc.property(agentStrings, (s) => {
        const request = requestFrom(s, "pending");
        const slack = escalationMessage({ name: "slack", url: "https://hooks.slack.com/x", kind: "slack" }, request, NOW, {}) as { text: string };
        const hook = escalationMessage({ name: "pager", url: "https://pager.example/h", kind: "webhook" }, request, NOW, {}) as { text: string };
        // Slack shows its three entities as the characters.
        const shown = slack.text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
        for (const [label, text] of [
          ["slack", shown],
          ["webhook", hook.text],
        ] as const) {
          const own = text.replace(` ${SURFACE_URL}`, "");
          expect(referenceProblems(withoutPings(own)), `${label}: ${text}`).toEqual([]);
          // Slack's control sequences: <!channel>, <@U…>, <#C…>, <url|text>.
          expect(own, label).not.toMatch(/<[!@#]|<[a-z]+:/i);
        }
        expect(slack.text.replace(/&(amp|lt|gt);/g, ""), "slack").not.toMatch(/[<>&]/);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);
});
