import type { Stage, StageEnd, Vote } from "./aggregate.js";

/**
 * The domain of hitl as plain data. Everything here is serialisable to JSON and free of I/O,
 * so the store can persist it as-is and the core can be tested with literals.
 */

import type { StageConfig } from "../config/schema.js";

export const PRIORITIES = ["low", "normal", "high", "critical"] as const;
export type Priority = (typeof PRIORITIES)[number];

/**
 * `superseded`: an approval the agent found no longer holds (its context drifted, or it grew too
 * old) and asked again about; a linked follow-up request (`supersededBy`) carries the new question.
 */
export const STATUSES = ["pending", "approved", "rejected", "expired", "cancelled", "superseded"] as const;
export type RequestStatus = (typeof STATUSES)[number];
export type FinalStatus = Exclude<RequestStatus, "pending">;

export type ActionKind = "approve" | "reject";

/** One thing an approver may choose, with what it does. `approve` and `reject` are the usual ids. */
export interface ActionOption {
  id: string;
  label: string;
  impact?: string;
  /**
   * Whether choosing it approves or rejects the request. Required for ids other than `approve`
   * and `reject`; requests stored before kinds existed lack it (see `actionKind`).
   */
  kind?: ActionKind;
  /** What this alternative would do, as data; a `comparative` request shows one column per alternative. */
  data?: Record<string, unknown>;
}

/** A field of decision_data an approver may change, with its bounds. */
export type EditableField =
  | { type: "number"; minimum?: number; maximum?: number }
  | { type: "string"; maxLength?: number; enum?: string[] }
  | { type: "boolean" };

/** What a person must give with a decision: a justification, and a reason code from a fixed list when rejecting. */
export interface FeedbackPolicy {
  /** 0: no justification needed; n: at least n characters (a bare `true` is 1). */
  minLength: number;
  /** Reason codes a rejection must start with; empty: none needed. */
  reasons: string[];
}

export const PRESENTATIONS = ["binary", "multiple_choice", "detailed_review", "comparative"] as const;
export type Presentation = (typeof PRESENTATIONS)[number];

/** One part of a `detailed_review`, shown in order. */
export interface ReviewSection {
  title: string;
  text?: string;
  data?: unknown;
}

/**
 * How a client integrates the decision when it resumes (hitl stores and returns it; the clients act on it):
 * `immediate` acts on the decision as it is; `validated` first asks `POST …/validate` whether the
 * approval still holds for its current context; `guided` hands the person's edits, reason and
 * justification back to the agent as guidance; `fresh_start` hands them back as constraints for a
 * new plan instead of resuming the old one.
 */
export const RESUME_MODES = ["immediate", "validated", "guided", "fresh_start"] as const;
export type ResumeMode = (typeof RESUME_MODES)[number];

/** One field of decision_data whose approved value differs from the agent's current one. Absent sides were absent. */
export interface DriftedField {
  /** Dotted path into decision_data, e.g. `refund.amount`. */
  field: string;
  approved?: unknown;
  current?: unknown;
}

/** What changed between an approval and the context an agent validated it against. */
export interface Drift {
  fields: DriftedField[];
  /** Pull requests: the head the approval was given on, and the head now. */
  head?: { approved: string | null; current: string | null };
  /** The approval's age and the request's `maxDecisionAgeMs`, when it was too old. */
  age?: { ms: number; maxMs: number };
}

/**
 * What the agent asked for of the policy when it opened the request (its own deadline as a
 * duration from creation), kept so a follow-up is opened under exactly the same asks.
 */
export interface PolicyAsks {
  approvers?: string[];
  fallback?: Fallback;
  deadlineMs?: number;
  escalation?: { after: string; approvers: string[]; message?: string }[];
  warningBefore?: string;
  invalidateOnPush?: boolean;
  maxDecisionAge?: string;
  /** What the agent asked people to give with a decision (`feedback` as the request sent it). */
  feedback?: { minLength?: number; reasons?: string[] };
  /** The sign-off the agent added: more approvals, more stages. */
  requiredApprovals?: number;
  stages?: StageConfig[];
  /**
   * The editable fields the agent declared, kept when `.hitl.yml`'s requirements added others to
   * the stored request. Absent: the stored request's fields are all the agent's.
   */
  editableFields?: Record<string, EditableField>;
  /** The agent sent no decision_data for a pull request: its summary was shown instead. */
  wholePullRequest?: boolean;
}

/** What happens when nobody decides before the deadline. */
export type Fallback =
  | { type: "abort"; reason: string; cleanup?: string }
  | { type: "use_default"; action: string; value?: unknown; reason?: string }
  | { type: "degrade"; mode: string; reason?: string }
  | { type: "delegate"; approvers?: string[]; rule?: string; extend_by?: string; reason?: string }
  | { type: "retry_with_modification"; modifications: Record<string, unknown>; reason?: string };
export type FallbackType = Fallback["type"];

/** Where the request is shown, as the agent asked for it. */
export type SurfaceSpec = { type: "issue" } | { type: "pull_request"; number: number };

/** Where the request is shown, once it has been posted. */
export interface SurfaceRef {
  type: "issue" | "pull_request";
  number: number;
  url: string | null;
  /** Pull requests only: the `hitl/approval` check run and the commit it is on. */
  checkRunId?: number;
  headSha?: string;
  /** Pull requests only: the author, who may not approve their own change. */
  author?: string;
  /**
   * The request had already ended when its surface was posted; the job that ended it found no
   * surface, and a `surface_opened` job updates it instead.
   */
  openedAfterEnd?: boolean;
}

/** Who or what made a decision. */
export type Decider =
  | { type: "human"; login: string }
  | { type: "rule"; id: string }
  | { type: "fallback"; fallback: FallbackType }
  | { type: "agent"; name: string }
  | { type: "system"; reason: string }
  /** `.hitl.yml` `predict:` with `mode: auto` (its entry's request_type as id): people's past decisions on the type (src/insights/). */
  | { type: "prediction"; id: string };

/** How a decision arrived. */
export type DecisionVia =
  | "comment"
  | "review"
  | "check_run"
  | "rule"
  | "auto_approve"
  /** A prediction from people's past decisions decided it (`predict:` with `mode: auto`). */
  | "prediction"
  | "fallback"
  | "api"
  | "pull_request_closed"
  /** Its issue's title or body was edited by someone else: cancelled by the system. */
  | "issue_edited"
  /** A person allowed to reject closed its issue, where `.hitl.yml` says `close_means: reject`. */
  | "issue_closed"
  | ChannelVia;

/** The ways a person decides outside GitHub (`engine.decideFromChannel`), as `Decision.via` names them. */
export const CHANNEL_VIAS = ["slack", "email", "link", "sms", "desk"] as const;
export type ChannelVia = (typeof CHANNEL_VIAS)[number];

/** What people are told of, outside GitHub (`.hitl.yml` `notify:`). */
export const NOTIFICATION_EVENTS = ["opened", "warning", "escalated", "decided", "expired"] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/**
 * Where one `notify:` entry sends: a channel kind addressed to each person (`slack` DMs their
 * `slack` id, `email` their address …), or a fixed destination (`{slack: {channel}}`, `{webhook: name}`).
 */
export type ChannelTarget = { kind: string } | { kind: string; destination: string };

/** A `notify:` entry as it applies to one request (its priority already matched), snapshotted at opening. */
export interface NotifyRoute {
  events: NotificationEvent[];
  channels: ChannelTarget[];
}

export const NOTIFICATION_STATES = ["queued", "held", "sent", "retrying", "failed", "withdrawn", "updated"] as const;
export type NotificationState = (typeof NOTIFICATION_STATES)[number];

/** One message to one recipient on one channel, and how it fared. */
export interface NotificationRecord {
  /** `<event key>|<channel>|<recipient>`: unique on the request. */
  key: string;
  event: NotificationEvent;
  /** `escalated:2` for the second rung; the event otherwise. A person hears each event key once. */
  eventKey: string;
  /** The channel kind: `slack`, `email`, `sms`, `webhook` … */
  channel: string;
  /** `@login` for a person, else the destination (a Slack channel id, a webhook's name). */
  recipient: string;
  state: NotificationState;
  attempts: number;
  lastError: string | null;
  /** Quiet hours: held until then. */
  heldUntil?: string;
  /** What the channel needs to update or thread on the message later (a Slack channel and ts). */
  ref?: Record<string, string>;
  at: string;
}

export interface Decision {
  /** The action id taken: `approve`, `reject`, an available action's id, or the fallback's. */
  action: string;
  status: FinalStatus;
  decidedBy: Decider;
  justification: string | null;
  decidedAt: string;
  via: DecisionVia;
  /** Set when the fallback applied. */
  fallback?: Fallback;
  /** Fields of decision_data the approver changed, where the request allowed it (`editableFields`). */
  editedFields?: Record<string, unknown>;
  /** The reason code a rejection gave, one of the request's `feedback.reasons`. */
  reasonCode?: string;
  /** With edits: SHA-256 of what was shown with the edited values in place of the originals. */
  contextHash?: string;
  /** Pull requests: the head commit the request was on when it was decided. */
  headSha?: string;
  /** Requests with stages: every vote that stood when it ended, and the stage that ended it. */
  approvals?: Vote[];
  stage?: string;
  /** The stages it went through, in order, and how each ended. */
  path?: StageEnd[];
  /**
   * The decision receipt: a compact JWS (Ed25519) over the decision's claims (see
   * receipts/receipt-payload.ts), signed in the same write that stored the decision.
   */
  receipt?: string;
}

/** One rung of the escalation ladder, durations already resolved to milliseconds. */
export interface EscalationStep {
  afterMs: number;
  approvers: string[];
  message: string | null;
  notify: string[];
}

/** The escalation state of a request: a snapshot of the policy it was opened under, and progress. */
export interface EscalationState {
  ladder: EscalationStep[];
  /** Warn this long before the deadline; null for no warning. */
  warningBeforeMs: number | null;
  /** 0 while the first approvers hold it; n after the n-th rung fired. */
  level: number;
  warned: boolean;
  /** When the sweep must next look at this request (escalate, warn or expire); null once final. */
  nextAt: string | null;
}

/** Why a delegation rule did or did not decide a request. */
export interface RuleTrace {
  ruleId: string;
  matched: boolean;
  /** Short factual sentences, e.g. "amount is 120, not below 50". */
  reasons: string[];
  /** How many of the rule's conditions held (for "closest rule"). */
  satisfied: number;
  total: number;
}

/** The result of trying a repository's policy on a request. */
export interface Evaluation {
  outcome:
    | { type: "decide"; action: string; status: "approved" | "rejected"; decider: Decider; via: "rule" | "auto_approve"; reason: string }
    | { type: "human"; reason: string };
  rules: RuleTrace[];
  /** The id of the non-matching rule that came closest, when a person must decide. */
  closestRuleId: string | null;
  /** Set when the repository's `.hitl.yml` could not be used; no rule from it applied. */
  configError: string | null;
  /** Rules in `mode: shadow` that matched: what each would have decided. They decided nothing. Absent: none matched. */
  shadow?: ShadowMatch[];
}

/** What a rule in `mode: shadow` would have done to a request, had it been enforced. */
export interface ShadowMatch {
  ruleId: string;
  /** `approve`, `reject` or the action id it would have chosen. */
  action: string;
}

/**
 * The agent's context in layers: `summary`, one line for notifications; `detail`, text shown
 * inert on the issue; `full`, any JSON, never posted anywhere, fetched on demand.
 */
export interface ContextLayers {
  summary?: string;
  detail?: string;
  full?: PackedContext;
}

/**
 * The `full` layer as stored: its JSON text, brotli-compressed past a size (core/context-layers.ts).
 * `sha256` is of its canonical JSON, which the context hash covers, so nothing reads it back to hash it.
 */
export interface PackedContext {
  sha256: string;
  /** Bytes of its JSON text (UTF-8), uncompressed. */
  bytes: number;
  encoding: "json" | "br";
  /** The JSON text (`json`), or the brotli-compressed JSON text in base64 (`br`). */
  data: string;
}

/** One field's bounds over the past decisions a prediction read: a numeric range, or the value they shared. */
export type PredictionBound = { field: string; min: number; max: number } | { field: string; value: number | string | boolean | null };

/**
 * How people would likely decide the request, from their decisions on the most similar past
 * requests of its type (`.hitl.yml` `predict:`, src/insights/predict.ts), with its evidence.
 */
export interface PredictionRecord {
  mode: "suggest" | "auto";
  /** Null: no prediction (too few similar decisions, a tie, or the request is outside their bounds). */
  outcome: "approve" | "reject" | null;
  /** Similar past decisions read, how many were approvals, and the majority's share. */
  considered: number;
  approved: number;
  agreement: number;
  /** The request ids of the past decisions read, nearest first. */
  neighbours: string[];
  bounds: PredictionBound[];
  /** Decisions by people on the type that were read (the newest, at most a window). */
  history: number;
  /** Of the latest decisions, how many the model would have predicted from the ones before, and got wrong. */
  replay: { predicted: number; disagreed: number };
  /** The sentence that explains it. */
  sentence: string;
  /** Why the prediction is not confident enough to decide; empty when it is. */
  reasons: string[];
  /** Why the guardrails keep `auto` from deciding this request; empty when they do not. */
  blocks: string[];
  /** Whether it decided the request. */
  decided: boolean;
}

export interface ApprovalRequest {
  id: string;
  /** Incremented on every write; the store's compare-and-set is on this. */
  version: number;
  /** `owner/name`. */
  repo: string;
  installationId: number;
  status: RequestStatus;
  taskDescription: string;
  approvalReason: string;
  decisionData: Record<string, unknown>;
  /**
   * Sensitive values, taken out of `decisionData` (which shows a placeholder at each path) and
   * kept only sealed (AES-256-GCM, src/sensitive/). Absent: nothing is sensitive.
   */
  sensitive?: { paths: string[]; sealed: string };
  /**
   * Values `.hitl.yml`'s `context: {show, hide}` keeps off GitHub and notifications: taken out of
   * `decisionData` (which shows a placeholder at each path) and kept here, in clear, for the
   * agent, the desk and one-click pages. Absent: everything is shown.
   */
  hidden?: { paths: string[]; values: Record<string, unknown>; /** The same for each action's `data`, by action id. */ actions?: Record<string, { paths: string[]; values: Record<string, unknown> }> };
  /** The layers of context the agent sent (`context`). Absent: none (every request stored before they existed). */
  layers?: ContextLayers;
  availableActions: ActionOption[];
  priority: Priority;
  deadline: string;
  fallback: Fallback;
  surface: SurfaceSpec;
  /** Null until the surface has been posted on GitHub. */
  surfaceRef: SurfaceRef | null;
  /** The first-level approvers (users and `@org/team`); empty means anyone with write access. */
  approvers: string[];
  /**
   * Everyone `.hitl.yml` let decide when the request was opened (its approvers and everyone its
   * ladders and fallback name; empty: anyone with write access). A person deciding must be in
   * this set as well as in the request's own. Absent on requests stored before it existed.
   */
  policyApprovers?: string[];
  requestType: string | null;
  riskScore: number | null;
  confidence: number | null;
  callbackUrl: string | null;
  /** The agent's name, from its token. */
  requestedBy: string;
  /** The agent's own GitHub identities, lowercased, from its token's options; they never decide this request. */
  agentLogins: string[];
  /** The GitHub login the agent acts for, as the agent declared it; they never decide this request. */
  onBehalfOf: string | null;
  idempotencyKey: string | null;
  /**
   * SHA-256 of the canonical request as the agent sent it with `idempotencyKey`, so a reused
   * key with a different body is refused. Absent on requests stored before it was kept.
   */
  idempotencyFingerprint?: string;
  /** SHA-256 of the canonical JSON of what the approver is shown. */
  contextHash: string;
  /** Fields of decisionData an approver may change when approving. Absent: none. */
  editableFields?: Record<string, EditableField>;
  /** What a person must give with a decision (the request's and `.hitl.yml`'s, the stricter). Absent: nothing. */
  feedback?: FeedbackPolicy;
  /** How the issue shows the choice. Absent: the actions with their impact. */
  presentation?: Presentation;
  /** `detailed_review`: the agent's sections, in order. */
  sections?: ReviewSection[];
  /** Pull requests: new commits make an approval stale. */
  invalidateOnPush: boolean;
  createdAt: string;
  updatedAt: string;
  escalation: EscalationState;
  evaluation: Evaluation | null;
  decision: Decision | null;
  /** How far the recovery pass has read the surface; absent until its first look. */
  recovery?: RecoveryCursor;
  /**
   * Quorum and stages (see core/aggregate.ts): absent on requests that one approval decides,
   * as every request stored before they existed.
   */
  stages?: Stage[];
  /** The votes standing so far, across stages; a retracted vote is removed. */
  votes?: Vote[];
  /**
   * Set when the sweep found the request's schedule impossible to compute (a time that does
   * not parse, a date past what can be represented) and parked it: it stays pending, people
   * can still decide it, but the sweep no longer escalates or expires it.
   */
  error?: RequestError | null;
  /** The agent's correlation id (e.g. its workflow run); requests are listed by it. */
  workflowId?: string | null;
  /** Opaque JSON the agent gets back with the decision; never shown to people. */
  checkpoint?: unknown;
  /**
   * How long its context is kept after it ends and its audit entries after they are written, in
   * ms (HITL_RETENTION_* narrowed by `.hitl.yml` `retention:`, when it was opened); null: for
   * ever. Absent on requests stored before retention existed: the environment's alone.
   */
  retention?: RequestRetention;
  /** When retention removed its context (see core/retention.ts); absent while it is kept. */
  contextPurgedAt?: string;
  /** How long an approval holds, in ms (`.hitl.yml`'s `max_decision_age` or shorter); null: no limit. */
  maxDecisionAgeMs?: number | null;
  /** How the agent's client integrates the decision. Absent on requests stored before it existed: `immediate`. */
  resume?: ResumeMode;
  /** What the agent asked of the policy; absent on requests stored before it was kept. */
  asked?: PolicyAsks;
  /** A follow-up: the request whose approval it asks again about, and what had changed. */
  supersedes?: { id: string; drift: Drift } | null;
  /** A superseded request: the follow-up that asks again. */
  supersededBy?: string | null;
  /** A deployment waiting on hitl as its environment's protection rule; absent for an agent's request. */
  deployment?: DeploymentRef;
  /** `.hitl.yml` `notify:` entries for this request's priority, as it was opened. Absent: nobody is told outside GitHub. */
  notify?: NotifyRoute[];
  /** The messages sent (or held, or failing) outside GitHub about this request. */
  notifications?: NotificationRecord[];
  /** One row of a batch issue (`.hitl.yml` `batch:`); absent for a request shown on its own. */
  batch?: BatchMembership;
  /** `.hitl.yml` `predict:` for its type: how people would likely decide it, made when it was opened. */
  prediction?: PredictionRecord;
}

/** Where a request sits in a batch: the batch, its row, and when the batch's issue is posted. */
export interface BatchMembership {
  /** `bat_…`, the same for every row; decisions made through the batch name it (audit `batch_id`). */
  id: string;
  /** From 1; a row number never moves to another request. */
  row: number;
  /** When the batch's issue is posted, unless it fills up first. */
  postAt: string;
  /** The counter whose numbers `first` to `first + maxSize - 1` are this batch's rows. */
  counter: string;
  first: number;
  maxSize: number;
  /**
   * When the row went onto the batch's issue (for the rows it was posted with, just before it was
   * posted). A command written before then never decides the row: its writer did not see it.
   * Absent on rows shown before this was kept.
   */
  shownAt?: string;
}

/**
 * A deployment to a GitHub environment, as its `deployment_protection_rule` event described it.
 * hitl answers GitHub for `runId` and `environment` once the request ends, and never uses a URL
 * from the event to do so: the callback URL was checked against the GitHub API and the repository.
 */
export interface DeploymentRef {
  environment: string;
  /** The branch, tag or sha being deployed. */
  ref: string;
  sha: string;
  runId: number;
  /** The workflow run and the commit on GitHub's web host. */
  runUrl: string;
  commitUrl: string;
  deploymentId: number | null;
  /** Who created the deployment (`deployment.creator`) and who triggered the event (`sender`); neither may approve. */
  creator: string | null;
  sender: string | null;
  /** What triggered the workflow run (`push`, `workflow_dispatch`, …). */
  event: string | null;
  /** The `.hitl.yml` `environments:` entry that set the policy; null when none names the environment. */
  policy: string | null;
  /** Set once hitl answered: `taken` false when the run had been cancelled and GitHub no longer waited. */
  answer?: { state: "approved" | "rejected"; at: string; taken: boolean };
}

export interface RequestError {
  at: string;
  message: string;
}

/**
 * Where the recovery pass left off on a request's surface: GitHub does not redeliver a failed
 * webhook, so pending requests' comments (and reviews) are read again, cheaply and once each.
 */
export interface RecoveryCursor {
  /** When the pass last looked; the least recently looked-at requests go first. */
  checkedAt: string;
  /**
   * Comments and reviews made before this never count: the request's creation, or the push
   * after which earlier approvals are stale.
   */
  notBefore: string;
  /** The comments: listed `since` this time; those up to `lastId` are done. */
  comments: { since: string; lastId: number; etag: string | null };
  /** Pull requests: the reviews, by page (they have no `since`); those up to `lastId` are done. */
  reviews: { page: number; lastId: number; etag: string | null } | null;
}

export type AuditEvent =
  | "created"
  | "decided"
  | "escalated"
  | "warned"
  | "expired"
  | "cancelled"
  | "surface_opened"
  /** New commits made an approval stale: pending again, approvers asked again. */
  | "stale"
  /** New commits on the pull request; the request's state carries over to the new head. */
  | "head_changed"
  /** The approving review that decided the request was dismissed: pending again. */
  | "review_dismissed"
  | "delegated"
  /** The sweep could not compute the request's schedule and took it out of the due index. */
  | "error"
  /** The agent found its approval no longer holds and asked again: a follow-up request replaces it. */
  | "superseded"
  /** A vote on a request with stages that did not end it. */
  | "voted"
  /** A person withdrew their vote (or their approving review was dismissed). */
  | "vote_retracted"
  /** A stage ended and the next one opened: its approvers are asked. */
  | "stage_opened"
  /** GitHub took hitl's answer to a deployment (approved or rejected). */
  | "deployment_answered"
  /** Retention removed the ended request's context; the record keeps what the audit needs. */
  | "context_purged"
  /** Its issue was deleted or transferred away: the request is posted again in its repository. */
  | "surface_moved";

export interface RequestRetention {
  contextMs: number | null;
  auditMs: number | null;
}

/** One line of the audit trail. Appended, never changed. */
export interface AuditEntry {
  id: string;
  at: string;
  repo: string;
  requestId: string;
  event: AuditEvent;
  actor: Decider;
  status: RequestStatus;
  action: string | null;
  justification: string | null;
  contextHash: string;
  /** The agent that opened the request. */
  requestedBy?: string;
  details?: Record<string, unknown>;
  /** The entry that records a decision: the decision's receipt. */
  receipt?: string;
}

/**
 * Work that follows a state change and talks to the outside world. Jobs are written atomically
 * with the change that causes them and run at least once, so a crash never loses one.
 */
export type JobKind =
  /** Post the request on its surface (issue, or check run and review requests). */
  | "open_surface"
  /** Make the surface show the request's current state (decision, escalation, warning). */
  | "sync_surface"
  /** POST the decision to the agent's callback_url. */
  | "callback"
  /** Tell a notification channel (`job.channel`) that the request reached an escalation level. */
  | "notify"
  /** Answer GitHub's deployment protection rule for the request's workflow run and environment. */
  | "deployment_review"
  /** Work out who hears of an event (`.hitl.yml` `notify:` and `people:`), record it and queue the sends. */
  | "channel_event"
  /** Send, or update, one recorded notification (`job.notification`). */
  | "channel_send"
  /** Apply a decision a channel acknowledged before applying it (`job.input`: a Slack button press). */
  | "channel_input";

export interface Job {
  id: string;
  kind: JobKind;
  requestId: string;
  /** Which state change caused it, for the surface to say the right thing. */
  reason: AuditEvent;
  /** `notify` jobs: the channel's name. */
  channel?: string;
  /** `channel_send` jobs: the notification record's key, and whether to send it or update it after the end. */
  notification?: { key: string; op: "send" | "update" };
  /** `channel_input` jobs: what the channel received, as that channel reads it. */
  input?: { channel: string; payload: Record<string, unknown> };
  /**
   * `sync_surface` jobs of a change a comment made (a decision, a vote): the comment's id. It gets
   * a 👍 before the surface shows the outcome, so the person sees at once that it counted.
   */
  reactTo?: number;
  runAt: string;
  attempts: number;
  lastError: string | null;
}
