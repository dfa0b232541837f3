import { performance } from "node:perf_hooks";
import type { ApprovalRequest } from "../core/types.js";
import type { Effects, Store } from "../store/store.js";
import type { Metrics } from "./metrics.js";

type Method = (...args: unknown[]) => unknown;

/**
 * The store, observed: every committed `create` and `update` (the request as stored, with its
 * audit entries and jobs) goes to `committed`, and with `metrics` every operation's latency is
 * measured. A decorator over whatever methods the store has, so the adapters stay unaware.
 */
export function observeStore(store: Store, metrics: Metrics | null, committed: (request: ApprovalRequest, effects: Effects) => void): Store {
  const wrapped = new Map<string, Method>();
  const timed = (operation: string, method: Method): Method => {
    if (!metrics) return (...args) => method.apply(store, args);
    return async (...args) => {
      const started = performance.now();
      try {
        return await method.apply(store, args);
      } finally {
        metrics.storeOperation(operation, (performance.now() - started) / 1000);
      }
    };
  };
  // The write is durable by now: a failure to log or count it must not make it look failed.
  const tell = (request: ApprovalRequest, effects: Effects) => {
    try {
      committed(request, effects);
    } catch {
      // Observing is best effort.
    }
  };
  const create = timed("create", store.create as Method) as Store["create"];
  const update = timed("update", store.update as Method) as Store["update"];
  wrapped.set("create", (async (request: ApprovalRequest, effects: Effects = {}) => {
    const result = await create(request, effects);
    if (result.created) tell(result.request, effects);
    return result;
  }) as Method);
  wrapped.set("update", (async (next: ApprovalRequest, expected: number, effects: Effects = {}) => {
    const stored = await update(next, expected, effects);
    if (stored) tell(stored, effects);
    return stored;
  }) as Method);

  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      const known = wrapped.get(property);
      if (known) return known;
      if (!metrics || property === "close") return value;
      const method = timed(property, value as Method);
      wrapped.set(property, method);
      return method;
    },
  });
}
