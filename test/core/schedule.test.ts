import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allowedApprovers,
  applyStep,
  currentApprovers,
  describeSchedule,
  initialEscalation,
  ladderFor,
  nextDueAt,
  nextStep,
  type Step,
} from "../../src/core/schedule.js";
import type { ApprovalRequest, EscalationStep } from "../../src/core/types.js";
import { makeRequest } from "../support/fixtures.js";

const HOUR = 3_600_000;
const CREATED = "2026-11-24T10:00:00.000Z";
const DEADLINE = "2026-11-27T10:00:00.000Z"; // 72h after CREATED
const at = (hours: number) => new Date(Date.parse(CREATED) + hours * HOUR);

const rung = (hours: number, approvers: string[], message: string | null = null): EscalationStep => ({
  afterMs: hours * HOUR,
  approvers,
  message,
  notify: [],
});
const L1 = rung(4, ["bob"], "Bob, please look");
const L2 = rung(24, ["@octo-org/leads"]);
const L3 = rung(48, ["carol"]);
const LADDER = [L1, L2, L3];
const WARNING = 12 * HOUR; // warns at 60h: 2026-11-26T22:00Z

/** A pending request on the standard ladder, moved to `level`/`warned` with a consistent nextAt. */
function scheduled(options: { ladder?: EscalationStep[]; warningBeforeMs?: number | null; level?: number; warned?: boolean } = {}, overrides: Partial<ApprovalRequest> = {}) {
  const base = initialEscalation({
    ladder: options.ladder ?? LADDER,
    warningBeforeMs: options.warningBeforeMs === undefined ? WARNING : options.warningBeforeMs,
    createdAt: CREATED,
    deadline: DEADLINE,
  });
  const state = { ...base, level: options.level ?? 0, warned: options.warned ?? false };
  return makeRequest({ createdAt: CREATED, deadline: DEADLINE, escalation: { ...state, nextAt: nextDueAt(state, CREATED, DEADLINE) }, ...overrides });
}

describe("initialEscalation", () => {
  it.each([
    ["the first rung comes first", LADDER, WARNING, "2026-11-24T14:00:00.000Z"],
    ["no ladder: the warning", [], WARNING, "2026-11-26T22:00:00.000Z"],
    ["no ladder, no warning: the deadline", [], null, DEADLINE],
    ["a rung after the deadline never fires", [rung(80, ["bob"])], null, DEADLINE],
    ["a warning longer than the wait is due at once", [], 100 * HOUR, CREATED],
    ["a warning of 0 is the deadline itself, so never given", [], 0, DEADLINE],
  ] as const)("%s", (_, ladder, warningBeforeMs, nextAt) => {
    expect(initialEscalation({ ladder: [...ladder], warningBeforeMs, createdAt: CREATED, deadline: DEADLINE })).toEqual({
      ladder,
      warningBeforeMs,
      level: 0,
      warned: false,
      nextAt,
    });
  });

  it("takes the critical ladder it is given, so critical requests escalate sooner", () => {
    const critical = [rung(1, ["oncall"])];
    const ladders = { escalation: LADDER, critical };
    expect(ladderFor("critical", ladders)).toBe(critical);
    expect(ladderFor("high", ladders)).toBe(LADDER);
    expect(ladderFor("critical", { escalation: LADDER })).toBe(LADDER);

    const state = initialEscalation({ ladder: ladderFor("critical", ladders), warningBeforeMs: null, createdAt: CREATED, deadline: DEADLINE });
    expect(state.nextAt).toBe("2026-11-24T11:00:00.000Z");
    const request = makeRequest({ priority: "critical", createdAt: CREATED, deadline: DEADLINE, escalation: state });
    expect(nextStep(request, at(1))).toEqual({ type: "escalate", level: 1, step: critical[0], skipped: [] });
  });
});

describe("nextStep", () => {
  const escalate = (level: number, skipped: number[] = []): Step => ({ type: "escalate", level, step: LADDER[level - 1]!, skipped });
  const none: Step = { type: "none" };
  const warn: Step = { type: "warn", deadline: DEADLINE };
  const expire: Step = { type: "expire" };

  it.each([
    ["before any rung", 0, false, 1, none],
    ["a millisecond before the first rung", 0, false, 4 - 1 / HOUR, none],
    ["exactly at the first rung", 0, false, 4, escalate(1)],
    ["between the first and second rung, first not fired", 0, false, 10, escalate(1)],
    ["between the first and second rung, first fired", 1, false, 10, none],
    ["exactly at the second rung", 1, false, 24, escalate(2)],
    ["two rungs overdue: the highest only", 0, false, 30, escalate(2, [1])],
    ["three rungs overdue, warning due too: the highest rung", 0, false, 65, escalate(3, [1, 2])],
    ["one rung overdue after the second fired", 2, false, 50, escalate(3)],
    ["top of the ladder, before the warning", 3, false, 59, none],
    ["exactly at the warning", 3, false, 60, warn],
    ["warning already given", 3, true, 71.99, none],
    ["exactly at the deadline", 3, true, 72, expire],
    ["deadline beats every overdue rung and the warning", 0, false, 72, expire],
    ["long past the deadline", 0, false, 500, expire],
  ] as const)("%s", (_, level, warned, hours, expected) => {
    expect(nextStep(scheduled({ level, warned }), at(hours))).toEqual(expected);
  });

  it("warns before a later rung when the warning comes first", () => {
    const request = scheduled({ ladder: [rung(50, ["bob"])], warningBeforeMs: 30 * HOUR }); // warns at 42h
    expect(nextStep(request, at(42))).toEqual(warn);
    const warned = { ...request, escalation: applyStep(request, warn, at(42)) };
    expect(nextStep(warned, at(49))).toEqual(none);
    expect(nextStep(warned, at(50))).toEqual({ type: "escalate", level: 1, step: rung(50, ["bob"]), skipped: [] });
  });

  it("fires the highest of rungs due at the same moment", () => {
    const twins = [rung(4, ["bob"]), rung(4, ["carol"])];
    expect(nextStep(scheduled({ ladder: twins }), at(4))).toEqual({ type: "escalate", level: 2, step: twins[1], skipped: [1] });
  });

  it.each(["approved", "rejected", "expired", "cancelled"] as const)("does nothing to a request already %s", (status) => {
    expect(nextStep(scheduled({}, { status }), at(30))).toEqual(none);
    expect(nextStep(scheduled({}, { status }), at(500))).toEqual(none);
  });
});

describe("applyStep", () => {
  it.each<[string, number, boolean, Step, number, { level: number; warned: boolean; nextAt: string | null }]>([
    ["first rung: the next rung is next", 0, false, { type: "escalate", level: 1, step: L1, skipped: [] }, 4, { level: 1, warned: false, nextAt: "2026-11-25T10:00:00.000Z" }],
    ["jump to the top: the warning is next", 0, false, { type: "escalate", level: 3, step: L3, skipped: [1, 2] }, 50, { level: 3, warned: false, nextAt: "2026-11-26T22:00:00.000Z" }],
    ["escalating when the warning is due counts as the warning", 0, false, { type: "escalate", level: 3, step: L3, skipped: [1, 2] }, 65, { level: 3, warned: true, nextAt: DEADLINE }],
    ["warning: the deadline is next", 3, false, { type: "warn", deadline: DEADLINE }, 60, { level: 3, warned: true, nextAt: DEADLINE }],
    ["warning before the last rung: the rung is next", 2, false, { type: "warn", deadline: DEADLINE }, 40, { level: 2, warned: true, nextAt: "2026-11-26T10:00:00.000Z" }],
    ["expiry: nothing is left", 1, false, { type: "expire" }, 72, { level: 1, warned: false, nextAt: null }],
  ])("%s", (_, level, warned, step, hours, expected) => {
    const request = scheduled({ level, warned });
    expect(applyStep(request, step, at(hours))).toEqual({ ladder: LADDER, warningBeforeMs: WARNING, ...expected });
  });

  it("leaves the state as it is for none", () => {
    const request = scheduled({ level: 1 });
    expect(applyStep(request, { type: "none" }, at(10))).toBe(request.escalation);
  });

  it("never lowers the level", () => {
    const request = scheduled({ level: 3 });
    expect(applyStep(request, { type: "escalate", level: 1, step: L1, skipped: [] }, at(59)).level).toBe(3);
  });

  it("after a long outage: one escalation, no separate warning, then expiry once", () => {
    let request = scheduled();
    const steps: Step[] = [];
    for (const hours of [65, 66, 71, 72, 73]) {
      const step = nextStep(request, at(hours));
      steps.push(step);
      const escalation = applyStep(request, step, at(hours));
      request = { ...request, escalation, status: step.type === "expire" ? "expired" : request.status };
    }
    expect(steps).toEqual([
      { type: "escalate", level: 3, step: L3, skipped: [1, 2] },
      { type: "none" },
      { type: "none" },
      { type: "expire" },
      { type: "none" },
    ]);
    expect(request.escalation).toEqual({ ladder: LADDER, warningBeforeMs: WARNING, level: 3, warned: true, nextAt: null });
  });
});

describe("nextDueAt", () => {
  const state = initialEscalation({ ladder: LADDER, warningBeforeMs: WARNING, createdAt: CREATED, deadline: DEADLINE });
  it.each([
    ["level 0", { level: 0, warned: false }, "2026-11-24T14:00:00.000Z"],
    ["level 1", { level: 1, warned: false }, "2026-11-25T10:00:00.000Z"],
    ["level 2", { level: 2, warned: false }, "2026-11-26T10:00:00.000Z"],
    ["level 3", { level: 3, warned: false }, "2026-11-26T22:00:00.000Z"],
    ["level 3, warned", { level: 3, warned: true }, DEADLINE],
    ["warned early, level 2", { level: 2, warned: true }, "2026-11-26T10:00:00.000Z"],
  ] as const)("%s", (_, progress, expected) => {
    expect(nextDueAt({ ...state, ...progress }, CREATED, DEADLINE)).toBe(expected);
  });
});

describe("approvers", () => {
  it.each([
    ["level 0: the first approvers", ["alice", "@octo-org/finance"], LADDER, 0, ["alice", "@octo-org/finance"], ["alice", "@octo-org/finance"]],
    ["level 2: first plus fired rungs", ["alice", "@octo-org/finance"], LADDER, 2, ["alice", "@octo-org/finance", "bob", "@octo-org/leads"], ["@octo-org/leads"]],
    ["duplicates kept once, first spelling, order kept", ["alice", "bob"], [rung(4, ["ALICE", "carol", "@bob"])], 1, ["alice", "bob", "carol"], ["ALICE", "carol", "@bob"]],
    ["empty first level stays anyone with write access", [], LADDER, 3, [], ["carol"]],
    ["empty first level, nothing fired", [], LADDER, 0, [], []],
    ["a fired rung naming nobody leaves it with the rung below", ["alice"], [rung(4, ["bob"]), rung(24, [])], 2, ["alice", "bob"], ["bob"]],
  ] as const)("%s", (_, approvers, ladder, level, allowed, current) => {
    const request = scheduled({ ladder: [...ladder], level }, { approvers: [...approvers] });
    expect(allowedApprovers(request)).toEqual(allowed);
    expect(currentApprovers(request)).toEqual(current);
  });
});

describe("describeSchedule", () => {
  it.each([
    ["before any rung", 0, false, 1, { level: 0, next: { type: "escalate", at: "2026-11-24T14:00:00.000Z", level: 1 } }],
    ["overdue rungs: the one that will fire, when it fell due", 0, false, 30, { level: 0, next: { type: "escalate", at: "2026-11-25T10:00:00.000Z", level: 2 } }],
    ["top rung: the warning", 3, false, 50, { level: 3, next: { type: "warn", at: "2026-11-26T22:00:00.000Z" } }],
    ["warned: the deadline", 3, true, 61, { level: 3, next: { type: "expire", at: DEADLINE } }],
    ["past the deadline: expiry, even with rungs left", 0, false, 80, { level: 0, next: { type: "expire", at: DEADLINE } }],
  ] as const)("%s", (_, level, warned, hours, expected) => {
    expect(describeSchedule(scheduled({ level, warned }), at(hours))).toEqual(expected);
  });

  it("shows nothing next for a decided request", () => {
    expect(describeSchedule(scheduled({ level: 2 }, { status: "approved" }), at(30))).toEqual({ level: 2, next: null });
  });
});

describe("the sweep over time (property)", () => {
  const MINUTE = 60_000;
  it("fires each rung at most once, never after the deadline, expires exactly once, and keeps nextAt due and moving forward", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 6 }),
        fc.option(fc.integer({ min: 0, max: 400 }), { nil: null }),
        fc.array(fc.integer({ min: 0, max: 90 }), { minLength: 1, maxLength: 40 }),
        (spanMin, afterMins, warningMin, gaps) => {
          const deadlineAt = Date.parse(CREATED) + spanMin * MINUTE;
          const deadline = new Date(deadlineAt).toISOString();
          const ladder = afterMins.map((minutes, i) => rung(minutes / 60, [`user${i}`]));
          const escalation = initialEscalation({ ladder, warningBeforeMs: warningMin === null ? null : warningMin * MINUTE, createdAt: CREATED, deadline });
          let request = makeRequest({ createdAt: CREATED, deadline, escalation });

          // Increasing sweep times (repeats allowed), the last one past the deadline.
          const times: number[] = [];
          let t = Date.parse(CREATED);
          for (const gap of gaps) times.push((t += gap * MINUTE));
          times.push(Math.max(t, deadlineAt) + MINUTE);

          const accounted = new Set<number>();
          let warns = 0;
          let expiries = 0;
          let previousNextAt = Date.parse(request.escalation.nextAt!);
          for (const time of times) {
            const now = new Date(time);
            const step = nextStep(request, now);
            if (request.status === "pending") {
              // The store's due index is keyed on nextAt: due there exactly when there is a step.
              expect(step.type !== "none").toBe(Date.parse(request.escalation.nextAt!) <= time);
            } else {
              expect(step.type).toBe("none");
            }
            if (step.type === "none") continue;
            if (step.type !== "expire") expect(time).toBeLessThan(deadlineAt);
            if (step.type === "escalate") {
              expect(step.level).toBeGreaterThan(request.escalation.level);
              expect(Date.parse(CREATED) + step.step.afterMs).toBeLessThanOrEqual(time);
              for (const level of [...step.skipped, step.level]) {
                expect(accounted.has(level)).toBe(false);
                accounted.add(level);
              }
            }
            if (step.type === "warn") warns += 1;
            const next = applyStep(request, step, now);
            if (step.type === "expire") {
              expiries += 1;
              expect(next.nextAt).toBeNull();
              request = { ...request, status: "expired", escalation: next };
            } else {
              expect(next.nextAt).not.toBeNull();
              const nextAt = Date.parse(next.nextAt!);
              expect(nextAt).toBeGreaterThanOrEqual(previousNextAt);
              previousNextAt = nextAt;
              request = { ...request, escalation: next };
            }
            // Only the latest step applies: once taken, nothing else is due at the same moment.
            expect(nextStep(request, now)).toEqual({ type: "none" });
          }
          expect(expiries).toBe(1);
          expect(warns).toBeLessThanOrEqual(1);
          expect(request.status).toBe("expired");
        },
      ),
      { numRuns: 500 },
    );
  });
});
