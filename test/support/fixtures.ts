import type { ApprovalRequest, AuditEntry, Job } from "../../src/core/types.js";

let counter = 0;

/** A valid pending request with every field set; override what the test is about. */
export function makeRequest(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  counter += 1;
  const createdAt = overrides.createdAt ?? "2026-11-24T10:00:00.000Z";
  return {
    id: `req_test${String(counter).padStart(6, "0")}`,
    version: 1,
    repo: "octo-org/payments",
    installationId: 1,
    status: "pending",
    taskDescription: "Refund order 1234",
    approvalReason: "Refunds over $50 need a human",
    decisionData: { amount: 120, currency: "USD" },
    availableActions: [
      { id: "approve", label: "Refund", impact: "Customer gets $120 back" },
      { id: "reject", label: "Deny", impact: "Ticket goes back to support" },
    ],
    priority: "high",
    deadline: "2026-11-27T10:00:00.000Z",
    fallback: { type: "abort", reason: "nobody answered" },
    surface: { type: "issue" },
    surfaceRef: null,
    approvers: ["alice", "@octo-org/finance"],
    requestType: "refund",
    riskScore: 0.4,
    confidence: 0.9,
    callbackUrl: null,
    requestedBy: "refund-agent",
    agentLogins: [],
    onBehalfOf: null,
    idempotencyKey: null,
    contextHash: "0".repeat(64),
    invalidateOnPush: false,
    createdAt,
    updatedAt: createdAt,
    escalation: { ladder: [], warningBeforeMs: null, level: 0, warned: false, nextAt: "2026-11-27T10:00:00.000Z" },
    evaluation: null,
    decision: null,
    ...overrides,
  };
}

export function makeAudit(request: ApprovalRequest, overrides: Partial<AuditEntry> = {}): AuditEntry {
  counter += 1;
  return {
    id: `aud_test${String(counter).padStart(6, "0")}`,
    at: request.updatedAt,
    repo: request.repo,
    requestId: request.id,
    event: "created",
    actor: { type: "agent", name: request.requestedBy },
    status: request.status,
    action: null,
    justification: null,
    contextHash: request.contextHash,
    requestedBy: request.requestedBy,
    ...overrides,
  };
}

export function makeJob(request: ApprovalRequest, overrides: Partial<Job> = {}): Job {
  counter += 1;
  return {
    id: `job_test${String(counter).padStart(6, "0")}`,
    kind: "open_surface",
    requestId: request.id,
    reason: "created",
    runAt: request.createdAt,
    attempts: 0,
    lastError: null,
    ...overrides,
  };
}
