import { describe, expect, it } from "vitest";
import { routeTemplate } from "../../src/metrics/github-calls.js";
import { deciderKind } from "../../src/metrics/metrics.js";
import { createPromMetrics } from "../../src/metrics/prometheus.js";
import { parseExposition, samplesOf } from "../support/prometheus-text.js";

const scrape = async (registry: { metrics(): Promise<string> }) => parseExposition(await registry.metrics());

describe("metric labels stay bounded", () => {
  it("keeps the first N repositories and request types, then counts the rest as other; odd types are other at once", async () => {
    const { metrics, registry } = createPromMetrics({ labelCap: 2, defaultMetrics: false });
    for (const repository of ["acme/a", "acme/b", "acme/c", "acme/d", "acme/a"]) metrics.requestOpened({ repository, type: "refund", priority: "normal" });
    for (const type of ['Refund"}\nx 1', "deploy", "x".repeat(65), null]) metrics.requestOpened({ repository: "acme/a", type, priority: "high" });
    expect(samplesOf(await scrape(registry), "hitl_requests_opened_total")).toEqual(
      [
        '{"priority":"high","repository":"acme/a","type":"deploy"} 1',
        '{"priority":"high","repository":"acme/a","type":"none"} 1',
        '{"priority":"high","repository":"acme/a","type":"other"} 2',
        '{"priority":"normal","repository":"acme/a","type":"refund"} 2',
        '{"priority":"normal","repository":"acme/b","type":"refund"} 1',
        '{"priority":"normal","repository":"other","type":"refund"} 2',
      ].sort(),
    );
  });

  it("names GitHub routes by their template, also for a full URL such as a pagination link", () => {
    expect(routeTemplate({ method: "post", url: "/repos/{owner}/{repo}/issues" })).toBe("POST /repos/{owner}/{repo}/issues");
    expect(routeTemplate({ method: "GET", url: "https://api.github.com/repos/octo-org/payments/issues/12/comments?since=2026-01-01&page=2" })).toBe("GET /repos/{owner}/{repo}/issues/{number}/comments");
    expect(routeTemplate({ method: "GET", url: "https://ghe.example/api/v3/repos/octo-org/payments/pulls/7/reviews" })).toBe("GET /repos/{owner}/{repo}/pulls/{number}/reviews");
    expect(routeTemplate({ method: "POST", url: "/app/installations/123/access_tokens" })).toBe("POST /app/installations/{installation_id}/access_tokens");
    expect(routeTemplate({ url: "/app" })).toBe("GET /app");
  });

  it("reads the rate limit's resource only when it is a plain name", async () => {
    const { metrics, registry } = createPromMetrics({ defaultMetrics: false });
    metrics.githubRateLimit("core", 4999);
    metrics.githubRateLimit("graphql", 120);
    expect(samplesOf(await scrape(registry), "hitl_github_rate_limit_remaining")).toEqual(['{"resource":"core"} 4999', '{"resource":"graphql"} 120']);
  });

  it("names decider kinds: a human is a person, unknown kinds are other", () => {
    expect(["human", "rule", "fallback", "agent", "system", "prediction", "martian"].map((type) => deciderKind({ type }))).toEqual(["person", "rule", "fallback", "agent", "system", "prediction", "other"]);
  });

  it("leaves the pending gauge out of a scrape while the store does not answer, and says so in the log", async () => {
    const warnings: string[] = [];
    const log = { debug() {}, info() {}, error() {}, warn: (_: unknown, msg?: string) => void warnings.push(msg ?? "") };
    let fail = false;
    const { registry } = createPromMetrics({ defaultMetrics: false, log, pending: async () => (fail ? Promise.reject(new Error("down")) : { low: 1, normal: 2, high: 0, critical: 3 }) });
    expect(samplesOf(await scrape(registry), "hitl_requests_pending")).toHaveLength(4);
    fail = true;
    expect(samplesOf(await scrape(registry), "hitl_requests_pending")).toEqual([]);
    expect(warnings).toEqual(["metrics: could not count pending requests"]);
  });
});
