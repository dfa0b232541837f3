import fs from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse-config.js";
import type { HitlConfig } from "../../src/config/schema.js";
import { PRIORITIES, type ApprovalRequest } from "../../src/core/types.js";
import { createPredictions } from "../../src/engine/predictions.js";
import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import { createRedisStore } from "../../src/store/redis-store.js";
import { createRespRequester } from "../../src/store/resp-requester.js";
import type { Store } from "../../src/store/store.js";
import { makeRequest } from "../support/fixtures.js";
import { deleteKeys, REDIS_URL } from "../support/redis-keys.js";

function config(yaml: string): HitlConfig {
  const result = parseConfig(yaml, ".hitl.yml");
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const AUTO = config(`
auto_approve: {require_human_above_risk: 0.5}
predict:
  - {request_type: refund, fields: [amount, currency], mode: auto, min_history: 10, min_agreement: 0.9}
`);

let store: Store;
let n = 0;

/** Each store adapter, opened empty, and how to throw it away. */
const ADAPTERS: [string, () => Promise<{ store: Store; drop: () => Promise<void> }>][] = [
  [
    "embedded",
    async () => {
      const dir = await fs.mkdtemp(path.join(tmpdir(), "hitl-predict-"));
      const opened = await createEmbeddedStore({ dir, fsync: false, log: () => undefined });
      return { store: opened, drop: async () => (await opened.close(), await fs.rm(dir, { recursive: true, force: true })) };
    },
  ],
  [
    "redis",
    async () => {
      const prefix = `hitl-test:predict:${randomBytes(6).toString("hex")}:`;
      const requester = createRespRequester(REDIS_URL);
      const opened = createRedisStore({ redis: new Redis(requester), prefix, onClose: () => requester.close() });
      return { store: opened, drop: async () => (await opened.close(), void (await deleteKeys(REDIS_URL, `${prefix}*`))) };
    },
  ],
];

/** A refund a person decided, an hour after the one before. */
async function decided(amount: number, status: "approved" | "rejected", currency = "EUR"): Promise<ApprovalRequest> {
  n += 1;
  const at = new Date(Date.parse("2026-11-01T00:00:00.000Z") + n * 3_600_000).toISOString();
  const request = makeRequest({
    id: `req_past${String(n).padStart(4, "0")}`,
    decisionData: { amount, currency },
    status,
    createdAt: at,
    updatedAt: at,
    decision: { action: status === "approved" ? "approve" : "reject", status, decidedBy: { type: "human", login: "alice" }, justification: null, decidedAt: at, via: "comment" },
  });
  await store.create(request);
  return request;
}

async function approvedHistory(): Promise<void> {
  for (const amount of [40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95]) await decided(amount, "approved");
}

const opening = (decisionData: Record<string, unknown>, overrides: Partial<ApprovalRequest> = {}) => makeRequest({ id: "req_new", decisionData, priority: "normal", riskScore: 0.1, asked: {}, ...overrides });

describe.each(ADAPTERS)("predictions as a request opens (%s store)", (_name, open) => {
  let drop: () => Promise<void>;
  beforeEach(async () => {
    n = 0;
    ({ store, drop } = await open());
  });
  afterEach(() => drop());

  it("decides a request like those people approved, with its evidence", async () => {
    await approvedHistory();
    const prediction = await createPredictions({ store }).forRequest(opening({ amount: 62, currency: "EUR" }), AUTO);
    expect(prediction).toEqual({
      mode: "auto",
      outcome: "approve",
      considered: 12,
      approved: 12,
      agreement: 1,
      neighbours: ["req_past0005", "req_past0006", "req_past0004", "req_past0007", "req_past0003", "req_past0008", "req_past0002", "req_past0009", "req_past0001", "req_past0010", "req_past0011", "req_past0012"],
      bounds: [
        { field: "amount", min: 40, max: 95 },
        { field: "currency", value: "EUR" },
      ],
      history: 12,
      // Each of the latest decisions was a larger amount than any before it: the replay predicts none of them.
      replay: { predicted: 0, disagreed: 0 },
      sentence: "Of the 12 most similar past refund requests (amount 40–95, currency EUR), people approved 12 (100%).",
      reasons: [],
      blocks: [],
      decided: true,
    });
  });

  it("predicts nothing for a type .hitl.yml does not list, or without a file", async () => {
    const predictions = createPredictions({ store });
    expect(await predictions.forRequest(opening({ amount: 62, currency: "EUR" }, { requestType: "deploy" }), AUTO)).toBeNull();
    expect(await predictions.forRequest(opening({ amount: 62, currency: "EUR" }), null)).toBeNull();
  });

  it("suggests only, in suggest mode", async () => {
    await approvedHistory();
    const suggest = config(`predict:\n  - {request_type: refund, fields: [amount, currency]}\n`);
    const prediction = await createPredictions({ store }).forRequest(opening({ amount: 62, currency: "EUR" }, { priority: "critical" }), suggest);
    expect(prediction).toMatchObject({ mode: "suggest", outcome: "approve", blocks: [], decided: false });
  });

  it("attack: data shaped to look like approved requests, just outside their bounds, is not decided", async () => {
    await approvedHistory();
    const predictions = createPredictions({ store });
    const outside = await predictions.forRequest(opening({ amount: 96, currency: "EUR" }), AUTO);
    expect(outside).toMatchObject({ outcome: null, decided: false, reasons: ["amount 96 is outside 40–95, the amount people approved among them"] });
    const huge = await predictions.forRequest(opening({ amount: 10_000, currency: "EUR" }), AUTO);
    expect(huge).toMatchObject({ outcome: null, decided: false });
    // A near-identical currency is another value, so nothing is similar.
    const lookalike = await predictions.forRequest(opening({ amount: 60, currency: "EUR " }), AUTO);
    expect(lookalike).toMatchObject({ outcome: null, considered: 0, decided: false });
    // The field missing, or a number sent as text, is not similar either.
    expect(await predictions.forRequest(opening({ amount: "60", currency: "EUR" }), AUTO)).toMatchObject({ considered: 0, decided: false });
    expect(await predictions.forRequest(opening({ currency: "EUR" }), AUTO)).toMatchObject({ considered: 0, decided: false });
  });

  it("attack: near-identical requests cannot ride a cached prediction after a person rejected one", async () => {
    await approvedHistory();
    let puts = 0;
    const counting: Store = { ...store, putCached: (key: string, value: string, ttl: number) => ((puts += 1), store.putCached(key, value, ttl)) };
    const predictions = createPredictions({ store: counting });
    const first = await predictions.forRequest(opening({ amount: 62, currency: "EUR" }), AUTO);
    const second = await predictions.forRequest(opening({ amount: 62, currency: "EUR" }, { id: "req_again" }), AUTO);
    expect(first!.decided).toBe(true);
    expect(second).toEqual(first);
    expect(puts).toBe(1); // the second reused the first's prediction
    await decided(62, "rejected");
    const third = await predictions.forRequest(opening({ amount: 62, currency: "EUR" }, { id: "req_third" }), AUTO);
    expect(puts).toBe(2);
    expect(third).toMatchObject({
      outcome: "approve",
      decided: false,
      reasons: [
        "the latest of them, req_past0013, was rejected",
        "replayed on the latest decision people made, the model would have got 1 wrong; recent decisions disagree with it",
      ],
    });
  });

  it("does not read sensitive fields", async () => {
    await approvedHistory();
    const sealed = opening({ amount: "[sensitive: kept off GitHub]", currency: "EUR" }, { sensitive: { paths: ["amount"], sealed: "x" } });
    expect(await createPredictions({ store }).forRequest(sealed, AUTO)).toMatchObject({
      outcome: null,
      decided: false,
      reasons: ["amount is sensitive in this request; predictions do not read sensitive values"],
    });
  });

  it("does not read fields .hitl.yml hides: a prediction shown on GitHub never names their values", async () => {
    await approvedHistory();
    const hidden = opening({ amount: "[hidden: not shown on GitHub]", currency: "EUR" }, { hidden: { paths: ["amount"], values: { amount: 62 } } });
    expect(await createPredictions({ store }).forRequest(hidden, AUTO)).toMatchObject({
      outcome: null,
      decided: false,
      reasons: ["amount is hidden by .hitl.yml context; predictions do not read hidden values"],
    });
  });

  it("property: a confident history never decides a critical request, one needing a quorum, or one above the risk limit", async () => {
    await approvedHistory();
    const predictions = createPredictions({ store });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PRIORITIES),
        fc.oneof(fc.constant(null), fc.double({ min: 0, max: 1, noNaN: true })),
        fc.boolean(),
        fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
        async (priority, riskScore, staged, requiredApprovals) => {
          const request = opening(
            { amount: 62, currency: "EUR" },
            {
              priority,
              riskScore,
              ...(staged ? { stages: [{ name: "approval", approvers: [], required: 2, reject: "veto" as const, allowRepeatApprovers: false }] } : {}),
              asked: requiredApprovals === undefined ? {} : { requiredApprovals },
            },
          );
          const prediction = await predictions.forRequest(request, AUTO);
          const mayDecide = priority !== "critical" && riskScore !== null && riskScore <= 0.5 && !staged && (requiredApprovals ?? 1) <= 1;
          expect(prediction!.decided).toBe(mayDecide);
        },
      ),
      { numRuns: 200 },
    );
  });
});
