/** `hitl/client`: ask people on GitHub for approval from any JavaScript runtime with `fetch`. */
export { Hitl, type Ask, type HitlOptions, type ReportQuery, type ResolveOptions, type WaitOptions } from "./hitl.js";
export { verifyCallback, type VerifyOptions } from "./verify-callback.js";
export { verifyReceipt, RECEIPT_TYPE, type ReceiptJwk, type ReceiptKeySet, type VerifyReceiptOptions } from "./verify-receipt.js";
export { requireApproval, type RequireApprovalOptions } from "./require-approval.js";
export * from "./errors.js";
export type * from "./types.js";
export type { components, paths } from "./api-types.js";
