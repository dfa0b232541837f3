import type { components, operations, paths } from "./api-types.js";

type Schemas = components["schemas"];

/** The body of `POST /api/v1/requests`: what to ask, of whom, and what happens if nobody answers. */
export type NewRequest = NonNullable<paths["/api/v1/requests"]["post"]["requestBody"]>["content"]["application/json"];
/** A request as the API answers it. */
export type ApprovalRequest = Schemas["Request"];
export type ContextLayers = Schemas["ContextLayers"];
export type Decision = Schemas["Decision"];
export type AuditEntry = Schemas["AuditEntry"];
export type AuditPage = Schemas["AuditPage"];
export type AuditVerification = Schemas["AuditVerification"];
/** `GET /api/v1/audit`'s filters and paging. */
export type AuditQuery = NonNullable<paths["/api/v1/audit"]["get"]["parameters"]["query"]>;
/** `GET /api/v1/audit/export`'s filters. */
export type AuditExportQuery = NonNullable<paths["/api/v1/audit/export"]["get"]["parameters"]["query"]>;
export type Callback = Schemas["Callback"];
/** The answer of `POST /api/v1/requests/batch`: one result per item, in the order sent. */
export type BatchResult = Schemas["BatchResult"];
/** The claims of a decision receipt (version 1). */
export type ReceiptPayload = Schemas["ReceiptPayload"];
/** `GET /api/v1/reports/compliance?format=json`. */
export type ComplianceReport = Schemas["ComplianceReport"];
/** The answer of `GET /stats`: decision figures of a repository, per request type and per approver. */
export type Stats = Schemas["Stats"];
/** The answer of `GET /suggestions`: delegation rules the repository's history supports. */
export type SuggestionList = Schemas["SuggestionList"];
export type Suggestion = Schemas["Suggestion"];
/** The answer of `POST /suggestions/{id}/pull-request`. */
export type SuggestionPullRequest = Schemas["SuggestionPullRequest"];
export type RequestStatus = ApprovalRequest["status"];
export type ListQuery = NonNullable<paths["/api/v1/requests"]["get"]["parameters"]["query"]>;
export type ResumeMode = ApprovalRequest["resume"];
/** The answer of `POST /requests/{id}/validate`. */
export type Validation = operations["validateDecision"]["responses"][200]["content"]["application/json"];
/** The body of `POST /requests/{id}/validate`: the agent's current context. */
export type ValidateBody = NonNullable<operations["validateDecision"]["requestBody"]>["content"]["application/json"];

/** A request that is no longer pending, with its decision. */
export interface Outcome {
  id: string;
  status: Exclude<RequestStatus, "pending">;
  /** True only for `approved`. */
  approved: boolean;
  decision: Decision;
  /** As the agent sent them, so a stateless agent can resume from the decision alone. */
  workflow_id: string | null;
  checkpoint: unknown;
  /** How the client integrates the decision (`decision()` applies it; see `Resolution`). */
  resume: ResumeMode;
  superseded_by: string | null;
}

/** What the person said besides approve or reject: their edits, reason code and justification. */
export interface Guidance {
  action: string;
  /** The fields of decision_data the approver changed, with their new values (empty: none). */
  edited_fields: Record<string, unknown>;
  reason_code: string | null;
  justification: string | null;
}

/** A decision integrated the way the request's `resume` asks. */
export interface Resolution extends Outcome {
  /** `guided`: the person's word, to carry on with; else null. */
  guidance: Guidance | null;
  /** `fresh_start`: the person's word, as constraints for a new plan; else null. */
  constraints: Guidance | null;
  /** `validated` approvals: the check that found the approval still holds; else null. */
  validation: Validation | null;
}
