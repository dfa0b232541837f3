import type { Bounds, Condition, TimeWindow, Weekday } from "../config/schema.js";

/** What a condition can look at. */
export interface ConditionFacts {
  decisionData: Record<string, unknown>;
  requestType: string | null;
  riskScore: number | null;
  confidence: number | null;
  /** Paths of decisionData whose values are sensitive: tested, but never written into an explanation. */
  sensitivePaths?: readonly string[];
  /** Paths `.hitl.yml` keeps off GitHub: tested, but written into an explanation as `[hidden]`. */
  hiddenPaths?: readonly string[];
}

/** What an explanation says instead of a sensitive value, or one kept off GitHub. */
const WITHHELD = "[sensitive]";
const HIDDEN = "[hidden]";

export interface ConditionResult {
  matched: boolean;
  /**
   * The condition tests something the request does not have (a missing field, text where a
   * number was expected). Such a condition never holds, and neither does its `not`, so leaving
   * a field out can never turn a rule on.
   */
  unknown: boolean;
  /** How many of the leaf conditions held; `satisfied === total` exactly when `matched`. */
  satisfied: number;
  total: number;
  /** Short factual sentences, one per leaf, e.g. "amount is 120, not below 50". */
  reasons: string[];
}

type Truth = "yes" | "no" | "unknown";

interface Outcome {
  truth: Truth;
  satisfied: number;
  total: number;
  reasons: string[];
}

const COMPARISONS = {
  lt: { holds: (a: number, b: number) => a < b, phrase: "below" },
  gt: { holds: (a: number, b: number) => a > b, phrase: "above" },
  lte: { holds: (a: number, b: number) => a <= b, phrase: "at most" },
  gte: { holds: (a: number, b: number) => a >= b, phrase: "at least" },
} as const;

export interface LocalTime {
  weekday: Weekday;
  /** Minutes since local midnight. */
  minutes: number;
  /** `HH:MM`. */
  clock: string;
}

/** The wall-clock time of one instant in any zone. */
export type ZoneClock = (timeZone: string) => LocalTime;

/** Remembers each zone's answer, since building an Intl formatter costs far more than a rule. */
export function zoneClock(now: Date): ZoneClock {
  const seen = new Map<string, LocalTime>();
  return (timeZone) => {
    let time = seen.get(timeZone);
    if (!time) {
      time = localTime(now, timeZone);
      seen.set(timeZone, time);
    }
    return time;
  };
}

/**
 * Tries one condition tree on a request's facts at time `now`. Pass one `clock` to many calls
 * for the same instant to share its time-zone work.
 */
export function evaluateCondition(condition: Condition, facts: ConditionFacts, now: Date, clock: ZoneClock = zoneClock(now)): ConditionResult {
  const outcome = evaluate(condition, facts, clock);
  return {
    matched: outcome.truth === "yes",
    unknown: outcome.truth === "unknown",
    satisfied: outcome.satisfied,
    total: outcome.total,
    reasons: outcome.reasons,
  };
}

function evaluate(condition: Condition, facts: ConditionFacts, clock: ZoneClock): Outcome {
  if (condition.all) return allOf(condition.all.map((child) => evaluate(child, facts, clock)));
  if (condition.any) return anyOf(condition.any.map((child) => evaluate(child, facts, clock)));
  if (condition.not) return negate(evaluate(condition.not, facts, clock));
  if (condition.field !== undefined) {
    const path = condition.field;
    const touches = (paths: readonly string[] | undefined) => (paths ?? []).some((other) => path === other || path.startsWith(`${other}.`) || other.startsWith(`${path}.`));
    return fieldCondition(condition, path, facts.decisionData, touches(facts.sensitivePaths) ? WITHHELD : touches(facts.hiddenPaths) ? HIDDEN : null);
  }
  if (condition.risk_score) return boundsCondition("risk_score", facts.riskScore, condition.risk_score);
  if (condition.confidence) return boundsCondition("confidence", facts.confidence, condition.confidence);
  if (condition.task_type) return taskType(condition.task_type, facts.requestType);
  if (condition.time_window) return timeWindow(condition.time_window, clock);
  // The schema rejects an empty condition; should one arrive anyway it must not match.
  return leaf("unknown", "the condition is empty");
}

function leaf(truth: Truth, reason: string): Outcome {
  return { truth, satisfied: truth === "yes" ? 1 : 0, total: 1, reasons: [reason] };
}

function allOf(children: Outcome[]): Outcome {
  let truth: Truth = "yes";
  let satisfied = 0;
  let total = 0;
  const reasons: string[] = [];
  for (const child of children) {
    if (child.truth === "no") truth = "no";
    else if (child.truth === "unknown" && truth === "yes") truth = "unknown";
    satisfied += child.satisfied;
    total += child.total;
    for (const reason of child.reasons) reasons.push(reason);
  }
  return { truth, satisfied, total, reasons };
}

/** Counts as its best child: the first that holds, otherwise the one that came closest. */
function anyOf(children: Outcome[]): Outcome {
  let truth: Truth = "no";
  let best: Outcome | undefined;
  const reasons: string[] = [];
  for (const child of children) {
    if (child.truth === "yes") {
      if (truth !== "yes") best = child;
      truth = "yes";
    } else {
      if (child.truth === "unknown" && truth === "no") truth = "unknown";
      if (truth !== "yes" && (!best || child.satisfied > best.satisfied)) best = child;
    }
    for (const reason of child.reasons) reasons.push(reason);
  }
  return { truth, satisfied: best?.satisfied ?? 0, total: best?.total ?? 1, reasons };
}

function negate(child: Outcome): Outcome {
  const truth: Truth = child.truth === "unknown" ? "unknown" : child.truth === "yes" ? "no" : "yes";
  return { truth, satisfied: truth === "yes" ? 1 : 0, total: 1, reasons: child.reasons.map((reason) => `not: ${reason}`) };
}

function fieldCondition(condition: Condition, path: string, data: Record<string, unknown>, withheld: string | null = null): Outcome {
  const value = lookup(data, path);
  const show = withheld !== null ? () => withheld : formatValue;
  const leaves: Outcome[] = [];
  for (const operator of ["lt", "gt", "lte", "gte"] as const) {
    const limit = condition[operator];
    if (limit === undefined) continue;
    if (value === undefined) leaves.push(leaf("unknown", `${path} is missing`));
    else if (typeof value !== "number" || !Number.isFinite(value)) leaves.push(leaf("unknown", `${path} is ${show(value)}, not a number`));
    else {
      const { holds, phrase } = COMPARISONS[operator];
      const ok = holds(value, limit);
      leaves.push(leaf(ok ? "yes" : "no", `${path} is ${show(value)}, ${ok ? "" : "not "}${phrase} ${limit}`));
    }
  }
  if (condition.equals !== undefined) {
    const expected = condition.equals;
    if (value === undefined) leaves.push(leaf("unknown", `${path} is missing`));
    else if (value === expected) leaves.push(leaf("yes", `${path} is ${show(expected)}`));
    else leaves.push(leaf("no", `${path} is ${show(value)}, not ${show(expected)}`));
  }
  if (condition.contains !== undefined) leaves.push(contains(path, value, condition.contains, show));
  return leaves.length === 1 ? leaves[0]! : allOf(leaves);
}

function contains(path: string, value: unknown, needle: string | number | boolean, show: (value: unknown) => string): Outcome {
  if (value === undefined) return leaf("unknown", `${path} is missing`);
  let holds: boolean;
  if (Array.isArray(value)) holds = value.includes(needle);
  else if (typeof value === "string") holds = value.includes(String(needle));
  else return leaf("unknown", `${path} is ${show(value)}, not a list or text`);
  return leaf(holds ? "yes" : "no", `${path} ${holds ? "includes" : "does not include"} ${show(needle)}`);
}

function boundsCondition(name: string, value: number | null, bounds: Bounds): Outcome {
  const leaves: Outcome[] = [];
  for (const [limit, operator] of [
    [bounds.min, "gte"],
    [bounds.max, "lte"],
  ] as const) {
    if (limit === undefined) continue;
    if (value === null || !Number.isFinite(value)) leaves.push(leaf("unknown", `${name} is missing`));
    else {
      const { holds, phrase } = COMPARISONS[operator];
      const ok = holds(value, limit);
      leaves.push(leaf(ok ? "yes" : "no", `${name} is ${value}, ${ok ? "" : "not "}${phrase} ${limit}`));
    }
  }
  return leaves.length === 1 ? leaves[0]! : allOf(leaves);
}

function taskType(types: string[], requestType: string | null): Outcome {
  if (requestType === null) return leaf("unknown", "request_type is missing");
  const holds = types.includes(requestType);
  return leaf(holds ? "yes" : "no", `request_type is ${formatValue(requestType)}, ${holds ? "" : "not "}one of ${types.join(", ")}`);
}

const WEEKDAY_ORDER: Weekday[] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/**
 * A window whose end is earlier than its start crosses midnight; the part after midnight
 * belongs to the day the window opened, so `fri 22:00-06:00` holds early on Saturday.
 */
function timeWindow(window: TimeWindow, clockOf: ZoneClock): Outcome {
  const { weekday, minutes, clock } = clockOf(window.timezone);
  const zone = window.timezone;
  const days = window.weekdays;
  if (window.start === undefined || window.end === undefined) {
    const holds = days?.includes(weekday) ?? true;
    return leaf(holds ? "yes" : "no", `day is ${weekday} in ${zone}, ${holds ? "" : "not "}one of ${(days ?? []).join(", ")}`);
  }
  const start = toMinutes(window.start);
  const end = toMinutes(window.end);
  const span = `${window.start}-${window.end}`;
  const clockText = `time is ${weekday} ${clock} in ${zone}`;
  const inside = start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
  if (!inside) return leaf("no", `${clockText}, outside ${span}`);
  const afterMidnight = start > end && minutes < end;
  const day = afterMidnight ? WEEKDAY_ORDER[(WEEKDAY_ORDER.indexOf(weekday) + 6) % 7]! : weekday;
  const within = afterMidnight ? `within ${day}'s ${span} window` : `within ${span}`;
  if (days && !days.includes(day)) return leaf("no", `${clockText}, ${within} but ${day} is not one of ${days.join(", ")}`);
  return leaf("yes", `${clockText}, ${within}`);
}

function localTime(now: Date, timeZone: string): LocalTime {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  const hour = Number(part("hour")) % 24;
  const minute = Number(part("minute"));
  const weekday = part("weekday").slice(0, 3).toLowerCase() as Weekday;
  return { weekday, minutes: hour * 60 + minute, clock: `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}` };
}

function toMinutes(clock: string): number {
  const [hours = 0, minutes = 0] = clock.split(":").map(Number);
  return hours * 60 + minutes;
}

/** Follows a dotted path through own properties only, so `__proto__` and friends read as missing. */
export function lookup(data: Record<string, unknown>, path: string): unknown {
  let current: unknown = data;
  for (const segment of path.split(".")) {
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** Text as written unless it could be read as something else, then quoted. */
export function formatValue(value: unknown): string {
  if (typeof value === "string") {
    const plain = value !== "" && value.trim() === value && !/^(?:true|false|null|-?\d+(?:\.\d+)?)$/.test(value) && !value.includes(",");
    return plain ? value : JSON.stringify(value);
  }
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object" && value !== null) return "a mapping";
  return String(value);
}
