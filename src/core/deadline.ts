import { MAX_DURATION, parseDuration, withinMaxDuration } from "./duration.js";

/**
 * A request's `deadline` as an agent may write it: an ISO 8601 time with an offset
 * (`2026-12-01T12:00:00Z`), or a time from now (`in 30m`, `in 48h`, `in 2d`, `in 1w`), so an
 * example written once keeps working on any day.
 */
export const RELATIVE_DEADLINE = /^in (\d+[smhdw])$/;
const RELATIVE = RELATIVE_DEADLINE;

export const DEADLINE_FORMS = `an ISO 8601 time with an offset, such as 2026-12-01T12:00:00Z, or a time from now, such as "in 30m", "in 48h" or "in 2d" (units s, m, h, d, w; at most ${MAX_DURATION})`;

/** Whether `text` is a relative deadline (`in 48h`) that parses and is at most a year. */
export function isRelativeDeadline(text: string): boolean {
  const match = RELATIVE.exec(text);
  return match !== null && parseDuration(match[1]!) !== null && withinMaxDuration(match[1]!);
}

/** The deadline in epoch milliseconds: a relative one counted from `now`. NaN when it is neither form. */
export function deadlineAt(text: string, now: Date): number {
  const match = RELATIVE.exec(text);
  if (match) {
    const ms = parseDuration(match[1]!);
    return ms === null ? Number.NaN : now.getTime() + ms;
  }
  return Date.parse(text);
}
