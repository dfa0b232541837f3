import { Rejected } from "./errors.js";
import type { Hitl, WaitOptions } from "./hitl.js";
import type { NewRequest } from "./types.js";

type Args = Record<string, unknown>;

export interface RequireApprovalOptions<A extends Args> extends WaitOptions {
  hitl: Hitl;
  repo: string;
  /** What the tool is about to do; a function of the arguments, or a fixed sentence. */
  task: string | ((args: A) => string);
  /** Why a person must approve it. */
  reason: string | ((args: A) => string);
  /** Arguments the approver may change: their edits are passed to the tool; edits to others are ignored. */
  editable?: (keyof A & string)[];
  /** Anything else the request should carry (approvers, priority, deadline, fallback_action …). */
  request?: Omit<NewRequest, "repo" | "task_description" | "approval_reason" | "decision_data">;
}

/**
 * Wraps a tool so that calling it first asks for approval, with its arguments as the decision
 * data, then runs it with the approved arguments (with the approver's edits to `editable` ones);
 * a rejected, expired, cancelled or superseded request throws `Rejected` (with the reason code a
 * person gave, if any) and the tool never runs. With `resume: "validated"` in `request`, an
 * approval is validated against these arguments, and one that no longer holds throws `DecisionDrifted`.
 */
export function requireApproval<A extends Args, R>(tool: (args: A) => R | Promise<R>, options: RequireApprovalOptions<A>): (args: A) => Promise<R> {
  const text = (value: string | ((args: A) => string), args: A) => (typeof value === "function" ? value(args) : value);
  return async (args: A) => {
    const outcome = await options.hitl
      .ask({ ...options.request, repo: options.repo, task_description: text(options.task, args), approval_reason: text(options.reason, args), decision_data: args })
      .decision({ timeoutMs: options.timeoutMs, signal: options.signal });
    const { decision } = outcome;
    if (outcome.status !== "approved") throw new Rejected(outcome.id, outcome.status, decision.action, decision.justification, decision.reason_code ?? null);
    const edits = Object.entries(decision.edited_fields ?? {}).filter(([key]) => options.editable?.includes(key));
    return tool({ ...args, ...Object.fromEntries(edits) } as A);
  };
}
