import { describe, expect, it } from "vitest";
import { quietUntil } from "../../src/channels/quiet-hours.js";

describe("quietUntil", () => {
  it.each([
    // Berlin is UTC+1 in November.
    { name: "inside a period past midnight, before midnight", now: "2026-11-24T22:30:00.000Z", hours: "22:00-07:00", zone: "Europe/Berlin", until: "2026-11-25T06:00:00.000Z" },
    { name: "inside it, after midnight", now: "2026-11-25T03:15:30.000Z", hours: "22:00-07:00", zone: "Europe/Berlin", until: "2026-11-25T06:00:00.000Z" },
    { name: "at its first minute", now: "2026-11-24T21:00:00.000Z", hours: "22:00-07:00", zone: "Europe/Berlin", until: "2026-11-25T06:00:00.000Z" },
    { name: "at its end: no longer quiet", now: "2026-11-25T06:00:00.000Z", hours: "22:00-07:00", zone: "Europe/Berlin", until: null },
    { name: "daytime", now: "2026-11-24T10:00:00.000Z", hours: "22:00-07:00", zone: "Europe/Berlin", until: null },
    { name: "a period within one day", now: "2026-11-24T12:30:00.000Z", hours: "12:00-13:00", zone: undefined, until: "2026-11-24T13:00:00.000Z" },
    { name: "New York, summer time (UTC-4)", now: "2026-07-01T03:00:00.000Z", hours: "22:00-06:00", zone: "America/New_York", until: "2026-07-01T10:00:00.000Z" },
    { name: "no hours", now: "2026-11-24T22:30:00.000Z", hours: undefined, zone: "Europe/Berlin", until: null },
    { name: "start equals end: no period", now: "2026-11-24T22:30:00.000Z", hours: "22:00-22:00", zone: undefined, until: null },
  ])("$name", ({ now, hours, zone, until }) => {
    expect(quietUntil(new Date(now), hours, zone)?.toISOString() ?? null).toBe(until);
  });
});
