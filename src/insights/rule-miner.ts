import type { Condition } from "../config/schema.js";
import { lookup } from "../core/conditions.js";
import type { ApprovalRequest } from "../core/types.js";

/**
 * Finds delegation rules in past decisions: over the requests people decided (never rules,
 * fallbacks, predictions or agents), per request type, the conditions under which people
 * approved every request exactly as the agent asked it, with no request decided otherwise. Pure:
 * the caller passes the history and the time.
 */

export interface MinerOptions {
  /** The fewest requests a rule must have decided as people did. */
  minSupport: number;
  /**
   * The chance, at most, that a rule as good as this one turns up where the field has nothing to
   * do with the decision (rejections placed at random, every candidate the miner tried counted).
   */
  maxChance: number;
  /** How many supporting request ids the evidence lists, newest first. */
  maxIds: number;
  /** How many counter-examples on each side of a bound the evidence lists. */
  maxCounterExamples: number;
}

export const MINER_DEFAULTS: MinerOptions = { minSupport: 10, maxChance: 0.01, maxIds: 20, maxCounterExamples: 3 };

/** A request decided otherwise than the rule would have decided it, nearest the rule's bounds. */
export interface CounterExample {
  requestId: string;
  value: unknown;
  /** The action people took, or `approve (edited)` for an approval that changed fields first. */
  action: string;
  decidedAt: string;
}

/** What supports a mined rule, and what stands against it. */
export interface RuleEvidence {
  support: number;
  /** Supporting requests, newest first, at most `maxIds`. */
  requestIds: string[];
  counterExamples: CounterExample[];
  /** All decisions of the type the miner looked at, and how many of them were not plain approvals. */
  considered: number;
  decidedOtherwise: number;
  /** The chance guard's figure: below `maxChance`. */
  chance: number;
  /** The newest supporting decision. */
  lastDecidedAt: string;
}

export interface MinedRule extends RuleEvidence {
  requestType: string;
  field: string;
  /** The condition on the field: `gte`/`lte` (the observed approved range) or `equals`. */
  condition: Pick<Condition, "gte" | "lte" | "equals">;
  /**
   * Text and boolean fields every supporting request had, with one value throughout: the rule asks
   * for them too, so it never reaches a kind of request people were never shown (a new currency).
   */
  constants: { field: string; equals: string | boolean }[];
  /** The highest risk_score among the supporting requests, when each of them carried one. */
  riskMax: number | null;
  action: "approve";
}

/** One past decision by a person, as the miner reads it. */
interface Sample {
  request: ApprovalRequest;
  /** Approved exactly as asked: action `approve`, no edited fields. */
  approved: boolean;
}

/** Names that say a field identifies one request rather than describes it. */
const ID_NAME = /(?:^|[._-])(?:id|uuid|guid|key|number|ref)$|[a-z0-9]Id$/;
/** Keys a rule may name: plain words, so what people read in a rule is what it tests. */
const FIELD_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Values an `equals` may take: short text without line breaks or invisible characters. */
const PLAIN_VALUE = /^[\p{L}\p{N}\p{P}\p{S} ]{1,100}$/u;
/** A string field with more distinct values than this is not low-cardinality. */
const MAX_CATEGORIES = 10;
/** Nested mappings deeper than this are not walked for fields. */
const MAX_DEPTH = 3;

export function mineRules(requests: readonly ApprovalRequest[], options: Partial<MinerOptions> = {}): MinedRule[] {
  const settings = { ...MINER_DEFAULTS, ...options };
  const byType = new Map<string, Sample[]>();
  for (const request of requests) {
    const sample = toSample(request);
    if (!sample || request.requestType === null || !PLAIN_VALUE.test(request.requestType)) continue;
    const group = byType.get(request.requestType) ?? [];
    group.push(sample);
    byType.set(request.requestType, group);
  }
  const mined: MinedRule[] = [];
  for (const [requestType, group] of [...byType.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    group.sort((a, b) => a.request.createdAt.localeCompare(b.request.createdAt) || a.request.id.localeCompare(b.request.id));
    mined.push(...mineType(requestType, group, settings));
  }
  return mined.sort((a, b) => b.support - a.support || a.requestType.localeCompare(b.requestType) || a.field.localeCompare(b.field));
}

/** A decision a person made on the request as the agent asked it; null for anything else. */
function toSample(request: ApprovalRequest): Sample | null {
  const decision = request.decision;
  if (!decision || decision.decidedBy.type !== "human") return null;
  if (decision.status !== "approved" && decision.status !== "rejected" && decision.status !== "superseded") return null;
  const approved = decision.action === "approve" && decision.status !== "rejected" && decision.editedFields === undefined;
  // Critical requests never support a rule; a rejected one still counts against it.
  if (approved && request.priority === "critical") return null;
  return { request, approved };
}

function mineType(requestType: string, group: Sample[], settings: MinerOptions): MinedRule[] {
  const fields = fieldsOf(group);
  const found: MinedRule[] = [];
  for (const field of fields) {
    const values = group.map((sample) => ({ sample, value: lookup(sample.request.decisionData, field) }));
    const numeric = values.filter((entry): entry is { sample: Sample; value: number } => typeof entry.value === "number" && Number.isFinite(entry.value));
    if (numeric.length >= settings.minSupport && !idLike(field, numeric)) {
      const range = bestRange(numeric, fields.length, settings);
      if (range) found.push(toMined(requestType, field, group, range, settings, fields));
    }
    const categorical = values.filter((entry): entry is { sample: Sample; value: string | boolean } => (typeof entry.value === "string" && PLAIN_VALUE.test(entry.value)) || typeof entry.value === "boolean");
    if (categorical.length >= settings.minSupport && !ID_NAME.test(field)) {
      for (const match of equalities(categorical, fields.length, settings)) found.push(toMined(requestType, field, group, match, settings, fields));
    }
  }
  return found;
}

/**
 * The fields worth testing: leaves of decision_data (numbers, text, booleans under plain keys), never one a
 * request marked sensitive or `.hitl.yml` hid (its value is a placeholder).
 */
function fieldsOf(group: Sample[]): string[] {
  const fields = new Set<string>();
  const walk = (value: unknown, path: string, depth: number) => {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      if (depth >= MAX_DEPTH) return;
      for (const key of Object.keys(value)) if (FIELD_NAME.test(key)) walk((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, depth + 1);
    } else if (path !== "" && (typeof value === "number" || typeof value === "string" || typeof value === "boolean")) {
      fields.add(path);
    }
  };
  for (const sample of group) walk(sample.request.decisionData, "", 0);
  // Sensitive and hidden values are placeholders here, and a rule's YAML is posted on GitHub.
  const sensitive = new Set(group.flatMap((sample) => [...(sample.request.sensitive?.paths ?? []), ...(sample.request.hidden?.paths ?? [])]));
  return [...fields].filter((field) => ![...sensitive].some((path) => field === path || field.startsWith(`${path}.`) || path.startsWith(`${field}.`))).sort();
}

/** An id: named like one, or a different value on every request that only ever grows. */
function idLike(field: string, numeric: { value: number }[]): boolean {
  if (ID_NAME.test(field)) return true;
  for (let i = 1; i < numeric.length; i++) if (!(numeric[i]!.value > numeric[i - 1]!.value)) return false;
  return true;
}

interface Candidate {
  condition: MinedRule["condition"];
  support: Sample[];
  counterExamples: { sample: Sample; value: unknown }[];
  chance: number;
}

/**
 * The widest run of values, in order, that people approved with no other decision inside it:
 * its bounds are the lowest and highest approved values of the run, never a value nobody approved.
 */
function bestRange(entries: { sample: Sample; value: number }[], fieldCount: number, settings: MinerOptions): Candidate | null {
  const sorted = [...entries].sort((a, b) => a.value - b.value);
  // A value decided both ways belongs to no run: every entry of that value breaks it.
  const broken = new Set(sorted.filter((entry) => !entry.sample.approved).map((entry) => entry.value));
  const otherwise = sorted.filter((entry) => !entry.sample.approved).length;
  let best: { from: number; to: number } | null = null;
  let start = -1;
  for (let i = 0; i <= sorted.length; i++) {
    const inRun = i < sorted.length && !broken.has(sorted[i]!.value);
    if (inRun && start < 0) start = i;
    if (!inRun && start >= 0) {
      if (!best || i - start > best.to - best.from + 1) best = { from: start, to: i - 1 };
      start = -1;
    }
  }
  if (!best) return null;
  const size = best.to - best.from + 1;
  const run = sorted.slice(best.from, best.to + 1);
  const support = run.map((entry) => entry.sample);
  if (support.length < settings.minSupport) return null;
  // Runs that could have held the block: every start position, for every field tried.
  const chance = clear(sorted.length, size, otherwise) * (sorted.length - size + 1) * fieldCount;
  if (!(chance < settings.maxChance)) return null;
  if (drifts(sorted.slice(best.to + 1)) || drifts(sorted.slice(0, best.from).reverse())) return null;
  const below = sorted.slice(0, best.from).filter((entry) => !entry.sample.approved).reverse().slice(0, settings.maxCounterExamples);
  const above = sorted.slice(best.to + 1).filter((entry) => !entry.sample.approved).slice(0, settings.maxCounterExamples);
  return { condition: { gte: run[0]!.value, lte: run.at(-1)!.value }, support, counterExamples: [...below, ...above], chance };
}

/**
 * Whether people's line moved toward the run: outside it, moving away from it (`outward`, in
 * order), a value was approved and later a value no further out was not. A bar that is falling
 * (a flipping history) is no ground for a rule next to it.
 */
function drifts(outward: { sample: Sample; value: number }[]): boolean {
  let earliestApproval = Infinity;
  // From the far end in: each value sees the approvals at it and further out.
  for (let i = outward.length - 1; i >= 0; ) {
    let j = i;
    while (j >= 0 && outward[j]!.value === outward[i]!.value) j--;
    const same = outward.slice(j + 1, i + 1);
    for (const entry of same) if (entry.sample.approved) earliestApproval = Math.min(earliestApproval, decidedAt(entry.sample));
    if (same.some((entry) => !entry.sample.approved && decidedAt(entry.sample) > earliestApproval)) return true;
    i = j;
  }
  return false;
}

const decidedAt = (sample: Sample) => Date.parse(sample.request.decision!.decidedAt);

/** Values of a low-cardinality field that people approved every time, with enough support. */
function equalities(entries: { sample: Sample; value: string | boolean }[], fieldCount: number, settings: MinerOptions): Candidate[] {
  const byValue = new Map<string | boolean, Sample[]>();
  for (const entry of entries) {
    const samples = byValue.get(entry.value);
    if (samples) samples.push(entry.sample);
    else byValue.set(entry.value, [entry.sample]);
  }
  // A field with a value per request (an order number in text) describes nothing.
  if (byValue.size > MAX_CATEGORIES || byValue.size * 2 > entries.length) return [];
  const otherwise = entries.filter((entry) => !entry.sample.approved).length;
  const found: Candidate[] = [];
  for (const [value, samples] of [...byValue.entries()].sort(([a], [b]) => String(a).localeCompare(String(b)))) {
    if (samples.some((sample) => !sample.approved) || samples.length < settings.minSupport) continue;
    const chance = clear(entries.length, samples.length, otherwise) * byValue.size * fieldCount;
    if (!(chance < settings.maxChance)) continue;
    const counterExamples = entries
      .filter((entry) => !entry.sample.approved)
      .reverse()
      .slice(0, settings.maxCounterExamples);
    found.push({ condition: { equals: value }, support: samples, counterExamples, chance });
  }
  return found;
}

/**
 * The chance that `size` given decisions out of `total` hold none of `otherwise` rejections
 * placed at random: C(total - size, otherwise) / C(total, otherwise). 1 when nothing was
 * rejected, so a history people approved throughout proves no field matters.
 */
function clear(total: number, size: number, otherwise: number): number {
  if (otherwise === 0) return 1;
  let chance = 1;
  for (let i = 0; i < otherwise; i++) chance *= Math.max(0, total - size - i) / (total - i);
  return chance;
}

/** The most constant fields a rule adds to its own condition. */
const MAX_CONSTANTS = 5;

function constantsOf(field: string, support: Sample[], fields: readonly string[]): MinedRule["constants"] {
  const constants: MinedRule["constants"] = [];
  for (const other of fields) {
    if (other === field || ID_NAME.test(other) || constants.length >= MAX_CONSTANTS) continue;
    const first = lookup(support[0]!.request.decisionData, other);
    if (!((typeof first === "string" && PLAIN_VALUE.test(first)) || typeof first === "boolean")) continue;
    if (support.every((sample) => lookup(sample.request.decisionData, other) === first)) constants.push({ field: other, equals: first });
  }
  return constants;
}

function toMined(requestType: string, field: string, group: Sample[], candidate: Candidate, settings: MinerOptions, fields: readonly string[]): MinedRule {
  const newestFirst = [...candidate.support].sort((a, b) => b.request.decision!.decidedAt.localeCompare(a.request.decision!.decidedAt) || b.request.id.localeCompare(a.request.id));
  const risks = candidate.support.map((sample) => sample.request.riskScore);
  const riskMax = risks.every((risk): risk is number => typeof risk === "number" && Number.isFinite(risk)) ? Math.max(...risks) : null;
  return {
    requestType,
    field,
    condition: candidate.condition,
    constants: constantsOf(field, candidate.support, fields),
    riskMax,
    action: "approve",
    support: candidate.support.length,
    requestIds: newestFirst.slice(0, settings.maxIds).map((sample) => sample.request.id),
    counterExamples: candidate.counterExamples.map(({ sample, value }) => ({
      requestId: sample.request.id,
      value,
      action: sample.request.decision!.action === "approve" && sample.request.decision!.editedFields ? "approve (edited)" : sample.request.decision!.action,
      decidedAt: sample.request.decision!.decidedAt,
    })),
    considered: group.length,
    decidedOtherwise: group.filter((sample) => !sample.approved).length,
    chance: candidate.chance,
    lastDecidedAt: newestFirst[0]!.request.decision!.decidedAt,
  };
}
