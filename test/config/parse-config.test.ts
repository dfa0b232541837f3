import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  formatConfigErrors,
  loadConfigYaml,
  mergeConfigs,
  parseConfig,
  parseConfigLayers,
  type ConfigError,
} from "../../src/config/parse-config.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/config/${name}`, import.meta.url), "utf8");

const DEFAULTS = {
  approvers: [],
  deadline: "72h",
  fallback: { type: "abort", reason: "No decision before the deadline" },
  escalation: [],
  invalidate_on_push: true,
  min_deadline: "1h",
  rules: [],
};

const TOP_LEVEL_KEYS = [
  "_extends",
  "approvers",
  "agents",
  "deadline",
  "warning_before",
  "fallback",
  "escalation",
  "escalation_critical",
  "invalidate_on_push",
  "max_decision_age",
  "min_deadline",
  "approving_fallbacks",
  "close_means",
  "rules",
  "auto_approve",
  "feedback",
  "requirements",
  "environments",
  "people",
  "notify",
  "retention",
  "batch",
  "sensitive",
  "context",
  "predict",
];
const CONDITION_KEYS = ["all", "any", "not", "field", "lt", "gt", "lte", "gte", "equals", "contains", "risk_score", "confidence", "task_type", "time_window"];
const DURATION_MESSAGE = "expected a duration such as 30s, 15m, 4h, 2d or 1w";

function errorsOf(text: string, file = ".hitl.yml"): ConfigError[] {
  const result = parseConfig(text, file);
  if (result.ok) throw new Error(`expected errors, got ${JSON.stringify(result.config)}`);
  return result.errors;
}

describe("parseConfig on valid files", () => {
  it.each([
    ["empty.yml", fixture("empty.yml")],
    ["an empty string", ""],
    ["only whitespace", "  \n\n"],
    ["an explicit null document", "~\n"],
    ["a bare document marker", "---\n"],
  ])("%s is the default configuration", (_name, text) => {
    expect(parseConfig(text, ".hitl.yml")).toEqual({ ok: true, config: DEFAULTS });
  });

  it("valid-minimal.yml fills in every default", () => {
    expect(parseConfig(fixture("valid-minimal.yml"), ".hitl.yml")).toEqual({ ok: true, config: { ...DEFAULTS, approvers: ["alice"] } });
  });

  it("valid-full.yml reads every key as written", () => {
    expect(parseConfig(fixture("valid-full.yml"), ".hitl.yml")).toEqual({
      ok: true,
      config: {
        _extends: "octo-org/.github:policies/hitl.yml",
        approvers: ["alice", "@octo-org/finance"],
        agents: ["refund-agent", "deploy-agent"],
        deadline: "48h",
        warning_before: "4h",
        fallback: { type: "use_default", action: "reject", reason: "Nobody answered in two days" },
        escalation: [
          { after: "4h", approvers: ["bob"], message: "Still waiting on a refund decision", notify: ["slack"] },
          { after: "1d", approvers: ["@octo-org/leads"] },
        ],
        escalation_critical: [{ after: "30m", approvers: ["carol"], notify: ["slack", "sms"] }],
        invalidate_on_push: false,
        min_deadline: "2h",
        approving_fallbacks: { request_types: ["refund"] },
        rules: [
          {
            id: "small-refunds",
            description: "Refunds under $50 for low-risk requests",
            created_by: "alice",
            when: { all: [{ field: "amount", lt: 50 }, { task_type: ["refund"] }, { risk_score: { max: 0.3 } }] },
            action: "approve",
            valid_until: "2027-01-01",
            max_uses: 100,
          },
          {
            id: "gold-customers",
            when: { any: [{ field: "customer.tier", equals: "gold" }, { field: "tags", contains: "vip" }] },
            action: { choose: "priority-refund" },
          },
          {
            id: "no-weekend-deploys",
            when: {
              all: [
                { task_type: ["deploy"] },
                { not: { time_window: { start: "09:00", end: "17:00", timezone: "Europe/Berlin", weekdays: ["mon", "tue", "wed", "thu", "fri"] } } },
              ],
            },
            action: "reject",
            valid_until: "2027-06-30T18:00:00+02:00",
          },
          {
            id: "confident-small-changes",
            when: { all: [{ confidence: { min: 0.8 } }, { field: "lines_changed", gte: 1, lte: 20 }] },
            action: "approve",
          },
        ],
        auto_approve: { confidence_above: 0.95, risk_below: 0.1, require_human_above_risk: 0.7 },
      },
    });
  });

  it.each([
    ["a time window with only weekdays", "rules:\n  - id: w\n    when: {time_window: {weekdays: [sat, sun]}}\n    action: reject\n"],
    ["a window crossing midnight", "rules:\n  - id: n\n    when: {time_window: {start: '22:00', end: '06:00'}}\n    action: reject\n"],
    ["require_human_above_risk alone", "auto_approve: {require_human_above_risk: 0.5}\n"],
    ["every fallback type", "fallback: {type: delegate, approvers: ['@octo-org/leads'], extend_by: 1d}\n"],
    ["retry_with_modification", "fallback: {type: retry_with_modification, modifications: {amount: 49}}\n"],
    ["equals null", "rules:\n  - id: e\n    when: {field: coupon, equals: null}\n    action: approve\n"],
    ["a login written with @", "approvers: ['@alice']\n"],
    ["_extends with a repo only", "_extends: .github\n"],
  ])("accepts %s", (_name, text) => {
    expect(parseConfig(text, ".hitl.yml").ok).toBe(true);
  });
});

describe("parseConfig on invalid files", () => {
  const cases: { name: string; errors: ConfigError[] }[] = [
    {
      name: "invalid-unknown-key.yml",
      errors: [
        {
          file: ".hitl.yml",
          line: 1,
          column: 1,
          path: "aprovers",
          message: `unknown key 'aprovers' — allowed keys: ${TOP_LEVEL_KEYS.join(", ")}`,
          allowed: TOP_LEVEL_KEYS,
        },
        {
          file: ".hitl.yml",
          line: 6,
          column: 3,
          path: "auto_approve.require_human_above",
          message: "unknown key 'require_human_above' — allowed keys: confidence_above, risk_below, require_human_above_risk",
          allowed: ["confidence_above", "risk_below", "require_human_above_risk"],
        },
      ],
    },
    {
      name: "invalid-bad-duration.yml",
      errors: [
        { file: ".hitl.yml", line: 1, column: 11, path: "deadline", message: DURATION_MESSAGE },
        { file: ".hitl.yml", line: 3, column: 12, path: "escalation.0.after", message: DURATION_MESSAGE },
      ],
    },
    {
      name: "invalid-enum.yml",
      errors: [
        {
          file: ".hitl.yml",
          line: 2,
          column: 9,
          path: "fallback.type",
          message: "'give_up' is not allowed",
          allowed: ["abort", "use_default", "degrade", "delegate", "retry_with_modification"],
        },
        {
          file: ".hitl.yml",
          line: 7,
          column: 62,
          path: "rules.0.when.time_window.weekdays.0",
          message: "'monday' is not allowed",
          allowed: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        },
        {
          file: ".hitl.yml",
          line: 8,
          column: 13,
          path: "rules.0.action",
          message: "expected approve, reject or {choose: <action id>}, got 'aprove'",
          allowed: ["approve", "reject"],
        },
      ],
    },
    {
      name: "invalid-duplicate-rule-id.yml",
      errors: [{ file: ".hitl.yml", line: 8, column: 9, path: "rules.2.id", message: "duplicate rule id 'small-refunds', first used by rules.0" }],
    },
    {
      name: "malformed.yml",
      errors: [{ file: ".hitl.yml", line: 2, column: 1, path: "", message: "deficient indentation" }],
    },
    {
      name: "invalid-not-a-mapping.yml",
      errors: [{ file: ".hitl.yml", line: 1, column: 1, path: "", message: "expected a mapping, got a list" }],
    },
    {
      name: "invalid-condition.yml",
      errors: [
        { file: ".hitl.yml", line: 3, column: 11, path: "rules.0.when", message: "field needs an operator: lt, gt, lte, gte, equals, contains" },
        {
          file: ".hitl.yml",
          line: 3,
          column: 27,
          path: "rules.0.when.less_than",
          message: `unknown key 'less_than' — allowed keys: ${CONDITION_KEYS.join(", ")}`,
          allowed: CONDITION_KEYS,
        },
        {
          file: ".hitl.yml",
          line: 6,
          column: 11,
          path: "rules.1.when",
          message: "a condition has one of all, any, not, field, risk_score, confidence, task_type, time_window; found field and task_type (wrap them in all or any)",
        },
        { file: ".hitl.yml", line: 11, column: 31, path: "rules.2.when.all.0.lt", message: "expected a number, got 'fifty'" },
        {
          file: ".hitl.yml",
          line: 15,
          column: 61,
          path: "rules.3.when.time_window.timezone",
          message: "expected an IANA time zone such as Europe/Berlin or UTC",
        },
        { file: ".hitl.yml", line: 17, column: 5, path: "rules.4.action", message: "required", allowed: ["approve", "reject"] },
      ],
    },
    {
      name: "invalid-values.yml",
      errors: [
        { file: ".hitl.yml", line: 1, column: 20, path: "approvers.1", message: "expected a GitHub login (alice) or a team (@org/team-slug)" },
        { file: ".hitl.yml", line: 2, column: 17, path: "warning_before", message: "warning_before must be shorter than the deadline (72h)" },
        { file: ".hitl.yml", line: 3, column: 15, path: "auto_approve.risk_below", message: "confidence_above and risk_below go together" },
        { file: ".hitl.yml", line: 3, column: 34, path: "auto_approve.confidence_above", message: "must be at most 1" },
        { file: ".hitl.yml", line: 7, column: 12, path: "escalation.1.after", message: "after must be later than the previous level's 1d" },
        { file: ".hitl.yml", line: 8, column: 16, path: "escalation.1.approvers", message: "needs at least 1 item" },
        {
          file: ".hitl.yml",
          line: 13,
          column: 18,
          path: "rules.0.valid_until",
          message: "expected a date (2027-01-01) or a date-time with zone (2027-01-01T18:00:00Z)",
        },
        { file: ".hitl.yml", line: 14, column: 15, path: "rules.0.max_uses", message: "must be above 0" },
      ],
    },
  ];

  it.each(cases)("$name", ({ name, errors }) => {
    expect(errorsOf(fixture(name))).toEqual(errors);
  });

  it.each([
    ["two documents", "a: 1\n---\nb: 2\n", { line: 1, column: 1, path: "", message: "expected one YAML document, found 2" }],
    ["a duplicated key", "deadline: 4h\ndeadline: 8h\n", { line: 2, column: 1, path: "", message: "duplicated mapping key" }],
    ["an unknown alias", "approvers: *team\n", { line: 1, column: 13, path: "", message: 'unidentified alias "team"' }],
    ["a merge key, which the core schema does not enable", "<<: {deadline: 4h}\n", { line: 1, column: 1, path: "<<" }],
    ["an empty value, reported at its key", "rules:\n  - id: a\n    when:\n    action: approve\n", { line: 3, column: 5, path: "rules.0.when", message: "expected a mapping, got null" }],
    ["a quoted value, reported at its opening quote", 'deadline: "3 days"\n', { line: 1, column: 11, path: "deadline", message: DURATION_MESSAGE }],
    ["a missing key, reported at its parent", "fallback:\n  type: degrade\n", { line: 2, column: 3, path: "fallback.mode", message: "required" }],
    ["a number where a list belongs", "approvers: 5\n", { line: 1, column: 12, path: "approvers", message: "expected a list, got number 5" }],
    ["a missing fallback type", "fallback: {reason: x}\n", { line: 1, column: 11, path: "fallback.type", message: "required" }],
    ["an impossible date", "rules:\n  - id: a\n    when: {task_type: [x]}\n    action: approve\n    valid_until: 2026-13-01\n", { line: 5, column: 18, path: "rules.0.valid_until" }],
    ["a choose without an id", "rules:\n  - id: a\n    when: {task_type: [x]}\n    action: {choose: ''}\n", { line: 4, column: 22, path: "rules.0.action.choose", message: "must not be empty" }],
    ["a team without @", "approvers: [octo-org/finance]\n", { line: 1, column: 13, path: "approvers.0" }],
    ...["@octo-org/..", "@octo-org/.", "@/x", "@octo-org//x", "@octo-org/fin.ance", "@octo-org/-x", "@octo-org/"].map(
      (team): [string, string, Record<string, unknown>] => [
        `the malformed team ${team}`,
        `approvers:\n  - alice\n  - "${team}"\n`,
        { line: 3, column: 5, path: "approvers.1", message: "expected a GitHub login (alice) or a team (@org/team-slug)" },
      ],
    ),
    ["a malformed team in an escalation level", "escalation:\n  - after: 4h\n    approvers: ['@octo-org/..']\n", { line: 3, column: 17, path: "escalation.0.approvers.0" }],
    ["a retention in words", "retention:\n  context: 90d\n  audit: 7 years\n", { line: 3, column: 10, path: "retention.audit", message: "expected a number and h, d, w or y, like 90d or 7y" }],
    ["an unknown retention key", "retention: {requests: 90d}\n", { line: 1, column: 13, path: "retention.requests" }],
    ["a batch grouped by something else", "batch:\n  by: agent\n", { line: 2, column: 7, path: "batch.by", message: "'agent' is not allowed", allowed: ["request_type", "approver", "priority"] }],
    ["a batch too large", "batch: {by: priority, max_size: 500}\n", { line: 1, column: 33, path: "batch.max_size" }],
    ["a batch waiting too long", "batch:\n  by: priority\n  max_wait: 2h\n", { line: 3, column: 13, path: "batch.max_wait", message: "expected a duration from 10s to 1h" }],
    ["a batch including something unknown", "batch: {by: priority, include: [everything]}\n", { line: 1, column: 33, path: "batch.include.0" }],
    ["a bad _extends", "_extends: 'a b'\n", { line: 1, column: 11, path: "_extends", message: "expected repo, owner/repo or owner/repo:path" }],
    ["bounds with neither min nor max", "rules:\n  - id: a\n    when: {risk_score: {}}\n    action: approve\n", { line: 3, column: 24, path: "rules.0.when.risk_score", message: "give min, max or both" }],
    ["start without end", "rules:\n  - id: a\n    when: {time_window: {start: '09:00'}}\n    action: approve\n", { path: "rules.0.when.time_window.end", message: "give start and end together" }],
    ["start equal to end", "rules:\n  - id: a\n    when: {time_window: {start: '09:00', end: '09:00'}}\n    action: approve\n", { path: "rules.0.when.time_window.end", message: "start and end must differ; leave both out for the whole day" }],
    ["an empty all", "rules:\n  - id: a\n    when: {all: []}\n    action: approve\n", { path: "rules.0.when.all", message: "needs at least 1 item" }],
    ["an operator without a field", "rules:\n  - id: a\n    when: {lt: 5}\n    action: approve\n", { path: "rules.0.when", message: "lt needs a field" }],
    ["an empty condition", "rules:\n  - id: a\n    when: {}\n    action: approve\n", { path: "rules.0.when", message: "a condition needs one of all, any, not, field, risk_score, confidence, task_type, time_window" }],
    ["equals with a mapping", "rules:\n  - id: a\n    when: {field: x, equals: {a: 1}}\n    action: approve\n", { path: "rules.0.when.equals", message: "expected a string, a number, a boolean or null, got a mapping" }],
  ])("reports %s", (_name, text, expected) => {
    const errors = errorsOf(text);
    expect(errors[0]).toMatchObject({ file: ".hitl.yml", ...expected });
  });

  it("reports a duplicate id even when another rule is broken, errors in file order", () => {
    const text = "rules:\n  - {id: a, when: {task_type: [x]}, action: approve}\n  - {id: a, when: {task_type: [x]}, action: nope}\n";
    expect(errorsOf(text).map((error) => `${error.line}:${error.column} ${error.path}`)).toEqual(["3:10 rules.1.id", "3:45 rules.1.action"]);
  });

  it("never throws on input js-yaml cannot even tokenise", () => {
    for (const text of ["\t- x", "{", "]", "a: 'unterminated", "? ? ?", "\u0000", "&a [*a]", "!!binary xyz"]) {
      expect(() => parseConfig(text, ".hitl.yml")).not.toThrow();
    }
  });
});

describe("feedback in .hitl.yml", () => {
  it("is read, and bad values are located with what is allowed", () => {
    expect(parseConfig("feedback:\n  require_justification: {min_length: 10}\n  reasons: [too_high, fraud]\n", ".hitl.yml")).toMatchObject({
      ok: true,
      config: { feedback: { require_justification: { min_length: 10 }, reasons: ["too_high", "fraud"] } },
    });
    expect(errorsOf("feedback:\n  require_justification: yes please\n  reasons: [Too High]\n  reason: []\n")).toEqual([
      { file: ".hitl.yml", line: 2, column: 26, path: "feedback.require_justification", message: "expected a boolean or a mapping, got 'yes please'" },
      { file: ".hitl.yml", line: 3, column: 13, path: "feedback.reasons.0", message: "expected 1-40 lowercase letters, digits, '-' or '_'" },
      { file: ".hitl.yml", line: 4, column: 3, path: "feedback.reason", message: "unknown key 'reason' — allowed keys: require_justification, reasons", allowed: ["require_justification", "reasons"] },
    ]);
  });
});

describe("context in .hitl.yml", () => {
  it("is read, and bad values are located with what is allowed", () => {
    expect(parseConfig("context:\n  show: [amount, customer.name]\n  hide: [customer.email]\n", ".hitl.yml")).toMatchObject({
      ok: true,
      config: { context: { show: ["amount", "customer.name"], hide: ["customer.email"] } },
    });
    expect(errorsOf("context:\n  show: [amount, two words]\n  hidden: [notes]\n")).toEqual([
      { file: ".hitl.yml", line: 2, column: 18, path: "context.show.1", message: "must be a key of decision_data, or a dotted path into it (customer.email)" },
      { file: ".hitl.yml", line: 3, column: 3, path: "context.hidden", message: "unknown key 'hidden' — allowed keys: show, hide", allowed: ["show", "hide"] },
    ]);
  });
});

describe("requirements with editable_fields and feedback", () => {
  it("a requirement may carry only feedback, or only editable_fields", () => {
    const result = parseConfig(
      "requirements:\n  - name: refunds\n    feedback: {require_justification: {min_length: 20}, reasons: [too_high]}\n  - name: edits\n    editable_fields:\n      amount: {type: number, minimum: 0, maximum: 500}\n      currency: {type: string, enum: [EUR, USD], max_length: 3}\n      urgent: {type: boolean}\n",
      ".hitl.yml",
    );
    expect(result).toMatchObject({
      ok: true,
      config: {
        requirements: [
          { name: "refunds", feedback: { require_justification: { min_length: 20 }, reasons: ["too_high"] } },
          { name: "edits", editable_fields: { amount: { type: "number", minimum: 0, maximum: 500 }, currency: { type: "string", enum: ["EUR", "USD"], max_length: 3 }, urgent: { type: "boolean" } } },
        ],
      },
    });
  });

  it("a requirement asking nothing, or both a quorum and stages, or bad fields, is refused at its line", () => {
    expect(
      errorsOf(
        "requirements:\n  - name: empty\n    when: {field: amount, gt: 5}\n  - name: both\n    required_approvals: 2\n    stages: [{name: legal}]\n  - name: fields\n    editable_fields:\n      amount: {type: number, minimum: 9, maximum: 1}\n      note: {type: text}\n    feedback: {reasons: [Too High]}\n",
      ),
    ).toEqual([
      { file: ".hitl.yml", line: 2, column: 5, path: "requirements.0", message: "a requirement needs at least one of required_approvals, stages, editable_fields and feedback" },
      { file: ".hitl.yml", line: 6, column: 13, path: "requirements.1.stages", message: "give required_approvals or stages, not both" },
      { file: ".hitl.yml", line: 10, column: 20, path: "requirements.2.editable_fields.note.type", message: "'text' is not allowed", allowed: ["number", "string", "boolean"] },
      { file: ".hitl.yml", line: 11, column: 26, path: "requirements.2.feedback.reasons.0", message: "expected 1-40 lowercase letters, digits, '-' or '_'" },
    ]);
    expect(errorsOf("requirements:\n  - name: fields\n    editable_fields:\n      amount: {type: number, minimum: 9, maximum: 1}\n")).toEqual([
      { file: ".hitl.yml", line: 4, column: 39, path: "requirements.0.editable_fields.amount.minimum", message: "must not be above maximum" },
    ]);
  });
});

describe("predict", () => {
  it("reads an entry with its defaults", () => {
    const result = parseConfig("predict:\n  - {request_type: refund, fields: [amount, currency]}\n", ".hitl.yml");
    expect(result.ok && result.config.predict).toEqual([{ request_type: "refund", fields: ["amount", "currency"], mode: "suggest", min_history: 10, min_agreement: 0.9 }]);
  });

  it("refuses bad limits, modes and fields at their lines, with what is allowed", () => {
    expect(
      errorsOf(
        "predict:\n  - request_type: refund\n    fields: [amount, amount]\n    mode: always\n    min_history: 2\n    min_agreement: 0.5\n  - request_type: refund\n    fields: [a, b, c, d, e, f, g, h, i, j, k]\n    min_history: 30\n    neighbours: 20\n  - {request_type: '*', fields: []}\n",
      ),
    ).toEqual([
      { file: ".hitl.yml", line: 3, column: 13, path: "predict.0.fields", message: "each field once" },
      { file: ".hitl.yml", line: 4, column: 11, path: "predict.0.mode", message: "'always' is not allowed", allowed: ["suggest", "auto"] },
      { file: ".hitl.yml", line: 5, column: 18, path: "predict.0.min_history", message: "must be at least 5" },
      { file: ".hitl.yml", line: 6, column: 20, path: "predict.0.min_agreement", message: "must be above 0.5: a prediction follows a majority" },
      { file: ".hitl.yml", line: 8, column: 13, path: "predict.1.fields", message: "needs at most 10 items" },
      { file: ".hitl.yml", line: 11, column: 20, path: "predict.2.request_type", message: "name one request type; predictions learn from one type's decisions" },
      { file: ".hitl.yml", line: 11, column: 33, path: "predict.2.fields", message: "needs at least 1 item" },
    ]);
    expect(errorsOf("predict:\n  - request_type: refund\n    fields: [amount]\n    min_history: 30\n    neighbours: 20\n")).toEqual([
      { file: ".hitl.yml", line: 5, column: 17, path: "predict.0.neighbours", message: "must be at least min_history (30)" },
    ]);
    expect(errorsOf("predict:\n  - {request_type: refund, fields: [amount]}\n  - {request_type: refund, fields: [currency]}\n")).toEqual([
      { file: ".hitl.yml", line: 2, column: 3, path: "predict", message: "one entry per request_type" },
    ]);
  });
});

describe("formatConfigErrors", () => {
  it("prints one line per error with file, line, column and path, and lists allowed values once", () => {
    expect(formatConfigErrors(errorsOf(fixture("invalid-enum.yml")))).toBe(
      [
        ".hitl.yml:2:9 fallback.type: 'give_up' is not allowed. Allowed values: abort, use_default, degrade, delegate, retry_with_modification",
        ".hitl.yml:7:62 rules.0.when.time_window.weekdays.0: 'monday' is not allowed. Allowed values: mon, tue, wed, thu, fri, sat, sun",
        ".hitl.yml:8:13 rules.0.action: expected approve, reject or {choose: <action id>}, got 'aprove'",
      ].join("\n"),
    );
  });

  it("does not repeat allowed keys already in the message, and omits an empty path", () => {
    expect(
      formatConfigErrors([
        { file: ".hitl.yml", line: 1, column: 1, path: "aprovers", message: "unknown key 'aprovers' — allowed keys: approvers, agents", allowed: ["approvers", "agents"] },
        { file: ".github/hitl.yml", line: 2, column: 1, path: "", message: "deficient indentation" },
      ]),
    ).toBe(".hitl.yml:1:1 aprovers: unknown key 'aprovers' — allowed keys: approvers, agents\n.github/hitl.yml:2:1 deficient indentation");
  });
});

describe("mergeConfigs", () => {
  it.each([
    ["override wins per key", { deadline: "72h", approvers: ["a"] }, { deadline: "4h" }, { deadline: "4h", approvers: ["a"] }],
    ["arrays are replaced, not concatenated", { approvers: ["a", "b"] }, { approvers: ["c"] }, { approvers: ["c"] }],
    ["rules are replaced", { rules: [{ id: "base" }] }, { rules: [{ id: "mine" }] }, { rules: [{ id: "mine" }] }],
    [
      "an object is taken whole, never stitched from two files",
      { fallback: { type: "use_default", action: "reject" } },
      { fallback: { type: "abort", reason: "x" } },
      { fallback: { type: "abort", reason: "x" } },
    ],
    ["keys only in the base are kept", { agents: ["bot"] }, {}, { agents: ["bot"] }],
    ["a non-mapping override is returned as is, to fail validation", { deadline: "4h" }, ["x"], ["x"]],
    ["a non-mapping base is ignored", null, { deadline: "4h" }, { deadline: "4h" }],
  ])("%s", (_name, base, override, expected) => {
    expect(mergeConfigs(base, override)).toEqual(expected);
  });

  it("does not change its inputs", () => {
    const base = { approvers: ["a"] };
    const override = { deadline: "4h" };
    mergeConfigs(base, override);
    expect(base).toEqual({ approvers: ["a"] });
    expect(override).toEqual({ deadline: "4h" });
  });
});

describe("parseConfigLayers", () => {
  const base = { file: "octo-org/.github:.hitl.yml", text: "approvers: [alice]\ndeadline: 24h\nescalation:\n  - after: 4h\n    approvers: [bob]\n" };

  it("merges the files, the extending one winning", () => {
    const result = parseConfigLayers([base, { file: ".hitl.yml", text: "_extends: .github\ndeadline: 8h\n" }]);
    expect(result).toEqual({
      ok: true,
      config: { ...DEFAULTS, _extends: ".github", approvers: ["alice"], deadline: "8h", escalation: [{ after: "4h", approvers: ["bob"] }] },
    });
  });

  it("reports each error in the file that holds the key", () => {
    const result = parseConfigLayers([
      { ...base, text: `${base.text}agents: 5\n` },
      { file: ".hitl.yml", text: "_extends: .github\ndeadline: soon\n" },
    ]);
    expect(result).toEqual({
      ok: false,
      errors: [
        { file: "octo-org/.github:.hitl.yml", line: 6, column: 9, path: "agents", message: "expected a list, got number 5" },
        { file: ".hitl.yml", line: 2, column: 11, path: "deadline", message: DURATION_MESSAGE },
      ],
    });
  });

  it("stops at the first file that is not YAML", () => {
    const result = parseConfigLayers([{ file: "base.yml", text: "a: [" }, { file: ".hitl.yml", text: "deadline: 4h" }]);
    expect(result).toEqual({ ok: false, errors: [{ file: "base.yml", line: 1, column: 5, path: "", message: "unexpected end of the stream within a flow collection" }] });
  });
});

describe("loadConfigYaml", () => {
  it.each([
    ["", {}],
    ["# comment only\n", {}],
    ["deadline: 4h\n", { deadline: "4h" }],
    ["valid_until: 2027-01-01\n", { valid_until: "2027-01-01" }],
  ])("reads %j", (text, value) => {
    expect(loadConfigYaml(text, ".hitl.yml")).toEqual({ ok: true, value });
  });
});

describe("hostile files are refused quickly, with the line, never thrown or hung on", () => {
  /** A billion laughs under a key the schema takes as-is: each level holds nine of the one before. */
  function aliasBomb(levels: number): string {
    const lines = ["fallback:", "  type: use_default", "  action: approve", "  value:", '    l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < levels; i++) lines.push(`    l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(", ")}]`);
    return `${lines.join("\n")}\n`;
  }

  function timed(text: string): { errors: ConfigError[]; ms: number } {
    const started = performance.now();
    const result = parseConfig(text, ".hitl.yml");
    const ms = performance.now() - started;
    if (result.ok) throw new Error(`expected errors, got a valid file (${JSON.stringify(result.config).length} bytes of JSON)`);
    return { errors: result.errors, ms };
  }

  it("an alias bomb, at the alias where the expansion passes the limit", () => {
    // Nine levels expand to 387 million strings; the sixth (line 10) already passes a million.
    const { errors, ms } = timed(aliasBomb(9));
    expect(errors).toEqual([
      { file: ".hitl.yml", line: 10, column: 24, path: "", message: "aliases (*name) expand the file past 1000000 values and characters; at most 1000000 are allowed" },
    ]);
    expect(ms).toBeLessThan(500);
  });

  it("an alias inside what it names (a cycle), which no schema walk would finish", () => {
    const text = "rules:\n  - id: loop\n    when: &c {not: *c}\n    action: approve\n";
    expect(timed(text).errors).toEqual([{ file: ".hitl.yml", line: 3, column: 20, path: "", message: "the alias *c is inside the mapping or list it names" }]);
    expect(timed("fallback: {type: use_default, action: a, value: &v [1, [2, *v]]}\n").errors[0]!.message).toBe("the alias *v is inside the mapping or list it names");
  });

  it("nesting deeper than 32 levels, written out or built from aliases", () => {
    const written = `fallback: {type: use_default, action: a, value: ${"[".repeat(40)}${"]".repeat(40)}}\n`;
    expect(timed(written).errors).toEqual([
      { file: ".hitl.yml", line: 1, column: 79, path: "", message: "mappings and lists nest deeper than 32 levels; at most 32 are allowed" },
    ]);
    const parserDepth = `fallback: {type: use_default, action: a, value: ${"[".repeat(5_000)}${"]".repeat(5_000)}}\n`;
    expect(timed(parserDepth).errors).toEqual([
      { file: ".hitl.yml", line: 1, column: 147, path: "", message: "mappings and lists nest deeper than 32 levels; at most 32 are allowed" },
    ]);
    const aliased = `fallback: {type: use_default, action: a, value: [&x ${"[".repeat(20)}${"]".repeat(20)}, ${"[".repeat(20)}*x${"]".repeat(20)}]}\n`;
    expect(timed(aliased).errors).toEqual([
      { file: ".hitl.yml", line: 1, column: 115, path: "", message: "mappings and lists nest deeper than 32 levels; at most 32 are allowed" },
    ]);
  });

  it("more than 100 aliases", () => {
    const text = `approvers: [&a alice, ${Array(101).fill("*a").join(", ")}]\n`;
    expect(timed(text).errors).toEqual([{ file: ".hitl.yml", line: 1, column: 423, path: "", message: "more than 100 aliases (*name); at most 100 are allowed" }]);
  });

  it("a file larger than 256 KiB, before it is parsed", () => {
    const text = `approvers: [alice]\n# ${"x".repeat(300_000)}\n`;
    expect(timed(text).errors).toEqual([{ file: ".hitl.yml", line: 1, column: 1, path: "", message: "the file is 300022 bytes; at most 262144 are allowed" }]);
  });

  it("a list of 120,000 wrong values: the first 100 errors and one line for the rest", () => {
    const { errors, ms } = timed(`approvers: [${Array(120_000).fill("5").join(",")}]\n`);
    expect(errors).toHaveLength(101);
    expect(errors[0]).toEqual({ file: ".hitl.yml", line: 1, column: 13, path: "approvers.0", message: "expected a string, got number 5" });
    expect(errors[100]).toEqual({ file: ".hitl.yml", line: 1, column: 211, path: "", message: "more errors not listed; fix these first" });
    expect(ms).toBeLessThan(5_000);
  });

  it("while a few aliases, and nesting as deep as conditions go, still read as written", () => {
    const text = "approvers: &leads [alice, bob]\nescalation:\n  - after: 4h\n    approvers: *leads\nrules:\n  - id: nested\n    when: {not: {not: {not: {all: [{any: [{field: a, lt: 1}]}]}}}}\n    action: approve\n";
    const result = parseConfig(text, ".hitl.yml");
    expect(result.ok && result.config.escalation).toEqual([{ after: "4h", approvers: ["alice", "bob"] }]);
  });

  it.each([
    ["deadline: 99999999999d\n", 1, 11, "deadline"],
    ["escalation_critical:\n  - {after: 53w, approvers: [bob]}\n", 2, 13, "escalation_critical.0.after"],
    ["escalation:\n  - {after: 366d, approvers: [bob]}\n", 2, 13, "escalation.0.after"],
    ["fallback: {type: delegate, extend_by: 9000h}\n", 1, 39, "fallback.extend_by"],
    [`deadline: ${"9".repeat(400)}s\n`, 1, 11, "deadline"],
  ])("a duration past 365 days: %j", (text, line, column, path) => {
    expect(errorsOf(text)).toEqual([{ file: ".hitl.yml", line, column, path, message: "must be at most 365d (a year)" }]);
  });

  it("accepts exactly 365 days", () => {
    expect(parseConfig("deadline: 365d\nwarning_before: 52w\n", ".hitl.yml").ok).toBe(true);
  });
});
