import { describe, expect, it } from "vitest";
import { readEnv } from "../src/env.js";
import { NO_ALLOWED_TARGETS } from "../src/notify/private-targets.js";
import { markerKeyFrom } from "../src/github/app-self.js";

describe("readEnv", () => {
  it("reads HITL_ENCRYPTION_KEYS, the first sealing, and names a bad pair without echoing a key", () => {
    const key = Buffer.alloc(32, 7).toString("base64");
    const good = readEnv({ HITL_ENCRYPTION_KEYS: `k2:${key},k1:${key}` });
    expect(good.ok && [good.env.sealingKeys?.current.id, [...(good.env.sealingKeys?.all.keys() ?? [])], "HITL_ENCRYPTION_KEYS" in good.env]).toEqual(["k2", ["k2", "k1"], false]);
    const bad = readEnv({ HITL_ENCRYPTION_KEYS: "k1:c2VjcmV0LXRleHQ=" });
    expect(bad).toEqual({ ok: false, errors: ["HITL_ENCRYPTION_KEYS: pair 1 (k1): the key must be 32 bytes, base64 (e.g. openssl rand -base64 32)"] });
  });

  it("reads the receipt keys and HITL_PUBLIC_URL, and names a bad key without echoing it", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const pem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const good = readEnv({ HITL_SIGNING_KEY: pem, HITL_PUBLIC_URL: "https://hitl.example.com" });
    expect(good.ok && [good.env.signingKeys.signing?.asymmetricKeyType, good.env.signingKeys.retired, good.env.HITL_PUBLIC_URL, "HITL_SIGNING_KEY" in good.env]).toEqual(["ed25519", [], "https://hitl.example.com", false]);
    const bad = readEnv({ HITL_SIGNING_KEY: "not-a-key-but-secret-text", HITL_PUBLIC_URL: "ftp://x" });
    expect(bad.ok).toBe(false);
    const errors = (bad as { errors: string[] }).errors;
    expect(errors.some((error) => error.startsWith("HITL_PUBLIC_URL: "))).toBe(true);
    expect(errors.some((error) => error.startsWith("HITL_SIGNING_KEY: must be one Ed25519 private key"))).toBe(true);
    expect(errors.join("\n")).not.toContain("secret-text");
  });

  it("applies defaults and reads agents and channels", () => {
    const result = readEnv({ HITL_AGENT_TOKENS: "refund-agent:0123456789abcdef0123", HITL_CHANNEL_ONCALL: "https://pager.example/h" });
    expect(result).toEqual({
      ok: true,
      env: {
        HITL_DATA_DIR: ".data",
        HITL_SWEEP_CRON: "* * * * *",
        HITL_MAX_BODY_BYTES: 1024 * 1024,
        HITL_REDIS_PREFIX: "hitl:",
        agents: [{ name: "refund-agent", token: "0123456789abcdef0123" }],
        sweepToken: null,
        signingKeys: { signing: null, retired: [] },
        metricsToken: null,
        sealingKeys: null,
        channels: [{ name: "oncall", url: "https://pager.example/h", kind: "webhook" }],
        allowedTargets: NO_ALLOWED_TARGETS,
        self: null,
        slack: null,
        mail: { publicUrl: null, linkKey: null, email: null, inboundSecret: null, twilio: null },
        desk: null,
      },
    });
  });

  it("turns the approver's desk on only with GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET and HITL_PUBLIC_URL", () => {
    const desk = (env: Record<string, string>) => {
      const result = readEnv(env);
      return result.ok ? result.env.desk : result.errors;
    };
    const all = { GITHUB_CLIENT_ID: "Iv1.0123456789abcdef", GITHUB_CLIENT_SECRET: "client-secret-0123456789", HITL_PUBLIC_URL: "https://hitl.example.com" };
    expect(desk(all)).toEqual({ clientId: "Iv1.0123456789abcdef", clientSecret: "client-secret-0123456789", publicUrl: "https://hitl.example.com" });
    expect(desk({ ...all, HITL_PUBLIC_URL: "" })).toBeNull();
    expect(desk({ ...all, GITHUB_CLIENT_SECRET: "" })).toBeNull();
    expect(desk({ HITL_PUBLIC_URL: "https://hitl.example.com" })).toBeNull();
  });

  it("reads Slack's bot token and signing secret together, never echoing them", () => {
    const slack = (env: Record<string, string>) => {
      const result = readEnv(env);
      return result.ok ? result.env.slack : result.errors;
    };
    expect(slack({ HITL_SLACK_BOT_TOKEN: "xoxb-1-abc", HITL_SLACK_SIGNING_SECRET: "0123456789abcdef0123" })).toEqual({ botToken: "xoxb-1-abc", signingSecret: "0123456789abcdef0123" });
    expect(slack({ HITL_SLACK_BOT_TOKEN: "xoxb-1-abc" })).toEqual([
      "HITL_SLACK_BOT_TOKEN and HITL_SLACK_SIGNING_SECRET must be set together: the token posts, the secret checks the button presses",
    ]);
    expect(slack({ HITL_SLACK_BOT_TOKEN: "xoxp-user-token", HITL_SLACK_SIGNING_SECRET: "short" })).toEqual([
      "HITL_SLACK_BOT_TOKEN: must be a Slack bot token (xoxb-…)",
      "HITL_SLACK_SIGNING_SECRET: must be the Slack app's signing secret (at least 16 characters)",
    ]);
    expect(slack({ HITL_SLACK_BOT_TOKEN: "xoxb-1-abc", HITL_SLACK_SIGNING_SECRET: "0123456789abcdef0123", HITL_SLACK_API_URL: "http://10.0.0.5/api" })).toEqual([
      "HITL_SLACK_API_URL: must be an https URL (http only for hosts in HITL_ALLOWED_PRIVATE_TARGETS)",
    ]);
  });

  it("reads HITL_ALLOWED_PRIVATE_TARGETS, which lets channels use the hosts it lists", () => {
    const result = readEnv({ HITL_ALLOWED_PRIVATE_TARGETS: "pager.internal, 10.0.0.0/8", HITL_CHANNEL_ONCALL: "http://pager.internal/h" });
    expect(result.ok).toBe(true);
    const env = (result as Extract<typeof result, { ok: true }>).env;
    expect(env.channels).toEqual([{ name: "oncall", url: "http://pager.internal/h", kind: "webhook" }]);
    expect([...env.allowedTargets.hosts]).toEqual(["pager.internal"]);
    expect(env.allowedTargets.ranges.check("10.1.2.3")).toBe(true);
    expect(env.allowedTargets.ranges.check("192.168.1.1")).toBe(false);
  });

  it("names each bad HITL_ALLOWED_PRIVATE_TARGETS entry with what it may be", () => {
    expect(readEnv({ HITL_ALLOWED_PRIVATE_TARGETS: "10.0.0.0/33,ok.internal,http://x.internal,fd00::/8/1,not a host" })).toEqual({
      ok: false,
      errors: [
        'HITL_ALLOWED_PRIVATE_TARGETS entry 1 ("10.0.0.0/33"): must be a host name, an IP address or a CIDR range such as 10.0.0.0/8 or fd00::/8',
        'HITL_ALLOWED_PRIVATE_TARGETS entry 3 ("http://x.internal"): must be a host name, an IP address or a CIDR range such as 10.0.0.0/8 or fd00::/8',
        'HITL_ALLOWED_PRIVATE_TARGETS entry 4 ("fd00::/8/1"): must be a host name, an IP address or a CIDR range such as 10.0.0.0/8 or fd00::/8',
        'HITL_ALLOWED_PRIVATE_TARGETS entry 5 ("not a host"): must be a host name, an IP address or a CIDR range such as 10.0.0.0/8 or fd00::/8',
      ],
    });
  });

  it("refuses a channel on a private address or over http when nothing allows it", () => {
    expect(readEnv({ HITL_CHANNEL_ONCALL: "http://127.0.0.1:8080/h" })).toEqual({
      ok: false,
      errors: ["HITL_CHANNEL_ONCALL: must be an https URL (http only for hosts in HITL_ALLOWED_PRIVATE_TARGETS)"],
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

  it("reads agent options: read-all and the agent's own GitHub logins, lowercased", () => {
    const result = readEnv({
      HITL_AGENT_TOKENS:
        "refund-agent:0123456789abcdef0123, deploy-bot:fedcba9876543210fedc:github=Deploy-Bot[bot],github=ci-user,read-all,auditor:aaaabbbbccccdddd0000:read-all",
    });
    expect(result.ok && result.env.agents).toEqual([
      { name: "refund-agent", token: "0123456789abcdef0123" },
      { name: "deploy-bot", token: "fedcba9876543210fedc", githubLogins: ["deploy-bot[bot]", "ci-user"], readAll: true },
      { name: "auditor", token: "aaaabbbbccccdddd0000", readAll: true },
    ]);
    expect(JSON.stringify(result)).not.toContain("HITL_AGENT_TOKENS");
  });

  it.each([
    ["an unknown option", "a:0123456789abcdef0123,b:fedcba9876543210fedc:readall", "HITL_AGENT_TOKENS entry 2 (b): options are read-all and github=<login>"],
    ["a bad GitHub login", "a:0123456789abcdef0123:github=-x/y", "HITL_AGENT_TOKENS entry 1 (a): github= must name a GitHub login"],
    ["an option after an entry without options", "a:0123456789abcdef0123,read-all", "HITL_AGENT_TOKENS entry 2 must be name:token[:option,…]"],
    ["a token with a colon", "a:0123456789abcdef:secret-part", "HITL_AGENT_TOKENS entry 1 (a): options are read-all and github=<login>"],
    ["a second colon after the options", "a:0123456789abcdef0123:read-all:x", "HITL_AGENT_TOKENS entry 1 (a): a token may not contain ':'"],
  ])("names the entry for %s and echoes no part of a token", (_name, value, message) => {
    const result = readEnv({ HITL_AGENT_TOKENS: value });
    expect(result.ok).toBe(false);
    const errors = (result as { errors: string[] }).errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(message);
    expect(errors[0]).not.toMatch(/0123456789abcdef|fedcba|secret-part|readall/);
  });

  it("reads HITL_RETENTION_CONTEXT and HITL_RETENTION_AUDIT as milliseconds, and names a bad one", () => {
    const result = readEnv({ HITL_RETENTION_CONTEXT: "90d", HITL_RETENTION_AUDIT: "7y" });
    expect(result.ok && [result.env.HITL_RETENTION_CONTEXT, result.env.HITL_RETENTION_AUDIT]).toEqual([90 * 86_400_000, 7 * 365 * 86_400_000]);
    expect(readEnv({ HITL_RETENTION_AUDIT: "7 years", HITL_RETENTION_CONTEXT: "0d" })).toEqual({
      ok: false,
      errors: ["HITL_RETENTION_CONTEXT: must be a number and h, d, w or y, like 90d or 7y", "HITL_RETENTION_AUDIT: must be a number and h, d, w or y, like 90d or 7y"],
    });
  });

  it("accepts a six-field cron with seconds", () => {
    expect(readEnv({ HITL_SWEEP_CRON: "*/10 * * * * *" }).ok).toBe(true);
  });

  it("turns the in-process sweep off with HITL_SWEEP_CRON=off; empty means the default, as for every variable", () => {
    const cron = (value: string) => {
      const result = readEnv({ HITL_SWEEP_CRON: value });
      return result.ok ? result.env.HITL_SWEEP_CRON : result.errors;
    };
    expect(cron("off")).toBeNull();
    expect(cron("OFF")).toBeNull();
    expect(cron("")).toBe("* * * * *");
    expect(cron("never")).toEqual(["HITL_SWEEP_CRON: must be a cron expression (five fields, or six with seconds first), e.g. '* * * * *', or off"]);
  });

  it("reads HITL_SWEEP_TOKEN: at least 32 characters, and never one of the agents' tokens", () => {
    const token = "sweep-token-0123456789abcdef0123456789";
    const sweepToken = (env: NodeJS.ProcessEnv) => {
      const result = readEnv(env);
      return result.ok ? result.env.sweepToken : result.errors;
    };
    expect(sweepToken({})).toBeNull();
    expect(sweepToken({ HITL_SWEEP_TOKEN: token, HITL_AGENT_TOKENS: "refund-agent:0123456789abcdef0123" })).toBe(token);
    expect(sweepToken({ HITL_SWEEP_TOKEN: "short-token" })).toEqual(["HITL_SWEEP_TOKEN: must be at least 32 characters"]);
    expect(sweepToken({ HITL_SWEEP_TOKEN: `${token} x` })).toEqual(["HITL_SWEEP_TOKEN: must not contain spaces"]);
    expect(sweepToken({ HITL_SWEEP_TOKEN: token, HITL_AGENT_TOKENS: `refund-agent:${token}` })).toEqual([
      "HITL_SWEEP_TOKEN: must differ from every agent token in HITL_AGENT_TOKENS (an agent must not run the sweep)",
    ]);
    const result = readEnv({ HITL_SWEEP_TOKEN: token });
    expect(result.ok && Object.keys(result.env)).not.toContain("HITL_SWEEP_TOKEN");
  });

  it("reads HITL_METRICS_TOKEN: at least 32 characters, and never one of the agents' tokens", () => {
    const token = "metrics-token-0123456789abcdef012345678";
    const metricsToken = (env: NodeJS.ProcessEnv) => {
      const result = readEnv(env);
      return result.ok ? result.env.metricsToken : result.errors;
    };
    expect(metricsToken({})).toBeNull();
    expect(metricsToken({ HITL_METRICS_TOKEN: token, HITL_AGENT_TOKENS: "refund-agent:0123456789abcdef0123" })).toBe(token);
    expect(metricsToken({ HITL_METRICS_TOKEN: "short-token" })).toEqual(["HITL_METRICS_TOKEN: must be at least 32 characters"]);
    expect(metricsToken({ HITL_METRICS_TOKEN: token, HITL_AGENT_TOKENS: `refund-agent:${token}` })).toEqual([
      "HITL_METRICS_TOKEN: must differ from every agent token in HITL_AGENT_TOKENS (the scraper is not an agent)",
    ]);
    const result = readEnv({ HITL_METRICS_TOKEN: token });
    expect(result.ok && Object.keys(result.env)).not.toContain("HITL_METRICS_TOKEN");
  });
});
