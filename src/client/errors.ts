/** An error the agent API answered with: its HTTP status, stable code and sentence. */
export class HitlApiError extends Error {
  override name = "HitlApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** 400 only: each field at fault. */
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** 400: the body or query is not valid; `issues` names the fields. */
export class InvalidRequestError extends HitlApiError {
  override name = "InvalidRequestError";
}
/** 401: the token is missing or unknown. */
export class UnauthorizedError extends HitlApiError {
  override name = "UnauthorizedError";
}
/** 403: the repository's `.hitl.yml` does not list this agent. */
export class ForbiddenError extends HitlApiError {
  override name = "ForbiddenError";
}
/** 404: no such request (or another agent's). */
export class NotFoundError extends HitlApiError {
  override name = "NotFoundError";
}
/** 409: the request is no longer pending, or changed meanwhile. */
export class ConflictError extends HitlApiError {
  override name = "ConflictError";
}
/** 413: the body is larger than the server takes. */
export class PayloadTooLargeError extends HitlApiError {
  override name = "PayloadTooLargeError";
}
/** 422: the app is not installed on the repository, or the idempotency key was used for another body. */
export class UnprocessableError extends HitlApiError {
  override name = "UnprocessableError";
}
/** 5xx, or no answer at all, after every retry: GitHub, the store or the server is down. */
export class UnavailableError extends HitlApiError {
  override name = "UnavailableError";
}

const BY_STATUS: Record<number, typeof HitlApiError> = {
  400: InvalidRequestError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  422: UnprocessableError,
};

export function apiError(status: number, body: unknown): HitlApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; issues?: unknown } } | null)?.error;
  const code = typeof error?.code === "string" ? error.code : `http_${status}`;
  const message = typeof error?.message === "string" ? error.message : `The server answered HTTP ${status}.`;
  const issues = Array.isArray(error?.issues) ? (error.issues as { path: string; message: string }[]) : [];
  const Class = BY_STATUS[status] ?? (status >= 500 ? UnavailableError : HitlApiError);
  return new Class(status, code, message, issues);
}

/** The agent's own time limit ran out while the request was still pending; it can be waited on again by id. */
export class DecisionTimeoutError extends Error {
  override name = "DecisionTimeoutError";
  constructor(readonly requestId: string) {
    super(`Request ${requestId} is still pending: no decision within the time given.`);
  }
}

/** `requireApproval`: the tool did not run because the request was rejected, expired or cancelled. */
export class Rejected extends Error {
  override name = "Rejected";
  constructor(
    readonly requestId: string,
    readonly status: "rejected" | "expired" | "cancelled" | "superseded",
    /** The action taken: `reject`, another rejecting action's id, or the fallback's. */
    readonly action: string,
    readonly justification: string | null,
    /** The reason code the person gave, one of the request's `feedback.reasons`. */
    readonly reasonCode: string | null = null,
  ) {
    super(`Request ${requestId} was ${status}${justification ? `: ${justification}` : ""}.`);
  }
}

/** A decision receipt that is not signed by a published key, was altered, or is not a receipt. */
export class ReceiptVerificationError extends Error {
  override name = "ReceiptVerificationError";
}

/** A callback that is not signed with the token, is stale, or does not parse. */
export class CallbackVerificationError extends Error {
  override name = "CallbackVerificationError";
}

/**
 * `resume: validated`: the request was approved, but the approval no longer holds for the agent's
 * current context (a field drifted, it is too old, or the pull request's head moved); act on it
 * as not approved. With `reAsk`, `followUp` is the linked request that asks again.
 */
export class DecisionDrifted extends Error {
  override name = "DecisionDrifted";
  constructor(
    readonly requestId: string,
    /** `drifted`, `too_old`, `head_moved`. */
    readonly reasons: string[],
    /** Each field that changed: `{field, approved, current}`. */
    readonly driftedFields: { field: string; approved?: unknown; current?: unknown }[],
    /** The whole answer of `POST /requests/{id}/validate`. */
    readonly validation: unknown,
    /** The follow-up request opened by `reAsk` (or earlier), as `GET /requests/{id}` shows it; else null. */
    readonly followUp: { id: string; [key: string]: unknown } | null,
  ) {
    super(`Request ${requestId} was approved, but the approval no longer holds (${reasons.join(", ")})${followUp ? `; asked again as ${followUp.id}` : ""}.`);
  }
}
