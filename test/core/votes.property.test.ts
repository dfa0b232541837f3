import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stageBar, type Stage } from "../../src/core/aggregate.js";
import type { ActionOption, ApprovalRequest } from "../../src/core/types.js";
import { castVote, hasStages, retractVote } from "../../src/core/vote.js";
import { makeRequest } from "../support/fixtures.js";

/**
 * Random vote sequences, cast the way the engine casts them (castVote / retractVote on the
 * stored request, which replays every vote through core/aggregate), against a plain reference:
 * a state machine that keeps one tally per stage and moves on as each event arrives.
 */

const PEOPLE = ["ann", "ben", "cat", "dan", "eve"];
const ACTIONS: ActionOption[] = [
  { id: "approve", label: "Approve" },
  { id: "reject", label: "Reject" },
  { id: "ship", label: "Ship now", kind: "approve" },
  { id: "shelve", label: "Shelve", kind: "reject" },
];
const KIND: Record<string, "approve" | "reject"> = { approve: "approve", reject: "reject", ship: "approve", shelve: "reject" };

const stageArb = (index: number): fc.Arbitrary<Stage> =>
  fc
    .record({
      approvers: fc.subarray(PEOPLE, { minLength: 1 }),
      rule: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom("all" as const, "majority" as const), fc.constant("weights" as const)),
      weights: fc.dictionary(fc.constantFrom(...PEOPLE), fc.integer({ min: 1, max: 3 }), { minKeys: 1 }),
      threshold: fc.integer({ min: 1, max: 6 }),
      reject: fc.constantFrom("veto" as const, "majority" as const),
      allowRepeatApprovers: fc.boolean(),
    })
    .map(({ approvers, rule, weights, threshold, reject, allowRepeatApprovers }) => {
      const base = { name: `s${index}`, reject, allowRepeatApprovers };
      if (rule === "weights") return { ...base, approvers: [], required: 1, weights, threshold };
      if (typeof rule === "number") return { ...base, approvers: [], required: rule };
      return { ...base, approvers, required: rule };
    });

const stagesArb = fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => stageArb(i))));
const eventArb = fc.record({ who: fc.constantFrom(...PEOPLE), action: fc.constantFrom("approve", "reject", "ship", "shelve", "retract") });

/** Who may vote in a stage, as the engine's approver checks decide it, and with what weight. */
function weightIn(stage: Stage, who: string): number | null {
  if (stage.weights) return stage.weights[who] ?? null;
  if (stage.required === "all" || stage.required === "majority") return stage.approvers.includes(who) ? 1 : null;
  return 1;
}

type Result = { status: "pending"; stage: number } | { status: "approved" | "rejected"; action: string; stage: string };

function reference(stages: Stage[], events: { who: string; action: string }[]): Result {
  let index = 0;
  const counted = new Set<string>();
  let tally = new Map<string, { action: string; weight: number }>();
  for (const { who, action } of events) {
    const stage = stages[index]!;
    const weight = weightIn(stage, who);
    if (weight === null || (!stage.allowRepeatApprovers && counted.has(who))) continue;
    if (action === "retract") {
      tally.delete(who);
      continue;
    }
    tally.set(who, { action, weight });
    const bar = stageBar(stage);
    let rejectWeight = 0;
    let forAction = 0;
    for (const vote of tally.values()) {
      if (KIND[vote.action] === "reject") rejectWeight += vote.weight;
      if (vote.action === action) forAction += vote.weight;
    }
    if (KIND[action] === "reject") {
      if (stage.reject === "veto" || rejectWeight * 2 > bar) return { status: "rejected", action, stage: stage.name };
      continue;
    }
    if (forAction < bar) continue;
    for (const person of tally.keys()) counted.add(person);
    tally = new Map();
    index += 1;
    if (index === stages.length) return { status: "approved", action, stage: stage.name };
  }
  return { status: "pending", stage: index };
}

function throughEngine(stages: Stage[], events: { who: string; action: string }[]): Result {
  const start = Date.parse("2026-11-24T10:00:00.000Z");
  let request: ApprovalRequest = makeRequest({ stages, votes: [], availableActions: ACTIONS, approvers: [] });
  events.forEach(({ who, action }, i) => {
    if (!hasStages(request)) return;
    const now = new Date(start + (i + 1) * 1000);
    const open = stages.find((stage) => stage.name === currentStage(request, now));
    const weight = open ? weightIn(open, who) : null;
    if (weight === null) return;
    const result =
      action === "retract"
        ? retractVote(request, who, now)
        : castVote(request, { login: who, action, justification: null, via: "comment", ...(open?.weights ? { weight } : {}) }, now);
    if (result.ok) request = result.request;
  });
  if (request.status === "pending") return { status: "pending", stage: stages.findIndex((stage) => stage.name === currentStage(request, new Date(start + 10_000_000))) };
  return { status: request.status as "approved" | "rejected", action: request.decision!.action, stage: request.decision!.stage! };
}

function currentStage(request: ApprovalRequest, now: Date): string | null {
  // The open stage, as the engine finds it before checking who may vote.
  const probe = castVote(request as ApprovalRequest & { stages: Stage[] }, { login: "\u0000probe", action: "approve", justification: null, via: "comment" }, now);
  if (!probe.ok && probe.reason === "not_pending") return null;
  const last = probe.ok ? probe.request.votes?.at(-1) : undefined;
  return last?.stage ?? null;
}

describe("aggregate: votes through stages against a plain reference", () => {
  it("ends (or leaves pending) every random vote sequence as the reference does", () => {
    fc.assert(
      fc.property(stagesArb, fc.array(eventArb, { maxLength: 25 }), (stages, events) => {
        expect(throughEngine(stages, events)).toEqual(reference(stages, events));
      }),
      { numRuns: 400 },
    );
  });

  it("never decides an approval with fewer standing votes than its stage's bar", () => {
    fc.assert(
      fc.property(stagesArb, fc.array(eventArb, { maxLength: 25 }), (stages, events) => {
        const start = Date.parse("2026-11-24T10:00:00.000Z");
        let request: ApprovalRequest = makeRequest({ stages, votes: [], availableActions: ACTIONS, approvers: [] });
        events.forEach(({ who, action }, i) => {
          if (!hasStages(request) || request.status !== "pending") return;
          const now = new Date(start + (i + 1) * 1000);
          const open = stages.find((stage) => stage.name === currentStage(request, now))!;
          const weight = weightIn(open, who);
          if (weight === null) return;
          const result = action === "retract" ? retractVote(request, who, now) : castVote(request, { login: who, action, justification: null, via: "comment", ...(open.weights ? { weight } : {}) }, now);
          if (result.ok) request = result.request;
        });
        if (request.status !== "approved") return;
        const decision = request.decision!;
        const stage = stages.find((candidate) => candidate.name === decision.stage)!;
        const forIt = decision.approvals!.filter((vote) => vote.stage === stage.name && vote.action === decision.action);
        const weight = forIt.reduce((sum, vote) => sum + (stage.weights ? (vote.weight ?? 0) : 1), 0);
        expect(weight).toBeGreaterThanOrEqual(stageBar(stage));
        expect(new Set(forIt.map((vote) => vote.by)).size).toBe(forIt.length);
      }),
      { numRuns: 300 },
    );
  });
});
