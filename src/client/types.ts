import type { components, paths } from "./api-types.js";

type Schemas = components["schemas"];

/** The body of `POST /api/v1/requests`: what to ask, of whom, and what happens if nobody answers. */
export type NewRequest = NonNullable<paths["/api/v1/requests"]["post"]["requestBody"]>["content"]["application/json"];
/** A request as the API answers it. */
export type ApprovalRequest = Schemas["Request"];
export type Decision = Schemas["Decision"];
export type AuditEntry = Schemas["AuditEntry"];
export type Callback = Schemas["Callback"];
export type RequestStatus = ApprovalRequest["status"];
export type ListQuery = NonNullable<paths["/api/v1/requests"]["get"]["parameters"]["query"]>;

/** A request that is no longer pending, with its decision. */
export interface Outcome {
  id: string;
  status: Exclude<RequestStatus, "pending">;
  /** True only for `approved`. */
  approved: boolean;
  decision: Decision;
}
