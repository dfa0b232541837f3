import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../engine/ports.js";
import type { Store } from "../store/store.js";
import { sendJson } from "./http.js";

export const LIVENESS_PATH = "/healthz";
export const READINESS_PATH = "/readyz";

/** How long GitHub's answer to the readiness check is reused, so probes do not spend the app's rate limit. */
export const GITHUB_CHECK_CACHE_MS = 30_000;
/** A failure is asked again sooner: one blip must not keep every replica out of rotation for long. */
export const GITHUB_FAILURE_CACHE_MS = 5_000;

export interface HealthDeps {
  store: Store;
  /**
   * Asks GitHub as the app itself (`GET /app` with the app's JWT). Throws when GitHub cannot be
   * reached, or does not accept the app's credentials.
   */
  checkGitHub: () => Promise<void>;
  clock: () => Date;
  /** Aborted when the process is stopping: not ready any more, so traffic goes elsewhere. */
  closing?: AbortSignal;
  /** GitHub's failures in full (addresses, messages) go here; the public answer only names them. */
  log?: Logger;
}

const STORE_DOWN = "the request store cannot be reached";

/**
 * GitHub's failure in a few words for an unauthenticated caller: the status GitHub answered, or
 * the kind of network failure (never an address, a message from elsewhere or a credential).
 */
export function describeGitHubFailure(error: unknown): string {
  const status = (error as { status?: unknown }).status;
  const answered = (error as { response?: unknown }).response !== undefined;
  if (typeof status === "number" && answered) {
    if (status === 401 || status === 403) return `GitHub refused the app's credentials (HTTP ${status} to GET /app): check APP_ID and PRIVATE_KEY`;
    return `GitHub answered HTTP ${status} to GET /app`;
  }
  // Octokit wraps a failed fetch: its cause is fetch's error, whose cause is the socket's.
  const causes: unknown[] = [];
  for (let at: unknown = error; at && causes.length < 4; at = (at as { cause?: unknown }).cause) causes.push(at);
  if (causes.some((cause) => (cause as { name?: unknown }).name === "TimeoutError")) return "GitHub cannot be reached (no answer within 5 s)";
  const code = causes.map((cause) => (cause as { code?: unknown }).code).find((value): value is string => typeof value === "string" && /^E[A-Z_]+$/.test(value));
  if (typeof status === "number") return `GitHub cannot be reached (${code ?? "network error"})`;
  return "the app cannot sign in to GitHub: check APP_ID and PRIVATE_KEY";
}

/**
 * `GET /healthz` (liveness): 200 while the process answers, whatever the store or GitHub do, so
 * an outage of either never restarts every replica at once.
 * `GET /readyz` (readiness): 200 when the store answers a ping and GitHub accepts the app
 * (that answer is kept for 30 s, a failure for 5 s); else 503 naming each check that failed.
 * 503 too while stopping.
 */
export function createHealthHandler(deps: HealthDeps) {
  let github: { at: number; failure: string | null } | null = null;
  let asking: Promise<string | null> | null = null;

  /** GitHub's last answer while fresh, else one new question shared by every caller meanwhile. */
  async function githubFailure(): Promise<string | null> {
    const now = deps.clock().getTime();
    const keepFor = github?.failure ? GITHUB_FAILURE_CACHE_MS : GITHUB_CHECK_CACHE_MS;
    if (github && now - github.at < keepFor && now >= github.at) return github.failure;
    asking ??= deps
      .checkGitHub()
      .then(
        () => null,
        (error: unknown) => {
          const failure = describeGitHubFailure(error);
          deps.log?.warn({ err: error }, `readiness: ${failure}`);
          return failure;
        },
      )
      .then((failure) => {
        github = { at: deps.clock().getTime(), failure };
        return failure;
      })
      .finally(() => (asking = null));
    return asking;
  }

  async function storeFailure(): Promise<string | null> {
    try {
      await deps.store.ping();
      return null;
    } catch {
      return STORE_DOWN;
    }
  }

  return async function healthHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === LIVENESS_PATH) {
      sendJson(res, 200, { status: "ok" });
      return true;
    }
    if (path !== READINESS_PATH) return false;
    if (deps.closing?.aborted) {
      sendJson(res, 503, { status: "unavailable", reason: "this server is stopping" });
      return true;
    }
    const [store, gitHub] = await Promise.all([storeFailure(), githubFailure()]);
    const checks = { store: store ?? "ok", github: gitHub ?? "ok" };
    const failures = [store, gitHub].filter((failure): failure is string => failure !== null);
    if (failures.length === 0) sendJson(res, 200, { status: "ready", checks });
    else sendJson(res, 503, { status: "unavailable", reason: failures.join("; "), checks });
    return true;
  };
}
