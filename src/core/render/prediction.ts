import type { PredictionRecord } from "../types.js";

/**
 * The prediction in plain words, for the people deciding (the issue, Slack, email, link pages
 * escape it their own way: the sentence holds values from decision_data). Null: none to show.
 * "Prediction: people would likely approve this request. Of the 20 most similar past refund
 * requests (amount 40–95, currency EUR), people approved 19 (95%)."
 */
export function predictionText(prediction: PredictionRecord | undefined): string | null {
  if (!prediction) return null;
  if (prediction.outcome === null) return `Prediction: none, because ${prediction.reasons.join("; ")}.`;
  const parts = [`Prediction: people would likely ${prediction.outcome} this request.`, prediction.sentence];
  if (prediction.reasons.length > 0) parts.push(`It is not confident: ${prediction.reasons.join("; ")}.`);
  if (prediction.mode === "auto" && prediction.blocks.length > 0) parts.push(`It may not decide this request on its own: ${prediction.blocks.join("; ")}.`);
  return parts.join(" ");
}
