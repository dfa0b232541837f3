import { ProbotOctokit } from "probot";
import type { Store } from "../store/store.js";
import { createTokenCache, type SharedTokenCache } from "./token-cache.js";
import { createWriteBudget, type WriteBudget } from "./write-budget.js";

export type Octokit = InstanceType<typeof ProbotOctokit>;

/** Gives an Octokit for an installation, or for the app itself (JWT) without one. */
export type OctokitFactory = (installationId?: number) => Promise<Octokit>;

export function splitRepo(repo: string): { owner: string; repo: string } {
  const [owner = "", name = ""] = repo.split("/");
  return { owner, repo: name };
}

/** GitHub answered with this HTTP status (Octokit's RequestError carries it). */
export function hasStatus(error: unknown, ...statuses: number[]): boolean {
  return typeof error === "object" && error !== null && "status" in error && statuses.includes((error as { status: number }).status);
}

/** A GitHub call that has not answered by then fails, so one quiet connection cannot stall a job batch. */
export const GITHUB_TIMEOUT_MS = 30_000;

/**
 * What the replicas on one store share: the write budget and the installation-token cache.
 * Without it each process spaces its own writes and keeps its own tokens, as Probot does.
 */
export interface SharedGitHub {
  budget: WriteBudget;
  /** The token cache, sealed with a key derived from `secret` (the app's private key). */
  tokens(secret: string): SharedTokenCache;
}

/** The write budget and token cache on `store`, on the replicas' shared clock. */
export function sharedGitHub(store: Store, clock: () => Date, sleep?: (ms: number) => Promise<void>): SharedGitHub {
  const caches = new Map<string, SharedTokenCache>();
  return {
    budget: createWriteBudget({ store, clock, sleep }),
    tokens(secret) {
      let cache = caches.get(secret);
      if (!cache) caches.set(secret, (cache = createTokenCache({ store, secret, clock })));
      return cache;
    },
  };
}

interface OctokitOptions {
  request?: Record<string, unknown>;
  throttle?: { enabled?: boolean; id?: string; onSecondaryRateLimit?: (retryAfter: number, ...rest: unknown[]) => unknown } & Record<string, unknown>;
  auth?: { privateKey?: unknown; installationId?: unknown; cache?: unknown } & Record<string, unknown>;
}

/**
 * Probot's Octokit with a deadline on every call; `extra` adds options (tests turn off
 * Octokit's own retries and write spacing with it). With `shared`, every write takes its slot
 * from the budget the replicas share, a secondary rate limit pauses that budget, and
 * installation tokens come from the shared cache (a 401 drops the token).
 */
export function hitlOctokit(extra: Record<string, unknown> = {}, timeoutMs = GITHUB_TIMEOUT_MS, shared?: SharedGitHub): typeof ProbotOctokit {
  const fetchWithTimeout: typeof fetch = (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    return fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
  };
  return ProbotOctokit.plugin(dropRefusedTokens).defaults((options: OctokitOptions) => {
    const merged: OctokitOptions = { ...options, ...extra, request: { ...options.request, fetch: fetchWithTimeout } };
    return shared ? withShared(merged, shared) : merged;
  });
}

function withShared(options: OctokitOptions, shared: SharedGitHub): OctokitOptions {
  const result = { ...options };
  const throttle = options.throttle;
  if (throttle && throttle.enabled !== false) {
    const installation = throttle.id;
    const onSecondaryRateLimit = throttle.onSecondaryRateLimit;
    result.throttle = {
      ...throttle,
      write: shared.budget.write,
      notifications: shared.budget.notifications,
      onSecondaryRateLimit(retryAfter: number, ...rest: unknown[]) {
        if (installation) void shared.budget.pause(installation, retryAfter * 1000).catch(() => undefined);
        return onSecondaryRateLimit?.(retryAfter, ...rest);
      },
    };
  }
  // Probot gives the app's private key to every Octokit it makes, without a token of its own.
  if (typeof options.auth?.privateKey === "string") result.auth = { ...options.auth, cache: shared.tokens(options.auth.privateKey) };
  return result;
}

/** An installation's token that GitHub refuses (401) leaves the shared cache, so no replica sends it again. */
function dropRefusedTokens(octokit: { hook: { error(name: "request", hook: (error: Error) => unknown): void } }, options: OctokitOptions): Record<string, never> {
  const cache = options.auth?.cache as Partial<SharedTokenCache> | undefined;
  const installationId = options.auth?.installationId;
  if (typeof cache?.drop !== "function" || (typeof installationId !== "number" && typeof installationId !== "string")) return {};
  const drop = cache.drop.bind(cache);
  octokit.hook.error("request", async (error) => {
    if (hasStatus(error, 401)) await drop(installationId);
    throw error;
  });
  return {};
}
