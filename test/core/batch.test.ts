import { describe, expect, it } from "vitest";
import { batchSlot, placeInBatch, type BatchConfig } from "../../src/core/batch.js";
import { makeRequest } from "../support/fixtures.js";

const NOW = new Date("2026-11-24T10:03:00.000Z");
const CONFIG: BatchConfig = { by: "request_type", max_size: 3, max_wait: "10m", include: [] };
const waiting = (overrides: Parameters<typeof makeRequest>[0] = {}) =>
  makeRequest({ requestType: "refund", deadline: "2026-11-30T10:00:00.000Z", escalation: { ladder: [], warningBeforeMs: null, level: 0, warned: false, nextAt: "2026-11-30T10:00:00.000Z" }, ...overrides });

describe("batchSlot", () => {
  it("puts a request into its group's window, posted at the window's end", () => {
    const placed = batchSlot(waiting(), CONFIG, NOW);
    expect(placed).toEqual({ ok: true, slot: { counter: expect.stringMatching(/^batch:[\w-]+$/), postAt: new Date("2026-11-24T10:10:00.000Z"), maxSize: 3 } });
  });

  it("gives one group one counter, and another group or window another", () => {
    const counter = (request: ReturnType<typeof waiting>, config = CONFIG, now = NOW) => {
      const placed = batchSlot(request, config, now);
      return placed.ok ? placed.slot.counter : null;
    };
    expect(counter(waiting({ id: "req_other" }))).toBe(counter(waiting()));
    expect(counter(waiting({ requestType: "deploy" }))).not.toBe(counter(waiting()));
    expect(counter(waiting(), CONFIG, new Date("2026-11-24T10:10:00.000Z"))).not.toBe(counter(waiting()));
    expect(counter(waiting({ repo: "octo-org/other" }))).not.toBe(counter(waiting()));
    const byApprover = { ...CONFIG, by: "approver" as const };
    expect(counter(waiting({ approvers: ["Bob", "alice"] }), byApprover)).toBe(counter(waiting({ approvers: ["alice", "bob"] }), byApprover));
  });

  it("keeps critical requests, requests with stages, deployments and pull requests out unless the file includes them", () => {
    expect(batchSlot(waiting({ priority: "critical" }), CONFIG, NOW)).toEqual({ ok: false, why: "critical" });
    expect(batchSlot(waiting({ priority: "critical" }), { ...CONFIG, include: ["critical"] }, NOW).ok).toBe(true);
    const staged = waiting({ stages: [{ name: "quorum", approvers: ["alice", "bob"], required: 2 }] as never });
    expect(batchSlot(staged, CONFIG, NOW)).toEqual({ ok: false, why: "stages" });
    expect(batchSlot(staged, { ...CONFIG, include: ["stages"] }, NOW).ok).toBe(true);
    expect(batchSlot(waiting({ surface: { type: "pull_request", number: 5 } }), CONFIG, NOW)).toEqual({ ok: false, why: "not_an_issue" });
    expect(batchSlot(waiting(), undefined, NOW)).toEqual({ ok: false, why: "no_batch_config" });
  });

  it("keeps a request out whose deadline or next escalation comes before its batch posts", () => {
    expect(batchSlot(waiting({ deadline: "2026-11-24T10:09:00.000Z" }), CONFIG, NOW)).toEqual({ ok: false, why: "due_before_post" });
    const escalating = waiting({ escalation: { ladder: [], warningBeforeMs: null, level: 0, warned: false, nextAt: "2026-11-24T10:10:00.000Z" } });
    expect(batchSlot(escalating, CONFIG, NOW)).toEqual({ ok: false, why: "due_before_post" });
  });
});

describe("placeInBatch", () => {
  it("numbers rows 1…max_size, then starts the next batch of the window", () => {
    const slot = { counter: "batch:x", postAt: NOW, maxSize: 3 };
    const places = [1, 2, 3, 4, 5, 7].map((seq) => placeInBatch(slot, seq));
    expect(places.map(({ row, first }) => [row, first])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [1, 4],
      [2, 4],
      [1, 7],
    ]);
    expect(new Set(places.slice(0, 3).map((place) => place.id)).size).toBe(1);
    expect(places[3]!.id).not.toBe(places[0]!.id);
    expect(places[0]!.id).toMatch(/^bat_[\w-]{20}$/);
  });
});
