import type { Fallback } from "../types.js";
import { inertText, oneLine, visibleJson } from "./inert.js";

/**
 * How values are written for people, and how text that hitl did not write is made safe to
 * embed in GitHub markdown.
 *
 * Text from agents (and from commenters echoed back) is untrusted. It is always embedded
 * inline, inside a sentence hitl writes, never as a block, and passes through `safeInline` (or
 * `safeCell` in tables):
 * - it is made inert first (inert.ts): one line, no invisible or direction characters, and a
 *   joiner after whatever would start a mention, reference or link (`@`, `#1`, `GH-1`, SHAs,
 *   `://`, `www.`), so it cannot start a heading, list, quote or fence, and pings nobody;
 * - then every character markdown reads as syntax inline is written as an entity: `<` and `>`
 *   (no HTML, so no fake marker and no hidden text), `[`, `]` (no link, image or footnote), `*`,
 *   `_`, `~`, `` ` `` and `$` (no emphasis, code or math that could make it look like hitl's own
 *   lines), `\` (no escapes), and `&` before an entity (it shows as written).
 * Mentions that are meant to ping (approvers, deciders) go through `mention`, which only
 * accepts a valid login or `org/team`. Code spans and fences cannot hold entities; what they
 * show is plain code to GitHub (never linked or mentioned), with invisible characters removed.
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `27 Nov 2026 10:00 UTC`. Always UTC; the input is returned as-is when it is not a date. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const hh = String(date.getUTCHours()).padStart(2, "0");
  const mm = String(date.getUTCMinutes()).padStart(2, "0");
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ${hh}:${mm} UTC`;
}

/** What the fallback does, in plain words, to follow "If nobody decides by …, ". Markdown, safe. */
export function describeFallback(fallback: Fallback): string {
  switch (fallback.type) {
    case "abort": {
      const cleanup = fallback.cleanup ? ` and the agent cleans up (${safeInline(fallback.cleanup, 300)})` : "";
      return withReason(`the request is aborted${cleanup}`, fallback.reason);
    }
    case "use_default": {
      const value = fallback.value === undefined ? "" : ` with the value ${codeSpan(truncate(visibleJson(fallback.value), 200))}`;
      return withReason(`the default action ${codeSpan(fallback.action)} is taken${value}`, fallback.reason);
    }
    case "degrade":
      return withReason(`the agent continues in degraded mode ${codeSpan(fallback.mode)}`, fallback.reason);
    case "delegate": {
      const to = fallback.approvers?.length
        ? `the request is handed to ${fallback.approvers.map(quietMention).join(", ")}`
        : fallback.rule
          ? `the request is handed to rule ${codeSpan(fallback.rule)}`
          : "the request is delegated";
      const extend = fallback.extend_by ? ` with ${safeInline(fallback.extend_by, 50)} more to decide` : "";
      return withReason(`${to}${extend}`, fallback.reason);
    }
    case "retry_with_modification": {
      const changes = Object.entries(fallback.modifications)
        .map(([key, value]) => `${codeSpan(key)} set to ${codeSpan(truncate(visibleJson(value), 100))}`)
        .join(", ");
      return withReason(changes ? `the agent retries with ${changes}` : "the agent retries with changes", fallback.reason);
    }
  }
}

function withReason(text: string, reason: string | undefined): string {
  const clean = reason === undefined ? "" : stripFinalStop(safeInline(reason, 500));
  return clean ? `${text}: ${clean}` : text;
}

/** Drops a trailing full stop so the text can end a sentence hitl writes. */
export function stripFinalStop(text: string): string {
  return text.replace(/[\s.]+$/, "");
}

/** Ends a sentence with a full stop unless it already ends with `.`, `!` or `?`. */
export function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** Cuts text to at most `max` characters, ending with `…` when cut, at a word boundary when one is near. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${space >= max * 0.8 ? cut.slice(0, space) : cut}…`;
}

/** Untrusted text in a markdown paragraph: one line, inert, markdown syntax written as entities. */
export function safeInline(text: string, max = 2000): string {
  // A lone `$` (a price) could still pair with one in the next agent string of the paragraph.
  return inertText(truncate(oneLine(text), max))
    .replace(/&(?=#?\w+;)/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[\\[\]*_~`$]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Untrusted text in a table cell: as `safeInline`, and `|` cannot end the cell. */
export function safeCell(text: string, max = 2000): string {
  return safeInline(text, max).replace(/\|/g, "&#124;");
}

/** Text as inline code, with a backtick run longer than any inside. Code spans never ping. */
export function codeSpan(text: string): string {
  const inner = oneLine(text);
  const ticks = "`".repeat(longestRun(inner, "`") + 1);
  const pad = inner.startsWith("`") || inner.endsWith("`") ? " " : "";
  return `${ticks}${pad}${inner}${pad}${ticks}`;
}

/** A fenced code block whose fence is longer than any backtick run inside, so the text cannot close it. */
export function codeFence(text: string, info = ""): string {
  const fence = "`".repeat(Math.max(3, longestRun(text, "`") + 1));
  return `${fence}${info}\n${text}\n${fence}`;
}

function longestRun(text: string, char: string): number {
  let longest = 0;
  let run = 0;
  for (const c of text) {
    run = c === char ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const TEAM = /^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `@alice` or `@octo-org/leads`, a mention that pings. Anything that is not a login or team is shown without pinging. */
export function mention(who: string): string {
  const name = who.replace(/^@/, "");
  return LOGIN.test(name) || TEAM.test(name) ? `@${name}` : safeInline(who, 100);
}

/** `@alice` as people read it, without pinging anyone. */
export function quietMention(who: string): string {
  return safeInline(`@${who.replace(/^@/, "")}`, 100);
}

/** "a, b and c" (or "a, b or c"). */
export function listWords(items: string[], conjunction: "and" | "or" = "and"): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} ${conjunction} ${items[items.length - 1]}`;
}

/** Inline code in a table cell, for ids and hashes; anything with unusual characters is shown as text. */
export function codeCell(text: string): string {
  return /^[\w.:/-]{1,200}$/.test(text) ? `\`${text}\`` : safeCell(text, 200);
}
