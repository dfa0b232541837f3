import { codeFence, codeSpan, formatTime, safeCell, safeInline } from "../core/render/format.js";
import { formatValue } from "../core/conditions.js";
import type { Suggestion } from "./suggestions.js";

/**
 * What people read of a suggestion on GitHub: the pull request that adds it, and the answer to
 * `/hitl suggest`. Field names, values and request types come from agents: they are shown as
 * code or made inert, never as markdown.
 */

/** How many suggestions one `/hitl suggest` answer lists. */
export const COMMENT_LIMIT = 5;

/** "amount is from 5 to 95 and currency is USD", with the fields as code. */
function condition(suggestion: Suggestion): string {
  const [field, ...constants] = suggestion.rule.when.all?.filter((part) => part.field !== undefined) ?? [];
  if (!field?.field) return "";
  const also = constants.map((part) => ` and ${codeSpan(part.field!)} is ${codeSpan(formatValue(part.equals ?? null))}`).join("");
  if (field.equals !== undefined) return `${codeSpan(field.field)} is ${codeSpan(formatValue(field.equals))}${also}`;
  if (field.gte === field.lte) return `${codeSpan(field.field)} is ${field.gte}${also}`;
  return `${codeSpan(field.field)} is from ${field.gte} to ${field.lte}${also}`;
}

function fieldCondition(suggestion: Suggestion) {
  return suggestion.rule.when.all?.find((part) => part.field !== undefined);
}

const percent = (chance: number) => (chance < 0.0001 ? "below 0.01%" : `${(chance * 100).toFixed(2)}%`);

/** The pull request's title. */
export function suggestionTitle(suggestion: Suggestion): string {
  return `hitl: add delegation rule ${suggestion.rule.id}`;
}

/** The pull request's body: what the rule does, the evidence, and the rule itself. */
export function suggestionPullRequestBody(suggestion: Suggestion, file: string, askedBy: string): string {
  const { evidence } = suggestion;
  const type = codeSpan(suggestion.requestType);
  const field = fieldCondition(suggestion)?.field ?? "";
  const counter =
    evidence.counterExamples.length === 0
      ? ["No request of this type was decided otherwise."]
      : [
          "The closest requests people decided otherwise:",
          "",
          `| request | ${safeCell(field, 64)} | decision | decided |`,
          "|---|---|---|---|",
          ...evidence.counterExamples.map((example) => `| \`${example.requestId}\` | ${safeCell(formatValue(example.value), 100)} | ${safeCell(example.action, 60)} | ${formatTime(example.decidedAt)} |`),
        ];
  const shown = evidence.requestIds.length < evidence.support ? `newest first, ${evidence.requestIds.length} of ${evidence.support}` : "newest first";
  return [
    `hitl suggests this delegation rule for ${type} requests, from the decisions people made in this repository.`,
    "",
    `**Evidence.** People approved all ${evidence.support} ${type} requests where ${condition(suggestion)}, and decided none of them otherwise (${evidence.considered} ${type} requests decided by people were read, ${evidence.decidedOtherwise} of them not approved as asked). The chance of so clean a line where the field does not matter: ${percent(evidence.chance)}.`,
    "",
    ...counter,
    "",
    `Requests it would have decided as people did (${shown}): ${evidence.requestIds.map((id) => `\`${id}\``).join(", ")}.`,
    "",
    `The rule goes last under \`rules:\` in \`${file}\`, so every rule before it still comes first. It is valid until ${suggestion.rule.valid_until} and decides at most ${suggestion.rule.max_uses} requests; change either before merging. Like every rule, it never decides a request whose risk_score is above \`require_human_above_risk\`. To watch it before it decides, add \`mode: shadow\` and follow its agreement with people in the stats.`,
    "",
    codeFence(suggestion.yaml.replace(/\n$/, ""), "yaml"),
    "",
    `<sub>Suggestion \`${suggestion.id}\`, opened at the request of ${safeInline(askedBy, 100)}. The \`hitl/config\` check validates the file as for any change.</sub>`,
  ].join("\n");
}

/** The commit message. */
export function suggestionCommitMessage(suggestion: Suggestion): string {
  return `Add delegation rule ${suggestion.rule.id}\n\nSuggested by hitl from ${suggestion.evidence.support} decisions people made (${suggestion.id}).`;
}

/** The answer to `/hitl suggest`: the suggestions, each with its evidence and how to open it. */
export function suggestionsComment(suggestions: readonly Suggestion[]): string {
  if (suggestions.length === 0) {
    return "hitl has no rule to suggest: no request type has enough decisions people made the same way, with none decided otherwise, to propose one.";
  }
  const listed = suggestions.slice(0, COMMENT_LIMIT);
  const more = suggestions.length > listed.length ? [``, `${suggestions.length - listed.length} more: \`GET /api/v1/suggestions\` lists them all.`] : [];
  return [
    `hitl suggests ${suggestions.length === 1 ? "this delegation rule" : `${suggestions.length} delegation rules`}, from the decisions people made in this repository:`,
    "",
    ...listed.flatMap((suggestion) => [
      `- \`${suggestion.id}\`: approve ${codeSpan(suggestion.requestType)} requests where ${condition(suggestion)}. People approved all ${suggestion.evidence.support} such requests and decided none otherwise${suggestion.evidence.counterExamples[0] ? `; the closest decided otherwise is \`${suggestion.evidence.counterExamples[0].requestId}\` (${safeInline(formatValue(suggestion.evidence.counterExamples[0].value), 100)}, ${safeInline(suggestion.evidence.counterExamples[0].action, 60)})` : ""}.`,
    ]),
    ...more,
    "",
    "To open a pull request adding one to `.hitl.yml`, with its evidence, comment `/hitl suggest <id>`.",
  ].join("\n");
}

/** The answer once the pull request is open (or was already). */
export function suggestionOpenedComment(id: string, pull: { number: number; created: boolean }): string {
  return pull.created
    ? `hitl opened #${pull.number} to add suggestion \`${id}\` to \`.hitl.yml\`, with its evidence. It decides nothing until it is merged.`
    : `hitl already opened #${pull.number} for \`${id}\`.`;
}
