import { createOAuthState, type OAuthState } from "./oauth-routes.js";
import { repoId } from "./ids.js";
import type { AccountType, Permission, PullFileStatus, RepoSeed, Seed } from "./seed.js";

export interface UserRecord {
  login: string;
  type: AccountType;
}

export interface InstallationRecord {
  id: number;
  account: string;
  /** `owner/name`s, or `"all"` for every repository the account owns. */
  repos: string[] | "all";
}

export interface LabelRecord {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface ReactionRecord {
  id: number;
  content: string;
  user: string;
  createdAt: string;
}

export interface CommentRecord {
  id: number;
  body: string;
  user: string;
  createdAt: string;
  updatedAt: string;
  reactions: ReactionRecord[];
}

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED";

export interface ReviewRecord {
  id: number;
  user: string;
  state: ReviewState;
  body: string;
  commitId: string;
  submittedAt: string;
}

/** An issue, or the issue half of a pull request (they share numbers, as on GitHub). */
export interface IssueRecord {
  id: number;
  number: number;
  title: string;
  body: string | null;
  user: string;
  state: "open" | "closed";
  stateReason: string | null;
  labels: string[];
  assignees: string[];
  locked: boolean;
  isPullRequest: boolean;
  comments: CommentRecord[];
  reactions: ReactionRecord[];
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface PullFileRecord {
  filename: string;
  status: PullFileStatus;
  additions: number;
  deletions: number;
  patch?: string;
}

/** The pull-request half; title, body, state, labels and assignees live on the issue. */
export interface PullRecord {
  id: number;
  number: number;
  headSha: string;
  headRef: string;
  baseRef: string;
  baseSha: string;
  merged: boolean;
  mergedAt: string | null;
  draft: boolean;
  additions: number;
  deletions: number;
  changedFiles: number;
  files: PullFileRecord[];
  requestedReviewers: string[];
  requestedTeams: string[];
  /** Submitted reviews, oldest first. */
  reviews: ReviewRecord[];
}

export interface CheckRunAction {
  label: string;
  description: string;
  identifier: string;
}

export interface CheckRunOutput {
  title: string | null;
  summary: string | null;
  text: string | null;
  annotationsCount: number;
}

export interface CheckRunRecord {
  id: number;
  name: string;
  headSha: string;
  status: string;
  conclusion: string | null;
  externalId: string | null;
  detailsUrl: string | null;
  startedAt: string | null;
  completedAt: string | null;
  output: CheckRunOutput;
  /** Not part of GitHub's response; kept so tests can see the buttons. */
  actions: CheckRunAction[];
  /** The app that made it: this app for tokens the stand-in issued, null for any other token (another app, such as GitHub Actions). */
  appId: number | null;
}

/** A commit status (`POST /repos/{owner}/{repo}/statuses/{sha}`), the older kind of check anyone with write access can set. */
export interface CommitStatusRecord {
  id: number;
  sha: string;
  state: "error" | "failure" | "pending" | "success";
  context: string;
  description: string | null;
  targetUrl: string | null;
  /** As for check runs: this app, or null for any other token (a person, a workflow). */
  appId: number | null;
  createdAt: string;
}

/** A required status check of a protected branch; `appId` null means any source may satisfy it. */
export interface RequiredCheck {
  context: string;
  appId: number | null;
}

export interface BranchProtectionRecord {
  requiredStatusChecks: { strict: boolean; checks: RequiredCheck[] } | null;
}

/** A workflow run; `waitingOn` lists the environments whose protection rule (this app) it waits on. */
export interface WorkflowRunRecord {
  id: number;
  headSha: string;
  status: "waiting" | "in_progress" | "completed";
  conclusion: "success" | "failure" | "cancelled" | null;
  waitingOn: string[];
  /** The app's answers, in order. */
  reviews: { environment: string; state: "approved" | "rejected" | null; comment: string | null; installationId: number; at: string }[];
  createdAt: string;
}

export interface RepoRecord {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  defaultBranch: string;
  private: boolean;
  files: Record<string, Record<string, string>>;
  collaborators: Record<string, Permission>;
  labels: Record<string, LabelRecord>;
  issues: IssueRecord[];
  pulls: PullRecord[];
  checkRuns: CheckRunRecord[];
  statuses: CommitStatusRecord[];
  /** Branch protection by branch name. */
  protection: Record<string, BranchProtectionRecord>;
  runs: WorkflowRunRecord[];
  /** The highest number an issue that has since been deleted or transferred away had: GitHub never reuses one. */
  goneIssueNumber?: number;
}

export interface StandInState {
  app: { id: number; slug: string; name: string };
  installations: InstallationRecord[];
  repos: Record<string, RepoRecord>;
  teams: Record<string, string[]>;
  members: Record<string, string[]>;
  users: Record<string, UserRecord>;
  /** Installation tokens the stand-in issued, and the installation each belongs to. */
  tokens: Record<string, number>;
  /** The next id for anything the stand-in creates (issues, comments, check runs, …). */
  nextId: number;
  /** The App's OAuth credentials and GitHub's side of user sign-in; null when not seeded. */
  oauth: OAuthState | null;
}

export const DEFAULT_REPO = "octo-org/payments";

export function createState(seed: Seed, now: string): StandInState {
  const state: StandInState = {
    app: { id: seed.app?.id ?? 1, slug: seed.app?.slug ?? "hitl", name: seed.app?.name ?? "hitl" },
    installations: [],
    repos: {},
    teams: structuredClone(seed.teams ?? {}),
    members: structuredClone(seed.members ?? {}),
    users: {},
    tokens: {},
    nextId: 1000,
    oauth: createOAuthState(seed.oauth),
  };
  for (const [login, type] of Object.entries(seed.users ?? {})) state.users[login] = { login, type };
  const repoSeeds = seed.repos ?? { [DEFAULT_REPO]: {} };
  for (const [fullName, repoSeed] of Object.entries(repoSeeds)) {
    state.repos[fullName] = seedRepo(state, fullName, repoSeed, now);
  }
  const firstOwner = Object.keys(repoSeeds)[0]?.split("/")[0] ?? "octo-org";
  const installations = seed.installations ?? [{ id: 1, account: firstOwner, repos: Object.keys(repoSeeds) }];
  state.installations = installations.map((i) => ({ id: i.id, account: i.account, repos: i.repos ?? "all" }));
  const owners = [...Object.values(state.repos).map((r) => r.owner), ...state.installations.map((i) => i.account)];
  for (const login of owners) state.users[login] ??= { login, type: "Organization" };
  return state;
}

export function allocateId(state: StandInState): number {
  state.nextId += 1;
  return state.nextId;
}

function seedRepo(state: StandInState, fullName: string, seed: RepoSeed, now: string): RepoRecord {
  const [owner, name] = fullName.split("/");
  if (!owner || !name) throw new Error(`stand-in seed: repository "${fullName}" is not owner/name`);
  const defaultBranch = seed.defaultBranch ?? "main";
  const repo: RepoRecord = {
    id: repoId(fullName),
    owner,
    name,
    fullName,
    defaultBranch,
    private: seed.private ?? true,
    files: structuredClone(seed.files ?? {}),
    collaborators: { ...seed.collaborators },
    labels: {},
    issues: [],
    pulls: [],
    checkRuns: [],
    statuses: [],
    protection: {},
    runs: (seed.runs ?? []).map((run) => ({ id: run.id, headSha: run.headSha, status: "waiting", conclusion: null, waitingOn: [...run.waitingOn], reviews: [], createdAt: now })),
  };
  for (const pull of seed.pulls ?? []) {
    const files = (pull.files ?? []).map((f) => ({
      filename: f.filename,
      status: f.status ?? "modified",
      additions: f.additions ?? 1,
      deletions: f.deletions ?? 0,
      ...(f.patch === undefined ? {} : { patch: f.patch }),
    }));
    const issue = newIssue(state, pull.number, pull.title ?? `Pull request #${pull.number}`, pull.body ?? null, pull.user ?? "octocat", now);
    issue.isPullRequest = true;
    if (pull.state === "closed" || pull.merged) {
      issue.state = "closed";
      issue.closedAt = now;
    }
    repo.issues.push(issue);
    repo.pulls.push({
      id: allocateId(state),
      number: pull.number,
      headSha: pull.headSha,
      headRef: pull.headRef ?? `feature-${pull.number}`,
      baseRef: pull.baseRef ?? defaultBranch,
      baseSha: pull.baseSha ?? "0".repeat(40),
      merged: pull.merged ?? false,
      mergedAt: pull.merged ? now : null,
      draft: pull.draft ?? false,
      additions: pull.additions ?? files.reduce((sum, f) => sum + f.additions, 0),
      deletions: pull.deletions ?? files.reduce((sum, f) => sum + f.deletions, 0),
      changedFiles: pull.changedFiles ?? files.length,
      files,
      requestedReviewers: [...(pull.requestedReviewers ?? [])],
      requestedTeams: [...(pull.requestedTeams ?? [])],
      reviews: [],
    });
  }
  for (const seedIssue of seed.issues ?? []) {
    const number = seedIssue.number ?? nextIssueNumber(repo);
    const issue = newIssue(state, number, seedIssue.title, seedIssue.body ?? null, seedIssue.user ?? "octocat", now);
    issue.labels = [...(seedIssue.labels ?? [])];
    issue.assignees = [...(seedIssue.assignees ?? [])];
    if (seedIssue.state === "closed") {
      issue.state = "closed";
      issue.stateReason = "completed";
      issue.closedAt = now;
    }
    for (const label of issue.labels) ensureLabel(state, repo, label);
    repo.issues.push(issue);
  }
  return repo;
}

export function newIssue(state: StandInState, number: number, title: string, body: string | null, user: string, now: string): IssueRecord {
  return {
    id: allocateId(state),
    number,
    title,
    body,
    user,
    state: "open",
    stateReason: null,
    labels: [],
    assignees: [],
    locked: false,
    isPullRequest: false,
    comments: [],
    reactions: [],
    createdAt: now,
    updatedAt: now,
    closedAt: null,
  };
}

export function nextIssueNumber(repo: RepoRecord): number {
  return repo.issues.reduce((max, issue) => Math.max(max, issue.number), repo.goneIssueNumber ?? 0) + 1;
}

/** Using a label that does not exist creates it, as GitHub does for people with push access. */
export function ensureLabel(state: StandInState, repo: RepoRecord, name: string): LabelRecord {
  const existing = Object.values(repo.labels).find((l) => l.name.toLowerCase() === name.toLowerCase());
  if (existing) return existing;
  const label = { id: allocateId(state), name, color: "ededed", description: null };
  repo.labels[name] = label;
  return label;
}

export function userRecord(state: StandInState, login: string): UserRecord {
  const known = state.users[login] ?? Object.values(state.users).find((u) => u.login.toLowerCase() === login.toLowerCase());
  if (known) return known;
  const created: UserRecord = { login, type: login.endsWith("[bot]") ? "Bot" : "User" };
  state.users[login] = created;
  return created;
}

const RANK: Record<Permission, number> = { none: 0, read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };

export function permissionOf(repo: RepoRecord, login: string): Permission {
  const explicit = Object.entries(repo.collaborators).find(([l]) => l.toLowerCase() === login.toLowerCase())?.[1];
  if (explicit && explicit !== "none") return explicit;
  return repo.private ? "none" : "read";
}

export function atLeast(permission: Permission, wanted: Permission): boolean {
  return RANK[permission] >= RANK[wanted];
}

/** Explicit collaborators only: on GitHub, public read access does not make someone assignable. */
export function isCollaborator(repo: RepoRecord, login: string): boolean {
  const explicit = Object.entries(repo.collaborators).find(([l]) => l.toLowerCase() === login.toLowerCase())?.[1];
  return explicit !== undefined && explicit !== "none";
}

export function findRepo(state: StandInState, owner: string, name: string): RepoRecord | undefined {
  const wanted = `${owner}/${name}`.toLowerCase();
  return Object.values(state.repos).find((r) => r.fullName.toLowerCase() === wanted);
}

export function installationFor(state: StandInState, repo: RepoRecord): InstallationRecord | undefined {
  return state.installations.find((i) =>
    i.repos === "all"
      ? i.account.toLowerCase() === repo.owner.toLowerCase()
      : i.repos.some((r) => r.toLowerCase() === repo.fullName.toLowerCase()),
  );
}

/** Whether `login` belongs to `org`: listed as a member, or in one of its teams. */
export function isOrgMember(state: StandInState, org: string, login: string): boolean {
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const listed = Object.entries(state.members).some(([name, logins]) => same(name, org) && logins.some((l) => same(l, login)));
  return listed || Object.entries(state.teams).some(([key, logins]) => same(key.split("/")[0] ?? "", org) && logins.some((l) => same(l, login)));
}

export function teamMembers(state: StandInState, org: string, slug: string): string[] | undefined {
  const wanted = `${org}/${slug}`.toLowerCase();
  return Object.entries(state.teams).find(([key]) => key.toLowerCase() === wanted)?.[1];
}
