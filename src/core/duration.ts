const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d+)(s|m|h|d|w)$/;

/**
 * The longest duration a deadline, a warning, an escalation level or an extension may be. Far
 * enough for any approval, near enough that every time computed from it is a real date.
 */
export const MAX_DURATION = "365d";
export const MAX_DURATION_MS = 365 * UNIT_MS.d;
export const DURATION_TOO_LONG = `must be at most ${MAX_DURATION} (a year)`;

/** Whether a duration that parses is within `MAX_DURATION`. */
export function withinMaxDuration(text: string): boolean {
  const ms = parseDuration(text);
  return ms === null || ms <= MAX_DURATION_MS;
}

/** Durations as people write them in `.hitl.yml`: `30s`, `15m`, `4h`, `2d`, `1w`. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** The inverse for display: the largest unit that divides exactly (`90m` → `90m`, `7200000` → `2h`). */
export function formatDuration(ms: number): string {
  for (const unit of ["w", "d", "h", "m", "s"] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}

/** "3 hours", "2 days", "45 minutes": how long something has waited, for people. */
export function humanizeDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.max(0, Math.floor(ms / 1000))} seconds`;
  if (minutes < 120) return plural(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return plural(hours, "hour");
  return plural(Math.floor(hours / 24), "day");
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}
