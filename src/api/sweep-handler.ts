import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../engine/ports.js";
import type { RecoveryResult } from "../engine/recovery.js";
import type { SweepResult } from "../engine/sweep.js";
import { StoreUnavailableError } from "../store/store.js";
import { authenticateAgent, type AgentCredential } from "./agent-auth.js";
import { sendError, sendJson } from "./http.js";

export const SWEEP_PATH = "/api/v1/sweep";

/** What one scheduler tick did, run to the end (`HitlRuntime.sweepOnce`). */
export interface SweepReport {
  sweep: SweepResult;
  /** The recovery pass, or why it failed (the sweep and the jobs ran regardless). */
  recovery: RecoveryResult | { ran: false; error: string };
  /** Due jobs run (surface updates, callbacks, channel posts), retries included. */
  jobsRun: number;
}

export interface SweepHandlerDeps {
  /** `HITL_SWEEP_TOKEN`; null turns the endpoint off (403). */
  token: string | null;
  /** Agent tokens are recognised only to refuse them by name. */
  agents: AgentCredential[];
  sweepOnce: () => Promise<SweepReport>;
  log: Logger;
  closing?: AbortSignal;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/** The answer's JSON, in the API's snake_case. */
export function toApiSweepReport(report: SweepReport) {
  const { recovery } = report;
  return {
    sweep: report.sweep,
    recovery: "error" in recovery ? recovery : { ran: recovery.ran, checked: recovery.checked, listings: recovery.listings, not_modified: recovery.notModified, handled: recovery.handled },
    jobs: { ran: report.jobsRun },
  };
}

/**
 * `POST /api/v1/sweep`: one scheduler tick (the sweep, a recovery pass, the due jobs), awaited
 * to the end, for deployments where no process stays up to run the cron (an external scheduler
 * calls it). It takes `HITL_SWEEP_TOKEN` alone, compared in constant time; an agent token is
 * refused, so no agent can hurry the deadlines of requests it opened.
 */
export function createSweepHandler(deps: SweepHandlerDeps) {
  const expected = deps.token === null ? null : digest(deps.token);
  return async function sweepHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (new URL(req.url ?? "/", "http://localhost").pathname !== SWEEP_PATH) return false;
    if (deps.closing?.aborted) {
      res.setHeader("retry-after", "1");
      sendError(res, 503, "shutting_down", "This server is stopping. Retry shortly: another replica, or this one after its restart, will run the sweep.");
      return true;
    }
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      sendError(res, 405, "method_not_allowed", `${req.method} is not allowed on ${SWEEP_PATH}; use POST.`);
      return true;
    }
    if (expected === null) {
      sendError(res, 403, "sweep_disabled", `${SWEEP_PATH} is off on this server: set HITL_SWEEP_TOKEN to let an external scheduler run the sweep.`);
      return true;
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    const presented = match ? digest(match[1]!) : null;
    if (presented === null || !timingSafeEqual(presented, expected)) {
      if (presented !== null && authenticateAgent(req.headers.authorization, deps.agents)) {
        sendError(res, 403, "agent_token_refused", "An agent token cannot run the sweep: use HITL_SWEEP_TOKEN.");
        return true;
      }
      res.setHeader("www-authenticate", 'Bearer realm="hitl-sweep"');
      sendError(res, 401, "unauthorized", "The sweep token is required: Authorization: Bearer <HITL_SWEEP_TOKEN>.");
      return true;
    }
    try {
      const report = await deps.sweepOnce();
      deps.log.info({ sweep: report.sweep, recovery: report.recovery, jobsRun: report.jobsRun }, `${SWEEP_PATH}: sweep done`);
      sendJson(res, 200, toApiSweepReport(report));
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        deps.log.error({ err: error }, "store unavailable");
        sendError(res, 503, "store_unavailable", "The request store did not answer; nothing was swept. Call again shortly.");
      } else {
        deps.log.error({ err: error }, "sweep failed");
        sendError(res, 500, "internal_error", "The sweep failed on our side; what it did is kept, and the next call goes on from there.");
      }
    }
    return true;
  };
}
