import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import { sendError } from "../api/http.js";
import type { Logger } from "../engine/ports.js";

export const METRICS_PATH = "/metrics";

export interface MetricsHandlerDeps {
  registry: Registry;
  /** `HITL_METRICS_TOKEN`; null leaves the endpoint open (keep it on an internal network then). */
  token: string | null;
  log: Logger;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/** `GET /metrics`: the Prometheus text exposition of this replica, behind `HITL_METRICS_TOKEN` when it is set. */
export function createMetricsHandler(deps: MetricsHandlerDeps) {
  const expected = deps.token === null ? null : digest(deps.token);
  return async function metricsHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (new URL(req.url ?? "/", "http://localhost").pathname !== METRICS_PATH) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      sendError(res, 405, "method_not_allowed", `${req.method} is not allowed on ${METRICS_PATH}; use GET.`);
      return true;
    }
    if (expected !== null) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
      // Both sides are SHA-256 digests: equal lengths, compared in constant time.
      if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
        res.setHeader("www-authenticate", 'Bearer realm="hitl-metrics"');
        sendError(res, 401, "unauthorized", "The metrics token is required: Authorization: Bearer <HITL_METRICS_TOKEN>.");
        return true;
      }
    }
    try {
      const text = await deps.registry.metrics();
      res.writeHead(200, { "content-type": deps.registry.contentType, "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : text);
    } catch (error) {
      deps.log.error({ err: error }, "metrics: scrape failed");
      sendError(res, 500, "internal_error", "The metrics could not be collected; try the next scrape.");
    }
    return true;
  };
}
