import { z } from "zod";
import { validate as validateCron } from "node-cron";
import { parseRetention, RETENTION_FORMAT } from "./core/retention.js";
import { parseAgentTokens, type AgentCredential } from "./api/agent-auth.js";
import { markerKeyFrom, type AppSelf } from "./github/app-self.js";
import { readChannels, type Channel } from "./notify/channels.js";
import { readMailChannels, type MailChannelSettings } from "./channels/mail-env.js";
import { parseAllowedTargets, targetRefusal, type AllowedTargets } from "./notify/private-targets.js";
import type { SlackSettings } from "./channels/slack/slack-api.js";
import { readSigningKeys, type ConfiguredKeys } from "./receipts/signing-keys.js";
import { parseSealingKeys, type SealingKeys } from "./sensitive/sealing.js";

/** `90d`, `7y`: how long something is kept; absent: for ever. */
const retention = z
  .string()
  .refine((text) => parseRetention(text) !== null, { message: `must be ${RETENTION_FORMAT}` })
  .transform((text) => parseRetention(text)!);

/** hitl's own settings; Probot reads its own (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, PORT, GHE_HOST …). */
const envSchema = z.object({
  HITL_AGENT_TOKENS: z.string().optional(),
  HITL_DATA_DIR: z.string().min(1).default(".data"),
  // `off`: no sweep runs in this process; an external scheduler calls POST /api/v1/sweep instead.
  HITL_SWEEP_CRON: z
    .string()
    .default("* * * * *")
    .refine((value) => value.trim().toLowerCase() === "off" || validateCron(value), "must be a cron expression (five fields, or six with seconds first), e.g. '* * * * *', or off")
    .transform((value) => (value.trim().toLowerCase() === "off" ? null : value)),
  HITL_MAX_BODY_BYTES: z.coerce.number().int().min(1_024).max(16 * 1024 * 1024).default(1024 * 1024),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/ }).optional(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
  HITL_REDIS_PREFIX: z.string().min(1).max(64).default("hitl:"),
  HITL_ALLOWED_PRIVATE_TARGETS: z.string().optional(),
  HITL_MARKER_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  HITL_SWEEP_TOKEN: z.string().min(32, "must be at least 32 characters").regex(/^\S+$/, "must not contain spaces").optional(),
  HITL_SLACK_BOT_TOKEN: z.string().regex(/^xoxb-[A-Za-z0-9-]+$/, "must be a Slack bot token (xoxb-…)").optional(),
  HITL_SLACK_SIGNING_SECRET: z.string().min(16, "must be the Slack app's signing secret (at least 16 characters)").optional(),
  HITL_SLACK_API_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Where people and agents reach this hitl, e.g. https://hitl.example.com; receipts name it as their issuer. */
  HITL_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  HITL_SIGNING_KEY: z.string().optional(),
  HITL_RETIRED_SIGNING_KEYS: z.string().optional(),
  HITL_RETENTION_CONTEXT: retention.optional(),
  HITL_RETENTION_AUDIT: retention.optional(),
  HITL_METRICS_TOKEN: z.string().min(32, "must be at least 32 characters").regex(/^\S+$/, "must not contain spaces").optional(),
  HITL_ENCRYPTION_KEYS: z.string().optional(),
  // Written by Probot's setup page; with HITL_PUBLIC_URL they turn on the approver's desk.
  GITHUB_CLIENT_ID: z.string().min(1).optional(),
  GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
});

/** Every variable of hitl's own schema (docs/deploy.md's reference table is checked against it). */
export const HITL_ENV_KEYS: readonly string[] = Object.keys(envSchema.shape);

/** The settings, with the secrets only in parsed form: `HITL_AGENT_TOKENS` holds every token. */
export type HitlEnv = Omit<z.infer<typeof envSchema>, "HITL_AGENT_TOKENS" | "HITL_MARKER_SECRET" | "HITL_SWEEP_TOKEN" | "HITL_METRICS_TOKEN" | "HITL_SLACK_BOT_TOKEN" | "HITL_SLACK_SIGNING_SECRET" | "HITL_SLACK_API_URL" | "HITL_SIGNING_KEY" | "HITL_RETIRED_SIGNING_KEYS" | "HITL_ENCRYPTION_KEYS" | "GITHUB_CLIENT_ID" | "GITHUB_CLIENT_SECRET"> & {
  /** The approver's desk: on when GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET and HITL_PUBLIC_URL are all set. */
  desk: { clientId: string; clientSecret: string; publicUrl: string } | null;
  /** `HITL_ENCRYPTION_KEYS`: the keys sensitive values are sealed with; null: requests may carry none. */
  sealingKeys: SealingKeys | null;
  agents: AgentCredential[];
  /** `HITL_SWEEP_TOKEN`: the bearer token of `POST /api/v1/sweep`; null leaves that endpoint off. */
  sweepToken: string | null;
  /** `HITL_METRICS_TOKEN`: the bearer token of `GET /metrics`; null leaves that endpoint open. */
  metricsToken: string | null;
  /** `HITL_SLACK_*`; null when Slack is not set up. */
  slack: SlackSettings | null;
  /** The keys receipts are signed with (none configured: a key generated once and kept in the store). */
  signingKeys: ConfiguredKeys;
  channels: Channel[];
  allowedTargets: AllowedTargets;
  self: AppSelf | null;
  /** Email, one-click links, email replies and SMS. */
  mail: MailChannelSettings;
};

/** Reads the environment, or explains every bad variable by name (values are never echoed). */
export function readEnv(env: NodeJS.ProcessEnv): { ok: true; env: HitlEnv } | { ok: false; errors: string[] } {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const result = envSchema.safeParse(cleaned);
  const errors = result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  const tokens = parseAgentTokens(env.HITL_AGENT_TOKENS);
  if ("error" in tokens) errors.push(tokens.error);
  const allowed = parseAllowedTargets(env.HITL_ALLOWED_PRIVATE_TARGETS);
  errors.push(...allowed.errors);
  const channels = readChannels(env, allowed.targets);
  errors.push(...channels.errors);
  const mail = readMailChannels(env, allowed.targets);
  errors.push(...mail.errors);
  if (Boolean(env.UPSTASH_REDIS_REST_URL) !== Boolean(env.UPSTASH_REDIS_REST_TOKEN)) {
    errors.push("UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN must be set together");
  }
  if (Boolean(cleaned.HITL_SLACK_BOT_TOKEN) !== Boolean(cleaned.HITL_SLACK_SIGNING_SECRET)) {
    errors.push("HITL_SLACK_BOT_TOKEN and HITL_SLACK_SIGNING_SECRET must be set together: the token posts, the secret checks the button presses");
  }
  if (cleaned.HITL_SLACK_API_URL) {
    const refusal = targetRefusal(cleaned.HITL_SLACK_API_URL, allowed.targets);
    if (refusal) errors.push(`HITL_SLACK_API_URL: ${refusal}`);
  }
  const self = readSelf(env);
  if ("error" in self) errors.push(self.error);
  if (result.success && result.data.HITL_SWEEP_TOKEN && "agents" in tokens && tokens.agents.some((agent) => agent.token === result.data.HITL_SWEEP_TOKEN)) {
    errors.push("HITL_SWEEP_TOKEN: must differ from every agent token in HITL_AGENT_TOKENS (an agent must not run the sweep)");
  }
  if (result.success && result.data.HITL_METRICS_TOKEN && "agents" in tokens && tokens.agents.some((agent) => agent.token === result.data.HITL_METRICS_TOKEN)) {
    errors.push("HITL_METRICS_TOKEN: must differ from every agent token in HITL_AGENT_TOKENS (the scraper is not an agent)");
  }
  const signing = readSigningKeys(env);
  if ("errors" in signing) errors.push(...signing.errors);
  const sealing = cleaned.HITL_ENCRYPTION_KEYS ? parseSealingKeys(cleaned.HITL_ENCRYPTION_KEYS) : { keys: null };
  if ("errors" in sealing) errors.push(...sealing.errors);
  if (!result.success || "error" in tokens || "error" in self || "errors" in signing || "errors" in sealing || errors.length) return { ok: false, errors };
  const {
    HITL_AGENT_TOKENS: _tokens,
    HITL_MARKER_SECRET: _markerSecret,
    HITL_SWEEP_TOKEN: sweepToken,
    HITL_METRICS_TOKEN: metricsToken,
    HITL_SLACK_BOT_TOKEN: botToken,
    HITL_SLACK_SIGNING_SECRET: signingSecret,
    HITL_SLACK_API_URL: apiUrl,
    HITL_SIGNING_KEY: _signingKey,
    HITL_RETIRED_SIGNING_KEYS: _retired,
    HITL_ENCRYPTION_KEYS: _encryption,
    GITHUB_CLIENT_ID: clientId,
    GITHUB_CLIENT_SECRET: clientSecret,
    ...settings
  } = result.data;
  const slack = botToken && signingSecret ? { botToken, signingSecret, ...(apiUrl ? { apiUrl } : {}) } : null;
  const desk = clientId && clientSecret && settings.HITL_PUBLIC_URL ? { clientId, clientSecret, publicUrl: settings.HITL_PUBLIC_URL } : null;
  return { ok: true, env: { ...settings, desk, agents: tokens.agents, sweepToken: sweepToken ?? null, metricsToken: metricsToken ?? null, signingKeys: signing.keys, sealingKeys: sealing.keys, channels: channels.channels, allowedTargets: allowed.targets, self: self.self, slack, mail: mail.settings } };
}

/**
 * The app's id and marker key. Without APP_ID, Probot serves its setup page and loads no app,
 * so neither is needed yet. With it, hitl signs its markers with a key derived from
 * HITL_MARKER_SECRET, or else from WEBHOOK_SECRET (Probot's own default for that is public).
 */
function readSelf(env: NodeJS.ProcessEnv): { self: AppSelf | null } | { error: string } {
  if (!env.APP_ID) return { self: null };
  if (!/^[1-9]\d*$/.test(env.APP_ID)) return { error: "APP_ID: must be the GitHub App's numeric id" };
  const secret = env.HITL_MARKER_SECRET || env.WEBHOOK_SECRET;
  if (!secret) return { error: "HITL_MARKER_SECRET: set it, or WEBHOOK_SECRET, to sign the markers hitl hides in its issues and comments" };
  return { self: { appId: Number(env.APP_ID), markerKey: markerKeyFrom(secret) } };
}
