import type { AutoApprove, HitlConfig, Rule } from "../config/schema.js";
import { evaluateCondition, zoneClock, type ConditionFacts, type ZoneClock } from "./conditions.js";
import { actionKind } from "./decide.js";
import type { ActionOption, Evaluation, RuleTrace, ShadowMatch } from "./types.js";

/** What the policy looks at: the request as the agent described it. */
export interface PolicyFacts extends ConditionFacts {
  availableActions: Pick<ActionOption, "id" | "kind">[];
}

export interface PolicyInput {
  config: HitlConfig | null;
  /** Set when the repository has a `.hitl.yml` that could not be used. */
  configError: string | null;
  facts: PolicyFacts;
  now: Date;
  /** Counts one use of a rule atomically; false once `max` uses have been taken. */
  takeUse: (ruleId: string, max: number) => Promise<boolean>;
}

type Outcome = Evaluation["outcome"];

/**
 * Tries a repository's policy on a request, in this order:
 * 1. a broken or absent `.hitl.yml` decides nothing;
 * 2. a risk_score above `auto_approve.require_human_above_risk` goes to a person, whatever
 *    the rules say;
 * 3. the rules, in file order: the first that matches, is still valid and has uses left decides
 *    (rules in `mode: shadow` never decide: those that match are recorded in `shadow`);
 * 4. `auto_approve` thresholds;
 * 5. otherwise a person decides.
 */
export async function evaluatePolicy(input: PolicyInput): Promise<Evaluation> {
  const { config, configError, facts, now } = input;
  if (configError !== null) {
    return human("The .hitl.yml has errors, so no rule from it applies and a person decides.", [], configError);
  }
  if (config === null) return human("There is no .hitl.yml, so a person decides.", [], null);

  const auto = config.auto_approve;
  if (needsPerson(config, facts.riskScore)) {
    return human(`risk_score ${facts.riskScore} is above require_human_above_risk ${auto?.require_human_above_risk}, so a person decides.`, [], null);
  }

  const traces: RuleTrace[] = [];
  const clock = zoneClock(now);
  const shadow = shadowMatches(config.rules, input, clock);
  const withShadow = (evaluation: Evaluation): Evaluation => (shadow.length > 0 ? { ...evaluation, shadow } : evaluation);
  for (const rule of config.rules) {
    if (rule.mode === "shadow") continue;
    const trace = await tryRule(rule, input, clock);
    traces.push(trace);
    if (trace.matched) return withShadow(decided(ruleOutcome(rule, trace, facts), traces));
  }

  const autoResult = auto ? autoApprove(auto, facts) : null;
  if (autoResult?.approve) {
    return withShadow(decided(
      {
        type: "decide",
        action: "approve",
        status: "approved",
        decider: { type: "system", reason: "auto_approve" },
        via: "auto_approve",
        reason: `${autoResult.reasons.join(" and ")}.`,
      },
      traces,
    ));
  }
  const why = autoResult ? `No rule matched and auto_approve does not apply (${autoResult.reasons.join("; ")})` : "No rule matched";
  return withShadow({ outcome: { type: "human", reason: `${why}, so a person decides.` }, rules: traces, closestRuleId: closestRule(traces), configError: null });
}

/**
 * What the rules in `mode: shadow` would have decided: each that matches and is still valid. A
 * shadow rule takes none of its `max_uses` (it decides nothing), so uses are not counted here.
 */
function shadowMatches(rules: readonly Rule[], input: PolicyInput, clock: ZoneClock): ShadowMatch[] {
  const matches: ShadowMatch[] = [];
  for (const rule of rules) {
    if (rule.mode !== "shadow") continue;
    if (rule.valid_until !== undefined && hasPassed(rule.valid_until, input.now)) continue;
    if (!evaluateCondition(rule.when, input.facts, input.now, clock).matched) continue;
    const action = typeof rule.action === "object" ? rule.action.choose : rule.action;
    if (typeof rule.action === "object" && !input.facts.availableActions.some((offered) => offered.id === action)) continue;
    matches.push({ ruleId: rule.id, action });
  }
  return matches;
}

async function tryRule(rule: Rule, input: PolicyInput, clock: ZoneClock): Promise<RuleTrace> {
  const reasons: string[] = [];
  const expired = rule.valid_until !== undefined && hasPassed(rule.valid_until, input.now);
  if (expired) reasons.push(`valid_until ${rule.valid_until} has passed`);
  const result = evaluateCondition(rule.when, input.facts, input.now, clock);
  reasons.push(...result.reasons);
  const trace: RuleTrace = { ruleId: rule.id, matched: false, reasons, satisfied: result.satisfied, total: result.total };
  if (expired || !result.matched) return trace;

  const action = rule.action;
  if (typeof action === "object" && !input.facts.availableActions.some((offered) => offered.id === action.choose)) {
    reasons.push(`action ${action.choose} is not offered by this request`);
    return trace;
  }
  if (rule.max_uses !== undefined) {
    let granted: boolean;
    try {
      granted = await input.takeUse(rule.id, rule.max_uses);
    } catch (error) {
      reasons.push(`max_uses could not be counted: ${error instanceof Error ? error.message : String(error)}`);
      return trace;
    }
    if (!granted) {
      reasons.push(`max_uses ${rule.max_uses} used up`);
      return trace;
    }
  }
  trace.matched = true;
  return trace;
}

/** A rule's `choose` approves or rejects by the kind of the action it picks. */
function ruleOutcome(rule: Rule, trace: RuleTrace, facts: PolicyFacts): Outcome {
  const action = typeof rule.action === "object" ? rule.action.choose : rule.action;
  return {
    type: "decide",
    action,
    status: actionKind(facts, action) === "reject" ? "rejected" : "approved",
    decider: { type: "rule", id: rule.id },
    via: "rule",
    reason: `Rule ${rule.id} matched: ${trace.reasons.join("; ")}.`,
  };
}

/** Both thresholds must be configured (the schema pairs them) and both facts present. */
function autoApprove(auto: AutoApprove, facts: PolicyFacts): { approve: boolean; reasons: string[] } | null {
  const { confidence_above: confidenceAbove, risk_below: riskBelow } = auto;
  if (confidenceAbove === undefined || riskBelow === undefined) return null;
  const reasons: string[] = [];
  let approve = true;
  if (facts.confidence === null || !Number.isFinite(facts.confidence)) {
    approve = false;
    reasons.push("confidence is missing");
  } else {
    const ok = facts.confidence > confidenceAbove;
    approve &&= ok;
    reasons.push(`confidence ${facts.confidence} is ${ok ? "" : "not "}above ${confidenceAbove}`);
  }
  if (facts.riskScore === null || !Number.isFinite(facts.riskScore)) {
    approve = false;
    reasons.push("risk_score is missing");
  } else {
    const ok = facts.riskScore < riskBelow;
    approve &&= ok;
    reasons.push(`risk_score ${facts.riskScore} is ${ok ? "" : "not "}below ${riskBelow}`);
  }
  return { approve, reasons: approve ? reasons : reasons.filter((reason) => / not |missing/.test(reason)) };
}

/** Whether a risk_score is above `require_human_above_risk`, so that no rule or threshold may decide. */
export function needsPerson(config: HitlConfig, riskScore: number | null): boolean {
  const gate = config.auto_approve?.require_human_above_risk;
  // Written as "not at most" so that a NaN risk_score is held for a person too.
  return gate !== undefined && riskScore !== null && !(riskScore <= gate);
}

/** A date alone runs through the end of that day, UTC; a date-time is the last moment. */
export function hasPassed(validUntil: string, now: Date): boolean {
  const end = /^\d{4}-\d{2}-\d{2}$/.test(validUntil) ? Date.parse(`${validUntil}T00:00:00Z`) + 86_400_000 : Date.parse(validUntil) + 1;
  return !(now.getTime() < end);
}

/** The non-matching rule that satisfied the most conditions (the first on a tie); none if no rule satisfied any. */
export function closestRule(traces: RuleTrace[]): string | null {
  let best: RuleTrace | null = null;
  for (const trace of traces) {
    if (!trace.matched && trace.satisfied > 0 && (!best || trace.satisfied > best.satisfied)) best = trace;
  }
  return best?.ruleId ?? null;
}

function decided(outcome: Outcome, traces: RuleTrace[]): Evaluation {
  return { outcome, rules: traces, closestRuleId: null, configError: null };
}

function human(reason: string, traces: RuleTrace[], configError: string | null): Evaluation {
  return { outcome: { type: "human", reason }, rules: traces, closestRuleId: null, configError };
}
