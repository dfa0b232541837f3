import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse-config.js";
import type { HitlConfig, PredictEntry } from "../../src/config/schema.js";
import { predictionBlocks, type GuardedRequest } from "../../src/core/prediction-guard.js";
import { PRIORITIES } from "../../src/core/types.js";

function config(yaml: string): HitlConfig {
  const result = parseConfig(yaml, ".hitl.yml");
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const stage = { name: "finance", approvers: ["alice"], required: 2, reject: "veto" as const, allowRepeatApprovers: false };

/** A request as the guardrails see it, with every feature they look at drawn at random. */
const requests = fc.record({
  priority: fc.constantFrom(...PRIORITIES),
  riskScore: fc.oneof(fc.constant(null), fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(Number.NaN)),
  stages: fc.oneof(fc.constant(undefined), fc.constant([stage])),
  asked: fc.record(
    {
      approvers: fc.constant(["alice"]),
      requiredApprovals: fc.integer({ min: 1, max: 5 }),
      stages: fc.constant([{ name: "extra", approvers: ["bob"] }]),
    },
    { requiredKeys: [] },
  ),
  availableActions: fc.constantFrom(
    [{ id: "approve", label: "Refund" }, { id: "reject", label: "Deny" }],
    [{ id: "full", label: "Full refund", kind: "approve" as const }, { id: "partial", label: "Half", kind: "approve" as const }, { id: "reject", label: "Deny" }],
  ),
}) as fc.Arbitrary<GuardedRequest>;

const limits = fc.record({ repo: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }), entry: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }) });

function setup(limit: { repo: number | undefined; entry: number | undefined }): { config: HitlConfig; entry: PredictEntry } {
  const base = config(`predict:\n  - {request_type: refund, fields: [amount], mode: auto}\n`);
  const entry: PredictEntry = { ...base.predict![0]!, ...(limit.entry !== undefined ? { max_risk: limit.entry } : {}) };
  return { config: { ...base, ...(limit.repo !== undefined ? { auto_approve: { require_human_above_risk: limit.repo } } : {}), predict: [entry] }, entry };
}

describe("predictionBlocks (properties)", () => {
  it("never lets a prediction decide a critical request, one needing more than one approval, or one above the risk limit", () => {
    fc.assert(
      fc.property(requests, limits, (request, limit) => {
        const { config: cfg, entry } = setup(limit);
        const blocks = predictionBlocks(cfg, entry, request);
        const bounds = [limit.repo, limit.entry].filter((value): value is number => value !== undefined);
        const overRisk = bounds.length > 0 && (request.riskScore === null || !(request.riskScore <= Math.min(...bounds)));
        const quorum = (request.stages?.length ?? 0) > 0 || (request.asked?.requiredApprovals ?? 1) > 1 || (request.asked?.stages?.length ?? 0) > 0;
        if (request.priority === "critical" || overRisk || quorum || request.asked?.approvers !== undefined) expect(blocks).not.toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it("holds nothing back from a plain request within every limit", () => {
    fc.assert(
      fc.property(fc.constantFrom("low", "normal", "high" as const), fc.double({ min: 0, max: 0.5, noNaN: true }), (priority, risk) => {
        const { config: cfg, entry } = setup({ repo: 0.5, entry: undefined });
        const request: GuardedRequest = { priority, riskScore: risk, asked: {}, availableActions: [{ id: "approve", label: "Refund" }, { id: "reject", label: "Deny" }] };
        expect(predictionBlocks(cfg, entry, request)).toEqual([]);
      }),
    );
  });

  it("says why, in sentences", () => {
    const { config: cfg, entry } = setup({ repo: 0.5, entry: 0.3 });
    const request: GuardedRequest = {
      priority: "critical",
      riskScore: 0.4,
      stages: [stage],
      asked: { approvers: ["alice"], requiredApprovals: 2, stages: [{ name: "extra", approvers: ["bob"] }] as NonNullable<GuardedRequest["asked"]>["stages"] },
      availableActions: [{ id: "full", label: "Full refund", kind: "approve" }, { id: "reject", label: "Deny" }],
      deployment: { environment: "production" } as GuardedRequest["deployment"],
    };
    expect(predictionBlocks(cfg, entry, request)).toEqual([
      "the request is critical",
      "risk_score 0.4 is above 0.3, the most a prediction may decide",
      "the request needs more than one approval",
      "the request names its own approvers",
      "the request asks for more than one approval",
      "the request asks for stages of sign-off",
      "deployments are decided by people",
      "the request offers a choice of actions to approve with",
    ]);
    expect(predictionBlocks(cfg, entry, { ...request, priority: "low", riskScore: null, stages: undefined, asked: {}, deployment: undefined, availableActions: [] })).toEqual([
      "the request gives no risk_score, and predictions decide only at or below 0.3",
    ]);
  });
});
