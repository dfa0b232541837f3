import type { Requester, UpstashRequest, UpstashResponse } from "@upstash/redis";
import { Redis as IORedis, ReplyError, type RedisOptions } from "ioredis";

/**
 * A store call gives up after this long: well under the 9 s after which Probot answers a
 * webhook "still processing", so a stuck store fails the delivery instead of acknowledging it.
 */
export const STORE_COMMAND_TIMEOUT_MS = 5_000;

export interface RespRequesterOptions {
  /** How long a call waits for a connection that is being made before it fails. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** How long a sent command may take before it fails. Default 10000 ms. */
  commandTimeoutMs?: number;
  /** Anything else for ioredis (TLS certificates, ...); wins over the defaults above. */
  ioredis?: RedisOptions;
}

export type RespRequester = Requester & { close(): Promise<void> };

type Command = Array<string | number | boolean>;
type Reply = UpstashResponse<unknown>;

/**
 * Lets `@upstash/redis` talk to any Redis over TCP (`redis://`, or `rediss://` for TLS): it
 * answers the Upstash REST shapes, `{ result }` or `{ error }` for one command and an array of
 * them for `pipeline` and `multi-exec`, with plain (not base64) values, as the Upstash client
 * expects from a custom requester.
 *
 * While Redis is unreachable calls fail at once (or after `connectTimeoutMs` while a connection
 * is being made) instead of queueing; ioredis keeps reconnecting in the background, and calls
 * succeed again as soon as it is back. Commands are never resent after a dropped connection, so
 * a script runs at most once per call. Error messages name the host, never the credentials.
 */
export function createRespRequester(url: string, options: RespRequesterOptions = {}): RespRequester {
  const where = describeUrl(url);
  const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
  const client = new IORedis(url, {
    protocol: 2,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs ?? STORE_COMMAND_TIMEOUT_MS,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
    ...options.ioredis,
  });
  let lastError: Error | null = null;
  // Set from a failed attempt until the next ready: calls then fail at once instead of each
  // waiting for the next reconnection attempt.
  let down = false;
  let closed = false;
  client.on("error", (error: Error) => {
    lastError = error;
    down = true;
  });
  client.on("close", () => {
    down = true;
  });
  client.on("ready", () => {
    down = false;
  });

  function unreachable(cause: unknown): Error {
    const reason = cause instanceof Error ? cause.message : lastError?.message;
    return new Error(`Redis at ${where} is not reachable${reason ? `: ${reason}` : ""}`, { cause });
  }

  /** Calls made while the connection comes up all wait on this one promise. */
  let connecting: Promise<void> | null = null;

  async function ready(): Promise<void> {
    if (closed) throw new Error(`The connection to Redis at ${where} is closed.`);
    if (client.status === "ready") return;
    if (down) throw unreachable(lastError);
    connecting ??= connect().finally(() => (connecting = null));
    return connecting;
  }

  function connect(): Promise<void> {
    if (client.status === "wait" || client.status === "end") client.connect().catch(() => undefined);
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        client.off("ready", onReady);
        client.off("error", onError);
        if (error) reject(unreachable(error));
        else resolve();
      };
      const onReady = () => done();
      const onError = (error: Error) => done(error);
      const timer = setTimeout(() => done(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      client.once("ready", onReady);
      client.once("error", onError);
    });
  }

  async function single(command: Command): Promise<Reply> {
    const [name, ...args] = command;
    try {
      return { result: plain(await client.call(String(name), args.map(String))) };
    } catch (error) {
      if (error instanceof ReplyError) return { error: (error as Error).message };
      throw unreachable(error);
    }
  }

  async function batch(commands: Command[], atomic: boolean): Promise<Reply[]> {
    const chain = atomic ? client.multi() : client.pipeline();
    for (const [name, ...args] of commands) chain.call(String(name), args.map(String));
    let results: Array<[Error | null, unknown]> | null;
    try {
      results = await chain.exec();
    } catch (error) {
      // EXECABORT: a queued command was refused, so none ran.
      if (error instanceof ReplyError) throw new Error(`Redis at ${where} refused the transaction: ${(error as Error).message}`);
      throw unreachable(error);
    }
    if (!results) throw new Error(`Redis at ${where} aborted the transaction.`);
    return results.map(([error, result]) => {
      if (!error) return { result: plain(result) };
      if (error instanceof ReplyError) return { error: error.message };
      throw unreachable(error);
    });
  }

  return {
    async request<TResult>(req: UpstashRequest): Promise<UpstashResponse<TResult>> {
      await ready();
      const path = req.path ?? [];
      if (path.length === 0) return (await single(req.body as Command)) as UpstashResponse<TResult>;
      if (path.length === 1 && (path[0] === "pipeline" || path[0] === "multi-exec")) {
        return (await batch(req.body as Command[], path[0] === "multi-exec")) as unknown as UpstashResponse<TResult>;
      }
      return { error: `The Redis requester does not support /${path.join("/")} (streaming and subscriptions need Upstash).` };
    },

    async close() {
      if (closed) return;
      closed = true;
      if (client.status === "ready") await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}

/** The URL without user name or password, for messages. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}${parsed.port ? `:${parsed.port}` : ""}${parsed.pathname === "/" ? "" : parsed.pathname}`;
  } catch {
    return "(REDIS_URL)";
  }
}

/** Replies as the REST API gives them: errors nested in arrays become their messages. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Error) return value.message;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  return value;
}
