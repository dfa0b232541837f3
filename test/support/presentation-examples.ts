import type { ApprovalRequest, Presentation } from "../../src/core/types.js";
import { makeRequest } from "./fixtures.js";

/** One request of each presentation, as the README's pictures show them. */
export const PRESENTATION_EXAMPLES: Record<Presentation, ApprovalRequest> = {
  binary: makeRequest({
    id: "req_binary000001",
    taskDescription: "Rotate the production database password",
    approvalReason: "Credential rotation on production needs a human",
    decisionData: { database: "payments-prod", downtime: "none expected" },
    availableActions: [
      { id: "approve", label: "Rotate now", impact: "Apps reconnect with the new password" },
      { id: "reject", label: "Not now", impact: "The old password stays" },
    ],
    requestType: "credential-rotation",
    presentation: "binary",
    feedback: { minLength: 1, reasons: [] },
  }),
  multiple_choice: makeRequest({
    id: "req_choice000001",
    taskDescription: "Refund order 1234",
    approvalReason: "Refunds over $50 need a human",
    decisionData: { amount: 120, currency: "USD", customer: "c_981" },
    availableActions: [
      { id: "approve", label: "Refund in full", impact: "Customer gets $120 back" },
      { id: "refund-half", label: "Refund half", impact: "Customer gets $60 back", kind: "approve" },
      { id: "reject", label: "Deny", impact: "Ticket goes back to support" },
    ],
    presentation: "multiple_choice",
    editableFields: { amount: { type: "number", minimum: 0, maximum: 500 } },
    feedback: { minLength: 0, reasons: ["too_high", "wrong_customer", "fraud"] },
  }),
  detailed_review: makeRequest({
    id: "req_review000001",
    taskDescription: "Merge the billing schema migration",
    approvalReason: "Schema changes on billing tables need a reviewer",
    decisionData: { migration: "0042_split_invoices", tables: 3 },
    availableActions: [
      { id: "approve", label: "Run it", impact: "Migration runs at the next deploy" },
      { id: "reject", label: "Hold", impact: "Migration is skipped" },
    ],
    requestType: "migration",
    presentation: "detailed_review",
    sections: [
      { title: "What changes", text: "Invoices move out of the orders table into their own table, with a foreign key back to orders." },
      { title: "Risk", text: "The copy takes about 4 minutes on production-sized data; writes to orders are blocked meanwhile.", data: { rows: 1_200_000, lock: "orders", estimate: "4m" } },
      {
        title: "Plan",
        data: {
          steps: ["create table invoices", "copy rows in batches of 10000", "add foreign key", "swap reads", "drop old columns"],
          rollback: "restore from the snapshot taken before step 1",
        },
      },
    ],
  }),
  comparative: makeRequest({
    id: "req_compare00001",
    taskDescription: "Choose the instance type for the search cluster",
    approvalReason: "Spend above $1,000 a month needs a human",
    decisionData: { cluster: "search-prod", nodes: 6 },
    availableActions: [
      { id: "approve", label: "m7g.large", impact: "Cheapest that fits", data: { monthly_cost: "$1,180", p99_latency: "48 ms", memory: "8 GiB" } },
      { id: "upsize", label: "m7g.xlarge", kind: "approve", impact: "Room to grow", data: { monthly_cost: "$2,360", p99_latency: "31 ms", memory: "16 GiB" } },
      { id: "reject", label: "Keep current", impact: "No change", data: { monthly_cost: "$1,540", p99_latency: "55 ms", memory: "8 GiB" } },
    ],
    requestType: "capacity",
    presentation: "comparative",
  }),
};
