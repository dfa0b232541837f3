import { Redis } from "@upstash/redis";
import { createRedisStore } from "../../../src/store/redis-store.js";
import { createRespRequester } from "../../../src/store/resp-requester.js";
import type { Store } from "../../../src/store/store.js";

/** A Redis store as production builds it for REDIS_URL: its own connection, its own client. */
export function openRedisStore(url: string, prefix: string): Store {
  const requester = createRespRequester(url);
  return createRedisStore({ redis: new Redis(requester), prefix, label: "Redis (fault test)", onClose: () => requester.close() });
}
