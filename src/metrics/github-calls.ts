import type { Octokit } from "../github/octokit.js";
import type { Metrics } from "./metrics.js";

const observed = new WeakSet<object>();

interface EndpointOptions {
  method?: string;
  url?: string;
}

/**
 * The route of a GitHub call as its template (`POST /repos/{owner}/{repo}/issues`), never the
 * expanded URL: Octokit hands hooks the template. A full URL (a pagination link) is folded back
 * to a template, so no repository, number or query string becomes a label value.
 */
export function routeTemplate(options: EndpointOptions): string {
  const method = (options.method ?? "GET").toUpperCase();
  let path = options.url ?? "";
  if (/^https?:\/\//i.test(path)) {
    try {
      path = new URL(path).pathname;
    } catch {
      path = "/(unknown)";
    }
  }
  path = path.split("?")[0]!;
  if (!path.includes("{")) {
    path = path
      .replace(/^(\/api\/v3)?\/repos\/[^/]+\/[^/]+/, "/repos/{owner}/{repo}")
      .replace(/^\/app\/installations\/\d+/, "/app/installations/{installation_id}")
      .replace(/\/\d+(?=\/|$)/g, "/{number}");
  }
  return `${method} ${path}`;
}

function header(headers: unknown, name: string): string | undefined {
  const value = (headers as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

/** Counts every call of `octokit` by route and status, and keeps the remaining rate limit; once per client. */
export function observeOctokit(octokit: Octokit, metrics: Metrics): Octokit {
  if (observed.has(octokit)) return octokit;
  observed.add(octokit);
  const rateLimit = (headers: unknown) => {
    const remaining = header(headers, "x-ratelimit-remaining");
    if (remaining !== undefined && /^\d+$/.test(remaining)) {
      const resource = header(headers, "x-ratelimit-resource") ?? "core";
      metrics.githubRateLimit(/^[a-z_]{1,32}$/.test(resource) ? resource : "other", Number(remaining));
    }
  };
  octokit.hook.after("request", (response, options) => {
    metrics.githubCall(routeTemplate(options as EndpointOptions), response.status);
    rateLimit(response.headers);
  });
  octokit.hook.error("request", (error, options) => {
    const failure = error as { status?: unknown; response?: { headers?: unknown } };
    metrics.githubCall(routeTemplate(options as EndpointOptions), typeof failure.status === "number" ? failure.status : 0);
    rateLimit(failure.response?.headers);
    throw error;
  });
  return octokit;
}
