import { hitlConfigSchema, type EnvironmentConfig, type HitlConfig } from "../config/schema.js";
import type { NewRequestInput } from "./build-request.js";
import { actionKind } from "./decide.js";
import { approvesAtDeadline } from "./effective-policy.js";
import { parseDuration } from "./duration.js";
import type { ActionOption, ApprovalRequest, DeploymentRef, Fallback, Priority } from "./types.js";

/**
 * Deployments gated like requests: a `deployment_protection_rule` event becomes a request whose
 * policy is `.hitl.yml`'s `environments:` entry laid over the file's top level, so
 * `effectivePolicy` settles it like any other request. Pure: no I/O, no clock.
 */

/** What `requestedBy` is for a deployment: never an agent's name (agent names have no `:`). */
export const DEPLOYMENT_REQUESTER = "github:deployment";

export const DEPLOYMENT_REQUEST_TYPE = "deployment";

/** The fallback a deployment gets when the file's own would approve for an environment it does not name. */
export const UNLISTED_FALLBACK: Fallback = { type: "abort", reason: "No decision before the deadline; the deployment is rejected" };

const NO_POLICY: HitlConfig = hitlConfigSchema.parse({});

export type CallbackCheck = { ok: true; runId: number } | { ok: false; reason: string };

/**
 * The event's `deployment_callback_url` must be `<api>/repos/<owner>/<repo>/actions/runs/<id>/deployment_protection_rule`
 * on the GitHub API hitl is configured for, for the event's own repository. hitl answers through
 * that endpoint with the run id taken from it, never by posting to the URL itself.
 */
export function checkDeploymentCallback(callbackUrl: unknown, apiBaseUrl: string, repo: string): CallbackCheck {
  if (typeof callbackUrl !== "string") return { ok: false, reason: "the event has no deployment_callback_url" };
  let url: URL;
  let base: URL;
  try {
    url = new URL(callbackUrl);
    base = new URL(apiBaseUrl);
  } catch {
    return { ok: false, reason: "deployment_callback_url is not a URL" };
  }
  if (url.origin !== base.origin) return { ok: false, reason: `deployment_callback_url points at ${url.origin}, not the GitHub API (${base.origin})` };
  if (url.username || url.password || url.search || url.hash) return { ok: false, reason: "deployment_callback_url carries credentials, a query or a fragment" };
  const prefix = base.pathname.replace(/\/+$/, "");
  const [owner = "", name = ""] = repo.toLowerCase().split("/");
  const match = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/([1-9][0-9]{0,18})\/deployment_protection_rule$/.exec(url.pathname.slice(prefix.length));
  if (!url.pathname.startsWith(`${prefix}/`) || !match) return { ok: false, reason: "deployment_callback_url is not a workflow run's deployment_protection_rule endpoint" };
  const [, urlOwner = "", urlName = "", run = ""] = match;
  if (decoded(urlOwner).toLowerCase() !== owner || decoded(urlName).toLowerCase() !== name) {
    return { ok: false, reason: `deployment_callback_url names another repository than ${repo}` };
  }
  const runId = Number(run);
  return Number.isSafeInteger(runId) ? { ok: true, runId } : { ok: false, reason: "deployment_callback_url names a run id out of range" };
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The `environments:` entry for an environment: its exact name first (without regard to case, as
 * GitHub compares environment names), then the first glob in file order that matches.
 */
export function environmentEntry(config: HitlConfig | null, environment: string): { name: string; entry: EnvironmentConfig } | null {
  const entries = Object.entries(config?.environments ?? {});
  const wanted = environment.toLowerCase();
  const exact = entries.find(([name]) => !isGlob(name) && name.toLowerCase() === wanted);
  const found = exact ?? entries.find(([name]) => isGlob(name) && globMatches(name, environment));
  return found ? { name: found[0], entry: found[1] } : null;
}

const isGlob = (name: string) => /[*?]/.test(name);

function globMatches(glob: string, name: string): boolean {
  const source = [...glob].map((char) => (char === "*" ? ".*" : char === "?" ? "." : char.replace(/[.+^${}()|[\]\\]/g, "\\$&"))).join("");
  return new RegExp(`^${source}$`, "is").test(name);
}

/**
 * The policy a deployment to `environment` is opened under: `.hitl.yml` with the environment's
 * entry laid over its top level, as a config `effectivePolicy` reads like any other. Rules and
 * `auto_approve` never decide a deployment; a person does, or the fallback. An environment the
 * file does not name (or a missing or broken file) still waits for people: the file's approvers
 * (anyone with write access when it names none), and a fallback that would approve rejects instead.
 */
export function deploymentPolicy(configOrNone: HitlConfig | null, environment: string): { config: HitlConfig; entry: string | null; priority: Priority } {
  const base: HitlConfig = { ...(configOrNone ?? NO_POLICY), rules: [], auto_approve: undefined };
  const found = environmentEntry(configOrNone, environment);
  if (!found) return { config: { ...base, fallback: unlessApproving(base.fallback as Fallback) }, entry: null, priority: "normal" };
  const { name, entry } = found;
  const deadline = entry.deadline ?? base.deadline;
  const inheritedWarning = base.warning_before !== undefined && parseDuration(base.warning_before)! < parseDuration(deadline)! ? base.warning_before : undefined;
  const adds = entry.required_approvals !== undefined || entry.stages !== undefined;
  const config: HitlConfig = {
    ...base,
    approvers: entry.approvers ?? base.approvers,
    deadline,
    warning_before: entry.warning_before ?? inheritedWarning,
    fallback: entry.fallback ?? unlessApproving(base.fallback as Fallback),
    escalation: entry.escalation ?? base.escalation,
    // The environment's own ladder serves every priority; else the file's, critical one included.
    escalation_critical: entry.escalation ? undefined : base.escalation_critical,
    requirements: [
      ...(base.requirements ?? []),
      ...(adds ? [{ name: `environment ${name}`, ...(entry.required_approvals !== undefined ? { required_approvals: entry.required_approvals } : {}), ...(entry.stages ? { stages: entry.stages } : {}) }] : []),
    ],
  };
  return { config, entry: name, priority: entry.priority };
}

/** The file's own fallback, for a deployment: one that would approve it rejects instead. */
function unlessApproving(fallback: Fallback): Fallback {
  return approvesAtDeadline(fallback, { availableActions: DEPLOYMENT_ACTIONS }) ? UNLISTED_FALLBACK : fallback;
}

/** What people choose between on a deployment. */
export const DEPLOYMENT_ACTIONS: ActionOption[] = [
  { id: "approve", label: "Deploy", kind: "approve" },
  { id: "reject", label: "Do not deploy", kind: "reject" },
];

/**
 * The request a deployment becomes: what is deployed where, as decision data `.hitl.yml`'s
 * requirements can match on (`task_type: [deployment]`, `field: environment`), one request per
 * workflow run, environment and deployment (a re-run of the run is a new deployment and asks again).
 */
export function deploymentRequestInput(repo: string, deployment: DeploymentRef, priority: Priority): NewRequestInput {
  const why =
    deployment.policy === null
      ? `hitl is a deployment protection rule of ${deployment.environment}, which .hitl.yml's environments: does not name, so the repository's approvers decide`
      : `Deployments to ${deployment.environment} wait for a person (.hitl.yml environments: ${deployment.policy})`;
  return {
    repo,
    taskDescription: `Deploy ${deployment.ref} to ${deployment.environment}`,
    approvalReason: why,
    decisionData: {
      environment: deployment.environment,
      ref: deployment.ref,
      sha: deployment.sha,
      workflow_run: deployment.runId,
      ...(deployment.creator ? { triggered_by: deployment.creator } : {}),
      ...(deployment.event ? { event: deployment.event } : {}),
    },
    availableActions: DEPLOYMENT_ACTIONS.map((action) => ({ ...action, impact: action.kind === "approve" ? `The workflow run deploys ${deployment.ref} to ${deployment.environment}` : "The deployment job fails without deploying" })),
    priority,
    surface: { type: "issue" },
    requestType: DEPLOYMENT_REQUEST_TYPE,
    idempotencyKey: `deployment:${repo}:${deployment.runId}:${deployment.environment.toLowerCase()}${deployment.deploymentId === null ? "" : `:${deployment.deploymentId}`}`,
    workflowId: String(deployment.runId),
  };
}

/** GitHub keeps a review's comment short; hitl's say who decided and why in a few sentences. */
const COMMENT_LIMIT = 1_000;

/**
 * How hitl answers GitHub for an ended request: `approved` only when people (or an approving
 * fallback the file set for this environment) approved; everything else rejects the deployment.
 */
export function deploymentAnswer(request: ApprovalRequest, issueUrl: string | null): { state: "approved" | "rejected"; comment: string } {
  const decision = request.decision;
  const approves = decision !== null && (request.status === "approved" || request.status === "expired") && actionKind(request, decision.action) === "approve";
  const state = approves ? "approved" : "rejected";
  const by = decision?.decidedBy;
  const why = decision?.justification?.trim() ? `: ${decision.justification.trim()}` : "";
  let text: string;
  if (!decision) text = `${capital(request.status)} on hitl`;
  else if (by?.type === "human") {
    const approvals = decision.approvals?.filter((vote) => actionKind(request, vote.action) === "approve").map((vote) => vote.by) ?? [];
    const who = approvals.length > 1 && approves ? approvals.join(", ") : by.login;
    text = `${approves ? "Approved" : "Rejected"} on hitl by ${who}${why}`;
  } else if (by?.type === "fallback") text = `Nobody decided on hitl by the deadline, so the fallback ${approves ? "approved" : "rejected"} it${why}`;
  else text = `${capital(request.status)} on hitl${why}`;
  const link = issueUrl ? ` ${issueUrl}` : "";
  const room = COMMENT_LIMIT - link.length;
  const body = text.length > room ? `${text.slice(0, room - 1)}…` : /[.!?…]$/.test(text) ? text : `${text}.`;
  return { state, comment: `${body}${link}` };
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
