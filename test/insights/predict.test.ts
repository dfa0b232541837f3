import { describe, expect, it } from "vitest";
import { predict, type PastDecision, type PredictSettings } from "../../src/insights/predict.js";
import { history, random } from "./histories.js";

const SMALL: PredictSettings = { fields: ["amount", "currency"], minHistory: 5, minAgreement: 0.8, neighbours: 5, replay: 20 };
const DEFAULT: PredictSettings = { fields: ["amount", "currency"], minHistory: 10, minAgreement: 0.9, neighbours: 20, replay: 20 };

/** Eight refunds, oldest first: people approved the modest EUR ones and rejected 70 and 900. */
const REFUNDS = history([
  [true, 40, "EUR"],
  [true, 60, "EUR"],
  [true, 95, "EUR"],
  [true, 80, "EUR"],
  [false, 70, "EUR"],
  [true, 50, "EUR"],
  [false, 900, "EUR"],
  [true, 70, "USD"],
]);

describe("predict", () => {
  it("reads the nearest similar decisions, ties to the newer, and explains itself in one sentence", () => {
    const prediction = predict(SMALL, "refund", [65, "EUR"], REFUNDS);
    expect(prediction).toEqual({
      outcome: "approve",
      considered: 5,
      approved: 4,
      agreement: 0.8,
      // 70 and 60 are as near as each other: the newer (r0004) first; then 50 and 80, the newer first.
      neighbourIds: ["r0004", "r0001", "r0005", "r0003", "r0000"],
      bounds: [
        { field: "amount", min: 40, max: 80 },
        { field: "currency", value: "EUR" },
      ],
      history: 8,
      replay: { predicted: 1, disagreed: 0 },
      confident: true,
      reasons: [],
      sentence: "Of the 5 most similar past refund requests (amount 40–80, currency EUR), people approved 4 (80%).",
    });
  });

  it("does not predict approval outside the bounds of what people approved (no extrapolation)", () => {
    // The nearest five to 300 are four approvals (50–95) and a rejection: a majority, but 300 was never approved.
    const prediction = predict(SMALL, "refund", [300, "EUR"], REFUNDS);
    expect(prediction.outcome).toBeNull();
    expect(prediction.confident).toBe(false);
    expect(prediction.reasons).toEqual(["amount 300 is outside 50–95, the amount people approved among them"]);
    expect(prediction.sentence).toBe("Of the 5 most similar past refund requests (amount 50–95, currency EUR), people approved 4 (80%).");
  });

  it("compares values that are not numbers by equality: another currency is not similar", () => {
    const prediction = predict(SMALL, "refund", [65, "GBP"], REFUNDS);
    expect(prediction).toMatchObject({ outcome: null, considered: 0, confident: false, reasons: ["only 0 similar past decisions were made by people; a prediction needs 5"] });
    expect(prediction.sentence).toBe("People have decided no past refund requests similar to this one.");
  });

  it("needs min_history similar decisions (too little data)", () => {
    const prediction = predict(DEFAULT, "refund", [65, "EUR"], REFUNDS);
    expect(prediction.outcome).toBeNull();
    expect(prediction.reasons).toEqual(["only 7 similar past decisions were made by people; a prediction needs 10"]);
  });

  it("is not confident when too few of the similar decisions agree", () => {
    const past = history([...Array.from({ length: 15 }, (): [boolean, number, string] => [true, 50, "EUR"]), ...Array.from({ length: 3 }, (): [boolean, number, string] => [false, 51, "EUR"]), [true, 50, "EUR"], [true, 50, "EUR"]]);
    const prediction = predict(DEFAULT, "refund", [50, "EUR"], past);
    expect(prediction).toMatchObject({ outcome: "approve", considered: 20, approved: 17, agreement: 0.85, confident: false });
    expect(prediction.reasons).toEqual(["85% of them agree, below min_agreement 90%"]);
  });

  it("an empty history predicts nothing", () => {
    expect(predict(DEFAULT, "refund", [1, "EUR"], [])).toMatchObject({ outcome: null, considered: 0, history: 0, replay: { predicted: 0, disagreed: 0 }, confident: false });
  });

  it("learns a threshold people keep to (a generated history with a known answer)", () => {
    const next = random(7);
    const decisions = Array.from({ length: 400 }, (): [boolean, number, string] => {
      const amount = 1 + Math.floor(next() * 200);
      return [amount <= 100, amount, next() < 0.5 ? "EUR" : "USD"];
    });
    const past = history(decisions);
    const outcomes = new Map<number, string | null>();
    for (let amount = 1; amount <= 200; amount++) {
      for (const currency of ["EUR", "USD"]) {
        const prediction = predict(DEFAULT, "refund", [amount, currency], past);
        // Whenever it is confident, it is right.
        if (prediction.confident) expect(prediction.outcome).toBe(amount <= 100 ? "approve" : "reject");
        if (currency === "EUR") outcomes.set(amount, prediction.confident ? prediction.outcome : null);
      }
    }
    // Away from the threshold it is confident both ways; near it, it holds back.
    for (const amount of [10, 30, 50, 70]) expect(outcomes.get(amount)).toBe("approve");
    for (const amount of [130, 150, 170, 190]) expect(outcomes.get(amount)).toBe("reject");
    expect(outcomes.get(100)).toBeNull();
    expect(outcomes.get(101)).toBeNull();
  });

  describe("a history that flips", () => {
    const flipped = (approvals: number, rejections: number) =>
      history([...Array.from({ length: approvals }, (): [boolean, number, string] => [true, 50, "EUR"]), ...Array.from({ length: rejections }, (): [boolean, number, string] => [false, 50, "EUR"])]);

    it("never approves once people started rejecting what they approved", () => {
      for (let rejections = 1; rejections <= 12; rejections++) {
        const prediction = predict(DEFAULT, "refund", [50, "EUR"], flipped(60, rejections));
        expect({ rejections, approves: prediction.confident && prediction.outcome === "approve" }).toEqual({ rejections, approves: false });
      }
    });

    it("says why: the newest similar decision, and the replay of the latest decisions", () => {
      const one = predict(DEFAULT, "refund", [50, "EUR"], flipped(60, 1));
      expect(one).toMatchObject({ outcome: "approve", approved: 19, agreement: 0.95, confident: false });
      expect(one.reasons).toEqual(["the latest of them, r0060, was rejected"]);
      const two = predict(DEFAULT, "refund", [50, "EUR"], flipped(60, 2));
      expect(two.reasons).toEqual(["the latest of them, r0061, was rejected"]);
      // Ties on distance go to the newer: the ten rejections and the ten approvals before them; replayed,
      // each of the ten rejections would have been predicted an approval.
      const ten = predict(DEFAULT, "refund", [50, "EUR"], flipped(60, 10));
      expect(ten).toMatchObject({ outcome: null, approved: 10, considered: 20, replay: { predicted: 20, disagreed: 10 } });
      expect(ten.reasons).toEqual(["people approved as many of them as they rejected (10)"]);
    });

    it("follows people once the new way has settled (and may then predict rejection)", () => {
      const prediction = predict(DEFAULT, "refund", [50, "EUR"], flipped(60, 40));
      expect(prediction).toMatchObject({ outcome: "reject", approved: 0, agreement: 1, confident: true });
    });

    it("is held back by the replay when the model no longer keeps up with the type", () => {
      // Amount 50 was always approved; amounts 60–79 were approved for long, and lately rejected.
      const past = history([
        ...Array.from({ length: 30 }, (): [boolean, number, string] => [true, 50, "EUR"]),
        ...Array.from({ length: 40 }, (_, n): [boolean, number, string] => [true, 60 + (n % 20), "EUR"]),
        ...Array.from({ length: 20 }, (_, n): [boolean, number, string] => [false, 60 + n, "EUR"]),
      ]);
      const prediction = predict({ ...DEFAULT, neighbours: 10 }, "refund", [50, "EUR"], past);
      expect(prediction.outcome).toBe("approve");
      expect(prediction.replay.disagreed).toBeGreaterThan(Math.floor(0.1 * prediction.replay.predicted));
      expect(prediction.confident).toBe(false);
      expect(prediction.reasons).toEqual([`replayed on the latest ${prediction.replay.predicted} decisions people made, the model would have got ${prediction.replay.disagreed} wrong; recent decisions disagree with it`]);
    });
  });

  it("a field that only correlates by chance does not make it confident", () => {
    const next = random(11);
    // People decided at random; the fields say nothing.
    const past = history(Array.from({ length: 300 }, (): [boolean, number, string] => [next() < 0.5, Math.floor(next() * 100), next() < 0.5 ? "EUR" : "USD"]));
    for (let amount = 0; amount < 100; amount += 2) {
      for (const currency of ["EUR", "USD"]) expect(predict(DEFAULT, "refund", [amount, currency], past).confident).toBe(false);
    }
  });

  it("a chance pattern in too little data is not enough", () => {
    // Every approval so far happened to be on a Monday: eight decisions, below min_history 10.
    const past = history(Array.from({ length: 8 }, (): [boolean, ...(number | string)[]] => [true, 50, "mon"]));
    const prediction = predict({ ...DEFAULT, fields: ["amount", "weekday"] }, "refund", [50, "mon"], past);
    expect(prediction).toMatchObject({ outcome: null, confident: false, reasons: ["only 8 similar past decisions were made by people; a prediction needs 10"] });
  });

  it("breaks every tie the same way, whatever order the history is given in", () => {
    const past: PastDecision[] = [
      { id: "b", decidedAt: "2026-01-01T00:00:00.000Z", approved: true, values: [10] },
      { id: "a", decidedAt: "2026-01-01T00:00:00.000Z", approved: false, values: [10] },
      { id: "c", decidedAt: "2026-01-02T00:00:00.000Z", approved: true, values: [10] },
    ];
    const settings: PredictSettings = { fields: ["amount"], minHistory: 5, minAgreement: 0.9, neighbours: 2, replay: 0 };
    const forward = predict(settings, "refund", [10], past).neighbourIds;
    expect(forward).toEqual(["c", "a"]);
    expect(predict(settings, "refund", [10], [...past].reverse()).neighbourIds).toEqual(forward);
  });

  it("keeps agent text in the sentence to one short line", () => {
    const note = "line one\nline two ".repeat(10);
    const past = history(Array.from({ length: 5 }, (): [boolean, ...(number | string)[]] => [true, note]));
    const prediction = predict({ ...SMALL, fields: ["note"] }, "refund", [note], past);
    expect(prediction.sentence).toBe(`Of the 5 most similar past refund requests (note line one line two line one line two line one line two line …), people approved 5 (100%).`);
  });
});
