import { z } from "zod";
import { validate as validateCron } from "node-cron";
import { parseAgentTokens, type AgentCredential } from "./api/agent-auth.js";
import { markerKeyFrom, type AppSelf } from "./github/app-self.js";
import { readChannels, type Channel } from "./notify/channels.js";
import { parseAllowedTargets, type AllowedTargets } from "./notify/private-targets.js";

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
  HITL_METRICS_TOKEN: z.string().min(32, "must be at least 32 characters").regex(/^\S+$/, "must not contain spaces").optional(),
});

/** Every variable of hitl's own schema (docs/deploy.md's reference table is checked against it). */
export const HITL_ENV_KEYS: readonly string[] = Object.keys(envSchema.shape);

/** The settings, with the secrets only in parsed form: `HITL_AGENT_TOKENS` holds every token. */
export type HitlEnv = Omit<z.infer<typeof envSchema>, "HITL_AGENT_TOKENS" | "HITL_MARKER_SECRET" | "HITL_SWEEP_TOKEN" | "HITL_METRICS_TOKEN"> & {
  agents: AgentCredential[];
  /** `HITL_SWEEP_TOKEN`: the bearer token of `POST /api/v1/sweep`; null leaves that endpoint off. */
  sweepToken: string | null;
  /** `HITL_METRICS_TOKEN`: the bearer token of `GET /metrics`; null leaves that endpoint open. */
  metricsToken: string | null;
  channels: Channel[];
  allowedTargets: AllowedTargets;
  self: AppSelf | null;
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
  if (Boolean(env.UPSTASH_REDIS_REST_URL) !== Boolean(env.UPSTASH_REDIS_REST_TOKEN)) {
    errors.push("UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN must be set together");
  }
  const self = readSelf(env);
  if ("error" in self) errors.push(self.error);
  if (result.success && result.data.HITL_SWEEP_TOKEN && "agents" in tokens && tokens.agents.some((agent) => agent.token === result.data.HITL_SWEEP_TOKEN)) {
    errors.push("HITL_SWEEP_TOKEN: must differ from every agent token in HITL_AGENT_TOKENS (an agent must not run the sweep)");
  }
  if (result.success && result.data.HITL_METRICS_TOKEN && "agents" in tokens && tokens.agents.some((agent) => agent.token === result.data.HITL_METRICS_TOKEN)) {
    errors.push("HITL_METRICS_TOKEN: must differ from every agent token in HITL_AGENT_TOKENS (the scraper is not an agent)");
  }
  if (!result.success || "error" in tokens || "error" in self || errors.length) return { ok: false, errors };
  const { HITL_AGENT_TOKENS: _tokens, HITL_MARKER_SECRET: _markerSecret, HITL_SWEEP_TOKEN: sweepToken, HITL_METRICS_TOKEN: metricsToken, ...settings } = result.data;
  return { ok: true, env: { ...settings, agents: tokens.agents, sweepToken: sweepToken ?? null, metricsToken: metricsToken ?? null, channels: channels.channels, allowedTargets: allowed.targets, self: self.self } };
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
