import type { ApprovalRequest, EscalationState, Job } from "../core/types.js";

/**
 * Records read back from an older store are taken as they are, never refused: one with a time
 * that does not parse (written by a version that did not check, or by hand) is mended so the
 * store opens, and such a request is parked with the reason. A stored record can then never keep
 * the process from starting.
 */
export function mendStoredRequest(request: ApprovalRequest, at: string): { request: ApprovalRequest; parked: boolean } {
  const problems: string[] = [];
  let mended = request;
  if (!isTime(request.createdAt)) {
    problems.push(`createdAt ${JSON.stringify(request.createdAt)} is not a time`);
    mended = { ...mended, createdAt: isTime(request.updatedAt) ? request.updatedAt : new Date(0).toISOString() };
  }
  if (!isTime(mended.updatedAt)) mended = { ...mended, updatedAt: mended.createdAt };
  const escalation: Partial<EscalationState> | null = typeof request.escalation === "object" && request.escalation !== null ? request.escalation : null;
  if (escalation === null) problems.push("escalation is missing");
  else if (escalation.nextAt != null && !isTime(escalation.nextAt)) problems.push(`escalation.nextAt ${JSON.stringify(escalation.nextAt)} is not a time`);
  if (problems.length === 0) return { request: mended, parked: false };
  const parked: EscalationState = { ladder: [], warningBeforeMs: null, level: 0, warned: false, ...escalation, nextAt: null };
  return { request: { ...mended, escalation: parked, error: { at, message: `parked when the store was loaded: ${problems.join("; ")}` } }, parked: true };
}

/** A job whose run time does not parse runs now. */
export function mendStoredJob(job: Job, at: string): Job {
  return isTime(job.runAt) ? job : { ...job, runAt: at };
}

function isTime(iso: unknown): boolean {
  return typeof iso === "string" && !Number.isNaN(Date.parse(iso));
}
