import { describe, expect, it } from "vitest";
import { requestFacts } from "../../../src/channels/request-facts.js";
import { decisionEmail } from "../../../src/channels/email/email-message.js";
import { requestMessage } from "../../../src/channels/slack/blocks.js";
import { predictionText } from "../../../src/core/render/prediction.js";
import { renderRequestBody } from "../../../src/core/render/request-markdown.js";
import type { PredictionRecord } from "../../../src/core/types.js";
import { makeRequest } from "../../support/fixtures.js";

const NOW = new Date("2026-11-24T10:00:00.000Z");

const CONFIDENT: PredictionRecord = {
  mode: "suggest",
  outcome: "approve",
  considered: 20,
  approved: 19,
  agreement: 0.95,
  neighbours: ["req_a", "req_b"],
  bounds: [
    { field: "amount", min: 40, max: 95 },
    { field: "currency", value: "EUR" },
  ],
  history: 120,
  replay: { predicted: 20, disagreed: 0 },
  sentence: "Of the 20 most similar past refund requests (amount 40–95, currency EUR), people approved 19 (95%).",
  reasons: [],
  blocks: [],
  decided: false,
};

const SENTENCE = "Prediction: people would likely approve this request. Of the 20 most similar past refund requests (amount 40–95, currency EUR), people approved 19 (95%).";

describe("predictionText", () => {
  it("says what people would likely do and why, in plain words", () => {
    expect(predictionText(CONFIDENT)).toBe(SENTENCE);
    expect(predictionText(undefined)).toBeNull();
  });

  it("says why it is not confident, and what keeps auto from deciding", () => {
    expect(predictionText({ ...CONFIDENT, mode: "auto", reasons: ["85% of them agree, below min_agreement 90%"], blocks: ["the request is critical", "the request names its own approvers"] })).toBe(
      `${SENTENCE} It is not confident: 85% of them agree, below min_agreement 90%. It may not decide this request on its own: the request is critical; the request names its own approvers.`,
    );
    expect(predictionText({ ...CONFIDENT, outcome: null, reasons: ["only 3 similar past decisions were made by people; a prediction needs 10"] })).toBe(
      "Prediction: none, because only 3 similar past decisions were made by people; a prediction needs 10.",
    );
  });
});

describe("the prediction where people decide", () => {
  const request = makeRequest({ prediction: CONFIDENT });

  it("is a note on the issue while the request waits", () => {
    const body = renderRequestBody(request, { now: NOW, recent: [], markerKey: "k" });
    expect(body).toContain(`\n\n> [!NOTE]\n> ${SENTENCE}\n\n`);
    const decided = makeRequest({ prediction: CONFIDENT, status: "approved", decision: { action: "approve", status: "approved", decidedBy: { type: "human", login: "alice" }, justification: null, decidedAt: NOW.toISOString(), via: "comment" } });
    expect(renderRequestBody(decided, { now: NOW, recent: [], markerKey: "k" })).not.toContain("Prediction:");
  });

  it("keeps agent values in the sentence inert on the issue", () => {
    const hostile = { ...CONFIDENT, sentence: "Of the 5 most similar past refund requests (currency @octo-org/finance <img src=x>), people approved 5 (100%)." };
    const body = renderRequestBody(makeRequest({ prediction: hostile }), { now: NOW, recent: [], markerKey: "k" });
    const line = body.split("\n").find((text) => text.startsWith("> Prediction:"))!;
    expect(line).not.toContain("@octo-org");
    expect(line).not.toContain("<img");
  });

  it("is in the facts every channel shows, in Slack's summary and in the email", () => {
    expect(requestFacts(request, NOW).prediction).toBe(SENTENCE);
    const slack = requestMessage(request, "opened", "secret");
    expect(JSON.stringify(slack.blocks)).toContain(JSON.stringify(SENTENCE).slice(1, -1));
    const mail = decisionEmail(request, { event: "opened", login: "alice", links: [], replyAddress: null, linksExpireAt: NOW.getTime() + 3_600_000, now: NOW });
    expect(mail.text.split("\n")).toContain(SENTENCE);
    expect(mail.html).toContain(`<p style="margin:8px 0 0;color:#59636e;font-size:13px">${SENTENCE}</p>`);
  });
});

describe("a decision by prediction, as people read it", () => {
  const decidedAt = "2026-11-24T09:00:00.000Z";
  const decided = makeRequest({
    id: "req_predicted",
    status: "approved",
    surfaceRef: { type: "pull_request", number: 7, url: "https://github.com/octo-org/payments/pull/7", checkRunId: 1, headSha: "a".repeat(40) },
    surface: { type: "pull_request", number: 7 },
    decision: { action: "approve", status: "approved", decidedBy: { type: "prediction", id: "refund" }, justification: CONFIDENT.sentence, decidedAt, via: "prediction" },
  });

  it("on the status line, the check run, the recent decisions of another issue, Slack and the channels' outcome", async () => {
    const { renderStatusLine } = await import("../../../src/core/render/status-line.js");
    const { renderCheckRun } = await import("../../../src/core/render/check-run.js");
    const { outcomeSentence } = await import("../../../src/channels/slack/blocks.js");
    const { describeOutcome } = await import("../../../src/channels/request-facts.js");
    expect(renderStatusLine(decided, NOW)).toContain("by prediction from people's past decisions");
    expect(renderCheckRun(decided, { now: NOW, recent: [] }).title).toBe("Approved by prediction from past decisions");
    const other = renderRequestBody(makeRequest(), { now: NOW, recent: [decided], markerKey: "k" });
    expect(other).toContain("| approved | prediction | Of the 20 most similar past refund requests (amount 40–95, currency EUR), people approved 19 (95%). |");
    expect(outcomeSentence(decided)).toBe("Approved on 24 Nov 2026 09:00 UTC by prediction from people's past decisions.");
    expect(describeOutcome(decided)).toBe("Approved by prediction from people's past decisions on 24 Nov 2026 09:00 UTC.");
  });
});
