import type { IncomingHttpHeaders } from "node:http";
import type { Shapes } from "./shapes.js";
import type { StandInState } from "./state.js";

export interface StandInRequest {
  method: string;
  /** Without `/api/v3` and the query; each segment decoded. */
  path: string;
  /** As sent, without `/api/v3` and the query; for building `Link` headers. */
  rawPath: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  headers: IncomingHttpHeaders;
}

export interface RouteContext {
  state: StandInState;
  shapes: Shapes;
  apiUrl: string;
  now(): string;
  /** Who the credentials act as: the app's bot for every token. */
  actor: string;
  /** Set when the token is one the stand-in issued, so repository access can be scoped. */
  installationId: number | undefined;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** A plain-text body instead of JSON (raw file contents). */
  text?: string;
  headers?: Record<string, string>;
}

export type Handler = (req: StandInRequest, ctx: RouteContext) => Reply;

/** `jwt`: app endpoints, which take `Bearer <jwt>`; `none`: github.com's web pages (OAuth); `token`: everything else. */
export type AuthKind = "jwt" | "token" | "none";

export interface Route {
  method: string;
  pattern: string;
  auth: AuthKind;
  handle: Handler;
}

export function route(method: string, pattern: string, handle: Handler, auth: AuthKind = "token"): Route {
  return { method, pattern, auth, handle };
}

/** An error answer in GitHub's shape; handlers throw it and the server turns it into a reply. */
export class GitHubError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: unknown[],
  ) {
    super(message);
  }

  toReply(): Reply {
    return {
      status: this.status,
      body: {
        message: this.message,
        ...(this.errors ? { errors: this.errors } : {}),
        documentation_url: "https://docs.github.com/rest",
        status: String(this.status),
      },
    };
  }
}

export function notFound(message = "Not Found"): never {
  throw new GitHubError(404, message);
}

export function validationFailed(...errors: unknown[]): never {
  throw new GitHubError(422, "Validation Failed", errors);
}

export function splitPath(path: string): string[] {
  return path.split("/").filter((segment) => segment !== "");
}

/**
 * Matches `/repos/:owner/:repo/contents/:path+` style patterns against decoded segments;
 * `:name+` takes the rest of the path. Returns the parameters, or undefined.
 */
export function matchPattern(pattern: string, segments: string[]): Record<string, string> | undefined {
  const parts = splitPath(pattern);
  const params: Record<string, string> = {};
  for (const [index, part] of parts.entries()) {
    if (part.startsWith(":") && part.endsWith("+")) {
      const rest = segments.slice(index);
      if (rest.length === 0) return undefined;
      params[part.slice(1, -1)] = rest.join("/");
      return params;
    }
    const segment = segments[index];
    if (segment === undefined) return undefined;
    if (part.startsWith(":")) params[part.slice(1)] = segment;
    else if (part !== segment) return undefined;
  }
  return segments.length === parts.length ? params : undefined;
}

export function findRoute(routes: Route[], method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  const segments = splitPath(path);
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const params = matchPattern(candidate.pattern, segments);
    if (params) return { route: candidate, params };
  }
  return undefined;
}

/** A test's path filter: a RegExp, an exact path, or a pattern with `:name` segments. */
export function pathMatches(filter: string | RegExp, path: string): boolean {
  if (filter instanceof RegExp) return filter.test(path);
  if (!filter.includes(":")) return filter === path;
  return matchPattern(filter, splitPath(path)) !== undefined;
}

/** One page of a list, with the `Link` header Octokit's paginate follows. */
export function paginate(req: StandInRequest, ctx: RouteContext, items: unknown[], wrap?: (page: unknown[]) => unknown): Reply {
  const perPage = Math.min(Math.max(Number(req.query.per_page ?? 30) || 30, 1), 100);
  const page = Math.max(Number(req.query.page ?? 1) || 1, 1);
  const lastPage = Math.max(Math.ceil(items.length / perPage), 1);
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const link = (n: number, rel: string) => {
    const query = new URLSearchParams({ ...req.query, per_page: String(perPage), page: String(n) });
    return `<${ctx.apiUrl}${req.rawPath}?${query.toString()}>; rel="${rel}"`;
  };
  const links = [
    ...(page < lastPage ? [link(page + 1, "next"), link(lastPage, "last")] : []),
    ...(page > 1 ? [link(1, "first"), link(page - 1, "prev")] : []),
  ];
  return {
    status: 200,
    body: wrap ? wrap(slice) : slice,
    ...(links.length > 0 ? { headers: { link: links.join(", ") } } : {}),
  };
}
