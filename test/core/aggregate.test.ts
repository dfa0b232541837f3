import { describe, expect, it } from "vitest";
import { aggregate, stagesAhead, type Stage, type Vote } from "../../src/core/aggregate.js";

const T0 = "2026-11-24T10:00:00.000Z";
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const vote = (by: string, action: string, minutes: number, stage: string): Vote => ({ by, action, at: at(minutes), stage, justification: null, via: "comment" });
const stage = (name: string, extra: Partial<Stage> = {}): Stage => ({ name, approvers: [], required: 1, reject: "veto", allowRepeatApprovers: false, ...extra });
const kindOf = (action: string) => (action === "reject" || action === "shelve" ? "reject" : ["approve", "ship"].includes(action) ? "approve" : null);
const run = (stages: Stage[], votes: Vote[], minutes: number, data: Record<string, unknown> = { amount: 1500 }) =>
  aggregate({ stages, votes, openedAt: T0, kindOf, facts: { decisionData: data, requestType: null, riskScore: null, confidence: null } }, new Date(at(minutes)));

const refunds: Stage[] = [
  stage("finance", { then: [{ when: { field: "amount", gt: 1000 }, next: "legal" }] }),
  stage("legal", { approvers: ["carol", "dave", "erin"], required: "majority" }),
];

describe("aggregate", () => {
  it("stays open until the quorum is met, counting each person once with their latest vote", () => {
    const stages = [stage("approval", { required: 2 })];
    expect(run(stages, [vote("ann", "approve", 1, "approval"), vote("ann", "approve", 2, "approval")], 3)).toMatchObject({ type: "open", index: 0 });
    expect(run(stages, [vote("ann", "approve", 1, "approval"), vote("ben", "approve", 2, "approval")], 3)).toMatchObject({ type: "decided", action: "approve", stage: "approval", at: at(2) });
  });

  it("multiple choice: the stage ends when one action reaches the rule, and that action is the decision", () => {
    const stages = [stage("approval", { required: 2 })];
    const votes = [vote("ann", "approve", 1, "approval"), vote("ben", "ship", 2, "approval"), vote("cat", "ship", 3, "approval")];
    expect(run(stages, votes, 4)).toMatchObject({ type: "decided", action: "ship", kind: "approve" });
  });

  it("follows a branch to the next stage when its condition holds, and ends at the stage when none does", () => {
    const finance = [vote("fay", "approve", 1, "finance")];
    const open = run(refunds, finance, 2);
    expect(open).toMatchObject({ type: "open", index: 1, openedAt: at(1), done: [{ stage: "finance", action: "approve", branch: 0 }] });
    expect(run(refunds, finance, 2, { amount: 200 })).toMatchObject({ type: "decided", action: "approve", stage: "finance" });
    const legal = [...finance, vote("carol", "approve", 2, "legal"), vote("dave", "approve", 3, "legal")];
    expect(run(refunds, legal, 4)).toMatchObject({ type: "decided", action: "approve", stage: "legal", done: [{ stage: "finance" }, { stage: "legal", why: "quorum" }] });
  });

  it("a branch may end the request with an action, seeing the chosen action as chosen_action", () => {
    const stages = [stage("triage", { then: [{ when: { field: "chosen_action", equals: "ship" }, action: "shelve" }] }), stage("later")];
    expect(run(stages, [vote("ann", "ship", 1, "triage")], 2)).toMatchObject({ type: "decided", action: "shelve", kind: "reject" });
    expect(run(stages, [vote("ann", "approve", 1, "triage")], 2)).toMatchObject({ type: "decided", action: "approve", stage: "triage" });
  });

  it("reject: majority needs rejections weighing more than half the bar; veto needs one", () => {
    const majority = [stage("approval", { required: 3, reject: "majority" })];
    expect(run(majority, [vote("ann", "reject", 1, "approval")], 2)).toMatchObject({ type: "open" });
    expect(run(majority, [vote("ann", "reject", 1, "approval"), vote("ben", "shelve", 2, "approval")], 3)).toMatchObject({ type: "decided", action: "shelve", kind: "reject" });
    expect(run([stage("approval", { required: 3 })], [vote("ann", "reject", 1, "approval")], 2)).toMatchObject({ type: "decided", action: "reject" });
  });

  it("a stage timeout proceeds with a partial approval, or hands over to the fallback", () => {
    const partial = [stage("approval", { required: 2, timeoutMs: 60 * 60_000, onTimeout: "proceed_if_partial" }), stage("next")];
    expect(run(partial, [vote("ann", "approve", 1, "approval")], 59)).toMatchObject({ type: "open", closesAt: at(60) });
    expect(run(partial, [vote("ann", "approve", 1, "approval")], 60)).toMatchObject({ type: "open", index: 1, openedAt: at(60), done: [{ why: "timeout_partial" }] });
    expect(run(partial, [], 60)).toMatchObject({ type: "timed_out", stage: "approval", at: at(60) });
    const fallback = [stage("approval", { required: 2, timeoutMs: 60 * 60_000 })];
    expect(run(fallback, [vote("ann", "approve", 1, "approval")], 61)).toMatchObject({ type: "timed_out", stage: "approval" });
  });

  it("says which stages may follow the open one", () => {
    expect(stagesAhead(refunds, 0)).toEqual(["legal"]);
    expect(stagesAhead([stage("a"), stage("b"), stage("c")], 0)).toEqual(["b", "c"]);
  });
});
