import { GitHubError, type Reply, type StandInRequest } from "./router.js";

/**
 * GitHub's secondary rate limit on an installation's writes: a bucket per installation that
 * holds `burst` writes and refills at `writesPerSecond`, and a second one for writes that notify
 * people (issues, comments, reviews) refilling at `notifyingPerSecond`. A write that finds
 * either empty is answered 403 "You have exceeded a secondary rate limit" with `retry-after`,
 * as GitHub answers it. GitHub publishes no exact figures; the defaults are the pace Octokit keeps
 * by GitHub's guidance (a second between writes, and, for writes that notify, three).
 */
export interface SecondaryLimitSeed {
  /** Default 1. */
  writesPerSecond?: number;
  /** Default 1/3. */
  notifyingPerSecond?: number;
  /** Writes a full bucket holds. Default 3. */
  burst?: number;
  /** The `retry-after` of a 403, in seconds. Default 60. */
  retryAfterSeconds?: number;
}

/** A write as the stand-in saw it, whether it was answered or refused. */
export interface WriteRecord {
  /** The installation whose token made it; undefined for a token the stand-in did not issue. */
  installationId: number | undefined;
  /** Milliseconds on the stand-in's clock. */
  at: number;
  method: string;
  path: string;
  notifying: boolean;
  /** True when the secondary rate limit refused it. */
  limited: boolean;
}

const NOTIFYING = [
  /^\/repos\/[^/]+\/[^/]+\/issues$/,
  /^\/repos\/[^/]+\/[^/]+\/issues\/\d+\/comments$/,
  /^\/repos\/[^/]+\/[^/]+\/pulls$/,
  /^\/repos\/[^/]+\/[^/]+\/pulls\/\d+\/(comments|reviews|requested_reviewers)$/,
];

export const SECONDARY_LIMIT_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.";

export function isWrite(method: string): boolean {
  return method !== "GET" && method !== "HEAD";
}

export function isNotifying(req: Pick<StandInRequest, "method" | "path">): boolean {
  return req.method === "POST" && NOTIFYING.some((pattern) => pattern.test(req.path));
}

/** Decides, write by write, whether the limit lets it through; null when it does. */
export function createSecondaryLimit(seed: SecondaryLimitSeed): (installationId: number, req: StandInRequest, atMs: number) => Reply | null {
  const writesPerMs = (seed.writesPerSecond ?? 1) / 1000;
  const notifyingPerMs = (seed.notifyingPerSecond ?? 1 / 3) / 1000;
  const burst = seed.burst ?? 3;
  const buckets = new Map<string, { level: number; at: number }>();

  /** The bucket's level now, refilled since it was last looked at. */
  function level(key: string, perMs: number, atMs: number): { level: number; at: number } {
    const bucket = buckets.get(key) ?? { level: burst, at: atMs };
    bucket.level = Math.min(burst, bucket.level + Math.max(0, atMs - bucket.at) * perMs);
    bucket.at = atMs;
    buckets.set(key, bucket);
    return bucket;
  }

  return (installationId, req, atMs) => {
    const writes = level(`write:${installationId}`, writesPerMs, atMs);
    const notifying = isNotifying(req) ? level(`notify:${installationId}`, notifyingPerMs, atMs) : null;
    if (writes.level < 1 || (notifying && notifying.level < 1)) {
      const reply = new GitHubError(403, SECONDARY_LIMIT_MESSAGE).toReply();
      return { ...reply, headers: { ...reply.headers, "retry-after": String(seed.retryAfterSeconds ?? 60) } };
    }
    writes.level -= 1;
    if (notifying) notifying.level -= 1;
    return null;
  };
}
