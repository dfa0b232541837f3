import { createHash, randomUUID } from "node:crypto";
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { actionsRoutes } from "./github-stand-in/actions-routes.js";
import { appRoutes } from "./github-stand-in/app-routes.js";
import { checkRoutes } from "./github-stand-in/check-routes.js";
import { gitRoutes } from "./github-stand-in/git-routes.js";
import { oauthRoutes } from "./github-stand-in/oauth-routes.js";
import { issueRoutes } from "./github-stand-in/issue-routes.js";
import { protectionRoutes } from "./github-stand-in/protection-routes.js";
import { pullRoutes } from "./github-stand-in/pull-routes.js";
import { repoRoutes } from "./github-stand-in/repo-routes.js";
import {
  findRoute,
  GitHubError,
  pathMatches,
  type Reply,
  type Route,
  type RouteContext,
  type StandInRequest,
} from "./github-stand-in/router.js";
import { createSecondaryLimit, isNotifying, isWrite, type WriteRecord } from "./github-stand-in/secondary-limit.js";
import { createShapes } from "./github-stand-in/shapes.js";
import type { Seed } from "./github-stand-in/seed.js";
import { issueIn, pullIn } from "./github-stand-in/lookup.js";
import {
  allocateId,
  createState,
  nextIssueNumber,
  findRepo,
  type CommentRecord,
  type RepoRecord,
  type ReviewRecord,
  type ReviewState,
  type StandInState,
} from "./github-stand-in/state.js";

export type * from "./github-stand-in/seed.js";
export type { SecondaryLimitSeed, WriteRecord } from "./github-stand-in/secondary-limit.js";
export type * from "./github-stand-in/state.js";

export interface RecordedCall {
  method: string;
  /** Without `/api/v3` and the query, each segment decoded: `/repos/o/r/issues/1/labels/needs review`. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON, the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
  status: number;
}

export interface FaultMatch {
  method?: string;
  /** A RegExp, an exact path, or a pattern with `:name` segments such as `/repos/:owner/:repo/issues`. */
  path?: string | RegExp;
}

export interface FaultResponse {
  status: number;
  headers?: Record<string, string>;
  /** Default: GitHub's error shape with the status text as the message. */
  body?: unknown;
}

export interface GitHubStandIn {
  /** Base URL for Octokit, with `/api/v3`. */
  url: string;
  /** `127.0.0.1:<port>`, for `GHE_HOST` (with `GHE_PROTOCOL=http`). */
  host: string;
  /** Every request, in order, including unknown routes and injected faults. */
  calls: RecordedCall[];
  /** Every write made with an installation token (the token endpoint aside), in order, with the time it arrived. */
  writes: WriteRecord[];
  state: StandInState;
  callsTo(method: string, path: string | RegExp): RecordedCall[];
  clearCalls(): void;
  /** The next requests that match get these responses, one each, in order; then the real routes answer again. */
  failNext(match: FaultMatch, responses: FaultResponse[]): void;
  /** The repository record for `owner/name`; throws when it was not seeded. */
  repo(fullName: string): RepoRecord;
  /** A person comments on issue or pull request `number`, as on github.com; no webhook is sent. */
  comment(repo: string, number: number, from: { login: string; body: string }): CommentRecord;
  /** A person edits a comment: its `updated_at` moves past its `created_at`. */
  editComment(repo: string, id: number, body: string): CommentRecord;
  /** Someone cancels a workflow run: it no longer waits on any environment. */
  cancelRun(repo: string, runId: number): void;
  /** An administrator deletes issue `number` (GitHub does it in its UI or over GraphQL); no webhook is sent. */
  deleteIssue(repo: string, number: number): void;
  /**
   * Someone with write access moves issue `number` to `to` (in the UI or over GraphQL), where it
   * gets the next free number; it is gone from `repo`. No webhook is sent. Returns the new number.
   */
  transferIssue(repo: string, number: number, to: string): number;
  /** A person submits a review on pull request `number`; no webhook is sent. */
  review(repo: string, number: number, from: { login: string; state: ReviewState; body?: string }): ReviewRecord;
  close(): Promise<void>;
}

const API_PREFIX = "/api/v3";
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const ROUTES: Route[] = [...appRoutes, ...repoRoutes, ...issueRoutes, ...pullRoutes, ...checkRoutes, ...protectionRoutes, ...actionsRoutes, ...gitRoutes, ...oauthRoutes];

export async function startGitHubStandIn(seed: Seed = {}): Promise<GitHubStandIn> {
  const clock = seed.now ?? (() => new Date());
  const now = () => clock().toISOString().replace(/\.\d{3}Z$/, "Z");
  const state = createState(seed, now());
  const calls: RecordedCall[] = [];
  const writes: WriteRecord[] = [];
  const secondaryLimit = seed.secondaryLimit ? createSecondaryLimit(seed.secondaryLimit) : null;
  const faults: Array<{ match: FaultMatch; responses: FaultResponse[] }> = [];
  let apiUrl = "";
  const shapes = () => createShapes(state, { api: apiUrl, web: "https://github.com" });

  const answer = (req: StandInRequest): Reply => withEtag(req, route(req));
  const route = (req: StandInRequest): Reply => {
    const fault = faults.find((f) => faultMatches(f.match, req));
    if (fault) {
      const response = fault.responses.shift();
      if (fault.responses.length === 0) faults.splice(faults.indexOf(fault), 1);
      if (response) return faultReply(response);
    }
    const found = findRoute(ROUTES, req.method, req.path);
    if (!found) return new GitHubError(404, `Not Found (stand-in has no route for ${req.method} ${req.path})`).toReply();
    const auth = authenticate(found.route, req, state);
    if ("status" in auth) return auth;
    if (found.route.auth === "token" && isWrite(req.method)) {
      const at = clock().getTime();
      const limited = secondaryLimit && auth.installationId !== undefined ? secondaryLimit(auth.installationId, req, at) : null;
      writes.push({ installationId: auth.installationId, at, method: req.method, path: req.path, notifying: isNotifying(req), limited: limited !== null });
      if (limited) return limited;
    }
    const ctx: RouteContext = { state, shapes: shapes(), apiUrl, now, actor: `${state.app.slug}[bot]`, installationId: auth.installationId };
    try {
      return found.route.handle({ ...req, params: found.params }, ctx);
    } catch (error) {
      if (error instanceof GitHubError) return error.toReply();
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.stderr.write(`github stand-in: ${req.method} ${req.path} failed: ${message}\n`);
      return { status: 500, body: { message: `stand-in error: ${String(error)}` } };
    }
  };

  const server = createServer((incoming, response) => {
    void readRequest(incoming).then((req) => {
      const reply = answer(req);
      calls.push({ method: req.method, path: req.path, query: req.query, body: req.body, status: reply.status });
      send(response, reply, now());
    });
  });
  function repoNamed(fullName: string): RepoRecord {
    const [owner = "", name = ""] = fullName.split("/");
    const repo = findRepo(state, owner, name);
    if (!repo) throw new Error(`stand-in: no repository ${fullName} (seeded: ${Object.keys(state.repos).join(", ")})`);
    return repo;
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  apiUrl = `http://${host}${API_PREFIX}`;

  return {
    url: apiUrl,
    host,
    calls,
    writes,
    state,
    callsTo: (method, path) => calls.filter((c) => c.method === method.toUpperCase() && pathMatches(path, c.path)),
    clearCalls: () => void calls.splice(0, calls.length),
    failNext: (match, responses) => void (responses.length > 0 && faults.push({ match, responses: [...responses] })),
    repo: repoNamed,
    comment: (fullName, number, from) => {
      const issue = issueIn(repoNamed(fullName), String(number));
      const at = now();
      const comment: CommentRecord = { id: allocateId(state), body: from.body, user: from.login, createdAt: at, updatedAt: at, reactions: [] };
      issue.comments.push(comment);
      issue.updatedAt = at;
      return comment;
    },
    editComment: (fullName, id, body) => {
      const comment = repoNamed(fullName).issues.flatMap((i) => i.comments).find((c) => c.id === id);
      if (!comment) throw new Error(`stand-in: no comment ${id} in ${fullName}`);
      comment.body = body;
      // Timestamps have whole seconds: an edit within the second still shows as later, as it would be.
      comment.updatedAt = new Date(Math.max(Date.parse(now()), Date.parse(comment.createdAt) + 1_000)).toISOString().replace(/\.\d{3}Z$/, "Z");
      return comment;
    },
    cancelRun: (fullName, runId) => {
      const run = repoNamed(fullName).runs.find((candidate) => candidate.id === runId);
      if (!run) throw new Error(`stand-in: no workflow run ${runId} in ${fullName}`);
      Object.assign(run, { status: "completed", conclusion: "cancelled", waitingOn: [] });
    },
    deleteIssue: (fullName, number) => {
      const repo = repoNamed(fullName);
      const issue = issueIn(repo, String(number));
      repo.issues.splice(repo.issues.indexOf(issue), 1);
      repo.goneIssueNumber = Math.max(repo.goneIssueNumber ?? 0, issue.number);
    },
    transferIssue: (fullName, number, to) => {
      const repo = repoNamed(fullName);
      const target = repoNamed(to);
      const issue = issueIn(repo, String(number));
      if (issue.isPullRequest) throw new GitHubError(422, "Pull requests cannot be transferred");
      repo.issues.splice(repo.issues.indexOf(issue), 1);
      repo.goneIssueNumber = Math.max(repo.goneIssueNumber ?? 0, issue.number);
      issue.number = nextIssueNumber(target);
      // Labels and assignees that do not exist in the new repository are dropped, as on GitHub.
      issue.labels = [];
      issue.assignees = [];
      target.issues.push(issue);
      return issue.number;
    },
    review: (fullName, number, from) => {
      const pull = pullIn(repoNamed(fullName), String(number));
      const review: ReviewRecord = { id: allocateId(state), user: from.login, state: from.state, body: from.body ?? "", commitId: pull.headSha, submittedAt: now() };
      pull.reviews.push(review);
      return review;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * As on GitHub, every successful GET carries an `ETag` (a hash of what it answers), and a GET
 * whose `If-None-Match` names the current one is answered `304 Not Modified` with no body.
 */
function withEtag(req: StandInRequest, reply: Reply): Reply {
  if (req.method !== "GET" || reply.status !== 200 || reply.text !== undefined) return reply;
  const digest = createHash("sha256").update(JSON.stringify(reply.body ?? null)).update(reply.headers?.link ?? "").digest("hex").slice(0, 32);
  const etag = `W/"${digest}"`;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  const wanted = String(req.headers["if-none-match"] ?? "").split(",").filter((tag) => tag.trim() !== "");
  if (wanted.some((tag) => tag.trim() === "*" || opaque(tag) === opaque(etag))) return { status: 304, headers: { etag } };
  return { ...reply, headers: { ...reply.headers, etag } };
}

function faultMatches(match: FaultMatch, req: StandInRequest): boolean {
  return (match.method === undefined || match.method.toUpperCase() === req.method) && (match.path === undefined || pathMatches(match.path, req.path));
}

function faultReply(response: FaultResponse): Reply {
  const body = response.body ?? {
    message: STATUS_CODES[response.status] ?? "Error",
    documentation_url: "https://docs.github.com/rest",
    status: String(response.status),
  };
  return { status: response.status, body, ...(response.headers ? { headers: response.headers } : {}) };
}

/** Loose on purpose: any JWT-looking bearer for app endpoints, any token for the rest. */
function authenticate(route: Route, req: StandInRequest, state: StandInState): Reply | { installationId: number | undefined } {
  const header = String(req.headers.authorization ?? "");
  const [scheme = "", credential = ""] = header.split(/\s+/, 2);
  if (route.auth === "none") return { installationId: undefined };
  if (!header) return new GitHubError(401, "Requires authentication").toReply();
  if (route.auth === "jwt") {
    return scheme.toLowerCase() === "bearer" && JWT.test(credential)
      ? { installationId: undefined }
      : new GitHubError(401, "A JSON web token could not be decoded").toReply();
  }
  if (!["token", "bearer"].includes(scheme.toLowerCase()) || credential === "") return new GitHubError(401, "Bad credentials").toReply();
  return { installationId: state.tokens[credential] };
}

async function readRequest(incoming: IncomingMessage): Promise<StandInRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  const url = new URL(incoming.url ?? "/", "http://stand-in");
  const rawPath = url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length) || "/" : url.pathname;
  const path = rawPath
    .split("/")
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .join("/");
  return {
    method: (incoming.method ?? "GET").toUpperCase(),
    path,
    rawPath,
    params: {},
    query: Object.fromEntries(url.searchParams),
    body: parseBody(text),
    headers: incoming.headers,
  };
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function send(response: ServerResponse, reply: Reply, now: string): void {
  const reset = String(Math.floor(Date.parse(now) / 1000) + 3600);
  const headers: Record<string, string> = {
    "x-github-request-id": randomUUID(),
    "x-github-api-version-selected": "2022-11-28",
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": "4999",
    "x-ratelimit-used": "1",
    "x-ratelimit-reset": reset,
    "x-ratelimit-resource": "core",
  };
  let payload = "";
  if (reply.text !== undefined) {
    headers["content-type"] = "text/plain; charset=utf-8";
    payload = reply.text;
  } else if (reply.status !== 204 && reply.status !== 304) {
    headers["content-type"] = "application/json; charset=utf-8";
    payload = JSON.stringify(reply.body ?? null);
  }
  response.writeHead(reply.status, { ...headers, ...lowerCaseKeys(reply.headers ?? {}) });
  response.end(payload);
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
}
