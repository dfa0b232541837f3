import { Redis } from "@upstash/redis";
import { createEmbeddedStore } from "./embedded-store.js";
import { createRedisStore } from "./redis-store.js";
import { createRespRequester, describeUrl, STORE_COMMAND_TIMEOUT_MS } from "./resp-requester.js";
import type { Store } from "./store.js";

export interface StoreEnv {
  HITL_DATA_DIR?: string;
  REDIS_URL?: string;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  HITL_REDIS_PREFIX?: string;
}

export type StoreKind = "embedded" | "redis" | "upstash";

/** How long one call to Upstash may take, retries included, before the store reports it unavailable. */
const UPSTASH_TIMEOUT_MS = STORE_COMMAND_TIMEOUT_MS;

/**
 * Picks the store from the environment: Upstash over REST when both UPSTASH_REDIS_REST_URL and
 * UPSTASH_REDIS_REST_TOKEN are set, else any Redis over TCP when REDIS_URL is set, else the
 * embedded store under HITL_DATA_DIR (default `.data`). Nothing is contacted yet; call
 * `store.ping()` to check the connection.
 */
export async function createStore(env: StoreEnv): Promise<{ store: Store; kind: StoreKind }> {
  const upstashUrl = nonEmpty(env.UPSTASH_REDIS_REST_URL);
  const upstashToken = nonEmpty(env.UPSTASH_REDIS_REST_TOKEN);
  const redisUrl = nonEmpty(env.REDIS_URL);
  const prefix = nonEmpty(env.HITL_REDIS_PREFIX) ?? "hitl:";

  if (upstashUrl && !upstashToken) {
    throw new Error("UPSTASH_REDIS_REST_URL is set but UPSTASH_REDIS_REST_TOKEN is not: set both to use Upstash, or neither.");
  }
  if (upstashToken && !upstashUrl) {
    throw new Error("UPSTASH_REDIS_REST_TOKEN is set but UPSTASH_REDIS_REST_URL is not: set both to use Upstash, or neither.");
  }

  if (upstashUrl && upstashToken) {
    if (!/^https?:\/\/[^\s/]+/.test(upstashUrl)) {
      throw new Error("UPSTASH_REDIS_REST_URL must be an https:// URL, like https://eu1-example-12345.upstash.io.");
    }
    const redis = new Redis({
      url: upstashUrl,
      token: upstashToken,
      automaticDeserialization: false,
      enableAutoPipelining: false,
      retry: { retries: 2, backoff: (attempt) => 100 * 2 ** attempt },
      // A function, so each request gets its own deadline (a shared signal would stay aborted).
      signal: () => AbortSignal.timeout(UPSTASH_TIMEOUT_MS),
    });
    return { store: createRedisStore({ redis, prefix, label: `Upstash Redis at ${describeUrl(upstashUrl)}` }), kind: "upstash" };
  }

  if (redisUrl) {
    if (!/^rediss?:\/\//.test(redisUrl)) {
      throw new Error("REDIS_URL must start with redis:// (or rediss:// for TLS), like redis://localhost:6379/0.");
    }
    const requester = createRespRequester(redisUrl);
    const store = createRedisStore({
      redis: new Redis(requester),
      prefix,
      label: `Redis at ${describeUrl(redisUrl)}`,
      onClose: () => requester.close(),
    });
    return { store, kind: "redis" };
  }

  return { store: await createEmbeddedStore({ dir: nonEmpty(env.HITL_DATA_DIR) ?? ".data" }), kind: "embedded" };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
