import { getTransformStream } from "@probot/pino";
import { pino, type Logger as PinoLogger } from "pino";

/**
 * Where secrets can sit in what hitl and Probot log: request headers (pino-http logs every
 * request with its headers, `authorization` included), Octokit's request options, and errors
 * that carry a config. Matching values are replaced, whatever the level.
 */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-hub-signature"]',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-hitl-signature-256"]',
  'res.headers["set-cookie"]',
  "headers.authorization",
  "*.headers.authorization",
  "request.headers.authorization",
  "*.request.headers.authorization",
  "err.request.headers.authorization",
  "err.response.headers.authorization",
  "err.config.headers.authorization",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "privateKey",
  "*.privateKey",
  "current.privateKey",
  "*.current.privateKey",
  "HITL_SIGNING_KEY",
  "*.HITL_SIGNING_KEY",
  "HITL_RETIRED_SIGNING_KEYS",
  "*.HITL_RETIRED_SIGNING_KEYS",
  "HITL_ENCRYPTION_KEYS",
  "*.HITL_ENCRYPTION_KEYS",
  "password",
  "*.password",
  "botToken",
  "*.botToken",
  "signingSecret",
  "*.signingSecret",
  'req.headers["x-slack-signature"]',
  'req.headers["x-hitl-inbound-secret"]',
  "authToken",
  "*.authToken",
  "smtpUrl",
  "*.smtpUrl",
  // Only its one-click link token (`/l/<token>`), which is a credential; see `censor`.
  "req.url",
] as const;

export const CENSOR = "[redacted]";

/** Replaces a redacted value; a request's URL keeps everything but a one-click link's token. */
export function censor(value: unknown, path: string[]): unknown {
  if (path.join(".") === "req.url" && typeof value === "string") return value.replace(/\/l\/[^/?#]+/, `/l/${CENSOR}`);
  return CENSOR;
}

export interface LoggerSettings {
  LOG_LEVEL?: string;
  LOG_FORMAT?: string;
  LOG_LEVEL_IN_STRING?: string;
  LOG_MESSAGE_KEY?: string;
  SENTRY_DSN?: string;
  NODE_ENV?: string;
}

/**
 * The process's logger, configured from the same variables as Probot's own (`LOG_LEVEL`,
 * `LOG_FORMAT`, `LOG_LEVEL_IN_STRING`, `LOG_MESSAGE_KEY`, `SENTRY_DSN`) and handed to Probot, so
 * its HTTP and Octokit logs go through the same redaction as hitl's.
 */
export async function createLogger(env: LoggerSettings): Promise<PinoLogger> {
  const logFormat = env.LOG_FORMAT ? (env.LOG_FORMAT === "pretty" ? "pretty" : "json") : env.NODE_ENV === "production" ? "json" : "pretty";
  const transform = await getTransformStream({ logFormat, logLevelInString: env.LOG_LEVEL_IN_STRING === "true", sentryDsn: env.SENTRY_DSN });
  transform.pipe(process.stdout);
  return pino(
    {
      level: env.LOG_LEVEL || "info",
      name: "probot",
      messageKey: env.LOG_MESSAGE_KEY || "msg",
      redact: { paths: [...REDACTED_PATHS], censor },
    },
    transform,
  );
}
