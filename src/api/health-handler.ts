import type { IncomingMessage, ServerResponse } from "node:http";
import type { Store } from "../store/store.js";
import { sendJson } from "./http.js";

/** `GET /healthz`: 200 while the store answers, 503 otherwise; for load balancers and probes. */
export function createHealthHandler(store: Store) {
  return async function healthHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (req.url !== "/healthz") return false;
    try {
      await store.ping();
      sendJson(res, 200, { status: "ok" });
    } catch {
      sendJson(res, 503, { status: "unavailable", reason: "the request store cannot be reached" });
    }
    return true;
  };
}
