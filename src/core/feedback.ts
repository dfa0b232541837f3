import type { ActionKind, FeedbackPolicy } from "./types.js";

/**
 * Structured feedback: a justification of at least some length on every decision, and a reason
 * code the agent can act on at the start of every rejection (`/reject too_high <text>`).
 */

/** `feedback` as written in a request or `.hitl.yml`. */
export interface FeedbackSpec {
  require_justification?: boolean | { min_length: number } | undefined;
  reasons?: string[] | undefined;
}

/** What a request asked for: `minLength` undefined when it did not say. */
export interface AskedFeedback {
  minLength?: number;
  reasons?: string[];
}

export function toAskedFeedback(spec: FeedbackSpec): AskedFeedback {
  const asked = spec.require_justification;
  return {
    ...(asked === undefined ? {} : { minLength: asked === false ? 0 : asked === true ? 1 : asked.min_length }),
    ...(spec.reasons ? { reasons: spec.reasons } : {}),
  };
}

/**
 * `.hitl.yml`'s feedback for one request: the top-level `feedback` and every applying
 * requirement's, folded. The longest justification minimum wins (`true` counts as 1), and the
 * reason codes are the union of the lists given, so a rejection needs a code when any asks for one.
 */
export function foldFeedback(specs: (FeedbackSpec | undefined)[]): FeedbackSpec | undefined {
  const asked = specs.filter((spec): spec is FeedbackSpec => spec !== undefined).map(toAskedFeedback);
  if (asked.length === 0) return undefined;
  const minLength = Math.max(0, ...asked.map((one) => one.minLength ?? 0));
  const reasons = [...new Set(asked.flatMap((one) => one.reasons ?? []))];
  return {
    ...(minLength > 0 ? { require_justification: minLength === 1 ? true : { min_length: minLength } } : {}),
    ...(reasons.length > 0 ? { reasons } : {}),
  };
}

/**
 * The feedback a request gets: `.hitl.yml`'s, made stricter by the request's (a longer minimum,
 * fewer reason codes). A request that would ask for less is a violation, named by its path.
 */
export function settleFeedback(
  repository: FeedbackSpec | undefined,
  asked: AskedFeedback | undefined,
  violate: (path: string, message: string) => void,
): FeedbackPolicy | undefined {
  const repo = toAskedFeedback(repository ?? {});
  const repoMin = repo.minLength ?? 0;
  const repoReasons = repo.reasons ?? [];
  if (asked?.minLength !== undefined && asked.minLength < repoMin) {
    violate("feedback.require_justification", repoMin === 1 ? ".hitl.yml requires a justification; a request may not turn it off" : `must ask for at least ${repoMin} characters, as .hitl.yml's feedback does`);
  }
  if (asked?.reasons && repoReasons.length > 0) {
    asked.reasons.forEach((code, index) => {
      if (!repoReasons.includes(code)) violate(`feedback.reasons.${index}`, `${code} is not one of the reason codes .hitl.yml allows: ${repoReasons.join(", ")}`);
    });
  }
  const minLength = Math.max(repoMin, asked?.minLength ?? 0);
  const reasons = asked?.reasons ?? repoReasons;
  return minLength === 0 && reasons.length === 0 ? undefined : { minLength, reasons };
}

export type FeedbackCheck =
  | { ok: true; justification: string | null; reasonCode?: string }
  | { ok: false; missing: "reason_code" | "justification"; policy: FeedbackPolicy };

/**
 * Reads a decision's text under the request's feedback: a rejection starts with one of the
 * reason codes (taken off the justification), and what remains must be long enough.
 */
export function checkFeedback(policy: FeedbackPolicy | undefined, kind: ActionKind, justification: string | null): FeedbackCheck {
  if (!policy) return { ok: true, justification };
  let text = justification?.trim() ?? "";
  let reasonCode: string | undefined;
  if (kind === "reject" && policy.reasons.length > 0) {
    const [first = "", ...rest] = text.split(/(?<=^\S+)\s+/);
    if (!policy.reasons.includes(first)) return { ok: false, missing: "reason_code", policy };
    reasonCode = first;
    text = rest.join(" ").trim();
  }
  if (policy.minLength > 0 && [...text].length < policy.minLength) return { ok: false, missing: "justification", policy };
  return { ok: true, justification: text === "" ? null : text, ...(reasonCode ? { reasonCode } : {}) };
}
