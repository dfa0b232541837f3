import { describe, expect, it } from "vitest";
import { pastDecisions } from "../../src/insights/history.js";
import { decidedRequest } from "./histories.js";

describe("pastDecisions", () => {
  it("learns only from people's approvals and rejections, newest first, never from itself", () => {
    const requests = [
      decidedRequest("req_rule", 1, { amount: 10 }, "approved", { decidedBy: { type: "rule", id: "small" } }),
      decidedRequest("req_prediction", 2, { amount: 10 }, "approved", { decidedBy: { type: "prediction", id: "refund" } }),
      decidedRequest("req_fallback", 3, { amount: 10 }, "approved", { decidedBy: { type: "fallback", fallback: "use_default" } }),
      decidedRequest("req_agent", 4, { amount: 10 }, "rejected", { decidedBy: { type: "agent", name: "bot" } }),
      decidedRequest("req_system", 5, { amount: 10 }, "approved", { decidedBy: { type: "system", reason: "auto_approve" } }),
      decidedRequest("req_old", 6, { amount: 20 }, "approved"),
      decidedRequest("req_new", 8, { amount: 30 }, "rejected"),
      decidedRequest("req_self", 9, { amount: 40 }, "approved"),
      { ...decidedRequest("req_cancelled", 7, { amount: 10 }, "approved"), status: "cancelled" as const, decision: { ...decidedRequest("x", 7, {}, "approved").decision!, status: "cancelled" as const } },
    ];
    expect(pastDecisions(requests, ["amount"], "req_self")).toEqual([
      { id: "req_new", decidedAt: "2026-01-01T08:00:00.000Z", approved: false, values: [30] },
      { id: "req_old", decidedAt: "2026-01-01T06:00:00.000Z", approved: true, values: [20] },
    ]);
  });

  it("leaves out an approval that changed a predicted field, and counts one that changed another field", () => {
    const requests = [
      decidedRequest("req_amount_edited", 1, { amount: 500, note: "x" }, "approved", { editedFields: { amount: 50 } }),
      decidedRequest("req_note_edited", 2, { amount: 50, note: "x" }, "approved", { editedFields: { note: "y" } }),
      decidedRequest("req_nested_edited", 3, { refund: { amount: 70 } }, "approved", { editedFields: { refund: { amount: 7 } } }),
    ];
    expect(pastDecisions(requests, ["amount", "refund.amount"]).map((past) => past.id)).toEqual(["req_note_edited"]);
  });

  it("leaves out requests whose predicted fields were sealed or whose context was purged", () => {
    const requests = [
      decidedRequest("req_sealed", 1, { amount: "[sensitive: kept off GitHub]" }, "approved", { sensitive: ["amount"] }),
      decidedRequest("req_other_sealed", 2, { amount: 5, iban: "[sensitive: kept off GitHub]" }, "approved", { sensitive: ["iban"] }),
      { ...decidedRequest("req_purged", 3, {}, "approved"), contextPurgedAt: "2026-02-01T00:00:00.000Z" },
    ];
    expect(pastDecisions(requests, ["amount"]).map((past) => past.id)).toEqual(["req_other_sealed"]);
  });

  it("reads at most the newest 500", () => {
    const requests = Array.from({ length: 600 }, (_, n) => decidedRequest(`req_${n}`, n, { amount: n }, "approved"));
    const read = pastDecisions(requests, ["amount"]);
    expect(read).toHaveLength(500);
    expect(read[0]!.id).toBe("req_599");
    expect(read[499]!.id).toBe("req_100");
  });
});

describe("retention", () => {
  it("removes a request's prediction with its context: the sentence holds values of its data", async () => {
    const { purgeContext } = await import("../../src/core/retention.js");
    const request = decidedRequest("req_purge", 1, { amount: 62, currency: "EUR" }, "approved");
    const predicted = {
      ...request,
      prediction: { mode: "suggest" as const, outcome: "approve" as const, considered: 5, approved: 5, agreement: 1, neighbours: ["req_a"], bounds: [], history: 5, replay: { predicted: 0, disagreed: 0 }, sentence: "Of the 5 …", reasons: [], blocks: [], decided: false },
    };
    const purged = purgeContext(predicted, new Date("2027-01-01T00:00:00.000Z"));
    expect("prediction" in purged).toBe(false);
  });
});
