import { z } from "zod";
import { LOGIN_SOURCE, TEAM_SLUG_SOURCE } from "../core/approver-name.js";
import { DURATION_TOO_LONG, parseDuration, withinMaxDuration } from "../core/duration.js";
import { PRIORITIES } from "../core/types.js";
import { parseRetention, RETENTION_FORMAT } from "../core/retention.js";

/**
 * The `.hitl.yml` schema. Every key carries a description, which editors show through the
 * generated JSON Schema; unknown keys are errors so a typo never silently drops a setting.
 */

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const FALLBACK_TYPES = ["abort", "use_default", "degrade", "delegate", "retry_with_modification"] as const;

/** The operators a `field` condition may use. */
export const FIELD_OPERATORS = ["lt", "gt", "lte", "gte", "equals", "contains"] as const;

/** How a rule takes part: `enforce` decides, `shadow` only records what it would have decided. */
export const RULE_MODES = ["enforce", "shadow"] as const;

/** The keys that make a condition what it is; a condition has exactly one of them. */
export const CONDITION_KINDS = ["all", "any", "not", "field", "risk_score", "confidence", "task_type", "time_window"] as const;

/** `repo`, `owner/repo` or `owner/repo:path/to/file.yml`. */
export const EXTENDS_PATTERN = /^(?:[A-Za-z0-9][A-Za-z0-9-]*\/)?[A-Za-z0-9._-]+(?::[^\s:]+)?$/;

const DURATION_PATTERN = /^\d+(?:s|m|h|d|w)$/;
const CLOCK_PATTERN = /^(?:[01]\d|2[0-3]):[0-5]\d$/;
const RULE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const APPROVER_PATTERN = new RegExp(`^(?:@?${LOGIN_SOURCE}|@${LOGIN_SOURCE}/${TEAM_SLUG_SOURCE})$`);
const FIELD_PATH_PATTERN = /^[^.\s]+(?:\.[^.\s]+)*$/;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

const VALID_UNTIL_ERROR = "expected a date (2027-01-01) or a date-time with zone (2027-01-01T18:00:00Z)";

const duration = z
  .string()
  .regex(DURATION_PATTERN, { error: "expected a duration such as 30s, 15m, 4h, 2d or 1w" })
  .refine((text) => parseDuration(text) !== null, { error: "expected a duration such as 30s, 15m, 4h, 2d or 1w" })
  .refine(withinMaxDuration, { error: DURATION_TOO_LONG });

const approver = z
  .string()
  .regex(APPROVER_PATTERN, { error: "expected a GitHub login (alice) or a team (@org/team-slug)" })
  .describe("A GitHub login (`alice`) or a team written `@org/team-slug`.");

const approverList = z.array(approver);

const unitInterval = z.number().min(0).max(1);

const clock = z.string().regex(CLOCK_PATTERN, { error: "expected a time of day as HH:MM, 00:00 to 23:59" });

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A calendar date that exists (V8's Date.parse rolls 2026-02-30 over to March). */
function isRealDate(text: string): boolean {
  const match = DATE_PATTERN.exec(text);
  if (!match || Number.isNaN(Date.parse(text))) return false;
  const [, year, month, day] = match.map(Number) as [number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export interface Bounds {
  min?: number | undefined;
  max?: number | undefined;
}

export interface TimeWindow {
  start?: string | undefined;
  end?: string | undefined;
  timezone: string;
  weekdays?: Weekday[] | undefined;
}

export type ConditionValue = string | number | boolean | null;

/**
 * One condition of a rule. Exactly one of `all`, `any`, `not`, `field`, `risk_score`,
 * `confidence`, `task_type` and `time_window` is set (the schema enforces it); a `field`
 * condition carries one or more operators, which must all hold.
 */
export interface Condition {
  all?: Condition[] | undefined;
  any?: Condition[] | undefined;
  not?: Condition | undefined;
  field?: string | undefined;
  lt?: number | undefined;
  gt?: number | undefined;
  lte?: number | undefined;
  gte?: number | undefined;
  equals?: ConditionValue | undefined;
  contains?: string | number | boolean | undefined;
  risk_score?: Bounds | undefined;
  confidence?: Bounds | undefined;
  task_type?: string[] | undefined;
  time_window?: TimeWindow | undefined;
}

const boundsSchema = (what: string) =>
  z
    .strictObject({
      min: unitInterval.optional().describe(`Holds when ${what} is at least this (inclusive).`),
      max: unitInterval.optional().describe(`Holds when ${what} is at most this (inclusive).`),
    })
    .refine((bounds) => bounds.min !== undefined || bounds.max !== undefined, { error: "give min, max or both" });

const timeWindowSchema = z
  .strictObject({
    start: clock.optional().describe("Start of the window, `HH:MM` in `timezone`, inclusive. Give with `end`."),
    end: clock
      .optional()
      .describe("End of the window, `HH:MM` in `timezone`, exclusive. Earlier than `start` means the window crosses midnight."),
    timezone: z
      .string()
      .refine(isTimeZone, { error: "expected an IANA time zone such as Europe/Berlin or UTC" })
      .default("UTC")
      .describe("IANA time zone the window is read in, e.g. `Europe/Berlin`. Default `UTC`."),
    weekdays: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .optional()
      .describe("Days the window is open (`mon` … `sun`), the day the window starts. Absent: every day."),
  })
  .superRefine((window, ctx) => {
    if ((window.start === undefined) !== (window.end === undefined)) {
      ctx.addIssue({ code: "custom", message: "give start and end together", path: [window.start === undefined ? "start" : "end"] });
    } else if (window.start !== undefined && window.start === window.end) {
      ctx.addIssue({ code: "custom", message: "start and end must differ; leave both out for the whole day", path: ["end"] });
    } else if (window.start === undefined && window.weekdays === undefined) {
      ctx.addIssue({ code: "custom", message: "give start and end, weekdays, or both", path: [] });
    }
  });

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z
    .strictObject({
      all: z.array(conditionSchema).min(1).optional().describe("Holds when every condition in the list holds."),
      any: z.array(conditionSchema).min(1).optional().describe("Holds when at least one condition in the list holds."),
      not: conditionSchema.optional().describe("Holds when the condition does not hold. A condition on a missing field never holds, negated or not."),
      field: z
        .string()
        .regex(FIELD_PATH_PATTERN, { error: "expected a dotted path into decision_data, such as amount or customer.tier" })
        .optional()
        .describe("Dotted path into the request's `decision_data`, e.g. `customer.tier`. Use with one or more operators."),
      lt: z.number().optional().describe("The field is a number below this."),
      gt: z.number().optional().describe("The field is a number above this."),
      lte: z.number().optional().describe("The field is a number at most this."),
      gte: z.number().optional().describe("The field is a number at least this."),
      equals: z
        .union([z.string(), z.number(), z.boolean(), z.null()])
        .optional()
        .describe("The field equals this value exactly (same type)."),
      contains: z
        .union([z.string(), z.number(), z.boolean()])
        .optional()
        .describe("The field is a list holding this value, or text containing it."),
      risk_score: boundsSchema("the request's risk_score").optional().describe("Bounds on the request's `risk_score`, e.g. `{max: 0.3}`."),
      confidence: boundsSchema("the request's confidence").optional().describe("Bounds on the request's `confidence`, e.g. `{min: 0.8}`."),
      task_type: z
        .array(z.string().min(1))
        .min(1)
        .optional()
        .describe("Holds when the request's `request_type` is one of these."),
      time_window: timeWindowSchema.optional().describe("Holds when the evaluation time falls in this window."),
    })
    .superRefine((condition, ctx) => {
      const kinds = CONDITION_KINDS.filter((kind) => condition[kind] !== undefined);
      const operators = FIELD_OPERATORS.filter((operator) => condition[operator] !== undefined);
      if (kinds.length === 0) {
        const message = operators.length > 0 ? `${operators.join(", ")} needs a field` : `a condition needs one of ${CONDITION_KINDS.join(", ")}`;
        ctx.addIssue({ code: "custom", message, path: [] });
      } else if (kinds.length > 1) {
        ctx.addIssue({
          code: "custom",
          message: `a condition has one of ${CONDITION_KINDS.join(", ")}; found ${kinds.join(" and ")} (wrap them in all or any)`,
          path: [],
        });
      } else if (kinds[0] === "field" && operators.length === 0) {
        ctx.addIssue({ code: "custom", message: `field needs an operator: ${FIELD_OPERATORS.join(", ")}`, path: [] });
      } else if (kinds[0] !== "field" && operators.length > 0) {
        ctx.addIssue({ code: "custom", message: `${operators.join(", ")} needs a field`, path: [] });
      }
    })
    .meta({ id: "condition", description: "A condition on the request. Exactly one of all, any, not, field, risk_score, confidence, task_type, time_window." }),
);

export const ruleActionSchema = z
  .union([z.enum(["approve", "reject"]), z.strictObject({ choose: z.string().min(1).describe("The id of one of the request's available actions.") })], {
    error: (issue) =>
      issue.input === undefined
        ? "required"
        : issue.code === "invalid_union"
          ? `expected approve, reject or {choose: <action id>}${typeof issue.input === "string" ? `, got '${issue.input}'` : ""}`
          : undefined,
  })
  .describe("What the rule decides: `approve`, `reject`, or `{choose: <action id>}` for one of the request's available actions.");

const ruleSchema = z.strictObject({
  id: z
    .string()
    .regex(RULE_ID_PATTERN, { error: "expected an id of letters, digits, '.', '_' or '-'" })
    .describe("Unique id of the rule in this file; decisions and the audit trail name it."),
  description: z.string().optional().describe("What the rule is for, for people reading the file."),
  created_by: z.string().optional().describe("Who wrote the rule (a GitHub login), for the audit trail."),
  when: conditionSchema.describe("The condition a request must meet for the rule to decide it."),
  action: ruleActionSchema,
  valid_until: z
    .string()
    .regex(DATE_PATTERN, { error: VALID_UNTIL_ERROR })
    .refine(isRealDate, { error: VALID_UNTIL_ERROR })
    .optional()
    .describe("The rule stops applying after this: a date (through the end of that day, UTC) or a date-time with zone."),
  max_uses: z.int().positive().optional().describe("The rule decides at most this many requests in this repository, counted across all replicas."),
  mode: z
    .enum(RULE_MODES)
    .optional()
    .describe("`enforce` (the default): the rule decides. `shadow`: the rule decides nothing; hitl records what it would have done on each request, and the stats show how often people agreed."),
});

const escalationLevelSchema = z.strictObject({
  after: duration.describe("How long after the request was opened this level takes over, e.g. `4h`."),
  approvers: approverList.min(1).describe("Who is assigned and mentioned at this level: logins and `@org/team` teams."),
  message: z.string().optional().describe("Extra text posted when the request reaches this level, as plain text on one line: no markdown, mentions or links."),
  notify: z
    .array(z.string().min(1))
    .optional()
    .describe(
      "Channels to alert at this level: a channel of the environment by name (`oncall` is `HITL_CHANNEL_ONCALL`), else `slack`, `email` or `sms` to this level's approvers through `people:`.",
    ),
});

const escalationLadder = z.array(escalationLevelSchema).superRefine((levels, ctx) => {
  for (let i = 1; i < levels.length; i++) {
    const previous = parseDuration(levels[i - 1]!.after) ?? 0;
    if ((parseDuration(levels[i]!.after) ?? 0) <= previous) {
      ctx.addIssue({ code: "custom", message: `after must be later than the previous level's ${levels[i - 1]!.after}`, path: [i, "after"] });
    }
  }
});

const STAGE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;
const stageName = z.string().regex(STAGE_NAME_PATTERN, { error: "expected 1-40 letters, digits, '-' or '_', starting with a letter or digit" });

const branchSchema = z
  .strictObject({
    when: conditionSchema.describe("The condition, over the decision data and `chosen_action` (the action the stage approved with)."),
    next: stageName.optional().describe("The stage that opens next; it must come later in the list."),
    action: z.string().min(1).max(40).optional().describe("End the request with this action (one of the request's actions) instead."),
  })
  .refine((branch) => (branch.next === undefined) !== (branch.action === undefined), { error: "a branch has exactly one of next and action" });

/** The name of the stage `required_approvals` becomes. */
export const QUORUM_STAGE_NAME = "approval";

/** One stage of sign-off. Shared by `.hitl.yml` requirements and a request's own `stages`. */
export const stageSchema = z
  .strictObject({
    name: stageName.describe("The stage's name, shown in the tally and the decision."),
    approvers: approverList
      .max(50)
      .default([])
      .describe("Who votes in this stage: logins and `@org/team` teams, each also one of the repository's approvers. Empty: the request's approvers."),
    required: z
      .union([z.int().min(1).max(50), z.enum(["all", "majority"])], { error: "expected a number from 1 to 50, all or majority" })
      .optional()
      .describe("How many distinct people must choose one action: a number, `all` or `majority` of the stage's approvers (these need users, not teams). Default 1."),
    weights: z
      .record(approver, z.number().positive().max(1000))
      .optional()
      .describe("Weight per login or `@org/team`; with `threshold` instead of `required`. Only those listed vote."),
    threshold: z.number().positive().max(50_000).optional().describe("With `weights`: an action wins when its votes' weights add up to this."),
    timeout: duration.optional().describe("How long the stage stays open once it opens. Absent: until the request's deadline."),
    on_timeout: z
      .enum(["proceed_if_partial", "fallback"])
      .default("fallback")
      .describe("At the timeout: `proceed_if_partial` ends the stage with its leading approval when it has one and no rejection; `fallback` applies the request's fallback."),
    reject: z
      .enum(["veto", "majority"])
      .default("veto")
      .describe("`veto`: one allowed rejection rejects the request. `majority`: rejections must weigh more than half of the stage's bar."),
    allow_repeat_approvers: z.boolean().default(false).describe("Lets a person who counted in an earlier stage count in this one too."),
    then: z
      .array(branchSchema)
      .min(1)
      .max(10)
      .optional()
      .describe("After the stage approves, the first branch whose condition holds picks the next stage or ends the request; none holding ends it approved. Absent: the next stage in the list."),
  })
  .superRefine((stage, ctx) => {
    const users = stage.approvers.filter((who) => !who.includes("/"));
    if (stage.weights !== undefined) {
      if (stage.threshold === undefined) ctx.addIssue({ code: "custom", message: "weights need a threshold", path: ["threshold"] });
      if (stage.required !== undefined) ctx.addIssue({ code: "custom", message: "give required or weights with threshold, not both", path: ["required"] });
    } else if (stage.threshold !== undefined) {
      ctx.addIssue({ code: "custom", message: "threshold needs weights", path: ["threshold"] });
    }
    if ((stage.required === "all" || stage.required === "majority") && (users.length === 0 || users.length !== stage.approvers.length)) {
      ctx.addIssue({ code: "custom", message: `${stage.required} counts the stage's approvers, so they must be listed, as users (not teams)`, path: ["approvers"] });
    }
    if (typeof stage.required === "number" && stage.approvers.length > 0 && users.length === stage.approvers.length && stage.required > users.length) {
      ctx.addIssue({ code: "custom", message: `${stage.required} approvals can never come from ${users.length} approvers`, path: ["required"] });
    }
  });

export type StageConfig = z.infer<typeof stageSchema>;

/** Sequential stages with unique names, whose branches only go forward. */
export const stagesSchema = z
  .array(stageSchema)
  .min(1)
  .max(10)
  .superRefine((stages, ctx) => {
    const names = stages.map((stage) => stage.name.toLowerCase());
    names.forEach((name, index) => {
      if (names.indexOf(name) !== index) ctx.addIssue({ code: "custom", message: `duplicate stage name '${stages[index]!.name}'`, path: [index, "name"] });
    });
    stages.forEach((stage, index) =>
      stage.then?.forEach((branch, at) => {
        if (branch.next === undefined) return;
        const target = names.indexOf(branch.next.toLowerCase());
        if (target <= index) ctx.addIssue({ code: "custom", message: `next must name a stage after ${stage.name}: ${names.slice(index + 1).join(", ") || "there is none"}`, path: [index, "then", at, "next"] });
      }),
    );
  });

export const REASON_CODE_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** `feedback`, at the top of the file (and wherever a stricter requirement may carry it). */
export const feedbackSchema = z.strictObject({
  require_justification: z
    .union([
      z.boolean(),
      z.strictObject({ min_length: z.number().int().min(1).max(5_000).describe("The fewest characters a justification may have.") }),
    ])
    .optional()
    .describe("Every decision needs a reason: `true` (any text), or `{min_length: N}`. A command without one is answered and not applied."),
  reasons: z
    .array(z.string().regex(REASON_CODE_PATTERN, { error: "expected 1-40 lowercase letters, digits, '-' or '_'" }))
    .min(1)
    .max(20)
    .refine((codes) => new Set(codes).size === codes.length, { error: "reason codes must be unique" })
    .optional()
    .describe("Reason codes a rejection must start with (`/reject <code> <text>`), so the agent can act on them. A request may narrow the list."),
});

/** A field of decision_data a requirement lets an approver change, with its type and bounds. */
export const editableFieldSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("number").describe("A number."),
    minimum: z.number().optional().describe("The smallest value an approver may set."),
    maximum: z.number().optional().describe("The largest value an approver may set."),
  }),
  z.strictObject({
    type: z.literal("string").describe("A string."),
    max_length: z.number().int().min(1).max(10_000).optional().describe("The longest value an approver may set."),
    enum: z.array(z.string().min(1).max(200)).min(1).max(50).optional().describe("The only values an approver may set."),
  }),
  z.strictObject({ type: z.literal("boolean").describe("true or false.") }),
]);

const requirementSchema = z
  .strictObject({
    name: z.string().min(1).max(100).describe("What the requirement is for; `/simulate` and the tally name it."),
    when: conditionSchema.optional().describe("Which requests it applies to. Absent: every request."),
    required_approvals: z.int().min(2).max(50).optional().describe("This many distinct allowed people must approve."),
    stages: stagesSchema.optional().describe("Sequential stages of sign-off, each with its own approvers and rule."),
    editable_fields: z
      .record(z.string().min(1).max(100), editableFieldSchema)
      .refine((fields) => Object.keys(fields).length <= 50, "at most 50 editable fields")
      .optional()
      .describe("Fields of decision_data an approver may change when approving, with the bounds set here; a request may not redefine them."),
    feedback: feedbackSchema.optional().describe("What people must give with a decision on the requests it applies to; folded with the top-level `feedback`, the strictest wins."),
  })
  .superRefine((requirement, ctx) => {
    if (requirement.required_approvals !== undefined && requirement.stages !== undefined) {
      ctx.addIssue({ code: "custom", message: "give required_approvals or stages, not both", path: ["stages"] });
    }
    if ([requirement.required_approvals, requirement.stages, requirement.editable_fields, requirement.feedback].every((part) => part === undefined)) {
      ctx.addIssue({ code: "custom", message: "a requirement needs at least one of required_approvals, stages, editable_fields and feedback" });
    }
    for (const [name, field] of Object.entries(requirement.editable_fields ?? {})) {
      if (field.type === "number" && field.minimum !== undefined && field.maximum !== undefined && field.minimum > field.maximum) {
        ctx.addIssue({ code: "custom", message: "must not be above maximum", path: ["editable_fields", name, "minimum"] });
      }
    }
  });

const reason = (what: string) => z.string().optional().describe(what);

export const fallbackSchema = z
  .discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("abort").describe("Give up: the agent must not act."),
      reason: z.string().describe("Why, as the agent is told."),
      cleanup: z.string().optional().describe("What the agent should clean up."),
    }),
    z.strictObject({
      type: z.literal("use_default").describe("Go ahead with a default action."),
      action: z.string().min(1).describe("The action id to take."),
      value: z.unknown().optional().describe("A value for the action, passed to the agent."),
      reason: reason("Why, as the agent is told."),
    }),
    z.strictObject({
      type: z.literal("degrade").describe("Carry on in a reduced mode."),
      mode: z.string().min(1).describe("The mode the agent switches to."),
      reason: reason("Why, as the agent is told."),
    }),
    z.strictObject({
      type: z.literal("delegate").describe("Hand the request to other approvers or a rule, with more time."),
      approvers: approverList.optional().describe("Who takes the request over."),
      rule: z.string().optional().describe("A rule id to decide it instead."),
      extend_by: duration.optional().describe("How much longer the new approvers get, e.g. `24h`."),
      reason: reason("Why, as the agent is told."),
    }),
    z.strictObject({
      type: z.literal("retry_with_modification").describe("Ask the agent to try again with changes."),
      modifications: z.record(z.string(), z.unknown()).describe("The changes the agent should make."),
      reason: reason("Why, as the agent is told."),
    }),
  ])
  .describe("What happens when nobody decides before the deadline.");

const autoApproveSchema = z
  .strictObject({
    confidence_above: unitInterval
      .optional()
      .describe("Approve without a person when the request's confidence is above this and its risk_score below `risk_below`. Give with `risk_below`."),
    risk_below: unitInterval.optional().describe("The risk_score a request must be below to be auto-approved. Give with `confidence_above`."),
    require_human_above_risk: unitInterval
      .optional()
      .describe("A request whose risk_score is above this always goes to a person, whatever the rules say."),
  })
  .superRefine((auto, ctx) => {
    if ((auto.confidence_above === undefined) !== (auto.risk_below === undefined)) {
      ctx.addIssue({
        code: "custom",
        message: "confidence_above and risk_below go together",
        path: [auto.confidence_above === undefined ? "confidence_above" : "risk_below"],
      });
    }
  });

/** An environment name (`production`) or a glob over names (`preview-*`, `eu-?`). */
export const ENVIRONMENT_PATTERN = /^[^\u0000-\u001f\u007f]{1,255}$/;

/**
 * How deployments to one environment are decided, when hitl is its deployment protection rule.
 * Every key is optional: what is left out comes from the top of the file.
 */
const environmentSchema = z
  .strictObject({
    approvers: approverList.min(1).optional().describe("Who approves deployments to it: logins and `@org/team` teams. Absent: the file's `approvers`."),
    deadline: duration.optional().describe("How long a deployment waits for a decision, e.g. `4h`. Absent: the file's `deadline`."),
    warning_before: duration.optional().describe("Remind the approvers this long before the deadline. Absent: the file's, when it is shorter than this deadline."),
    fallback: fallbackSchema
      .optional()
      .describe("What happens at the deadline; `use_default` takes `approve` or `reject`, and `delegate` hands it to approvers, not to a rule. Absent: the file's `fallback`, except that one which would approve rejects instead."),
    escalation: escalationLadder.optional().describe("Levels of approvers who take over, in order of `after`. Absent: the file's `escalation`."),
    priority: z.enum(PRIORITIES).default("normal").describe("The priority of its deployment requests (labels, and `critical` takes `escalation_critical`)."),
    required_approvals: z.int().min(2).max(50).optional().describe("This many distinct allowed people must approve each deployment."),
    stages: stagesSchema.optional().describe("Sequential stages of sign-off for each deployment, each with its own approvers and rule."),
  })
  .superRefine((environment, ctx) => {
    if (environment.required_approvals !== undefined && environment.stages !== undefined) {
      ctx.addIssue({ code: "custom", message: "give required_approvals or stages, not both", path: ["stages"] });
    }
    const fallback = environment.fallback;
    if (fallback?.type === "use_default" && fallback.action !== "approve" && fallback.action !== "reject") {
      ctx.addIssue({ code: "custom", message: "a deployment's default action is approve or reject", path: ["fallback", "action"] });
    }
    if (fallback?.type === "delegate" && fallback.rule !== undefined) {
      ctx.addIssue({ code: "custom", message: "rules do not decide deployments: delegate to approvers", path: ["fallback", "rule"] });
    }
    const deadline = environment.deadline === undefined ? null : parseDuration(environment.deadline);
    const warning = environment.warning_before === undefined ? null : parseDuration(environment.warning_before);
    if (deadline !== null && warning !== null && warning >= deadline) {
      ctx.addIssue({ code: "custom", message: `warning_before must be shorter than the deadline (${environment.deadline})`, path: ["warning_before"] });
    }
  });

export type EnvironmentConfig = z.infer<typeof environmentSchema>;

const LOGIN_KEY_PATTERN = new RegExp(`^${LOGIN_SOURCE}$`);
const QUIET_HOURS_PATTERN = /^(?:[01]\d|2[0-3]):[0-5]\d-(?:[01]\d|2[0-3]):[0-5]\d$/;
const SLACK_USER_PATTERN = /^[UW][A-Z0-9]{2,20}$/;
const SLACK_CHANNEL_PATTERN = /^[CGD][A-Z0-9]{2,20}$/;
const CHANNEL_NAME_PATTERN = /^[a-z0-9][a-z0-9_]{0,39}$/;

/** The events `notify:` entries may name. */
export const NOTIFY_EVENTS = ["opened", "warning", "escalated", "decided", "expired"] as const;
/** Channels that reach a person through their `people:` entry. */
export const PERSON_CHANNELS = ["slack", "email", "sms"] as const;

const personSchema = z
  .strictObject({
    email: z.email({ error: "expected an email address" }).max(254).optional().describe("Where `email` notifications go."),
    slack: z
      .string()
      .regex(SLACK_USER_PATTERN, { error: "expected a Slack user id such as U012AB3CD (not a display name)" })
      .optional()
      .describe("The person's Slack user id (`U…` or `W…`): `slack` notifications are sent to them directly, and their Slack buttons decide as this login."),
    phone: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, { error: "expected a phone number in E.164 form, such as +15551234567" })
      .optional()
      .describe("Where `sms` notifications go, in E.164 form (`+15551234567`)."),
    timezone: z
      .string()
      .refine(isTimeZone, { error: "expected an IANA time zone such as Europe/Berlin or America/New_York" })
      .optional()
      .describe("The person's IANA time zone, for `quiet_hours`. Absent: UTC."),
    quiet_hours: z
      .string()
      .regex(QUIET_HOURS_PATTERN, { error: "expected HH:MM-HH:MM such as 22:00-07:00" })
      .optional()
      .describe("Hours in the person's time zone when only `critical` requests reach them; other messages wait until the end, e.g. `22:00-07:00`."),
  })
  .describe("How to reach one person.");

const peopleSchema = z
  .record(z.string().regex(LOGIN_KEY_PATTERN, { error: "expected a GitHub login" }), personSchema)
  .superRefine((people, ctx) => {
    const seen = new Map<string, string>();
    for (const [login, person] of Object.entries(people)) {
      if (!person.slack) continue;
      const first = seen.get(person.slack);
      if (first === undefined) seen.set(person.slack, login);
      else ctx.addIssue({ code: "custom", message: `Slack id ${person.slack} is already ${first}'s: one Slack account decides as one login`, path: [login, "slack"] });
    }
  });

const channelTargetSchema = z
  .union([
    z.enum(PERSON_CHANNELS).describe("`slack`, `email` or `sms`: each person the event concerns, through their `people:` entry."),
    z.strictObject({
      slack: z
        .strictObject({ channel: z.string().regex(SLACK_CHANNEL_PATTERN, { error: "expected a Slack channel id such as C012AB3CD" }).describe("A Slack channel id (`C…`).") })
        .describe("Post to a Slack channel instead of to each person."),
    }),
    z.strictObject({
      webhook: z
        .string()
        .regex(CHANNEL_NAME_PATTERN, { error: "expected a channel name such as oncall (HITL_CHANNEL_ONCALL)" })
        .describe("A channel set in the environment: `oncall` is `HITL_CHANNEL_ONCALL` (its URL, `_SECRET` and `_HEADERS`)."),
    }),
  ], { error: "expected slack, email, sms, {slack: {channel: C…}} or {webhook: name}" })
  .describe("Where an entry sends: `slack`, `email` or `sms` to each person, `{slack: {channel: C…}}` to a Slack channel, `{webhook: name}` to a channel of the environment.");

const notifyEntrySchema = z
  .strictObject({
    events: z.array(z.enum(NOTIFY_EVENTS)).min(1).describe("Which events: `opened`, `warning`, `escalated`, `decided`, `expired`."),
    priority: z.array(z.enum(["low", "normal", "high", "critical"])).min(1).optional().describe("Only requests of these priorities. Absent: every priority."),
    channels: z.array(channelTargetSchema).min(1).max(10).describe("Where to send; every channel listed is used."),
  })
  .describe("Which channels hear which events, for which priorities.");

const retentionPeriod = z
  .string()
  .refine((text) => parseRetention(text) !== null, { message: `expected ${RETENTION_FORMAT}` });

const retentionSchema = z.strictObject({
  context: retentionPeriod
    .optional()
    .describe("How long an ended request keeps its context (description, reason, decision data, justifications), e.g. `90d`; then only what the audit needs stays."),
  audit: retentionPeriod.optional().describe("How long audit entries are kept after they are written, e.g. `7y`; then they leave the chain, which keeps a checkpoint."),
});

const sensitiveEntrySchema = z.strictObject({
  request_type: z.string().min(1).max(100).describe("The request type (`request_type`) whose paths are sensitive; `*` for every request."),
  paths: z
    .array(z.string().regex(/^[^.\s]{1,100}(?:\.[^.\s]{1,100}){0,9}$/, "must be a key of decision_data, or a dotted path into it (customer.email)"))
    .min(1)
    .max(100)
    .describe("Paths of decision_data whose values are sensitive when present; a request cannot leave them out."),
});

/** `batch.max_wait` bounds: a batch waits at least this long and at most this long before it is posted. */
export const BATCH_MIN_WAIT_MS = 10_000;
export const BATCH_MAX_WAIT_MS = 60 * 60_000;
export const BATCH_MAX_SIZE = 50;

const batchSchema = z
  .strictObject({
    by: z.enum(["request_type", "approver", "priority"]).describe("What puts requests into one batch: the same `request_type`, the same first approvers, or the same priority."),
    max_size: z.number().int().min(2).max(BATCH_MAX_SIZE).default(20).describe(`At most this many requests per batch issue (2-${BATCH_MAX_SIZE}); a full batch is posted at once.`),
    max_wait: duration
      .default("10m")
      .refine((text) => (parseDuration(text) ?? 0) >= BATCH_MIN_WAIT_MS && (parseDuration(text) ?? 0) <= BATCH_MAX_WAIT_MS, { error: "expected a duration from 10s to 1h" })
      .describe("How long a batch collects requests before its issue is posted (10s to 1h, default 10m). Batches start on whole multiples of it."),
    include: z
      .array(z.enum(["critical", "stages"]))
      .default([])
      .describe("Requests kept out of batches unless listed: `critical` requests, and `stages` (requests needing more than one approval, or stages)."),
  })
  .describe("Collect pending requests into one issue per group, decided row by row with `/approve 1,3-5`, `/approve all` or `/reject 2`.");

const dataPath = z.string().regex(/^[^.\s]{1,100}(?:\.[^.\s]{1,100}){0,9}$/, "must be a key of decision_data, or a dotted path into it (customer.email)");

const contextSchema = z.strictObject({
  show: z
    .array(dataPath)
    .max(100)
    .optional()
    .describe("The only decision_data paths shown on GitHub (issue, check run, comments) and in notifications; every other value shows a placeholder. Absent: all are shown, except `hide`'s."),
  hide: z
    .array(dataPath)
    .max(100)
    .optional()
    .describe("Decision_data paths never shown on GitHub or in notifications, even when `show` names them or a path above them. The agent, the desk and one-click pages still get them."),
});

/** The most fields one `predict:` entry compares. */
export const MAX_PREDICT_FIELDS = 10;

export const PREDICT_MODES = ["suggest", "auto"] as const;

const predictEntrySchema = z
  .strictObject({
    request_type: z
      .string()
      .min(1)
      .max(100)
      .refine((type) => type !== "*", { error: "name one request type; predictions learn from one type's decisions" })
      .describe("The `request_type` whose requests are predicted, from the decisions people made on that type in this repository."),
    fields: z
      .array(z.string().regex(/^[^.\s]{1,100}(?:\.[^.\s]{1,100}){0,9}$/, "must be a key of decision_data, or a dotted path into it (refund.amount)"))
      .min(1)
      .max(MAX_PREDICT_FIELDS)
      .refine((fields) => new Set(fields).size === fields.length, { error: "each field once" })
      .describe("The decision_data fields that make two requests similar: numbers by distance, anything else by equality."),
    mode: z
      .enum(PREDICT_MODES)
      .default("suggest")
      .describe("`suggest`: show the prediction and its evidence to the people who decide. `auto`: also decide when it is confident and no guardrail holds it for a person."),
    min_history: z.int().min(5).max(500).default(10).describe("The fewest similar past decisions by people a prediction needs."),
    min_agreement: z
      .number()
      .gt(0.5, { error: "must be above 0.5: a prediction follows a majority" })
      .max(1)
      .default(0.9)
      .describe("The share of the similar past decisions that must agree (and of the latest decisions the model must have got right) for `auto` to decide, e.g. `0.9`."),
    neighbours: z.int().min(5).max(200).optional().describe("How many of the most similar past decisions are read. Absent: 20, or `min_history` when larger."),
    max_risk: unitInterval
      .optional()
      .describe("`auto` decides only requests with a risk_score at or below this (and at or below `auto_approve.require_human_above_risk`); a request without a risk_score is then never decided."),
  })
  .superRefine((entry, ctx) => {
    if (entry.neighbours !== undefined && entry.neighbours < entry.min_history) {
      ctx.addIssue({ code: "custom", message: `must be at least min_history (${entry.min_history})`, path: ["neighbours"] });
    }
  })
  .describe("Predict how people would decide requests of one type, from their past decisions.");

export type PredictEntry = z.infer<typeof predictEntrySchema>;

const DEFAULT_FALLBACK = { type: "abort" as const, reason: "No decision before the deadline" };

export const hitlConfigSchema = z
  .strictObject({
    _extends: z
      .string()
      .regex(EXTENDS_PATTERN, { error: "expected repo, owner/repo or owner/repo:path" })
      .optional()
      .describe("Start from another repository's file and override it key by key: `repo` (same owner), `owner/repo` or `owner/repo:path`."),
    approvers: approverList.default([]).describe("Who decides requests: logins and `@org/team` teams. Empty: anyone with write access."),
    agents: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("Agent names allowed to open (and simulate) requests in this repository. Absent: any agent with a valid token."),
    deadline: duration.default("72h").describe("How long a request waits for a decision before the fallback applies, e.g. `72h`."),
    warning_before: duration.optional().describe("Remind the approvers this long before the deadline, e.g. `4h`. Absent: no reminder."),
    fallback: fallbackSchema.default(DEFAULT_FALLBACK),
    escalation: escalationLadder
      .default([])
      .describe("Levels of approvers who take over when nobody has decided, in order of `after`."),
    escalation_critical: escalationLadder
      .optional()
      .describe("A shorter ladder for `critical` requests. Absent: critical requests use `escalation`."),
    invalidate_on_push: z
      .boolean()
      .default(true)
      .describe("Pull requests: a new commit makes an earlier approval stale, so it must be given again. A request may switch it on, not off."),
    max_decision_age: duration
      .optional()
      .describe(
        "How long an approval holds: `POST /api/v1/requests/:id/validate` answers that an older one no longer does. A request may set a shorter one, not a longer one. Absent: no limit.",
      ),
    min_deadline: duration
      .default("1h")
      .describe("The shortest deadline a request may set for itself when its fallback approves (`use_default` with an approving action, or `delegate` to a rule)."),
    approving_fallbacks: z
      .strictObject({
        request_types: z
          .array(z.string().min(1))
          .min(1)
          .describe("The `request_type`s whose requests may carry an approving fallback; `\"*\"` for every request, with a type or without."),
      })
      .optional()
      .describe(
        "Lets an agent's request carry a fallback that approves at the deadline: `use_default` with an action of kind approve, or `delegate` to a rule. Absent: only this file's own `fallback` may approve.",
      ),
    close_means: z
      .enum(["reopen", "reject"])
      .optional()
      .describe(
        "What closing a pending request's issue by hand does. `reopen` (the default when absent): hitl reopens it and replies how to decide. `reject`: a close by someone who may reject the request (never the requester, its agent or a bot) rejects it; anyone else's close is reopened.",
      ),
    rules: z
      .array(ruleSchema)
      .default([])
      .superRefine(uniqueRuleIds, { when: () => true })
      .describe("Delegation rules, tried in order; the first that matches decides without a person."),
    auto_approve: autoApproveSchema.optional().describe("Approve on the request's own confidence and risk_score, and hold risky ones for a person."),
    feedback: feedbackSchema
      .optional()
      .describe("What people must give with every decision in this repository. A request may ask for more, never less."),
    requirements: z
      .array(requirementSchema)
      .max(50)
      .optional()
      .describe("The bar for requests a person decides: every requirement whose `when` holds applies (the strictest wins), and a request may add to it but never lift it."),
    environments: z
      .record(z.string().regex(ENVIRONMENT_PATTERN, { error: "expected an environment name or a glob such as preview-*" }), environmentSchema)
      .refine((environments) => Object.keys(environments).length <= 50, "at most 50 environments")
      .optional()
      .describe(
        "Deployments to GitHub environments that have hitl as a deployment protection rule, by environment name or glob (`*`, `?`; names match without regard to case, an exact name before a glob, globs in file order). An environment not listed here is still gated: the file's approvers decide, and its fallback never approves.",
      ),
    people: peopleSchema
      .optional()
      .describe("How to reach people outside GitHub, by GitHub login: `email`, `slack` user id, `phone`, `timezone`, `quiet_hours`. `_extends` merges it person by person."),
    notify: z
      .array(notifyEntrySchema)
      .max(20)
      .optional()
      .describe("Who is told outside GitHub, of what: each entry names events, optionally priorities, and channels. A person hears of each event once, from the first entry that reaches them. Absent: nobody is told outside GitHub."),
    retention: retentionSchema
      .optional()
      .describe("How long this repository's requests keep their context and audit entries; shortens the server's HITL_RETENTION_CONTEXT and HITL_RETENTION_AUDIT, never lengthens them. Absent: the server's."),
    batch: batchSchema.optional(),
    sensitive: z
      .array(sensitiveEntrySchema)
      .max(50)
      .optional()
      .describe("Decision-data paths always sensitive for a request type (sealed, kept off GitHub), added to what the agent marks; the agent cannot un-mark them. Needs HITL_ENCRYPTION_KEYS on the server."),
    context: contextSchema
      .optional()
      .describe("Which decision_data paths appear on GitHub and in notifications (`show`, `hide`). Sensitive paths never do, whatever `show` says. Absent: all but sensitive ones."),
    predict: z
      .array(predictEntrySchema)
      .max(20)
      .refine((entries) => new Set(entries.map((entry) => entry.request_type)).size === entries.length, { error: "one entry per request_type" })
      .optional()
      .describe("Predicted approvals: per request type, how people would likely decide a new request, from their decisions on the most similar past ones. `.hitl.yml` rules decide first; a prediction never overrides them."),
  })
  .superRefine((config, ctx) => {
    uniqueStageNames(config.requirements ?? [], ctx);
    environmentStageNames(config, ctx);
    const deadline = parseDuration(config.deadline);
    const warning = config.warning_before === undefined ? null : parseDuration(config.warning_before);
    if (deadline !== null && warning !== null && warning >= deadline) {
      ctx.addIssue({ code: "custom", message: `warning_before must be shorter than the deadline (${config.deadline})`, path: ["warning_before"] });
    }
  });

/**
 * Stage names are unique across requirements, and none takes the name `required_approvals`'
 * stage has. Two applying requirements defining one stage name would have to be merged, and
 * stages differ in too many ways (approvers, rule, weights, timeout, branches) for "the stricter
 * of the two" to be well-defined; refusing the file keeps every stage it names in force.
 */
function uniqueStageNames(requirements: { name: string; stages?: StageConfig[] | undefined }[], ctx: z.RefinementCtx<unknown>): void {
  const seen = new Map<string, number>();
  requirements.forEach((requirement, index) =>
    requirement.stages?.forEach((stage, at) => {
      const key = stage.name.toLowerCase();
      const path = ["requirements", index, "stages", at, "name"];
      if (key === QUORUM_STAGE_NAME) {
        ctx.addIssue({ code: "custom", message: `'${stage.name}' is the stage required_approvals makes; name this stage otherwise`, path });
        return;
      }
      const first = seen.get(key);
      if (first === undefined) seen.set(key, index);
      // A name repeated within one requirement is its stages' own error.
      else if (first !== index) {
        ctx.addIssue({ code: "custom", message: `stage names must be unique across requirements: '${stage.name}' is already a stage of requirement ${requirements[first]!.name}`, path });
      }
    }),
  );
}

/**
 * An environment's stages join the requirements' on its deployments, so their names must not be
 * one a requirement (or `required_approvals`) already gives a stage.
 */
function environmentStageNames(config: { requirements?: { name: string; stages?: StageConfig[] | undefined }[] | undefined; environments?: Record<string, EnvironmentConfig> | undefined }, ctx: z.RefinementCtx<unknown>): void {
  const taken = new Map<string, string>();
  for (const requirement of config.requirements ?? []) for (const stage of requirement.stages ?? []) taken.set(stage.name.toLowerCase(), requirement.name);
  for (const [name, environment] of Object.entries(config.environments ?? {})) {
    environment.stages?.forEach((stage, at) => {
      const key = stage.name.toLowerCase();
      const path = ["environments", name, "stages", at, "name"];
      if (key === QUORUM_STAGE_NAME) ctx.addIssue({ code: "custom", message: `'${stage.name}' is the stage required_approvals makes; name this stage otherwise`, path });
      else if (taken.has(key)) ctx.addIssue({ code: "custom", message: `stage names must be unique across requirements and environments: '${stage.name}' is already a stage of requirement ${taken.get(key)}`, path });
    });
  }
}

/** Runs even when a rule is otherwise invalid, so every duplicate is reported in one pass. */
function uniqueRuleIds(rules: unknown, ctx: z.RefinementCtx<unknown>): void {
  if (!Array.isArray(rules)) return;
  const seen = new Map<string, number>();
  rules.forEach((rule: unknown, index) => {
    const id = typeof rule === "object" && rule !== null ? (rule as { id?: unknown }).id : undefined;
    if (typeof id !== "string") return;
    const first = seen.get(id);
    if (first === undefined) seen.set(id, index);
    else ctx.addIssue({ code: "custom", message: `duplicate rule id '${id}', first used by rules.${first}`, path: [index, "id"] });
  });
}

export type HitlConfig = z.infer<typeof hitlConfigSchema>;
export type HitlConfigInput = z.input<typeof hitlConfigSchema>;
export type Rule = HitlConfig["rules"][number];
export type RuleAction = Rule["action"];
export type AutoApprove = NonNullable<HitlConfig["auto_approve"]>;
export type EscalationLevel = HitlConfig["escalation"][number];
export type Person = NonNullable<HitlConfig["people"]>[string];
export type NotifyEntry = NonNullable<HitlConfig["notify"]>[number];
