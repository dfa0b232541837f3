import { createHash, createHmac, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type { WebhookDefinition } from "@octokit/webhooks-examples";
import type { Probot } from "probot";
import { nodeId, repoId, stableId, userId } from "./github-stand-in/ids.js";

/**
 * Webhook deliveries built from GitHub's own example payloads (`@octokit/webhooks-examples`):
 * each builder takes a real example and overrides only the fields a test cares about, so
 * every other field keeps its real shape.
 */

export type WebhookEventName = WebhookDefinition["name"];
export type WebhookPayload<E extends WebhookEventName> = WebhookDefinition<E>["examples"][number];

// The builders rewrite deep fields of examples whose declared types are unions over actions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const DEFAULT_REPO = "octo-org/payments";
const DEFAULT_INSTALLATION_ID = 1;
const ZERO_SHA = "0".repeat(40);
const requireJson = createRequire(import.meta.url);

/** Where a delivery comes from. */
export interface DeliveryTarget {
  /** `owner/name`. Default `octo-org/payments`. */
  repo?: string;
  /** Default 1. */
  installationId?: number;
  /** When the thing happened (ISO 8601). Default: now. */
  at?: string;
}

/** A deep clone of the first real example of `event` (and `action`) that `predicate` accepts. */
export function examplePayload<E extends WebhookEventName>(
  event: E,
  action?: string,
  predicate?: (payload: WebhookPayload<E>) => boolean,
): WebhookPayload<E> {
  const definitions = requireJson("@octokit/webhooks-examples") as WebhookDefinition[];
  const definition = definitions.find((d) => d.name === event);
  if (!definition) throw new Error(`@octokit/webhooks-examples has no "${event}" event`);
  const examples = definition.examples as Array<WebhookPayload<E>>;
  const found = examples.find(
    (payload) => (action === undefined || (payload as { action?: string }).action === action) && (predicate?.(payload) ?? true),
  );
  if (!found) throw new Error(`@octokit/webhooks-examples has no "${event}${action ? `.${action}` : ""}" example that matches`);
  return structuredClone(found);
}

export interface IssueCommentOptions extends DeliveryTarget {
  issueNumber: number;
  isPullRequest?: boolean;
  /** Default: derived from the repository, issue, login and body. */
  commentId?: number;
  body: string;
  login: string;
  userType?: "User" | "Bot";
  action?: "created" | "edited";
  /** `edited` only: the body before the edit. Default `""`. */
  previousBody?: string;
  /** Who opened the issue or pull request. Default `hitl[bot]`. */
  issueAuthor?: string;
  /** Default `COLLABORATOR`. */
  authorAssociation?: string;
}

export function issueCommentPayload(options: IssueCommentOptions): WebhookPayload<"issue_comment"> {
  const action = options.action ?? "created";
  const repo = options.repo ?? DEFAULT_REPO;
  const at = options.at ?? timestamp();
  const payload: Loose = examplePayload("issue_comment", action, (p) => action !== "created" || "installation" in p);
  const n = options.issueNumber;
  retarget(payload, options);
  renumber(payload, payload.issue.number, n);
  const htmlUrl = `https://github.com/${repo}/${options.isPullRequest ? "pull" : "issues"}/${n}`;
  Object.assign(payload.issue, {
    number: n,
    html_url: htmlUrl,
    user: account(payload.issue.user, options.issueAuthor ?? "hitl[bot]"),
    labels: [],
    assignee: null,
    assignees: [],
    milestone: null,
    state: "open",
  });
  if (options.isPullRequest) {
    payload.issue.pull_request = {
      url: `https://api.github.com/repos/${repo}/pulls/${n}`,
      html_url: htmlUrl,
      diff_url: `${htmlUrl}.diff`,
      patch_url: `${htmlUrl}.patch`,
      merged_at: null,
    };
  } else {
    delete payload.issue.pull_request;
  }
  const id = options.commentId ?? stableId("comment", `${repo}#${n}:${options.login}:${options.body}`);
  Object.assign(payload.comment, {
    id,
    node_id: nodeId("IssueComment", id),
    url: `https://api.github.com/repos/${repo}/issues/comments/${id}`,
    html_url: `${htmlUrl}#issuecomment-${id}`,
    issue_url: `https://api.github.com/repos/${repo}/issues/${n}`,
    body: options.body,
    user: account(payload.comment.user, options.login, options.userType),
    author_association: options.authorAssociation ?? "COLLABORATOR",
    created_at: action === "edited" ? minutesBefore(at, 5) : at,
    updated_at: at,
    performed_via_github_app: null,
  });
  payload.comment.reactions.url = `https://api.github.com/repos/${repo}/issues/comments/${id}/reactions`;
  if (action === "edited") payload.changes = { body: { from: options.previousBody ?? "" } };
  payload.sender = account(payload.sender, options.login, options.userType);
  return payload;
}

export interface PullRequestReviewOptions extends DeliveryTarget {
  number: number;
  /** The review's state; a `dismissed` delivery always says `dismissed`, as on GitHub. */
  state: "approved" | "changes_requested" | "commented" | "dismissed";
  body?: string | null;
  login: string;
  userType?: "User" | "Bot";
  /** The pull request's head commit. */
  headSha: string;
  /** The commit the review is on (`review.commit_id`). Default: `headSha`. */
  commitId?: string;
  /** Default: derived from the repository, number, login and commit. */
  reviewId?: number;
  /** Who opened the pull request. Default `octocat`. */
  author?: string;
  /** Default `feature-<number>`. */
  headRef?: string;
  /** Default `submitted`. */
  action?: "submitted" | "edited" | "dismissed";
  /** Default `COLLABORATOR`. */
  authorAssociation?: string;
  /** Who caused the event (`dismissed`: who dismissed the review). Default: the reviewer. */
  sender?: string;
  /** Default `open`. */
  pullState?: "open" | "closed";
}

export function pullRequestReviewPayload(options: PullRequestReviewOptions): WebhookPayload<"pull_request_review"> {
  const action = options.action ?? "submitted";
  const repo = options.repo ?? DEFAULT_REPO;
  const at = options.at ?? timestamp();
  const example = action === "dismissed" ? "dismissed" : "submitted";
  const payload: Loose = examplePayload("pull_request_review", example, (p) => "installation" in p);
  payload.action = action;
  retarget(payload, options);
  renumber(payload, payload.pull_request.number, options.number);
  resha(payload, payload.pull_request.head.sha, options.headSha);
  shapePull(payload.pull_request, repo, { ...options, headRef: options.headRef ?? `feature-${options.number}` });
  const commitId = options.commitId ?? options.headSha;
  const id = options.reviewId ?? stableId("review", `${repo}#${options.number}:${options.login}:${commitId}`);
  const htmlUrl = `https://github.com/${repo}/pull/${options.number}#pullrequestreview-${id}`;
  Object.assign(payload.review, {
    id,
    node_id: nodeId("PullRequestReview", id),
    user: account(payload.review.user, options.login, options.userType),
    body: options.body ?? null,
    commit_id: commitId,
    submitted_at: action === "dismissed" ? minutesBefore(at, 5) : at,
    state: action === "dismissed" ? "dismissed" : options.state,
    html_url: htmlUrl,
    author_association: options.authorAssociation ?? "COLLABORATOR",
  });
  payload.review._links.html.href = htmlUrl;
  const pullState = options.pullState ?? "open";
  Object.assign(payload.pull_request, { state: pullState, closed_at: pullState === "closed" ? at : null, merged_at: null });
  payload.sender = account(payload.sender, options.sender ?? options.login, options.sender ? undefined : options.userType);
  return payload;
}

export interface CheckRunRequestedActionOptions extends DeliveryTarget {
  checkRunId: number;
  /** The button's `identifier`. */
  identifier: string;
  login: string;
  userType?: "User" | "Bot";
  headSha: string;
  /** Default `hitl/approval`. */
  name?: string;
  externalId?: string;
  /** Pull requests whose head is `headSha`. Default none. */
  pullNumbers?: number[];
  /** The app that owns the check run. Default `{ id: 1, slug: "hitl" }`. */
  app?: { id: number; slug: string };
}

export function checkRunRequestedActionPayload(options: CheckRunRequestedActionOptions): WebhookPayload<"check_run"> {
  const repo = options.repo ?? DEFAULT_REPO;
  const payload: Loose = examplePayload("check_run", "requested_action");
  const run = payload.check_run;
  const [pullTemplate] = run.pull_requests;
  retarget(payload, options);
  resha(payload, run.head_sha, options.headSha);
  const repoName = repo.split("/")[1] ?? "";
  const app = { ...run.app, id: options.app?.id ?? 1, slug: options.app?.slug ?? "hitl", name: options.app?.slug ?? "hitl" };
  app.node_id = nodeId("App", app.id);
  app.owner = account(app.owner, repo.split("/")[0] ?? "octo-org", "Organization");
  app.html_url = `https://github.com/apps/${app.slug}`;
  app.external_url = app.html_url;
  const pulls = (options.pullNumbers ?? []).map((number) => ({
    ...structuredClone(pullTemplate),
    url: `https://api.github.com/repos/${repo}/pulls/${number}`,
    id: stableId("pull", `${repo}#${number}`),
    number,
    head: { ...pullTemplate.head, ref: `feature-${number}`, sha: options.headSha, repo: { ...pullTemplate.head.repo, id: repoId(repo), name: repoName } },
    base: { ...pullTemplate.base, ref: "main", repo: { ...pullTemplate.base.repo, id: repoId(repo), name: repoName } },
  }));
  Object.assign(run, {
    id: options.checkRunId,
    node_id: nodeId("CheckRun", options.checkRunId),
    head_sha: options.headSha,
    external_id: options.externalId ?? "",
    url: `https://api.github.com/repos/${repo}/check-runs/${options.checkRunId}`,
    html_url: `https://github.com/${repo}/runs/${options.checkRunId}`,
    details_url: app.html_url,
    name: options.name ?? "hitl/approval",
    status: "in_progress",
    conclusion: null,
    completed_at: null,
    app,
    pull_requests: pulls,
  });
  run.output.annotations_url = `${run.url}/annotations`;
  Object.assign(run.check_suite, { head_sha: options.headSha, app, pull_requests: pulls, head_branch: pulls[0]?.head.ref ?? null });
  payload.requested_action = { identifier: options.identifier };
  payload.sender = account(payload.sender, options.login, options.userType);
  return payload;
}

export interface PullRequestOptions extends DeliveryTarget {
  action: "opened" | "synchronize" | "closed" | "reopened";
  number: number;
  headSha: string;
  /** `synchronize` only: the previous head. Default forty zeros. */
  before?: string;
  /** `closed` only. Default false. */
  merged?: boolean;
  /** Who opened the pull request. Default `octocat`. */
  author?: string;
  /** Who caused the event. Default: the author. */
  login?: string;
  userType?: "User" | "Bot";
  /** Default `feature-<number>`. */
  headRef?: string;
  /** Default `main`. */
  baseRef?: string;
  title?: string;
  body?: string;
}

export function pullRequestPayload(options: PullRequestOptions): WebhookPayload<"pull_request"> {
  const repo = options.repo ?? DEFAULT_REPO;
  const at = options.at ?? timestamp();
  const payload: Loose = examplePayload("pull_request", options.action, (p) => "installation" in p);
  retarget(payload, options);
  renumber(payload, payload.pull_request.number, options.number);
  resha(payload, payload.pull_request.head.sha, options.headSha);
  payload.number = options.number;
  shapePull(payload.pull_request, repo, { ...options, headRef: options.headRef ?? `feature-${options.number}` });
  const closed = options.action === "closed";
  const merged = closed && (options.merged ?? false);
  Object.assign(payload.pull_request, {
    state: closed ? "closed" : "open",
    closed_at: closed ? at : null,
    merged,
    merged_at: merged ? at : null,
    updated_at: at,
    ...(options.title === undefined ? {} : { title: options.title }),
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  if (options.action === "synchronize") {
    payload.before = options.before ?? ZERO_SHA;
    payload.after = options.headSha;
  }
  payload.sender = account(payload.sender, options.login ?? options.author ?? "octocat", options.userType);
  return payload;
}

export interface PushCommit {
  /** Default: derived from `after` and the position. The last commit defaults to `after`. */
  id?: string;
  message?: string;
  added?: string[];
  modified?: string[];
  removed?: string[];
}

export interface PushOptions extends DeliveryTarget {
  /** Default `refs/heads/main`. */
  ref?: string;
  after: string;
  /** Default forty zeros (a new branch). */
  before?: string;
  commits?: PushCommit[];
  /** Who pushed. Default `octocat`. */
  login?: string;
}

export function pushPayload(options: PushOptions): WebhookPayload<"push"> {
  const repo = options.repo ?? DEFAULT_REPO;
  const at = options.at ?? timestamp();
  const login = options.login ?? "octocat";
  const payload: Loose = examplePayload("push", undefined, (p) => "installation" in p && p.commits.length > 0);
  const [template] = payload.commits;
  retarget(payload, options);
  const before = options.before ?? ZERO_SHA;
  const specs = options.commits ?? [];
  const person = { name: login, email: `${login}@users.noreply.github.com`, username: login };
  const commits = specs.map((spec, index) => {
    const id = spec.id ?? (index === specs.length - 1 ? options.after : sha1(`${options.after}:${index}`));
    return {
      ...structuredClone(template),
      id,
      tree_id: sha1(`tree:${id}`),
      distinct: true,
      message: spec.message ?? `Commit ${index + 1}`,
      timestamp: at,
      url: `https://github.com/${repo}/commit/${id}`,
      author: person,
      committer: person,
      added: spec.added ?? [],
      removed: spec.removed ?? [],
      modified: spec.modified ?? [],
    };
  });
  Object.assign(payload, {
    ref: options.ref ?? "refs/heads/main",
    before,
    after: options.after,
    created: before === ZERO_SHA,
    deleted: options.after === ZERO_SHA,
    forced: false,
    base_ref: null,
    compare: `https://github.com/${repo}/compare/${before.slice(0, 12)}...${options.after.slice(0, 12)}`,
    commits,
    head_commit: commits.at(-1) ?? null,
    pusher: { name: login, email: person.email },
  });
  payload.sender = account(payload.sender, login);
  return payload;
}

/** `sha256=<hex HMAC-SHA256 of the body>`, as in GitHub's `x-hub-signature-256` header. */
export function signWebhook(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface Delivery {
  event: string;
  payload: unknown;
  secret: string;
  /** Default: a new UUID, as GitHub sends. */
  deliveryId?: string;
  /** How long the answer may take; by default as long as it takes. */
  timeoutMs?: number;
}

/** POSTs a delivery the way GitHub does, and returns what the receiver answered. */
export async function deliver(url: string, delivery: Delivery): Promise<{ status: number; text: string; deliveryId: string }> {
  const deliveryId = delivery.deliveryId ?? randomUUID();
  const body = JSON.stringify(delivery.payload);
  const installation = (delivery.payload as { installation?: { id?: number } } | null)?.installation;
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/stand-in",
      "x-github-event": delivery.event,
      "x-github-delivery": deliveryId,
      "x-github-hook-id": "1",
      "x-github-hook-installation-target-type": "integration",
      "x-github-hook-installation-target-id": String(installation?.id ?? DEFAULT_INSTALLATION_ID),
      "x-hub-signature-256": signWebhook(delivery.secret, body),
    },
    body,
    signal: delivery.timeoutMs === undefined ? undefined : AbortSignal.timeout(delivery.timeoutMs),
  });
  return { status: response.status, text: await response.text(), deliveryId };
}

/** The argument for `probot.receive()`; the example types and Probot's differ only nominally. */
export function asProbotEvent(name: WebhookEventName, payload: unknown, id: string = randomUUID()): Parameters<Probot["receive"]>[0] {
  return { id, name, payload } as Parameters<Probot["receive"]>[0];
}

/** Points every repository reference at `target.repo` and the installation at `target.installationId`. */
function retarget(payload: Loose, target: DeliveryTarget): void {
  const fullName = target.repo ?? DEFAULT_REPO;
  const [owner = "", name = ""] = fullName.split("/");
  const from = new RegExp(`(?<=[/:])${escapeRegExp(payload.repository.full_name)}(?![\\w-])`, "g");
  rewrite(payload, (text) => text.replace(from, fullName));
  for (const repo of [payload.repository, payload.pull_request?.head?.repo, payload.pull_request?.base?.repo]) {
    if (!repo) continue;
    Object.assign(repo, {
      id: repoId(fullName),
      node_id: nodeId("Repository", repoId(fullName)),
      name,
      full_name: fullName,
      owner: account(repo.owner, owner, "Organization"),
      private: true,
      visibility: "private",
      default_branch: "main",
      description: null,
      homepage: null,
    });
    if ("master_branch" in repo) repo.master_branch = "main";
  }
  if (payload.organization) {
    const fromOrg: string = payload.organization.login;
    rewrite(payload.organization, (text) => text.split(`/${fromOrg}`).join(`/${owner}`));
    Object.assign(payload.organization, { login: owner, id: userId(owner), node_id: nodeId("Organization", userId(owner)) });
  }
  const installationId = target.installationId ?? DEFAULT_INSTALLATION_ID;
  payload.installation = { id: installationId, node_id: nodeId("IntegrationInstallation", installationId) };
}

/** Sets the pull request's author, branches and people to a plain open pull request of `repo`. */
function shapePull(pull: Loose, repo: string, options: { number: number; author?: string; headRef: string; baseRef?: string; headSha: string }): void {
  const owner = repo.split("/")[0] ?? "";
  const baseRef = options.baseRef ?? "main";
  pull.number = options.number;
  pull.user = account(pull.user, options.author ?? "octocat");
  pull.id = stableId("pull", `${repo}#${pull.number}`);
  pull.node_id = nodeId("PullRequest", pull.id);
  pull.labels = [];
  pull.assignee = null;
  pull.assignees = [];
  pull.requested_reviewers = [];
  pull.requested_teams = [];
  pull.milestone = null;
  for (const [side, ref] of [["head", options.headRef], ["base", baseRef]] as const) {
    pull[side].ref = ref;
    pull[side].label = `${owner}:${ref}`;
    pull[side].user = account(pull[side].user, owner, "Organization");
  }
  pull.head.sha = options.headSha;
}

/** A copy of the example's user object for `login`, with ids and URLs to match. */
function account(template: Loose, login: string, type?: "User" | "Bot" | "Organization"): Loose {
  const accountType = type ?? (login.endsWith("[bot]") ? "Bot" : "User");
  const user = structuredClone(template);
  const old: string = user.login;
  rewrite(user, (text) => text.split(`/${old}`).join(`/${encodeURIComponent(login)}`));
  const id = userId(login);
  if ("name" in user) user.name = login;
  if ("email" in user) user.email = `${id}+${login}@users.noreply.github.com`;
  return Object.assign(user, {
    login,
    id,
    node_id: nodeId(accountType, id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    html_url: accountType === "Bot" ? `https://github.com/apps/${login.replace(/\[bot\]$/, "")}` : `https://github.com/${login}`,
    type: accountType,
    site_admin: false,
  });
}

/** Rewrites `/issues/<n>`, `/pull/<n>` and `/pulls/<n>` in every URL. */
function renumber(payload: Loose, from: number, to: number): void {
  const pattern = new RegExp(`(/(?:issues|pulls?)/)${from}(?![0-9])`, "g");
  rewrite(payload, (text) => text.replace(pattern, `$1${to}`));
}

function resha(payload: Loose, from: string, to: string): void {
  rewrite(payload, (text) => text.split(from).join(to));
}

function rewrite(value: Loose, change: (text: string) => string): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => (typeof item === "string" ? (value[index] = change(item)) : rewrite(item, change)));
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (typeof item === "string") value[key] = change(item);
      else rewrite(item, change);
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function minutesBefore(iso: string, minutes: number): string {
  return timestamp(new Date(Date.parse(iso) - minutes * 60_000));
}

export interface IssueEditedOptions extends DeliveryTarget {
  issueNumber: number;
  /** Who edited it. */
  login: string;
  userType?: "User" | "Bot";
  /** The body after the edit, and before it; give `previousBody` for a body edit. */
  body: string;
  previousBody?: string;
  /** The title after the edit, and before it; give `previousTitle` for a title edit. */
  title?: string;
  previousTitle?: string;
  /** Who opened the issue. Default `hitl[bot]`. */
  issueAuthor?: string;
}

/** `issues.edited`: someone changed an issue's title or body. */
export function issueEditedPayload(options: IssueEditedOptions): WebhookPayload<"issues"> {
  const repo = options.repo ?? DEFAULT_REPO;
  const at = options.at ?? timestamp();
  const payload: Loose = examplePayload("issues", "edited");
  const n = options.issueNumber;
  retarget(payload, options);
  renumber(payload, payload.issue.number, n);
  Object.assign(payload.issue, {
    number: n,
    html_url: `https://github.com/${repo}/issues/${n}`,
    title: options.title ?? payload.issue.title,
    body: options.body,
    user: account(payload.issue.user, options.issueAuthor ?? "hitl[bot]"),
    state: "open",
    updated_at: at,
  });
  delete payload.issue.pull_request;
  payload.changes = {
    ...(options.previousBody !== undefined ? { body: { from: options.previousBody } } : {}),
    ...(options.previousTitle !== undefined ? { title: { from: options.previousTitle } } : {}),
  };
  payload.sender = account(payload.sender, options.login, options.userType);
  return payload;
}

export interface DeploymentProtectionRuleOptions extends DeliveryTarget {
  /** The GitHub API base the app talks to (the stand-in's `url`): the callback URL points there by default. */
  apiUrl: string;
  environment: string;
  runId: number;
  sha: string;
  /** Default `main`. */
  ref?: string;
  /** Who created the deployment (the workflow's actor). Default `deploy-agent`. */
  creator?: string;
  /** Who caused the event. Default: the creator. */
  sender?: string;
  /** What triggered the workflow run. Default `push`. */
  event?: string;
  /** Default: derived from the repository and run. */
  deploymentId?: number;
  /** Default `<apiUrl>/repos/<repo>/actions/runs/<runId>/deployment_protection_rule`, as GitHub sends it. */
  callbackUrl?: string;
}

/**
 * `deployment_protection_rule.requested`: a workflow job waits on an environment whose custom
 * protection rule is the app. `@octokit/webhooks-examples` has no example of this event, so it is
 * built from its real `deployment` example (the deployment, repository, organisation and sender
 * objects) with the fields GitHub's schema and real deliveries add: `environment`, `event`,
 * `deployment_callback_url`, `pull_requests`, and the run's `sha` and `ref` at the top.
 */
export function deploymentProtectionRulePayload(options: DeploymentProtectionRuleOptions): Loose {
  const repo = options.repo ?? DEFAULT_REPO;
  const at = options.at ?? timestamp();
  const example: Loose = examplePayload("deployment", "created", (p) => "installation" in p && "workflow_run" in p && (p as Loose).workflow_run !== null);
  retarget(example, options);
  const ref = options.ref ?? "main";
  const creator = options.creator ?? "deploy-agent";
  const id = options.deploymentId ?? stableId("deployment", `${repo}:${options.runId}:${options.environment}`);
  const deployment = {
    ...example.deployment,
    url: `https://api.github.com/repos/${repo}/deployments/${id}`,
    id,
    node_id: nodeId("Deployment", id),
    sha: options.sha,
    ref,
    task: "deploy",
    payload: {},
    original_environment: options.environment,
    environment: options.environment,
    description: null,
    creator: account(example.deployment.creator, creator),
    created_at: at,
    updated_at: at,
    statuses_url: `https://api.github.com/repos/${repo}/deployments/${id}/statuses`,
    repository_url: `https://api.github.com/repos/${repo}`,
    transient_environment: false,
    production_environment: false,
    performed_via_github_app: null,
  };
  return {
    action: "requested",
    environment: options.environment,
    event: options.event ?? "push",
    deployment_callback_url: options.callbackUrl ?? `${options.apiUrl}/repos/${repo}/actions/runs/${options.runId}/deployment_protection_rule`,
    deployment,
    pull_requests: [],
    sha: options.sha,
    ref,
    repository: example.repository,
    organization: example.organization,
    installation: example.installation,
    sender: account(example.sender, options.sender ?? creator),
  };
}

export interface IssueLifecycleOptions extends DeliveryTarget {
  issueNumber: number;
  /** Who closed, deleted or transferred it. */
  login: string;
  userType?: "User" | "Bot";
  /** Who opened the issue. Default `hitl[bot]`. */
  issueAuthor?: string;
}

/** The issue object of a lifecycle event, made to match `repo` and `issueNumber`. */
function shapeIssue(payload: Loose, options: IssueLifecycleOptions, state: "open" | "closed", at: string): void {
  const repo = options.repo ?? DEFAULT_REPO;
  const n = options.issueNumber;
  retarget(payload, options);
  renumber(payload, payload.issue.number, n);
  Object.assign(payload.issue, {
    number: n,
    html_url: `https://github.com/${repo}/issues/${n}`,
    user: account(payload.issue.user, options.issueAuthor ?? "hitl[bot]"),
    state,
    closed_at: state === "closed" ? at : null,
    updated_at: at,
  });
  delete payload.issue.pull_request;
  payload.sender = account(payload.sender, options.login, options.userType);
}

/**
 * `issues.closed`: someone closed an issue. The examples have no `closed` delivery, so this is the
 * `reopened` example (the same issue object) with the action and the issue's state as GitHub
 * sends them for a close.
 */
export function issueClosedPayload(options: IssueLifecycleOptions): WebhookPayload<"issues"> {
  const at = options.at ?? timestamp();
  const payload: Loose = examplePayload("issues", "reopened");
  payload.action = "closed";
  shapeIssue(payload, options, "closed", at);
  payload.issue.state_reason = "completed";
  return payload;
}

/** `issues.deleted`: an administrator deleted the issue. */
export function issueDeletedPayload(options: IssueLifecycleOptions): WebhookPayload<"issues"> {
  const payload: Loose = examplePayload("issues", "deleted");
  shapeIssue(payload, options, "open", options.at ?? timestamp());
  return payload;
}

/** `issues.transferred`: the issue moved to `to` (another repository), where it is issue `toNumber`. */
export function issueTransferredPayload(options: IssueLifecycleOptions & { to: string; toNumber: number }): WebhookPayload<"issues"> {
  const payload: Loose = examplePayload("issues", "transferred");
  const originalNewRepo: string = payload.changes.new_repository.full_name;
  const newIssueNumber: number = payload.changes.new_issue.number;
  shapeIssue(payload, options, "open", options.at ?? timestamp());
  const [owner = "", name = ""] = options.to.split("/");
  const from = new RegExp(`(?<=[/:])${escapeRegExp(originalNewRepo)}(?![\\w-])`, "g");
  rewrite(payload.changes, (text) => text.replace(from, options.to));
  renumber(payload.changes.new_issue, newIssueNumber, options.toNumber);
  Object.assign(payload.changes.new_repository, { id: repoId(options.to), node_id: nodeId("Repository", repoId(options.to)), name, full_name: options.to, owner: account(payload.changes.new_repository.owner, owner, "Organization") });
  Object.assign(payload.changes.new_issue, { number: options.toNumber, html_url: `https://github.com/${options.to}/issues/${options.toNumber}` });
  return payload;
}
