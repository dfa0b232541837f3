import type { SecondaryLimitSeed } from "./secondary-limit.js";

export type Permission = "admin" | "maintain" | "write" | "triage" | "read" | "none";
export type AccountType = "User" | "Bot" | "Organization";

/** What the stand-in knows before the test starts. Every field is optional. */
export interface Seed {
  /** The app itself, as `GET /app` shows it. Default `{ id: 1, slug: "hitl", name: "hitl" }`. */
  app?: { id?: number; slug?: string; name?: string };
  /**
   * Installations of the app. `repos` lists the `owner/name`s it covers; without it, it covers
   * every seeded repository owned by `account`. Default: one installation, id 1, on the owner of
   * the first seeded repository, covering every seeded repository.
   */
  installations?: Array<{ id: number; account: string; repos?: string[] }>;
  /** Repositories by `owner/name`. Default `{ "octo-org/payments": {} }`. */
  repos?: Record<string, RepoSeed>;
  /** Team members by `org/slug`. */
  teams?: Record<string, string[]>;
  /** Organisation members by org, besides the members of its teams (who are members too). */
  members?: Record<string, string[]>;
  /** Account types by login. Unlisted logins are `User`, or `Bot` when they end in `[bot]`. */
  users?: Record<string, AccountType>;
  /** The clock for timestamps the stand-in writes. Default: the real clock. */
  now?: () => Date;
  /** The App's OAuth credentials (user sign-in at `/login/oauth/*`) and its callback URLs. */
  oauth?: { clientId: string; clientSecret: string; callbackUrls?: string[] };
  /** Answer writes that come too fast with GitHub's 403 secondary rate limit. Default: no limit. */
  secondaryLimit?: SecondaryLimitSeed;
}

export interface RepoSeed {
  /** Default `"main"`. */
  defaultBranch?: string;
  /** Default `true`. On a public repository everyone who is not a collaborator can read. */
  private?: boolean;
  /** File contents by ref (branch name, tag or sha), then by path. */
  files?: Record<string, Record<string, string>>;
  /** Explicit collaborators by login. Anyone else has `none` (private) or `read` (public). */
  collaborators?: Record<string, Permission>;
  issues?: IssueSeed[];
  pulls?: PullSeed[];
  /** Workflow runs waiting on environments whose deployment protection rule is the app. */
  runs?: Array<{ id: number; headSha: string; waitingOn: string[] }>;
}

export interface IssueSeed {
  number?: number;
  title: string;
  body?: string;
  user?: string;
  state?: "open" | "closed";
  labels?: string[];
  assignees?: string[];
}

export interface PullSeed {
  number: number;
  headSha: string;
  /** Default `feature-<number>`. */
  headRef?: string;
  /** Default: the repository's default branch. */
  baseRef?: string;
  baseSha?: string;
  state?: "open" | "closed";
  merged?: boolean;
  /** The author. Default `"octocat"`. */
  user?: string;
  title?: string;
  body?: string;
  draft?: boolean;
  /** Default: summed from `files`. */
  additions?: number;
  deletions?: number;
  changedFiles?: number;
  files?: Array<{ filename: string; status?: PullFileStatus; additions?: number; deletions?: number; patch?: string }>;
  requestedReviewers?: string[];
  requestedTeams?: string[];
}

export type PullFileStatus = "added" | "removed" | "modified" | "renamed" | "copied" | "changed" | "unchanged";
