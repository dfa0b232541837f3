import { describe, expect, it } from "vitest";
import { requestFacts } from "../../src/channels/request-facts.js";
import { requestMessage } from "../../src/channels/slack/blocks.js";
import { DEPLOYMENT_REQUESTER } from "../../src/core/deployment.js";
import { makeRequest } from "../support/fixtures.js";

const NOW = new Date("2026-11-24T10:00:00.000Z");
const deployment = makeRequest({
  requestedBy: DEPLOYMENT_REQUESTER,
  deployment: {
    environment: "production",
    ref: "main",
    sha: "a".repeat(40),
    runId: 42,
    runUrl: "https://github.com/octo-org/payments/actions/runs/42",
    commitUrl: `https://github.com/octo-org/payments/commit/${"a".repeat(40)}`,
    deploymentId: 7,
    creator: "carol",
    sender: "carol",
    event: "push",
    policy: "production",
  },
});

describe("who asks, outside GitHub", () => {
  it("a deployment is asked for by its workflow, not the internal requester name", () => {
    expect(requestFacts(deployment, NOW).requestedBy).toBe("A deployment workflow");
    const text = JSON.stringify(requestMessage(deployment, "opened", "slack-signing-secret-0123456789").blocks);
    expect(text).toContain("*Asked by:* a deployment workflow in octo-org/payments");
    expect(text).not.toContain(DEPLOYMENT_REQUESTER);
  });

  it("an agent's request names the agent", () => {
    const request = makeRequest({ requestedBy: "refund-agent" });
    expect(requestFacts(request, NOW).requestedBy).toBe("refund-agent");
    expect(JSON.stringify(requestMessage(request, "opened", "slack-signing-secret-0123456789").blocks)).toContain("*Asked by:* refund-agent in octo-org/payments");
  });
});
