import { describe, expect, it } from "vitest";
import { byUrgency, countQueue, filterQuery, matches, readFilter, type QueueRow } from "../../src/desk/queue.js";
import type { ApprovalRequest } from "../../src/core/types.js";

const row = (id: string, fields: Partial<ApprovalRequest>, waitsOnMe = false, stage = "single"): QueueRow => ({
  request: { id, repo: "octo-org/payments", requestType: "refund", priority: "normal", deadline: "2026-11-25T09:00:00Z", createdAt: "2026-11-24T09:00:00Z", ...fields } as ApprovalRequest,
  waitsOnMe,
  stage,
});

const ROWS = [
  row("a", {}),
  row("b", { priority: "critical", deadline: "2026-11-26T00:00:00Z" }),
  row("c", { repo: "octo-org/infra", requestType: "scale", priority: "high" }, true),
  row("d", { requestType: null, deadline: "2026-11-24T12:00:00Z" }, false, "finance"),
  row("e", { priority: "low" }, true),
];

describe("the desk's queue", () => {
  it("puts the most urgent first: priority, then the least time left", () => {
    expect([...ROWS].sort(byUrgency).map((r) => r.request.id)).toEqual(["b", "c", "d", "a", "e"]);
  });

  it("counts each filter's values over the whole queue", () => {
    expect(countQueue(ROWS)).toEqual({
      all: 5,
      mine: 2,
      repo: [{ value: "octo-org/infra", count: 1 }, { value: "octo-org/payments", count: 4 }],
      type: [{ value: "none", count: 1 }, { value: "refund", count: 3 }, { value: "scale", count: 1 }],
      priority: [{ value: "critical", count: 1 }, { value: "high", count: 1 }, { value: "normal", count: 2 }, { value: "low", count: 1 }],
      stage: [{ value: "finance", count: 1 }, { value: "single", count: 4 }],
    });
  });

  it("filters by every filter at once, read from and written to the query string", () => {
    const pick = (query: string) => ROWS.filter((r) => matches(r, readFilter(new URLSearchParams(query)))).map((r) => r.request.id);
    expect(pick("")).toEqual(["a", "b", "c", "d", "e"]);
    expect(pick("repo=OCTO-ORG/payments&type=refund")).toEqual(["a", "b", "e"]);
    expect(pick("mine=1")).toEqual(["c", "e"]);
    expect(pick("type=none")).toEqual(["d"]);
    expect(pick("stage=finance")).toEqual(["d"]);
    expect(pick("priority=low&mine=1")).toEqual(["e"]);
    // An unknown priority is no filter; `mine` is on only as `1`.
    expect(pick("priority=urgent&mine=yes")).toEqual(["a", "b", "c", "d", "e"]);
    expect(filterQuery(readFilter(new URLSearchParams("stage=finance&mine=1&repo=a/b&extra=1")))).toBe("repo=a%2Fb&mine=1&stage=finance");
  });
});
