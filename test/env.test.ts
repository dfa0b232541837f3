import { describe, expect, it } from "vitest";
import { readEnv } from "../src/env.js";

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
      },
    });
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
