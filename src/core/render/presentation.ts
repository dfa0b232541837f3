import { describeEditable } from "../edited-fields.js";
import type { ActionOption, ApprovalRequest } from "../types.js";
import { codeFence, codeSpan, listWords, safeCell, safeInline, truncate } from "./format.js";
import { visibleJson } from "./inert.js";

/**
 * How the choice is shown, by the request's `presentation`. Everything the agent wrote is
 * inert (safeInline, safeCell, or inside a code fence); headings and structure are hitl's own.
 */

/** At most this much of a detailed review's sections is shown; the rest is at the API. */
const SECTIONS_ROOM = 30_000;
/** Section data longer than this many lines is folded. */
const FOLD_LINES = 8;
const SECTION_DATA_LIMIT = 4_000;
const COMPARE_ROWS = 30;

/**
 * The choice, once: each action with the command that takes it, its label, whether it approves or
 * rejects, and its impact; or, for `comparative`, the alternatives side by side.
 */
export function choiceSection(request: ApprovalRequest, actions: ActionOption[], kindOf: (action: ActionOption) => string): string {
  if (request.presentation === "comparative") return comparison(actions, kindOf);
  const lines = actions.map((action) => {
    const impact = action.impact ? `: ${safeInline(action.impact, 1000)}` : "";
    return `- ${commandOf(action)} **${safeInline(action.label, 200)}** (${kindOf(action)})${impact}`;
  });
  return ["### Actions", "", ...lines].join("\n");
}

/** One column per alternative, one row per field of the alternatives' data. */
function comparison(actions: ActionOption[], kindOf: (action: ActionOption) => string): string {
  const fields = [...new Set(actions.flatMap((action) => Object.keys(action.data ?? {})))];
  const shown = fields.slice(0, COMPARE_ROWS);
  const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const lines = [
    "### Alternatives",
    "",
    row(["alternative", ...actions.map((action) => `**${safeCell(action.label, 100)}**`)]),
    row(["---", ...actions.map(() => "---")]),
    row(["command", ...actions.map((action) => commandOf(action))]),
    row(["effect", ...actions.map(kindOf)]),
  ];
  if (actions.some((action) => action.impact)) lines.push(row(["impact", ...actions.map((action) => (action.impact ? safeCell(action.impact, 300) : ""))]));
  for (const field of shown) lines.push(row([safeCell(field, 100), ...actions.map((action) => valueCell(action.data, field))]));
  if (fields.length > shown.length) lines.push("", `*${fields.length - shown.length} more fields are not shown.*`);
  return lines.join("\n");
}

function commandOf(action: ActionOption): string {
  return action.id === "approve" || action.id === "reject" ? codeSpan(`/${action.id}`) : codeSpan(`/choose ${action.id}`);
}

function valueCell(data: Record<string, unknown> | undefined, field: string): string {
  if (!data || !Object.hasOwn(data, field)) return "—";
  const value = data[field];
  if (typeof value === "string") return value === "" ? '`""`' : safeCell(value, 200);
  return safeCell(truncate(visibleJson(value), 200), 200);
}

/** `detailed_review`: the agent's sections in order; long data folded, so the decision stays near the top. */
export function reviewSections(request: ApprovalRequest): string | null {
  const sections = request.presentation === "detailed_review" ? (request.sections ?? []) : [];
  if (sections.length === 0) return null;
  const parts: string[] = ["### Review"];
  let used = 0;
  for (const [index, section] of sections.entries()) {
    const part = [`#### ${index + 1}. ${safeInline(section.title, 200)}`];
    if (section.text) part.push(safeInline(section.text, 5_000));
    if (section.data !== undefined) part.push(sectionData(section.data));
    const text = part.join("\n\n");
    if (used + text.length > SECTIONS_ROOM) {
      parts.push(`*${sections.length - index} more sections are not shown. The full request is at ${codeSpan(`GET /api/v1/requests/${request.id}`)}.*`);
      break;
    }
    parts.push(text);
    used += text.length;
  }
  return parts.join("\n\n");
}

function sectionData(data: unknown): string {
  let json = visibleJson(data, 2);
  const lines = json.split("\n").length;
  if (json.length > SECTION_DATA_LIMIT) json = `${json.slice(0, SECTION_DATA_LIMIT)}\n…`;
  const block = codeFence(json, "json");
  if (lines <= FOLD_LINES) return block;
  return [`<details><summary>Data (${lines} lines)</summary>`, "", block, "", "</details>"].join("\n");
}

/** How to approve with changes, and what may change; null when nothing may. */
export function editableSection(request: ApprovalRequest): string | null {
  const entries = Object.entries(request.editableFields ?? {});
  if (entries.length === 0) return null;
  const [firstName] = entries[0]!;
  const key = /^[A-Za-z_][\w-]*$/.test(firstName) ? firstName : visibleJson(firstName);
  const example = codeFence(`${key}: ${visibleJson(request.decisionData[firstName] ?? null)}`, "yaml");
  const fields = entries.map(([name, spec]) => `- ${codeSpan(name)}: ${safeInline(describeEditable(spec), 500)}`);
  return [
    "To approve with changes, put a `yaml` or `json` block under the `/approve` line, with the fields you change:",
    "",
    codeFence(`/approve <your reason>\n${example}`, "markdown"),
    "",
    "You may change:",
    "",
    ...fields,
  ].join("\n");
}

/** What every decision must carry, when the request or `.hitl.yml` asks for it. */
export function feedbackLine(request: ApprovalRequest): string | null {
  const feedback = request.feedback;
  if (!feedback) return null;
  const parts: string[] = [];
  if (feedback.minLength > 0) parts.push(feedback.minLength > 1 ? `Every decision needs a reason of at least ${feedback.minLength} characters.` : "Every decision needs a reason.");
  if (feedback.reasons.length > 0) {
    parts.push(`A rejection starts with a reason code, ${codeSpan("/reject <code> <your reason>")}, the code one of ${listWords(feedback.reasons.map(codeSpan), "or")}.`);
  }
  return parts.join(" ");
}
