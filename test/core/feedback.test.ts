import { describe, expect, it } from "vitest";
import { checkFeedback, settleFeedback } from "../../src/core/feedback.js";

describe("settleFeedback", () => {
  const settle = (repo: Parameters<typeof settleFeedback>[0], asked: Parameters<typeof settleFeedback>[1]) => {
    const violations: string[] = [];
    const policy = settleFeedback(repo, asked, (path, message) => violations.push(`${path}: ${message}`));
    return { policy, violations };
  };

  it("nothing asked anywhere: no feedback", () => {
    expect(settle(undefined, undefined)).toEqual({ policy: undefined, violations: [] });
  });

  it("the request may ask for more: a longer minimum, fewer codes", () => {
    expect(settle({ require_justification: true, reasons: ["a", "b"] }, { minLength: 20, reasons: ["a"] })).toEqual({ policy: { minLength: 20, reasons: ["a"] }, violations: [] });
    expect(settle(undefined, { reasons: ["x"] })).toEqual({ policy: { minLength: 0, reasons: ["x"] }, violations: [] });
    expect(settle({ require_justification: { min_length: 8 } }, {})).toEqual({ policy: { minLength: 8, reasons: [] }, violations: [] });
  });

  it("the request may not ask for less", () => {
    expect(settle({ require_justification: true }, { minLength: 0 }).violations).toEqual(["feedback.require_justification: .hitl.yml requires a justification; a request may not turn it off"]);
    expect(settle({ reasons: ["a"] }, { reasons: ["a", "z"] }).violations).toEqual(["feedback.reasons.1: z is not one of the reason codes .hitl.yml allows: a"]);
  });
});

describe("checkFeedback", () => {
  const policy = { minLength: 5, reasons: ["too_high", "fraud"] };

  it("takes the reason code off a rejection and checks what remains", () => {
    expect(checkFeedback(policy, "reject", "fraud card was stolen")).toEqual({ ok: true, justification: "card was stolen", reasonCode: "fraud" });
    expect(checkFeedback(policy, "reject", "fraud")).toEqual({ ok: false, missing: "justification", policy });
    expect(checkFeedback(policy, "reject", "Fraud card was stolen")).toEqual({ ok: false, missing: "reason_code", policy });
    expect(checkFeedback(policy, "reject", null)).toEqual({ ok: false, missing: "reason_code", policy });
  });

  it("an approval needs no code, only the justification", () => {
    expect(checkFeedback(policy, "approve", "looks right")).toEqual({ ok: true, justification: "looks right" });
    expect(checkFeedback(policy, "approve", "ok")).toEqual({ ok: false, missing: "justification", policy });
    expect(checkFeedback(undefined, "approve", null)).toEqual({ ok: true, justification: null });
  });

  it("counts characters, not UTF-16 units", () => {
    expect(checkFeedback({ minLength: 3, reasons: [] }, "approve", "👍👍")).toMatchObject({ ok: false });
  });
});
