const MINUTES_PER_DAY = 24 * 60;

const minutesOf = (clock: string) => {
  const [hours, minutes] = clock.split(":").map(Number) as [number, number];
  return hours * 60 + minutes;
};

/** The wall-clock time in `timeZone` at `now`, as minutes since its midnight, and the seconds into that minute. */
function localMinutes(now: Date, timeZone: string): { minutes: number; seconds: number } {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).formatToParts(now);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { minutes: part("hour") * 60 + part("minute"), seconds: part("second") + now.getUTCMilliseconds() / 1000 };
}

/**
 * When a person's quiet hours (`"22:00-07:00"`, in their time zone, UTC when they name none) end,
 * if `now` is inside them; null when it is not. A period may run past midnight; one whose start
 * and end are equal is no period at all. Measured on the wall clock, so on the night a clock goes
 * forward or back the end may be an hour off.
 */
export function quietUntil(now: Date, quietHours: string | undefined, timeZone: string | undefined): Date | null {
  if (!quietHours) return null;
  const [from, to] = quietHours.split("-") as [string, string];
  const start = minutesOf(from);
  const end = minutesOf(to);
  if (start === end) return null;
  const { minutes, seconds } = localMinutes(now, timeZone ?? "UTC");
  const inside = start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
  if (!inside) return null;
  const left = (end - minutes + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  return new Date(now.getTime() + (left * 60 - seconds) * 1000);
}
