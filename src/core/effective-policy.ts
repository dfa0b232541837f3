import { hitlConfigSchema, QUORUM_STAGE_NAME, type HitlConfig, type StageConfig } from "../config/schema.js";
import { deadlineAt } from "./deadline.js";
import type { Stage } from "./aggregate.js";
import { evaluateCondition } from "./conditions.js";
import type { NewRequestInput } from "./build-request.js";
import { actionKind } from "./decide.js";
import { parseDuration } from "./duration.js";
import { foldFeedback, settleFeedback } from "./feedback.js";
import { approverKey, dedupe, ladderFor } from "./schedule.js";
import { settleEditable } from "./settle-editable.js";
import type { EditableField, EscalationStep, Fallback, FeedbackPolicy } from "./types.js";

/**
 * The one place that decides, for a request being opened, who may decide it, its deadline,
 * fallback, escalation ladder, warning and invalidation. `.hitl.yml` sets the bar and a request
 * may only raise it: narrow the approvers, escalate sooner, warn earlier, switch invalidation on,
 * let an approval hold for less long (`max_decision_age`).
 * A request that would lower it is refused, field by field.
 */

export interface PolicyViolation {
  path: string;
  message: string;
}

export interface EffectivePolicy {
  /** The first approvers: the request's narrowing, else `.hitl.yml`'s. Empty: anyone with write access. */
  approvers: string[];
  /**
   * Everyone `.hitl.yml` lets decide: its approvers and everyone its ladders and its own fallback
   * name, or empty (anyone with write access) when it names no approvers. A person deciding must
   * be in this set as well as in the request's.
   */
  policyApprovers: string[];
  deadline: string;
  fallback: Fallback;
  ladder: EscalationStep[];
  warningBeforeMs: number | null;
  invalidateOnPush: boolean;
  /** What people must give with a decision: `.hitl.yml`'s feedback and its applying requirements', made stricter by the request's. */
  feedback?: FeedbackPolicy;
  /** What an approver may change: the applying requirements' fields, then the request's others. Absent: nothing. */
  editableFields?: Record<string, EditableField>;
  /** How long an approval holds: `.hitl.yml`'s `max_decision_age`, or the request's if shorter; null: no limit. */
  maxDecisionAgeMs: number | null;
  /** Quorum and stages: `.hitl.yml`'s matching requirements, then what the request added. Absent: one approval decides. */
  stages?: Stage[];
  /** Each of `.hitl.yml`'s requirements, whether it applies to this request, and why (for `/simulate`). */
  requirements?: RequirementTrace[];
  /** Per stage, in order: what put it there (`.hitl.yml` requirements by name, or the request). */
  stageOrigins?: string[][];
  /**
   * Users the request names whom `.hitl.yml` does not list by name: each must pass `mayDecide`
   * against `policyApprovers` (write access, or membership of one of its teams) before the
   * request is stored. `path` is the field that named them first.
   */
  verify: { path: string; login: string }[];
}

/** A `.hitl.yml` requirement: whether it applies to the request, and why. */
export interface RequirementTrace {
  name: string;
  applies: boolean;
  reasons: string[];
}

export type PolicyResult = { ok: true; policy: EffectivePolicy } | { ok: false; violations: PolicyViolation[] };

/** A repository without `.hitl.yml`, or with a broken one, gets the schema's defaults, the same as an empty file. */
const NO_POLICY: HitlConfig = hitlConfigSchema.parse({});

/** At most this many named users are looked up on GitHub for one request. */
export const MAX_VERIFIED_USERS = 50;

export function effectivePolicy(configOrNone: HitlConfig | null, input: NewRequestInput, now: Date): PolicyResult {
  const config = configOrNone ?? NO_POLICY;
  const violations: PolicyViolation[] = [];
  const violate = (path: string, message: string) => violations.push({ path, message });
  const policyApprovers = repositoryApprovers(config);
  const verify = new Map<string, string>();

  /** Each name must be in the repository's set; users only a GitHub call can place are queued in `verify`. */
  const narrow = (path: string, names: string[]) => {
    const listed = new Set(policyApprovers.map(approverKey));
    const hasTeams = policyApprovers.some((approver) => approverKey(approver).includes("/"));
    names.forEach((name, index) => {
      const key = approverKey(name);
      const team = key.includes("/");
      if (listed.has(key) || (team && policyApprovers.length === 0)) return;
      if (!team && (policyApprovers.length === 0 || hasTeams)) {
        if (!verify.has(key)) verify.set(key, `${path}.${index}`);
        return;
      }
      violate(`${path}.${index}`, `${name} is not one of the approvers .hitl.yml allows: ${policyApprovers.join(", ")}`);
    });
  };

  let approvers = config.approvers;
  if (input.approvers !== undefined) {
    if (input.approvers.length === 0 && config.approvers.length > 0) {
      violate("approvers", `must name some of the approvers .hitl.yml allows (${policyApprovers.join(", ")}), or be left out: an empty list would let anyone with write access decide`);
    } else {
      narrow("approvers", input.approvers);
      approvers = input.approvers;
    }
  }

  const repoLadder = ladderFor(input.priority, { escalation: config.escalation, critical: config.escalation_critical });
  let ladder: EscalationStep[] = repoLadder.map((level) => ({
    afterMs: parseDuration(level.after)!,
    approvers: level.approvers,
    message: level.message ?? null,
    notify: level.notify ?? [],
  }));
  if (input.escalation) {
    const asked = input.escalation;
    asked.forEach((level, index) => narrow(`escalation.${index}.approvers`, level.approvers));
    if (asked.length < repoLadder.length) {
      violate("escalation", `.hitl.yml's ladder has ${repoLadder.length} levels; a request's ladder may replace it only with as many or more, each taking over no later`);
    }
    repoLadder.forEach((level, index) => {
      const mine = asked[index];
      if (mine && parseDuration(mine.after)! > parseDuration(level.after)!) {
        violate(`escalation.${index}.after`, `must be at most ${level.after}, when level ${index + 1} of .hitl.yml's ladder takes over`);
      }
    });
    // A level keeps the channels the repository's level at its place alerts.
    ladder = asked.map((level, index) => ({
      afterMs: parseDuration(level.after)!,
      approvers: level.approvers,
      message: level.message ?? null,
      notify: repoLadder[index]?.notify ?? [],
    }));
  }

  const fallback = input.fallback ?? (config.fallback as Fallback);
  if (input.fallback) checkFallback(input.fallback, input, config, violate, narrow);
  const approving = approvesAtDeadline(fallback, input);

  let deadline = new Date(now.getTime() + parseDuration(config.deadline)!).toISOString();
  if (input.deadline !== undefined) {
    const asked = deadlineAt(input.deadline, now);
    const min = parseDuration(config.min_deadline)!;
    if (asked <= now.getTime()) violate("deadline", "must be in the future");
    else if (approving && asked - now.getTime() < min) {
      violate("deadline", `must be at least ${config.min_deadline} from now (.hitl.yml's min_deadline), because the fallback approves at the deadline`);
    }
    deadline = new Date(asked).toISOString();
  }
  // A request's own stage applies the fallback at its timeout, and one that rejects only by a
  // majority may be one nobody can reject: with an approving fallback, neither gets round min_deadline.
  if (approving) {
    (input.stages ?? []).forEach((stage, index) => {
      // (A delegate fallback cannot hand a stage on: at a stage's timeout it aborts.)
      if (fallback.type !== "delegate" && stage.timeout !== undefined && stage.on_timeout !== "proceed_if_partial" && parseDuration(stage.timeout)! < parseDuration(config.min_deadline)!) {
        violate(`stages.${index}.timeout`, `must be at least ${config.min_deadline} (.hitl.yml's min_deadline), because at the stage's timeout the fallback approves`);
      }
      if (stage.reject === "majority") violate(`stages.${index}.reject`, "must be veto: the fallback approves, so one person must be able to reject");
    });
  }

  const repoWarning = config.warning_before === undefined ? null : parseDuration(config.warning_before)!;
  let warningBeforeMs = repoWarning;
  if (input.warningBefore !== undefined) {
    const asked = parseDuration(input.warningBefore)!;
    if (repoWarning !== null && asked < repoWarning) violate("warning_before", `must be at least ${config.warning_before}, .hitl.yml's warning_before`);
    warningBeforeMs = asked;
  }

  const onPull = input.surface.type === "pull_request";
  if (onPull && config.invalidate_on_push && input.invalidateOnPush === false) {
    violate("invalidate_on_push", ".hitl.yml has invalidate_on_push: true; a request may switch it on, not off");
  }
  const invalidateOnPush = input.invalidateOnPush ?? (onPull ? config.invalidate_on_push : false);

  const traced = traceRequirements(config, input, now);
  const applying = traced.filter((entry) => entry.applies).map((entry) => entry.requirement);
  const feedback = settleFeedback(foldFeedback([config.feedback, ...applying.map((requirement) => requirement.feedback)]), input.feedback, violate);
  const editableFields = settleEditable(applying, input, violate);
  const repoMaxAge = config.max_decision_age === undefined ? null : parseDuration(config.max_decision_age)!;
  let maxDecisionAgeMs = repoMaxAge;
  if (input.maxDecisionAge !== undefined) {
    const asked = parseDuration(input.maxDecisionAge)!;
    if (repoMaxAge !== null && asked > repoMaxAge) violate("max_decision_age", `must be at most ${config.max_decision_age}, .hitl.yml's max_decision_age`);
    maxDecisionAgeMs = repoMaxAge === null ? asked : Math.min(asked, repoMaxAge);
  }
  const settled = settleStages(applying, input, violate, narrow);
  // The file's own stages apply the request's fallback at their timeouts too.
  if (approving && input.fallback && fallback.type !== "delegate") {
    const min = parseDuration(config.min_deadline)!;
    const early = applying.flatMap((requirement) => requirement.stages ?? []).find((stage) => stage.timeout !== undefined && stage.on_timeout !== "proceed_if_partial" && parseDuration(stage.timeout)! < min);
    if (early) violate("fallback_action", `approves at the timeout of .hitl.yml's stage ${early.name} (${early.timeout}), sooner than ${config.min_deadline} (.hitl.yml's min_deadline)`);
  }

  if (verify.size > MAX_VERIFIED_USERS) {
    violate("approvers", `names ${verify.size} people GitHub must be asked about (across approvers, escalation and fallback_action); at most ${MAX_VERIFIED_USERS}`);
  }
  if (violations.length > 0) return { ok: false, violations };
  return {
    ok: true,
    policy: {
      approvers,
      policyApprovers,
      deadline,
      fallback,
      ladder,
      warningBeforeMs,
      invalidateOnPush,
      ...(feedback ? { feedback } : {}),
      ...(editableFields ? { editableFields } : {}),
      maxDecisionAgeMs,
      ...(settled.stages ? { stages: settled.stages } : {}),
      ...(traced.length > 0 ? { requirements: traced.map((entry) => ({ name: entry.requirement.name, applies: entry.applies, reasons: entry.reasons })) } : {}),
      ...(settled.origins ? { stageOrigins: settled.origins } : {}),
      verify: [...verify].map(([login, path]) => ({ path, login })),
    },
  };
}

/**
 * Everyone `.hitl.yml` lets decide: with approvers, those and everyone its ladders and its own
 * `delegate` fallback name; without, anyone with write access (empty).
 */
export function repositoryApprovers(config: HitlConfig): string[] {
  if (config.approvers.length === 0) return [];
  const ladders = [...config.escalation, ...(config.escalation_critical ?? [])].flatMap((level) => level.approvers);
  const delegated = config.fallback.type === "delegate" ? (config.fallback.approvers ?? []) : [];
  const staged = (config.requirements ?? []).flatMap((requirement) => (requirement.stages ?? []).flatMap((stage) => [...stage.approvers, ...Object.keys(stage.weights ?? {})]));
  return dedupe([...config.approvers, ...ladders, ...delegated, ...staged]);
}

/** Whether a fallback ends the request by approving it without a person: a default action of kind approve, or a rule. */
export function approvesAtDeadline(fallback: Fallback, request: Pick<NewRequestInput, "availableActions">): boolean {
  if (fallback.type === "use_default") return actionKind(request, fallback.action) === "approve";
  return fallback.type === "delegate" && fallback.rule !== undefined;
}

/** Whether `.hitl.yml` lets an agent's own fallback approve requests of this type. */
export function allowsApprovingFallback(config: HitlConfig, requestType: string | undefined): boolean {
  const types = config.approving_fallbacks?.request_types ?? [];
  return types.includes("*") || (requestType !== undefined && types.includes(requestType));
}

/** The sentence for a user a GitHub look-up did not place in the repository's set. */
export function notAllowedMessage(login: string, policyApprovers: string[], repo: string): string {
  return policyApprovers.length === 0
    ? `${login} does not have write access to ${repo}, so may not decide its requests`
    : `${login} is not one of the approvers .hitl.yml allows, nor a member of its teams: ${policyApprovers.join(", ")}`;
}

/** The repository's own `fallback:` is the owners' choice; an agent's is checked. */
function checkFallback(
  fallback: Fallback,
  input: NewRequestInput,
  config: HitlConfig,
  violate: (path: string, message: string) => void,
  narrow: (path: string, names: string[]) => void,
): void {
  if (fallback.type === "use_default" && actionKind(input, fallback.action) === null) {
    violate("fallback_action.action", `must be approve, reject or one of available_actions (${input.availableActions.map((action) => action.id).join(", ")})`);
  }
  if (fallback.type === "delegate" && fallback.approvers) narrow("fallback_action.approvers", fallback.approvers);
  if (!approvesAtDeadline(fallback, input) || allowsApprovingFallback(config, input.requestType)) return;
  const path = fallback.type === "use_default" ? "fallback_action.action" : "fallback_action.rule";
  const what = fallback.type === "use_default" ? `use_default with ${fallback.action}` : `delegate to rule ${fallback.type === "delegate" ? fallback.rule : ""}`;
  const allowed = config.approving_fallbacks?.request_types;
  const why = allowed
    ? `.hitl.yml's approving_fallbacks allows that only for request types ${allowed.join(", ")}`
    : ".hitl.yml does not allow that for a request's own fallback (approving_fallbacks)";
  violate(path, `${what} would approve without a person; ${why}`);
}

/** The stage a `required_approvals` becomes. */
export const QUORUM_STAGE = QUORUM_STAGE_NAME;

/** A stage as the core runs it, durations resolved. */
export function toStage(stage: StageConfig): Stage {
  return {
    name: stage.name,
    approvers: stage.approvers,
    required: stage.required ?? 1,
    ...(stage.weights ? { weights: stage.weights, threshold: stage.threshold ?? 1 } : {}),
    ...(stage.timeout ? { timeoutMs: parseDuration(stage.timeout)!, onTimeout: stage.on_timeout } : {}),
    reject: stage.reject,
    allowRepeatApprovers: stage.allow_repeat_approvers,
    ...(stage.then ? { then: stage.then.map((branch) => ({ when: branch.when, ...(branch.next ? { next: branch.next } : {}), ...(branch.action ? { action: branch.action } : {}) })) } : {}),
  };
}

/**
 * The quorum and stages a request goes through, from the applying `.hitl.yml` requirements:
 * `required_approvals` fold into one first stage needing the largest of them; the requirements' stages follow in file order (a stage name already taken is kept once, its first);
 * the request's own stages come last. A request may raise the quorum and add stages, never lower
 * or drop what `.hitl.yml` asks: each attempt is a violation naming the field.
 */
function settleStages(
  applying: Requirement[],
  input: NewRequestInput,
  violate: (path: string, message: string) => void,
  narrow: (path: string, names: string[]) => void,
): { stages?: Stage[]; origins?: string[][] } {
  const quorumFrom = applying.filter((requirement) => requirement.required_approvals !== undefined);
  let quorum = Math.max(1, ...quorumFrom.map((requirement) => requirement.required_approvals!));
  if (input.requiredApprovals !== undefined) {
    if (input.requiredApprovals < quorum) {
      const names = quorumFrom.filter((requirement) => requirement.required_approvals === quorum).map((requirement) => requirement.name);
      violate("required_approvals", `must be at least ${quorum}, what .hitl.yml's requirement ${names.join(", ")} asks for this request`);
    } else quorum = input.requiredApprovals;
  }
  const stages: Stage[] = quorum > 1 ? [{ name: QUORUM_STAGE, approvers: [], required: quorum, reject: "veto", allowRepeatApprovers: false }] : [];
  const origins: string[][] = quorum > 1 ? [[...quorumFrom.map((requirement) => `requirement ${requirement.name}`), ...(input.requiredApprovals !== undefined ? ["the request's required_approvals"] : [])]] : [];
  const indexOf = (name: string) => stages.findIndex((stage) => stage.name.toLowerCase() === name.toLowerCase());
  /** Where each stage is in the request's own `stages`, for naming a field; undefined for `.hitl.yml`'s. */
  const requestIndex: (number | undefined)[] = stages.map(() => undefined);
  for (const requirement of applying) {
    for (const stage of requirement.stages ?? []) {
      // The schema refuses such a file; a config that reached here some other way fails closed.
      if (indexOf(stage.name) >= 0) {
        violate("stages", `.hitl.yml's requirements define stage ${stage.name} twice; stage names must be unique across requirements`);
        continue;
      }
      stages.push(toStage(stage));
      origins.push([`requirement ${requirement.name}`]);
      requestIndex.push(undefined);
    }
  }
  (input.stages ?? []).forEach((stage, index) => {
    const path = `stages.${index}`;
    if (indexOf(stage.name) >= 0) {
      violate(`${path}.name`, `${stage.name} is a stage .hitl.yml already requires (${stages.map((s) => s.name).join(", ")}); a request adds stages under new names`);
      return;
    }
    narrow(`${path}.approvers`, stage.approvers);
    if (stage.weights) narrow(`${path}.weights`, Object.keys(stage.weights));
    stages.push(toStage(stage));
    origins.push(["the request"]);
    requestIndex.push(index);
  });
  stages.forEach((stage, index) =>
    stage.then?.forEach((branch, at) => {
      if (branch.action !== undefined && actionKind(input, branch.action) === null) {
        const mine = requestIndex[index];
        const where = mine === undefined ? "available_actions" : `stages.${mine}.then.${at}.action`;
        violate(where, `stage ${stage.name} may end the request with ${branch.action}, which must be approve, reject or one of available_actions`);
      }
    }),
  );
  return stages.length > 0 ? { stages, origins } : {};
}

type Requirement = NonNullable<HitlConfig["requirements"]>[number];

/** Every `.hitl.yml` requirement, whether its `when` holds for the request (none: it always applies), and why. */
function traceRequirements(config: HitlConfig, input: NewRequestInput, now: Date): { requirement: Requirement; applies: boolean; reasons: string[] }[] {
  const facts = { decisionData: input.decisionData, requestType: input.requestType ?? null, riskScore: input.riskScore ?? null, confidence: input.confidence ?? null, ...(input.sensitivePaths ? { sensitivePaths: input.sensitivePaths } : {}) };
  return (config.requirements ?? []).map((requirement) => {
    if (!requirement.when) return { requirement, applies: true, reasons: ["applies to every request"] };
    const result = evaluateCondition(requirement.when, facts, now);
    return { requirement, applies: result.matched, reasons: result.reasons };
  });
}
