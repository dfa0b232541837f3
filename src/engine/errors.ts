export interface FieldIssue {
  path: string;
  message: string;
}

/** A failure the API reports to the agent as-is: a stable code, an HTTP status and a sentence. */
export class HitlError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
    this.name = "HitlError";
  }
}

export const notFound = (id: string) => new HitlError("not_found", 404, `No request with id ${id}.`);

/** A 400 naming each field at fault, worded as the API's own validation words it. */
export const invalidRequest = (issues: FieldIssue[]) =>
  new HitlError("invalid_request", 400, `The request is not valid: ${issues.map((issue) => `${issue.path} ${issue.message}`).join("; ")}.`, issues);
