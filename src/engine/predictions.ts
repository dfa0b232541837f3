import { createHash } from "node:crypto";
import type { HitlConfig, PredictEntry } from "../config/schema.js";
import { predictionBlocks } from "../core/prediction-guard.js";
import type { ApprovalRequest, PredictionRecord } from "../core/types.js";
import { HISTORY_WINDOW, overlaps, pastDecisions } from "../insights/history.js";
import { fieldValue, predict, type PastDecision, type Prediction, type PredictSettings } from "../insights/predict.js";
import type { Store } from "../store/store.js";

/** How long identical requests reuse a prediction (the pre-approval cache), unless the history changed. */
export const PREDICTION_CACHE_TTL_MS = 10 * 60_000;

/** How many of the latest decisions are replayed to check the model keeps up with people. */
export const REPLAY = 20;

export function settingsOf(entry: PredictEntry): PredictSettings {
  return {
    fields: entry.fields,
    minHistory: entry.min_history,
    minAgreement: entry.min_agreement,
    neighbours: entry.neighbours ?? Math.max(20, entry.min_history),
    replay: REPLAY,
  };
}

/**
 * The cache key: the repository, the type, the entry's settings, the request's values of the
 * predicted fields, and every decision of the history read (its id, time and outcome). A new
 * decision by a person changes the history, so an agent cannot ride a prediction made before a
 * person rejected a request like its own.
 */
export function cacheKey(repo: string, entry: PredictEntry, values: unknown[], history: readonly PastDecision[]): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify([settingsOf(entry), values]));
  for (const past of history) hash.update(`\n${past.id}|${past.decidedAt}|${past.approved ? 1 : 0}`);
  return `predict:${repo}:${entry.request_type}:${hash.digest("hex")}`;
}

/**
 * Predictions as requests are opened: the history read from the store (bounded), the model run
 * or its cached answer reused, and the guardrails applied. `dryRun` (a simulation) writes no cache.
 */
export function createPredictions(deps: { store: Store }) {
  const { store } = deps;

  async function history(request: ApprovalRequest, fields: string[]): Promise<PastDecision[]> {
    const query = { repo: request.repo, requestType: request.requestType!, limit: HISTORY_WINDOW };
    const [approved, rejected] = await Promise.all([store.list({ ...query, status: "approved" }), store.list({ ...query, status: "rejected" })]);
    return pastDecisions([...approved, ...rejected], fields, request.id);
  }

  async function modelFor(request: ApprovalRequest, entry: PredictEntry, dryRun: boolean): Promise<Prediction> {
    const values = entry.fields.map((field) => fieldValue(request.decisionData, field));
    const past = await history(request, entry.fields);
    const key = cacheKey(request.repo, entry, values, past);
    const cached = await store.getCached(key);
    if (cached !== null) return JSON.parse(cached) as Prediction;
    const prediction = predict(settingsOf(entry), entry.request_type, values, past);
    if (!dryRun) await store.putCached(key, JSON.stringify(prediction), PREDICTION_CACHE_TTL_MS);
    return prediction;
  }

  return {
    /** The prediction for a request being opened, or null when `.hitl.yml` predicts nothing for its type. */
    async forRequest(request: ApprovalRequest, config: HitlConfig | null, options: { dryRun?: boolean } = {}): Promise<PredictionRecord | null> {
      const entry = config?.predict?.find((candidate) => candidate.request_type === request.requestType);
      if (!config || !entry || request.requestType === null) return null;
      const blocks = entry.mode === "auto" ? predictionBlocks(config, entry, request) : [];
      const sealed = request.sensitive ? entry.fields.filter((field) => request.sensitive!.paths.some((path) => overlaps(field, path))) : [];
      if (sealed.length > 0) {
        return record(entry, null, [`${sealed.join(", ")} ${sealed.length === 1 ? "is" : "are"} sensitive in this request; predictions do not read sensitive values`], blocks);
      }
      const hidden = request.hidden ? entry.fields.filter((field) => request.hidden!.paths.some((path) => overlaps(field, path))) : [];
      if (hidden.length > 0) {
        return record(entry, null, [`${hidden.join(", ")} ${hidden.length === 1 ? "is" : "are"} hidden by .hitl.yml context; predictions do not read hidden values`], blocks);
      }
      const prediction = await modelFor(request, entry, options.dryRun ?? false);
      return record(entry, prediction, prediction.reasons, blocks);
    },
  };
}

function record(entry: PredictEntry, prediction: Prediction | null, reasons: string[], blocks: string[]): PredictionRecord {
  const confident = prediction?.confident ?? false;
  return {
    mode: entry.mode,
    outcome: prediction?.outcome ?? null,
    considered: prediction?.considered ?? 0,
    approved: prediction?.approved ?? 0,
    agreement: prediction?.agreement ?? 0,
    neighbours: prediction?.neighbourIds ?? [],
    bounds: prediction?.bounds ?? [],
    history: prediction?.history ?? 0,
    replay: prediction?.replay ?? { predicted: 0, disagreed: 0 },
    sentence: prediction?.sentence ?? "People's past decisions were not read.",
    reasons,
    blocks,
    decided: entry.mode === "auto" && confident && blocks.length === 0,
  };
}

export type Predictions = ReturnType<typeof createPredictions>;

/** What an automatic decision's audit entry keeps of the prediction: its evidence. */
export function predictionEvidence(prediction: PredictionRecord): Record<string, unknown> {
  return {
    outcome: prediction.outcome,
    considered: prediction.considered,
    approved: prediction.approved,
    agreement: prediction.agreement,
    neighbours: prediction.neighbours,
    bounds: prediction.bounds,
    history: prediction.history,
    replay: prediction.replay,
    sentence: prediction.sentence,
  };
}
