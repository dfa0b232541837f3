import { describe, expect, it } from "vitest";
import type { Condition } from "../../src/config/schema.js";
import { evaluateCondition, formatValue, lookup, zoneClock, type ConditionFacts, type ConditionResult } from "../../src/core/conditions.js";

const NOW = new Date("2026-06-03T10:00:00Z");

function facts(overrides: Partial<ConditionFacts> = {}): ConditionFacts {
  return { decisionData: {}, requestType: null, riskScore: null, confidence: null, ...overrides };
}

const yes = (reasons: string[], satisfied = reasons.length, total = satisfied): ConditionResult => ({ matched: true, unknown: false, satisfied, total, reasons });
const no = (reasons: string[], satisfied = 0, total = reasons.length): ConditionResult => ({ matched: false, unknown: false, satisfied, total, reasons });
const unknown = (reasons: string[], satisfied = 0, total = reasons.length): ConditionResult => ({ matched: false, unknown: true, satisfied, total, reasons });

type Row = [name: string, condition: Condition, data: Partial<ConditionFacts>, expected: ConditionResult];

const data = (decisionData: Record<string, unknown>): Partial<ConditionFacts> => ({ decisionData });

describe("field conditions", () => {
  const rows: Row[] = [
    ["lt below", { field: "amount", lt: 50 }, data({ amount: 49 }), yes(["amount is 49, below 50"])],
    ["lt at the boundary", { field: "amount", lt: 50 }, data({ amount: 50 }), no(["amount is 50, not below 50"])],
    ["lte at the boundary", { field: "amount", lte: 50 }, data({ amount: 50 }), yes(["amount is 50, at most 50"])],
    ["lte above", { field: "amount", lte: 50 }, data({ amount: 50.01 }), no(["amount is 50.01, not at most 50"])],
    ["gt at the boundary", { field: "amount", gt: 50 }, data({ amount: 50 }), no(["amount is 50, not above 50"])],
    ["gt above", { field: "amount", gt: 50 }, data({ amount: 51 }), yes(["amount is 51, above 50"])],
    ["gte at the boundary", { field: "amount", gte: 50 }, data({ amount: 50 }), yes(["amount is 50, at least 50"])],
    ["gte below", { field: "amount", gte: 50 }, data({ amount: 49.99 }), no(["amount is 49.99, not at least 50"])],
    ["negative numbers", { field: "delta", lt: -1 }, data({ delta: -5 }), yes(["delta is -5, below -1"])],
    ["a range, inside", { field: "lines", gte: 1, lte: 20 }, data({ lines: 20 }), yes(["lines is 20, at most 20", "lines is 20, at least 1"])],
    ["a range, outside", { field: "lines", gte: 1, lte: 20 }, data({ lines: 21 }), no(["lines is 21, not at most 20", "lines is 21, at least 1"], 1, 2)],
    ["a missing field", { field: "amount", lt: 50 }, data({}), unknown(["amount is missing"])],
    ["a numeric string is not a number", { field: "amount", lt: 50 }, data({ amount: "49" }), unknown(['amount is "49", not a number'])],
    ["text is not a number", { field: "amount", lt: 50 }, data({ amount: "cheap" }), unknown(["amount is cheap, not a number"])],
    ["a boolean is not a number", { field: "amount", gt: 0 }, data({ amount: true }), unknown(["amount is true, not a number"])],
    ["null is not a number", { field: "amount", gt: 0 }, data({ amount: null }), unknown(["amount is null, not a number"])],
    ["NaN is not a number", { field: "amount", gt: 0 }, data({ amount: Number.NaN }), unknown(["amount is NaN, not a number"])],
    ["a list is not a number", { field: "amount", gt: 0 }, data({ amount: [1] }), unknown(["amount is a list, not a number"])],
    ["equals on a dotted path", { field: "customer.tier", equals: "gold" }, data({ customer: { tier: "gold" } }), yes(["customer.tier is gold"])],
    ["equals, different", { field: "customer.tier", equals: "gold" }, data({ customer: { tier: "silver" } }), no(["customer.tier is silver, not gold"])],
    ["equals compares types", { field: "count", equals: 5 }, data({ count: "5" }), no(['count is "5", not 5'])],
    ["equals true", { field: "flag", equals: true }, data({ flag: true }), yes(["flag is true"])],
    ["equals null on null", { field: "coupon", equals: null }, data({ coupon: null }), yes(["coupon is null"])],
    ["equals null on a missing field", { field: "coupon", equals: null }, data({}), unknown(["coupon is missing"])],
    ["equals on a mapping", { field: "customer", equals: "gold" }, data({ customer: { tier: "gold" } }), no(["customer is a mapping, not gold"])],
    ["a path into a list", { field: "items.0.sku", equals: "A1" }, data({ items: [{ sku: "A1" }] }), yes(["items.0.sku is A1"])],
    ["a path through text", { field: "customer.tier", equals: "gold" }, data({ customer: "gold" }), unknown(["customer.tier is missing"])],
    ["a path through null", { field: "customer.tier", equals: "gold" }, data({ customer: null }), unknown(["customer.tier is missing"])],
    ["inherited properties are missing", { field: "constructor", equals: "x" }, data({}), unknown(["constructor is missing"])],
    ["__proto__ is missing", { field: "__proto__", equals: null }, data({}), unknown(["__proto__ is missing"])],
    ["contains in a list", { field: "tags", contains: "vip" }, data({ tags: ["new", "vip"] }), yes(["tags includes vip"])],
    ["contains, absent from the list", { field: "tags", contains: "vip" }, data({ tags: ["new"] }), no(["tags does not include vip"])],
    ["contains a number", { field: "ids", contains: 3 }, data({ ids: [1, 2, 3] }), yes(["ids includes 3"])],
    ["contains in text", { field: "note", contains: "urgent" }, data({ note: "very urgent" }), yes(["note includes urgent"])],
    ["contains in text, absent", { field: "note", contains: "urgent" }, data({ note: "whenever" }), no(["note does not include urgent"])],
    ["contains on a number", { field: "tags", contains: "vip" }, data({ tags: 5 }), unknown(["tags is 5, not a list or text"])],
    ["contains on a missing field", { field: "tags", contains: "vip" }, data({}), unknown(["tags is missing"])],
  ];
  it.each(rows)("%s", (_name, condition, input, expected) => {
    expect(evaluateCondition(condition, facts(input), NOW)).toEqual(expected);
  });
});

describe("risk_score, confidence and task_type", () => {
  const rows: Row[] = [
    ["risk at the max", { risk_score: { max: 0.3 } }, { riskScore: 0.3 }, yes(["risk_score is 0.3, at most 0.3"])],
    ["risk above the max", { risk_score: { max: 0.3 } }, { riskScore: 0.31 }, no(["risk_score is 0.31, not at most 0.3"])],
    ["risk missing", { risk_score: { max: 0.3 } }, { riskScore: null }, unknown(["risk_score is missing"])],
    ["risk between min and max", { risk_score: { min: 0.1, max: 0.3 } }, { riskScore: 0.2 }, yes(["risk_score is 0.2, at least 0.1", "risk_score is 0.2, at most 0.3"])],
    ["risk below the min", { risk_score: { min: 0.1, max: 0.3 } }, { riskScore: 0.05 }, no(["risk_score is 0.05, not at least 0.1", "risk_score is 0.05, at most 0.3"], 1, 2)],
    ["confidence at the min", { confidence: { min: 0.8 } }, { confidence: 0.8 }, yes(["confidence is 0.8, at least 0.8"])],
    ["confidence below the min", { confidence: { min: 0.8 } }, { confidence: 0.79 }, no(["confidence is 0.79, not at least 0.8"])],
    ["confidence above a max", { confidence: { max: 0.5 } }, { confidence: 0.9 }, no(["confidence is 0.9, not at most 0.5"])],
    ["confidence missing", { confidence: { min: 0.8 } }, { confidence: null }, unknown(["confidence is missing"])],
    ["task type listed", { task_type: ["refund", "payout"] }, { requestType: "refund" }, yes(["request_type is refund, one of refund, payout"])],
    ["task type not listed", { task_type: ["refund"] }, { requestType: "deploy" }, no(["request_type is deploy, not one of refund"])],
    ["task type is case sensitive", { task_type: ["refund"] }, { requestType: "Refund" }, no(["request_type is Refund, not one of refund"])],
    ["task type missing", { task_type: ["refund"] }, { requestType: null }, unknown(["request_type is missing"])],
  ];
  it.each(rows)("%s", (_name, condition, input, expected) => {
    expect(evaluateCondition(condition, facts(input), NOW)).toEqual(expected);
  });
});

describe("all, any and not", () => {
  const small: Condition = { field: "amount", lt: 50 };
  const refund: Condition = { task_type: ["refund"] };
  const gold: Condition = { field: "tier", equals: "gold" };
  const base = { decisionData: { amount: 20, tier: "silver" }, requestType: "refund" };
  const rows: Row[] = [
    ["all hold", { all: [small, refund] }, base, yes(["amount is 20, below 50", "request_type is refund, one of refund"])],
    ["all, one fails", { all: [small, gold] }, base, no(["amount is 20, below 50", "tier is silver, not gold"], 1, 2)],
    ["all, one unknown", { all: [small, { field: "x", gt: 1 }] }, base, unknown(["amount is 20, below 50", "x is missing"], 1, 2)],
    ["all, a failure beats an unknown", { all: [gold, { field: "x", gt: 1 }] }, base, no(["tier is silver, not gold", "x is missing"], 0, 2)],
    ["any, one holds", { any: [gold, small] }, base, yes(["tier is silver, not gold", "amount is 20, below 50"], 1, 1)],
    ["any, none holds", { any: [gold, { field: "amount", gt: 100 }] }, base, no(["tier is silver, not gold", "amount is 20, not above 100"], 0, 1)],
    ["any, a match beats an unknown", { any: [{ field: "x", gt: 1 }, small] }, base, yes(["x is missing", "amount is 20, below 50"], 1, 1)],
    ["any, an unknown and a failure", { any: [{ field: "x", gt: 1 }, gold] }, base, unknown(["x is missing", "tier is silver, not gold"], 0, 1)],
    [
      "any counts its closest child",
      { any: [gold, { all: [small, refund, gold] }] },
      base,
      no(["tier is silver, not gold", "amount is 20, below 50", "request_type is refund, one of refund", "tier is silver, not gold"], 2, 3),
    ],
    ["not of a failure", { not: gold }, base, yes(["not: tier is silver, not gold"], 1, 1)],
    ["not of a match", { not: small }, base, no(["not: amount is 20, below 50"], 0, 1)],
    ["not of a missing field never holds", { not: { field: "x", gt: 1 } }, base, unknown(["not: x is missing"], 0, 1)],
    ["not not", { not: { not: small } }, base, yes(["not: not: amount is 20, below 50"], 1, 1)],
    [
      "all with any and not",
      { all: [refund, { any: [gold, small] }, { not: { field: "amount", gt: 40 } }] },
      base,
      yes(["request_type is refund, one of refund", "tier is silver, not gold", "amount is 20, below 50", "not: amount is 20, not above 40"], 3, 3),
    ],
  ];
  it.each(rows)("%s", (_name, condition, input, expected) => {
    expect(evaluateCondition(condition, facts(input), NOW)).toEqual(expected);
  });

  it("satisfied equals total exactly when the condition matches, at any depth", () => {
    let condition: Condition = small;
    for (let depth = 0; depth < 50; depth++) condition = depth % 3 === 0 ? { all: [condition, refund] } : depth % 3 === 1 ? { any: [gold, condition] } : { not: { not: condition } };
    const result = evaluateCondition(condition, facts(base), NOW);
    expect(result.matched).toBe(true);
    expect(result.satisfied).toBe(result.total);
  });
});

describe("time windows", () => {
  const office: Condition = { time_window: { start: "09:00", end: "17:00", timezone: "Europe/Berlin", weekdays: ["mon", "tue", "wed", "thu", "fri"] } };
  const night: Condition = { time_window: { start: "22:00", end: "06:00", timezone: "UTC", weekdays: ["fri"] } };
  const weekend: Condition = { time_window: { timezone: "UTC", weekdays: ["sat", "sun"] } };
  const rows: [name: string, condition: Condition, now: string, expected: ConditionResult][] = [
    ["opening minute, summer time", office, "2026-06-03T07:00:00Z", yes(["time is wed 09:00 in Europe/Berlin, within 09:00-17:00"])],
    ["a minute before opening", office, "2026-06-03T06:59:00Z", no(["time is wed 08:59 in Europe/Berlin, outside 09:00-17:00"])],
    ["closing minute is outside", office, "2026-06-03T15:00:00Z", no(["time is wed 17:00 in Europe/Berlin, outside 09:00-17:00"])],
    [
      "a weekend day",
      office,
      "2026-06-06T08:00:00Z",
      no(["time is sat 10:00 in Europe/Berlin, within 09:00-17:00 but sat is not one of mon, tue, wed, thu, fri"]),
    ],
    ["the zone's date, not UTC's", { time_window: { start: "00:00", end: "01:00", timezone: "Pacific/Auckland", weekdays: ["thu"] } }, "2026-06-03T12:30:00Z", yes(["time is thu 00:30 in Pacific/Auckland, within 00:00-01:00"])],
    ["the day before the spring change (CET)", { time_window: { start: "09:00", end: "17:00", timezone: "Europe/Berlin" } }, "2026-03-28T07:30:00Z", no(["time is sat 08:30 in Europe/Berlin, outside 09:00-17:00"])],
    ["the day of the spring change (CEST)", { time_window: { start: "09:00", end: "17:00", timezone: "Europe/Berlin" } }, "2026-03-29T07:30:00Z", yes(["time is sun 09:30 in Europe/Berlin, within 09:00-17:00"])],
    ["the skipped hour never happens", { time_window: { start: "02:00", end: "03:00", timezone: "Europe/Berlin" } }, "2026-03-29T01:00:00Z", no(["time is sun 03:00 in Europe/Berlin, outside 02:00-03:00"])],
    ["New York after its change", { time_window: { start: "09:00", end: "10:00", timezone: "America/New_York" } }, "2026-03-09T13:30:00Z", yes(["time is mon 09:30 in America/New_York, within 09:00-10:00"])],
    ["across midnight, before it", night, "2026-06-05T23:00:00Z", yes(["time is fri 23:00 in UTC, within 22:00-06:00"])],
    ["across midnight, after it, counts as the day it opened", night, "2026-06-06T02:00:00Z", yes(["time is sat 02:00 in UTC, within fri's 22:00-06:00 window"])],
    ["across midnight, the end is outside", night, "2026-06-06T06:00:00Z", no(["time is sat 06:00 in UTC, outside 22:00-06:00"])],
    ["across midnight, in the gap", night, "2026-06-05T12:00:00Z", no(["time is fri 12:00 in UTC, outside 22:00-06:00"])],
    ["across midnight, a window opened on another day", night, "2026-06-05T02:00:00Z", no(["time is fri 02:00 in UTC, within thu's 22:00-06:00 window but thu is not one of fri"])],
    ["across midnight, the next evening", night, "2026-06-06T22:30:00Z", no(["time is sat 22:30 in UTC, within 22:00-06:00 but sat is not one of fri"])],
    ["weekdays only, listed", weekend, "2026-06-06T12:00:00Z", yes(["day is sat in UTC, one of sat, sun"])],
    ["weekdays only, not listed", weekend, "2026-06-05T12:00:00Z", no(["day is fri in UTC, not one of sat, sun"])],
    ["midnight to midnight crossing, sunday to monday", { time_window: { start: "23:00", end: "01:00", timezone: "UTC", weekdays: ["sun"] } }, "2026-06-08T00:30:00Z", yes(["time is mon 00:30 in UTC, within sun's 23:00-01:00 window"])],
  ];
  it.each(rows)("%s", (_name, condition, now, expected) => {
    expect(evaluateCondition(condition, facts(), new Date(now))).toEqual(expected);
  });
});

describe("zoneClock", () => {
  it("reads the wall clock of each zone for one instant", () => {
    const clock = zoneClock(new Date("2026-06-05T23:30:00Z"));
    expect(clock("UTC")).toEqual({ weekday: "fri", minutes: 23 * 60 + 30, clock: "23:30" });
    expect(clock("Europe/Berlin")).toEqual({ weekday: "sat", minutes: 90, clock: "01:30" });
    expect(clock("America/Los_Angeles")).toEqual({ weekday: "fri", minutes: 16 * 60 + 30, clock: "16:30" });
  });

  it("is what time windows read, so one instant is shared by every rule", () => {
    const saturdayMorning = () => ({ weekday: "sat" as const, minutes: 600, clock: "10:00" });
    const window: Condition = { time_window: { start: "09:00", end: "17:00", timezone: "Europe/Berlin", weekdays: ["sat"] } };
    expect(evaluateCondition(window, facts(), NOW, saturdayMorning).reasons).toEqual(["time is sat 10:00 in Europe/Berlin, within 09:00-17:00"]);
  });
});

describe("lookup and formatValue", () => {
  it.each([
    [{ a: { b: { c: 1 } } }, "a.b.c", 1],
    [{ a: [10, 20] }, "a.1", 20],
    [{ a: [10, 20] }, "a.length", 2],
    [{ "a.b": 1 }, "a.b", undefined],
    [{ a: 1 }, "a.b", undefined],
    [{}, "hasOwnProperty", undefined],
  ])("lookup(%j, %s)", (object, path, expected) => {
    expect(lookup(object as Record<string, unknown>, path)).toEqual(expected);
  });

  it.each([
    ["gold", "gold"],
    ["5", '"5"'],
    ["true", '"true"'],
    ["", '""'],
    [" padded", '" padded"'],
    ["a, b", '"a, b"'],
    [5, "5"],
    [null, "null"],
    [[1], "a list"],
    [{ a: 1 }, "a mapping"],
  ])("formatValue(%j) is %s", (value, expected) => {
    expect(formatValue(value)).toBe(expected);
  });
});
