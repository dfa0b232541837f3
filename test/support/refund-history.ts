import type { ApprovalRequest } from "../../src/core/types.js";
import { makeRequest } from "./fixtures.js";

/**
 * A repository's decided refunds with a known answer: 25 people approved, from 5 to 95, and 10
 * they rejected, from 100 to 280, interleaved in time (one an hour from 1 Nov 2026), all in USD.
 */
export function refundHistory(repo: string): ApprovalRequest[] {
  const amounts = [...Array.from({ length: 25 }, (_, i) => 5 + Math.round((90 * i) / 24)), ...Array.from({ length: 10 }, (_, i) => 100 + i * 20)];
  const order = amounts.map((_, i) => (i * 17) % amounts.length);
  return order.map((index, position) => {
    const amount = amounts[index]!;
    const action = amount <= 95 ? "approve" : "reject";
    const status = action === "approve" ? "approved" : "rejected";
    const at = new Date(Date.UTC(2026, 10, 1) + position * 3_600_000).toISOString();
    return makeRequest({
      id: `req_hist${String(position).padStart(4, "0")}`,
      repo,
      decisionData: { amount, currency: "USD" },
      requestType: "refund",
      priority: "normal",
      riskScore: null,
      createdAt: at,
      updatedAt: at,
      status,
      decision: { action, status, decidedBy: { type: "human", login: "alice" }, justification: null, decidedAt: at, via: "comment" },
      escalation: { ladder: [], warningBeforeMs: null, level: 0, warned: false, nextAt: null },
    });
  });
}
