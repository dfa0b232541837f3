import { describe, expect, it } from "vitest";
import { readEnv } from "../src/env.js";
import { markerKeyFrom } from "../src/github/app-self.js";

describe("readEnv", () => {
  it("applies defaults and reads agents and channels", () => {
    const result = readEnv({ HITL_AGENT_TOKENS: "refund-agent:0123456789abcdef0123", HITL_CHANNEL_ONCALL: "https://pager.example/h" });
    expect(result).toEqual({
      ok: true,
      env: {
        HITL_DATA_DIR: ".data",
        HITL_SWEEP_CRON: "* * * * *",
        HITL_MAX_BODY_BYTES: 1024 * 1024,
        HITL_REDIS_PREFIX: "hitl:",
        HITL_AGENT_TOKENS: "refund-agent:0123456789abcdef0123",
        agents: [{ name: "refund-agent", token: "0123456789abcdef0123" }],
        channels: [{ name: "oncall", url: "https://pager.example/h", kind: "webhook" }],
        self: null,
      },
    });
  });

  it("derives the marker key from HITL_MARKER_SECRET, or else WEBHOOK_SECRET, once APP_ID is set", () => {
    const self = (env: NodeJS.ProcessEnv) => {
      const result = readEnv(env);
      return result.ok ? result.env.self : result.errors;
    };
    const secret = "a-marker-secret-of-at-least-32-chars";
    expect(self({ APP_ID: "12", WEBHOOK_SECRET: "webhook" })).toEqual({ appId: 12, markerKey: markerKeyFrom("webhook") });
    expect(self({ APP_ID: "12", WEBHOOK_SECRET: "webhook", HITL_MARKER_SECRET: secret })).toEqual({ appId: 12, markerKey: markerKeyFrom(secret) });
    expect(markerKeyFrom(secret)).not.toBe(markerKeyFrom("webhook"));
    expect(markerKeyFrom("webhook")).not.toContain("webhook");
    expect(self({ WEBHOOK_SECRET: "webhook" })).toBeNull();
    expect(self({ APP_ID: "12" })).toEqual([
      "HITL_MARKER_SECRET: set it, or WEBHOOK_SECRET, to sign the markers hitl hides in its issues and comments",
    ]);
    expect(self({ APP_ID: "my-app", WEBHOOK_SECRET: "webhook" })).toEqual(["APP_ID: must be the GitHub App's numeric id"]);
    expect(self({ APP_ID: "12", HITL_MARKER_SECRET: "short" })).toEqual(["HITL_MARKER_SECRET: must be at least 32 characters"]);
  });

  it("names every bad variable and never echoes a secret", () => {
    const result = readEnv({
      HITL_AGENT_TOKENS: "refund-agent:short",
      HITL_SWEEP_CRON: "every minute",
      REDIS_URL: "http://user:hunter2@redis.example",
      UPSTASH_REDIS_REST_TOKEN: "upstash-secret-token",
    });
    expect(result.ok).toBe(false);
    const errors = (result as { errors: string[] }).errors;
    expect(errors.map((e) => e.split(":")[0])).toEqual(["HITL_SWEEP_CRON", "REDIS_URL", "HITL_AGENT_TOKENS entry 1 (refund-agent)", "UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN must be set together"]);
    expect(errors.join("\n")).not.toMatch(/hunter2|short|upstash-secret-token/);
  });

  it("accepts a six-field cron with seconds", () => {
    expect(readEnv({ HITL_SWEEP_CRON: "*/10 * * * * *" }).ok).toBe(true);
  });
});
