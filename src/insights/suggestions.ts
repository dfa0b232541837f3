import { createHash } from "node:crypto";
import { dump } from "js-yaml";
import type { Condition, HitlConfig, Rule } from "../config/schema.js";
import { formatValue } from "../core/conditions.js";
import type { ApprovalRequest } from "../core/types.js";
import { canonical } from "./config-edit.js";
import { mineRules, type MinedRule, type MinerOptions, type RuleEvidence } from "./rule-miner.js";

/** Who a suggested rule names as its author (`created_by`). */
export const SUGGESTION_AUTHOR = "hitl-suggestions";
/** How long a suggested rule stays valid once merged, unless the owners change it. */
const VALID_DAYS = 90;

/** A rule hitl proposes from past decisions, ready to paste under `rules:`, with its evidence. */
export interface Suggestion {
  /** `sug_` and 16 hex digits: the same for the same repository and rule, whatever the day. */
  id: string;
  repo: string;
  requestType: string;
  rule: Rule;
  /** The rule as a YAML list item, for `rules:`. */
  yaml: string;
  evidence: RuleEvidence;
}

/**
 * The rules the repository's history supports and its `.hitl.yml` does not already have (by id
 * or by the same condition and action), strongest evidence first.
 */
export function suggestRules(repo: string, history: readonly ApprovalRequest[], config: HitlConfig | null, now: Date, options: Partial<MinerOptions> = {}): Suggestion[] {
  const existing = config?.rules ?? [];
  const has = (rule: Rule) => existing.some((other) => other.id === rule.id || (sameJson(other.when, rule.when) && sameJson(other.action, rule.action)));
  return mineRules(history.filter((request) => request.repo === repo), options)
    .map((mined) => toSuggestion(repo, mined, now))
    .filter((suggestion) => !has(suggestion.rule));
}

const sameJson = (a: unknown, b: unknown) => canonical(a) === canonical(b);

function toSuggestion(repo: string, mined: MinedRule, now: Date): Suggestion {
  const when = conditionOf(mined);
  const id = suggestionId(repo, when, mined.action);
  const rule: Rule = {
    id: ruleId(mined, id),
    description: describe(mined),
    created_by: SUGGESTION_AUTHOR,
    when,
    action: mined.action,
    valid_until: new Date(now.getTime() + VALID_DAYS * 86_400_000).toISOString().slice(0, 10),
    max_uses: mined.support,
  };
  return {
    id,
    repo,
    requestType: mined.requestType,
    rule,
    yaml: ruleYaml(rule),
    evidence: {
      support: mined.support,
      requestIds: mined.requestIds,
      counterExamples: mined.counterExamples,
      considered: mined.considered,
      decidedOtherwise: mined.decidedOtherwise,
      chance: mined.chance,
      lastDecidedAt: mined.lastDecidedAt,
    },
  };
}

function conditionOf(mined: MinedRule): Condition {
  const conditions: Condition[] = [{ task_type: [mined.requestType] }, { field: mined.field, ...mined.condition }, ...mined.constants.map(({ field, equals }) => ({ field, equals }))];
  if (mined.riskMax !== null) conditions.push({ risk_score: { max: mined.riskMax } });
  return { all: conditions };
}

/** Stable across days and histories that support the same rule: the repository, the condition and the action. */
export function suggestionId(repo: string, when: Condition, action: Rule["action"]): string {
  return `sug_${createHash("sha256").update(canonical([repo.toLowerCase(), when, action])).digest("hex").slice(0, 16)}`;
}

/** `suggested-refund-amount-3f2a9c`: readable, and unique per suggestion. */
function ruleId(mined: MinedRule, id: string): string {
  const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
  return ["suggested", slug(mined.requestType), slug(mined.field), id.slice(4, 10)].filter(Boolean).join("-");
}

/** What the rule does and the evidence for it, in one line a reviewer of the file can read. */
function describe(mined: MinedRule): string {
  const condition =
    mined.condition.equals !== undefined
      ? `${mined.field} is ${formatValue(mined.condition.equals)}`
      : mined.condition.gte === mined.condition.lte
        ? `${mined.field} is ${mined.condition.gte}`
        : `${mined.field} is from ${mined.condition.gte} to ${mined.condition.lte}`;
  const also = mined.constants.map(({ field, equals }) => ` and ${field} is ${formatValue(equals)}`).join("");
  const nearest = mined.counterExamples[0];
  const against = nearest ? `; nearest decided otherwise: ${nearest.requestId} (${mined.field} ${formatValue(nearest.value)}, ${nearest.action})` : "";
  return `Approves ${mined.requestType} requests where ${condition}${also}. People approved all ${mined.support} such requests and decided none otherwise${against}. Suggested by hitl from past decisions.`;
}

/** One rule as a YAML list item (`- id: …`), ready to go under `rules:`. */
export function ruleYaml(rule: Rule): string {
  return dump([rule], { lineWidth: -1, noRefs: true, sortKeys: false });
}
