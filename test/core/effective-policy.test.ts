import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse-config.js";
import type { HitlConfig } from "../../src/config/schema.js";
import type { NewRequestInput } from "../../src/core/build-request.js";
import { effectivePolicy, repositoryApprovers, type EffectivePolicy, type PolicyViolation } from "../../src/core/effective-policy.js";
import { approverLists } from "../../src/core/schedule.js";
import { makeRequest } from "../support/fixtures.js";

const NOW = new Date("2026-11-24T10:00:00.000Z");
const HOUR = 3_600_000;
const inHours = (hours: number) => new Date(NOW.getTime() + hours * HOUR).toISOString();

function config(yaml: string): HitlConfig {
  const result = parseConfig(yaml, ".hitl.yml");
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const USERS = config(`
approvers: [alice, bob]
deadline: 48h
warning_before: 4h
escalation:
  - {after: 4h, approvers: [carol], notify: [oncall]}
  - {after: 1d, approvers: [dave]}
`);
const TEAMS = config(`approvers: [alice, "@octo-org/finance"]\n`);
const ALLOWING = config(`
approvers: [alice]
min_deadline: 2h
approving_fallbacks: {request_types: [docs-fix]}
rules:
  - {id: tiny, when: {field: amount, lt: 5}, action: approve}
`);

function input(overrides: Partial<NewRequestInput> = {}): NewRequestInput {
  return {
    repo: "octo-org/payments",
    taskDescription: "Refund order 1234",
    approvalReason: "Refunds need a person",
    decisionData: { amount: 120 },
    availableActions: [
      { id: "approve", label: "Refund" },
      { id: "reject", label: "Deny" },
      { id: "refund-half", label: "Half", kind: "approve" },
      { id: "close-ticket", label: "Close", kind: "reject" },
    ],
    priority: "normal",
    surface: { type: "issue" },
    ...overrides,
  };
}

function violations(cfg: HitlConfig | null, overrides: Partial<NewRequestInput>): PolicyViolation[] {
  const result = effectivePolicy(cfg, input(overrides), NOW);
  return result.ok ? [] : result.violations;
}

function policy(cfg: HitlConfig | null, overrides: Partial<NewRequestInput> = {}): EffectivePolicy {
  const result = effectivePolicy(cfg, input(overrides), NOW);
  if (!result.ok) throw new Error(JSON.stringify(result.violations));
  return result.policy;
}

describe("effectivePolicy: what the repository sets when the request says nothing", () => {
  it("takes approvers, deadline, fallback, ladder, warning and invalidation from .hitl.yml", () => {
    expect(policy(USERS, { surface: { type: "pull_request", number: 5 } })).toEqual({
      approvers: ["alice", "bob"],
      policyApprovers: ["alice", "bob", "carol", "dave"],
      deadline: inHours(48),
      fallback: { type: "abort", reason: "No decision before the deadline" },
      ladder: [
        { afterMs: 4 * HOUR, approvers: ["carol"], message: null, notify: ["oncall"] },
        { afterMs: 24 * HOUR, approvers: ["dave"], message: null, notify: [] },
      ],
      warningBeforeMs: 4 * HOUR,
      invalidateOnPush: true,
      maxDecisionAgeMs: null,
      verify: [],
    });
  });

  it("without a file: anyone with write access, 72h, abort, no ladder", () => {
    expect(policy(null)).toMatchObject({ approvers: [], policyApprovers: [], deadline: inHours(72), fallback: { type: "abort" }, ladder: [], warningBeforeMs: null, invalidateOnPush: false, verify: [] });
  });

  it("the repository's set names everyone the file lets decide, its own delegate approvers too", () => {
    expect(repositoryApprovers(config(`approvers: [alice]\nescalation_critical: [{after: 1h, approvers: [dave]}]\nfallback: {type: delegate, approvers: [erin]}\n`))).toEqual(["alice", "dave", "erin"]);
    expect(repositoryApprovers(config(`escalation: [{after: 1h, approvers: [dave]}]\n`))).toEqual([]);
  });
});

describe("effectivePolicy: approvers may only narrow", () => {
  it.each<[string, HitlConfig | null, string[], PolicyViolation[]]>([
    ["a listed user", USERS, ["bob"], []],
    ["a ladder's user, case and @ aside", USERS, ["@Carol"], []],
    ["a listed team", TEAMS, ["@octo-org/finance"], []],
    ["a user the file does not list, when it lists only users", USERS, ["alice", "mallory"], [{ path: "approvers.1", message: "mallory is not one of the approvers .hitl.yml allows: alice, bob, carol, dave" }]],
    ["a team the file does not list", TEAMS, ["@octo-org/everyone"], [{ path: "approvers.0", message: "@octo-org/everyone is not one of the approvers .hitl.yml allows: alice, @octo-org/finance" }]],
    ["an empty list while the file lists approvers", USERS, [], [{ path: "approvers", message: "must name some of the approvers .hitl.yml allows (alice, bob, carol, dave), or be left out: an empty list would let anyone with write access decide" }]],
    ["an empty list without a file", null, [], []],
  ])("%s", (_, cfg, approvers, expected) => {
    expect(violations(cfg, { approvers })).toEqual(expected);
  });

  it("users only GitHub can place are handed back to verify: write access without approvers, membership with teams", () => {
    expect(policy(null, { approvers: ["Alice", "@octo-org/anyone"] })).toMatchObject({ approvers: ["Alice", "@octo-org/anyone"], policyApprovers: [], verify: [{ path: "approvers.0", login: "alice" }] });
    expect(policy(TEAMS, { approvers: ["alice", "carol"] })).toMatchObject({ approvers: ["alice", "carol"], verify: [{ path: "approvers.1", login: "carol" }] });
  });

  it("each user is verified once, under the field that named them first", () => {
    const result = policy(null, { approvers: ["dave"], escalation: [{ after: "1h", approvers: ["dave", "erin"] }], fallback: { type: "delegate", approvers: ["erin", "frank"] } });
    expect(result.verify).toEqual([
      { path: "approvers.0", login: "dave" },
      { path: "escalation.0.approvers.1", login: "erin" },
      { path: "fallback_action.approvers.1", login: "frank" },
    ]);
  });

  it("the same narrowing holds for the ladder and a delegate fallback", () => {
    expect(violations(USERS, { escalation: [{ after: "1h", approvers: ["mallory"] }, { after: "2h", approvers: ["alice"] }], fallback: { type: "delegate", approvers: ["trudy"] } })).toEqual([
      { path: "escalation.0.approvers.0", message: "mallory is not one of the approvers .hitl.yml allows: alice, bob, carol, dave" },
      { path: "fallback_action.approvers.0", message: "trudy is not one of the approvers .hitl.yml allows: alice, bob, carol, dave" },
    ]);
  });
});

describe("effectivePolicy: fallbacks that approve", () => {
  it.each<[string, HitlConfig | null, Partial<NewRequestInput>, PolicyViolation[]]>([
    ["use_default approve, not allowed", USERS, { fallback: { type: "use_default", action: "approve" } }, [{ path: "fallback_action.action", message: "use_default with approve would approve without a person; .hitl.yml does not allow that for a request's own fallback (approving_fallbacks)" }]],
    ["use_default of a custom action of kind approve", null, { fallback: { type: "use_default", action: "refund-half" } }, [{ path: "fallback_action.action", message: "use_default with refund-half would approve without a person; .hitl.yml does not allow that for a request's own fallback (approving_fallbacks)" }]],
    ["delegate to a rule", USERS, { fallback: { type: "delegate", rule: "tiny" } }, [{ path: "fallback_action.rule", message: "delegate to rule tiny would approve without a person; .hitl.yml does not allow that for a request's own fallback (approving_fallbacks)" }]],
    ["a request type approving_fallbacks does not list", ALLOWING, { requestType: "refund", deadline: inHours(3), fallback: { type: "use_default", action: "approve" } }, [{ path: "fallback_action.action", message: "use_default with approve would approve without a person; .hitl.yml's approving_fallbacks allows that only for request types docs-fix" }]],
    ["a listed request type", ALLOWING, { requestType: "docs-fix", deadline: inHours(3), fallback: { type: "use_default", action: "approve" } }, []],
    ["use_default reject", USERS, { fallback: { type: "use_default", action: "reject" } }, []],
    ["use_default of a custom action of kind reject", USERS, { fallback: { type: "use_default", action: "close-ticket" } }, []],
    ["use_default of an action the request does not offer", USERS, { fallback: { type: "use_default", action: "refund-all" } }, [{ path: "fallback_action.action", message: "must be approve, reject or one of available_actions (approve, reject, refund-half, close-ticket)" }]],
    ["abort, degrade, retry", USERS, { fallback: { type: "degrade", mode: "read-only" } }, []],
  ])("%s", (_, cfg, overrides, expected) => {
    expect(violations(cfg, overrides)).toEqual(expected);
  });

  it('"*" allows every request, with a type or without', () => {
    const star = config(`approving_fallbacks: {request_types: ["*"]}\n`);
    expect(policy(star, { fallback: { type: "use_default", action: "approve" } }).fallback).toEqual({ type: "use_default", action: "approve" });
  });

  it("the repository's own fallback is the owners' choice, approving or not", () => {
    const own = config(`fallback: {type: use_default, action: approve}\n`);
    expect(policy(own).fallback).toEqual({ type: "use_default", action: "approve" });
  });
});

describe("effectivePolicy: the deadline", () => {
  const approving = config(`fallback: {type: use_default, action: approve}\nmin_deadline: 2h\n`);

  it.each<[string, HitlConfig | null, Partial<NewRequestInput>, PolicyViolation[]]>([
    ["in the past", null, { deadline: inHours(-1) }, [{ path: "deadline", message: "must be in the future" }]],
    ["short, with a fallback that does not approve", null, { deadline: inHours(0.1) }, []],
    ["short, with the repository's approving fallback", approving, { deadline: inHours(1) }, [{ path: "deadline", message: "must be at least 2h from now (.hitl.yml's min_deadline), because the fallback approves at the deadline" }]],
    ["short, with the request's allowed approving fallback (min_deadline 1h by default)", config(`approving_fallbacks: {request_types: [refund]}\n`), { requestType: "refund", deadline: inHours(0.5), fallback: { type: "use_default", action: "approve" } }, [{ path: "deadline", message: "must be at least 1h from now (.hitl.yml's min_deadline), because the fallback approves at the deadline" }]],
    ["exactly min_deadline away", approving, { deadline: inHours(2) }, []],
  ])("%s", (_, cfg, overrides, expected) => {
    expect(violations(cfg, overrides)).toEqual(expected);
  });

  it("the request's own deadline, when it holds, is the deadline", () => {
    expect(policy(approving, { deadline: inHours(5) }).deadline).toBe(inHours(5));
  });
});

describe("effectivePolicy: the ladder and the warning may not come later", () => {
  it.each<[string, Partial<NewRequestInput>, PolicyViolation[]]>([
    ["a sooner ladder of allowed people", { escalation: [{ after: "2h", approvers: ["bob"] }, { after: "1d", approvers: ["carol"] }, { after: "2d", approvers: ["alice"] }] }, []],
    ["a level later than the file's", { escalation: [{ after: "5h", approvers: ["bob"] }, { after: "1d", approvers: ["carol"] }] }, [{ path: "escalation.0.after", message: "must be at most 4h, when level 1 of .hitl.yml's ladder takes over" }]],
    ["fewer levels than the file's", { escalation: [{ after: "1h", approvers: ["bob"] }] }, [{ path: "escalation", message: ".hitl.yml's ladder has 2 levels; a request's ladder may replace it only with as many or more, each taking over no later" }]],
    ["an earlier warning", { warningBefore: "8h" }, []],
    ["a later warning", { warningBefore: "1h" }, [{ path: "warning_before", message: "must be at least 4h, .hitl.yml's warning_before" }]],
  ])("%s", (_, overrides, expected) => {
    expect(violations(USERS, overrides)).toEqual(expected);
  });

  it("a request's ladder keeps the channels of the file's level at its place", () => {
    const { ladder } = policy(USERS, { escalation: [{ after: "1h", approvers: ["bob"], message: "please" }, { after: "2h", approvers: ["alice"] }, { after: "3h", approvers: ["carol"] }] });
    expect(ladder).toEqual([
      { afterMs: HOUR, approvers: ["bob"], message: "please", notify: ["oncall"] },
      { afterMs: 2 * HOUR, approvers: ["alice"], message: null, notify: [] },
      { afterMs: 3 * HOUR, approvers: ["carol"], message: null, notify: [] },
    ]);
  });

  it("a warning where the file has none is taken", () => {
    expect(policy(null, { warningBefore: "1h" }).warningBeforeMs).toBe(HOUR);
  });
});

describe("effectivePolicy: max_decision_age may only be shorter", () => {
  const AGED = config("max_decision_age: 1d\n");
  it.each<[string, HitlConfig | null, Partial<NewRequestInput>, number | null | PolicyViolation[]]>([
    ["the file's when the request says nothing", AGED, {}, 24 * HOUR],
    ["none when neither sets one", null, {}, null],
    ["the request's where the file has none", null, { maxDecisionAge: "2h" }, 2 * HOUR],
    ["a shorter one from the request", AGED, { maxDecisionAge: "2h" }, 2 * HOUR],
    ["the file's own length", AGED, { maxDecisionAge: "24h" }, 24 * HOUR],
    ["a longer one from the request", AGED, { maxDecisionAge: "2d" }, [{ path: "max_decision_age", message: "must be at most 1d, .hitl.yml's max_decision_age" }]],
  ])("%s", (_, cfg, overrides, expected) => {
    if (Array.isArray(expected)) expect(violations(cfg, overrides)).toEqual(expected);
    else expect(policy(cfg, overrides).maxDecisionAgeMs).toBe(expected);
  });
});

describe("effectivePolicy: invalidate_on_push", () => {
  const pull = { surface: { type: "pull_request" as const, number: 5 } };
  it.each<[string, HitlConfig | null, Partial<NewRequestInput>, boolean | PolicyViolation[]]>([
    ["off on a pull request while the file has it on", null, { ...pull, invalidateOnPush: false }, [{ path: "invalidate_on_push", message: ".hitl.yml has invalidate_on_push: true; a request may switch it on, not off" }]],
    ["on while the file has it off", config("invalidate_on_push: false\n"), { ...pull, invalidateOnPush: true }, true],
    ["off while the file has it off", config("invalidate_on_push: false\n"), { ...pull, invalidateOnPush: false }, false],
    ["left out on a pull request", null, pull, true],
    ["off on an issue, where pushes do not matter", null, { invalidateOnPush: false }, false],
  ])("%s", (_, cfg, overrides, expected) => {
    const result = effectivePolicy(cfg, input(overrides), NOW);
    expect(result.ok ? result.policy.invalidateOnPush : result.violations).toEqual(expected);
  });
});

describe("effectivePolicy: every violation at once", () => {
  it("names each field", () => {
    const paths = violations(USERS, {
      approvers: ["mallory"],
      deadline: inHours(-1),
      fallback: { type: "use_default", action: "approve" },
      warningBefore: "1m",
      surface: { type: "pull_request", number: 5 },
      invalidateOnPush: false,
    }).map((violation) => violation.path);
    expect(paths).toEqual(["approvers.0", "fallback_action.action", "deadline", "warning_before", "invalidate_on_push"]);
  });

  it("at most 50 people are looked up on GitHub for one request", () => {
    const many = Array.from({ length: 51 }, (_, i) => `user${i}`);
    expect(violations(null, { approvers: many.slice(0, 50), escalation: [{ after: "1h", approvers: many.slice(50) }] })).toEqual([
      { path: "approvers", message: "names 51 people GitHub must be asked about (across approvers, escalation and fallback_action); at most 50" },
    ]);
  });
});

describe("approverLists: a person must be in the request's set and the repository's", () => {
  it.each<[string, Partial<Parameters<typeof makeRequest>[0]>, string[][]]>([
    ["a request stored before the repository's set was kept: its own only", { approvers: ["alice"] }, [["alice"]]],
    ["the request's set listed in the repository's by name: one check", { approvers: ["alice"], policyApprovers: ["alice", "bob"] }, [["alice"]]],
    ["a team narrowing write access: both", { approvers: ["@octo-org/finance"], policyApprovers: [] }, [["@octo-org/finance"], []]],
    ["a user outside the repository's teams: both", { approvers: ["carol"], policyApprovers: ["@octo-org/finance"] }, [["carol"], ["@octo-org/finance"]]],
    ["write access on both sides: one check", { approvers: [], policyApprovers: [] }, [[]]],
  ])("%s", (_, overrides, expected) => {
    expect(approverLists(makeRequest(overrides))).toEqual(expected);
  });
});
