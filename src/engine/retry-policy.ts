/** Backoff for jobs: 5s, 10s, 20s … doubling, at most an hour between tries. */
export function retryDelayMs(attempts: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

/** After this many tries a job is given up and logged; 20 tries span about 14 hours. */
export const MAX_JOB_ATTEMPTS = 20;

/** How long a claimed job is someone's before another worker may take it again. */
export const JOB_LEASE_MS = 60_000;

/** A surface job written with a request runs this late unless the request path runs it first. */
export const OPEN_SURFACE_GRACE_MS = 120_000;
