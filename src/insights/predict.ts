/**
 * Predicted approvals: how people would likely decide a request, from how they decided the most
 * similar past requests of its type. The model is k nearest neighbours, simple enough to say in
 * one sentence:
 *
 * - a past request is *similar* only when it has the same value as the request on every listed
 *   field that is not a number, and a number on every field where the request has one;
 * - among those, the `neighbours` nearest on the numeric fields (each distance divided by the
 *   field's range over the history read), ties to the newer decision, then to the smaller id;
 * - the prediction is the majority of their outcomes, and only when the request lies inside the
 *   bounds of the neighbours that had that outcome: it never extrapolates past what people decided;
 * - it decides only when enough of them agree, the newest of them agrees too, and a *replay* of
 *   the latest decisions of the type (each predicted from the decisions before it) shows the
 *   model has kept up with people: a history that flips has not.
 *
 * Pure: plain data in, plain data out; the engine reads the history and applies the guardrails.
 */

/** A field's value as the model compares it: numbers by distance, everything else by equality. */
export type FieldValue = number | string | boolean | null;

/** One past decision a person made on a request of the type, newest first in a history. */
export interface PastDecision {
  id: string;
  decidedAt: string;
  approved: boolean;
  /** The request's values of the predicted fields, in the order of `PredictSettings.fields`. */
  values: FieldValue[];
}

export interface PredictSettings {
  /** Dotted paths into decision_data. */
  fields: string[];
  /** The fewest similar past decisions a prediction needs. */
  minHistory: number;
  /** The share of the similar decisions that must agree for the prediction to decide. */
  minAgreement: number;
  /** How many of the most similar decisions are read. */
  neighbours: number;
  /** How many of the latest decisions are replayed to check the model keeps up with people. */
  replay: number;
}

export type FieldBound = { field: string; min: number; max: number } | { field: string; value: FieldValue };

export interface Prediction {
  /** What people would likely do; null: no prediction (too few similar decisions, a tie, or outside their bounds). */
  outcome: "approve" | "reject" | null;
  /** Similar past decisions read (at most `neighbours`), and how many of them were approvals. */
  considered: number;
  approved: number;
  /** The share of those with the majority outcome, 0 when none. */
  agreement: number;
  /** The request ids of the similar decisions read, nearest first. */
  neighbourIds: string[];
  /** The bounds of the similar decisions read, per field. */
  bounds: FieldBound[];
  /** Decisions in the history read. */
  history: number;
  /** Of the latest decisions, how many the model would have predicted from the ones before, and how many of those it got wrong. */
  replay: { predicted: number; disagreed: number };
  /** Whether the prediction is strong enough to decide on its own (before the guardrails). */
  confident: boolean;
  /** Short sentences: why there is no prediction, or why it is not confident. */
  reasons: string[];
  /** The one sentence that explains it, e.g. "Of the 20 most similar past refunds (amount 40–95, currency EUR), people approved 19 (95%)." */
  sentence: string;
}

/** The field's value at a dotted path of decision_data, as the model compares it. */
export function fieldValue(data: Record<string, unknown>, path: string): FieldValue {
  let at: unknown = data;
  for (const key of path.split(".")) {
    if (at === null || typeof at !== "object" || Array.isArray(at) || !Object.hasOwn(at, key)) return null;
    at = (at as Record<string, unknown>)[key];
  }
  if (typeof at === "number") return Number.isFinite(at) ? at : null;
  if (typeof at === "string" || typeof at === "boolean") return at;
  if (at === null || at === undefined) return null;
  return JSON.stringify(at);
}

interface Neighbour {
  entry: PastDecision;
  distance: number;
}

/** `a` comes before `b`: nearer, then newer (ISO times compare as text), then the smaller id. */
function before(a: Neighbour, b: Neighbour): boolean {
  if (a.distance !== b.distance) return a.distance < b.distance;
  if (a.entry.decidedAt !== b.entry.decidedAt) return a.entry.decidedAt > b.entry.decidedAt;
  return a.entry.id < b.entry.id;
}

/** Same value on every field that is not a number, and a number where `values` has one. */
function isSimilar(entry: PastDecision, values: readonly FieldValue[], numeric: readonly boolean[]): boolean {
  for (let i = 0; i < values.length; i++) {
    const value = entry.values[i];
    if (numeric[i] ? typeof value !== "number" : value !== values[i]) return false;
  }
  return true;
}

/** Per field, the lowest and highest number in the history (NaN-free; Infinity when none). */
export function numericSpans(history: readonly PastDecision[], width: number): { lows: number[]; highs: number[] } {
  const lows = Array.from({ length: width }, () => Infinity);
  const highs = Array.from({ length: width }, () => -Infinity);
  for (const entry of history) {
    for (let i = 0; i < width; i++) {
      const v = entry.values[i];
      if (typeof v !== "number") continue;
      if (v < lows[i]!) lows[i] = v;
      if (v > highs[i]!) highs[i] = v;
    }
  }
  return { lows, highs };
}

/**
 * The `k` similar decisions nearest to `values`, nearest first, from `history[from..]`, each
 * numeric distance divided by the field's range over the history read and the request (`spans`),
 * keeping the best k in a small sorted array: one pass.
 */
export function nearest(history: readonly PastDecision[], values: readonly FieldValue[], k: number, from = 0, spans = numericSpans(history, values.length)): Neighbour[] {
  const numeric = values.map((value) => typeof value === "number");
  const ranges = values.map((value, i) => (typeof value === "number" ? Math.max(spans.highs[i]!, value) - Math.min(spans.lows[i]!, value) : 0));
  const best: Neighbour[] = [];
  for (let n = from; n < history.length; n++) {
    const entry = history[n]!;
    if (!isSimilar(entry, values, numeric)) continue;
    let distance = 0;
    for (let i = 0; i < values.length; i++) {
      if (numeric[i] && ranges[i]! > 0) distance += Math.abs((entry.values[i] as number) - (values[i] as number)) / ranges[i]!;
    }
    if (best.length === k) {
      const worst = best[k - 1]!;
      if (distance > worst.distance) continue;
      if (!before({ entry, distance }, worst)) continue;
    }
    const candidate: Neighbour = { entry, distance };
    let at = best.length;
    while (at > 0 && before(candidate, best[at - 1]!)) at--;
    best.splice(at, 0, candidate);
    if (best.length > k) best.pop();
  }
  return best;
}

/** The bounds of the decisions on each field: a numeric range, or the one shared value. */
function boundsOf(fields: readonly string[], values: readonly FieldValue[], entries: readonly PastDecision[]): FieldBound[] {
  return fields.map((field, i) => {
    if (typeof values[i] !== "number") return { field, value: values[i] ?? null };
    let min = Infinity;
    let max = -Infinity;
    for (const entry of entries) {
      const v = entry.values[i] as number;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return { field, min, max };
  });
}

/** The majority outcome of the neighbours, or why there is none. */
function judge(settings: PredictSettings, values: readonly FieldValue[], neighbours: readonly Neighbour[]): { outcome: "approve" | "reject" | null; approved: number; reasons: string[] } {
  const approved = neighbours.filter((neighbour) => neighbour.entry.approved).length;
  const rejected = neighbours.length - approved;
  if (neighbours.length < settings.minHistory) {
    return { outcome: null, approved, reasons: [`only ${neighbours.length} similar past ${neighbours.length === 1 ? "decision was" : "decisions were"} made by people; a prediction needs ${settings.minHistory}`] };
  }
  if (approved === rejected) return { outcome: null, approved, reasons: [`people approved as many of them as they rejected (${approved})`] };
  const outcome = approved > rejected ? "approve" : "reject";
  const alike = neighbours.filter((neighbour) => neighbour.entry.approved === (outcome === "approve")).map((neighbour) => neighbour.entry);
  const reasons: string[] = [];
  boundsOf(settings.fields, values, alike).forEach((bound, i) => {
    if (!("min" in bound)) return;
    const value = values[i] as number;
    if (value < bound.min || value > bound.max) {
      reasons.push(`${bound.field} ${value} is outside ${range(bound.min, bound.max)}, the ${bound.field} people ${outcome === "approve" ? "approved" : "rejected"} among them`);
    }
  });
  return { outcome: reasons.length > 0 ? null : outcome, approved, reasons };
}

/**
 * The prediction for a request of `typeName` whose predicted fields hold `values`, from
 * `history` (a person's decisions on the type, newest first).
 */
export function predict(settings: PredictSettings, typeName: string, values: readonly FieldValue[], history: readonly PastDecision[]): Prediction {
  const spans = numericSpans(history, values.length);
  const neighbours = nearest(history, values, settings.neighbours, 0, spans);
  const { outcome, approved, reasons } = judge(settings, values, neighbours);
  const considered = neighbours.length;
  const agreement = considered === 0 ? 0 : Math.max(approved, considered - approved) / considered;
  const replayed = replay(settings, history, spans);
  const bounds = considered > 0 ? boundsOf(settings.fields, values, neighbours.map((neighbour) => neighbour.entry)) : [];
  if (outcome !== null && agreement < settings.minAgreement) {
    reasons.push(`${percent(agreement)} of them agree, below min_agreement ${percent(settings.minAgreement)}`);
  }
  // The newest of them tells whether people still decide so: one who decided otherwise since holds it for a person.
  const newest = neighbours.reduce<Neighbour | null>((latest, neighbour) => (latest === null || neighbour.entry.decidedAt > latest.entry.decidedAt ? neighbour : latest), null);
  if (outcome !== null && newest !== null && newest.entry.approved !== (outcome === "approve")) {
    reasons.push(`the latest of them, ${newest.entry.id}, was ${newest.entry.approved ? "approved" : "rejected"}`);
  }
  const allowed = Math.floor((1 - settings.minAgreement) * replayed.predicted + 1e-9);
  if (outcome !== null && replayed.disagreed > allowed) {
    reasons.push(`replayed on the latest ${replayed.predicted === 1 ? "decision" : `${replayed.predicted} decisions`} people made, the model would have got ${replayed.disagreed} wrong; recent decisions disagree with it`);
  }
  return {
    outcome,
    considered,
    approved,
    agreement,
    neighbourIds: neighbours.map((neighbour) => neighbour.entry.id),
    bounds,
    history: history.length,
    replay: replayed,
    confident: outcome !== null && reasons.length === 0,
    reasons,
    sentence: sentence(typeName, considered, approved, bounds),
  };
}

/**
 * Replays the latest `settings.replay` decisions: each is predicted from the decisions made
 * before it alone, as the model would have then. Counts those it would have predicted, and
 * those where people decided otherwise.
 */
export function replay(settings: PredictSettings, history: readonly PastDecision[], spans = numericSpans(history, settings.fields.length)): { predicted: number; disagreed: number } {
  let predicted = 0;
  let disagreed = 0;
  const latest = Math.min(settings.replay, history.length);
  for (let n = 0; n < latest; n++) {
    const entry = history[n]!;
    const neighbours = nearest(history, entry.values, settings.neighbours, n + 1, spans);
    const { outcome } = judge(settings, entry.values, neighbours);
    if (outcome === null) continue;
    predicted++;
    if ((outcome === "approve") !== entry.approved) disagreed++;
  }
  return { predicted, disagreed };
}

/** "Of the 20 most similar past refunds (amount 40–95, currency EUR), people approved 19 (95%)." */
function sentence(typeName: string, considered: number, approved: number, bounds: readonly FieldBound[]): string {
  if (considered === 0) return `People have decided no past ${typeName} requests similar to this one.`;
  const shown = bounds.map((bound) => ("min" in bound ? `${bound.field} ${range(bound.min, bound.max)}` : `${bound.field} ${bound.value === null ? "absent" : shorten(String(bound.value))}`)).join(", ");
  const what = considered === 1 ? `the one similar past ${typeName} request` : `the ${considered} most similar past ${typeName} requests`;
  return `Of ${what}${shown ? ` (${shown})` : ""}, people approved ${approved} (${percent(approved / considered)}).`;
}

/** A value from decision_data is the agent's text: one line, at most 60 characters, in the sentence. */
function shorten(text: string): string {
  const line = text.replace(/\s+/g, " ");
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

function range(min: number, max: number): string {
  return min === max ? `${min}` : `${min}–${max}`;
}

/** 0.95 → "95%", 2/3 → "66.7%". */
export function percent(share: number): string {
  const value = Math.round(share * 1000) / 10;
  return `${value}%`;
}
