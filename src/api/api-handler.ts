import type { IncomingMessage, ServerResponse } from "node:http";
import { once } from "node:events";
import { createGzip } from "node:zlib";
import { z } from "zod";
import { STATUSES } from "../core/types.js";
import type { Engine } from "../engine/engine.js";
import { INLINE_BUDGET_MS } from "../engine/open-request.js";
import { HitlError, invalidRequest, type FieldIssue } from "../engine/errors.js";
import type { Logger } from "../engine/ports.js";
import { StoreUnavailableError } from "../store/store.js";
import { authenticateAgent, type AgentCredential } from "./agent-auth.js";
import { readJson, sendError, sendJson } from "./http.js";
import { formatConfigErrors, parseConfig } from "../config/parse-config.js";
import type { LoadedConfig } from "../engine/ports.js";
import {
  auditExportQuerySchema,
  auditQuerySchema,
  auditVerifyQuerySchema,
  batchEnvelopeSchema,
  cancelSchema,
  idempotencyKey,
  listQuerySchema,
  newRequestSchema,
  stagesLimitProblem,
  simulateSchema,
  statsQuerySchema,
  suggestionPullRequestSchema,
  suggestionsQuerySchema,
  toNewRequestInput,
  validateSchema,
  waitQuerySchema,
} from "./request-schema.js";
import { createOpenApiHandler } from "./openapi-handler.js";
import { targetRefusal, type AllowedTargets } from "../notify/private-targets.js";
import { gatherComplianceReport } from "../compliance/gather-report.js";
import { reportQuerySchema } from "../compliance/report-query.js";
import { reportCsv } from "../compliance/report-csv.js";
import { reportMarkdown } from "../compliance/report-markdown.js";
import type { ReceiptSigner } from "../receipts/receipt-signer.js";
import { decisionStats } from "../core/stats.js";
import { STATS_DEFAULT_DAYS, STATS_PER_STATUS, toApiStats } from "./stats-json.js";
import { toApiSuggestion, toApiSuggestionPullRequest } from "./suggestions-json.js";
import { resumeFields, toApiAudit, toApiAuditVerification, toApiRequest, toApiSimulation, toApiValidation } from "./serialize.js";

export const API_PREFIX = "/api/v1";
const FINAL_STATUSES = STATUSES.filter((status) => status !== "pending");

export interface ApiDeps {
  engine: Engine;
  agents: AgentCredential[];
  clock: () => Date;
  log: Logger;
  maxBodyBytes: number;
  /** Aborted when the process is stopping: long-polls answer at once, new calls get 503. */
  closing?: AbortSignal;
  /** `HITL_ALLOWED_PRIVATE_TARGETS`: the only private hosts, and `http` hosts, a `callback_url` may name. */
  allowedTargets: AllowedTargets;
  /** The published receipt keys, which the compliance report checks receipts against. */
  receipts: Pick<ReceiptSigner, "jwks" | "issuer">;
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  agent: AgentCredential;
  params: string[];
  query: URLSearchParams;
}

type Route = { method: string; pattern: RegExp; handle: (call: Call) => Promise<void> };


function parse<T extends z.ZodType>(schema: T, value: unknown, prefix = ""): z.infer<T> {
  let result: z.ZodSafeParseResult<z.infer<T>>;
  try {
    result = schema.safeParse(value);
  } catch (error) {
    // A body the schema's walk cannot finish (a stack overflow) is the sender's fault, not ours.
    const reason = error instanceof Error ? error.message : String(error);
    throw new HitlError("invalid_request", 400, `The request is not valid: ${reason}.`, [{ path: prefix + "(body)", message: `could not be read: ${reason}` }]);
  }
  if (result.success) return result.data;
  const issues: FieldIssue[] = result.error.issues.map((issue) => ({
    path: prefix + (issue.path.length ? issue.path.join(".") : "(body)"),
    message: issue.message,
  }));
  throw invalidRequest(issues);
}

const queryObject = (query: URLSearchParams) => Object.fromEntries(query.entries());

/** The repository and times of an audit query, as the store takes them. */
const auditRange = (q: { repo?: string; since?: string; until?: string }) => ({
  repo: q.repo,
  since: q.since === undefined ? undefined : new Date(q.since),
  until: q.until === undefined ? undefined : new Date(q.until),
});

/**
 * The agent-facing HTTP API, as a Probot server handler: returns false for paths it does not
 * own so Probot's other handlers get them.
 */
export function createApiHandler(deps: ApiDeps) {
  const { engine, clock } = deps;
  const openApi = createOpenApiHandler();
  const present = (request: Parameters<typeof toApiRequest>[0]) => toApiRequest(request, clock());
  /** A request body, with a `callback_url` hitl may send to (checked again at every delivery). */
  const parseNewRequest = (value: unknown, prefix = "") => {
    const tooDeep = stagesLimitProblem(value);
    if (tooDeep) throw invalidRequest([{ path: `${prefix}stages`, message: tooDeep }]);
    const body = parse(newRequestSchema, value, prefix);
    const refusal = body.callback_url === undefined ? null : targetRefusal(body.callback_url, deps.allowedTargets);
    if (refusal) throw invalidRequest([{ path: `${prefix}callback_url`, message: refusal }]);
    return body;
  };

  const routes: Route[] = [
    {
      method: "POST",
      pattern: /^\/requests$/,
      async handle({ req, res, agent }) {
        const body = parseNewRequest(await readJson(req, deps.maxBodyBytes));
        if (body.requested_by !== undefined && body.requested_by !== agent.name) {
          throw new HitlError("invalid_request", 400, "The request is not valid.", [
            { path: "requested_by", message: `must be ${agent.name}, the agent the token belongs to (or left out)` },
          ]);
        }
        const header = req.headers["idempotency-key"];
        const key = (Array.isArray(header) ? header[0] : header) || undefined;
        if (key !== undefined) parse(z.object({ "Idempotency-Key": idempotencyKey }), { "Idempotency-Key": key }, "header.");
        const { request, created } = await engine.open(toNewRequestInput(body, key), agent);
        sendJson(res, created ? 201 : 200, present(request), { location: `${API_PREFIX}/requests/${request.id}` });
      },
    },
    {
      method: "POST",
      pattern: /^\/requests\/batch$/,
      async handle({ req, res, agent }) {
        const { requests } = parse(batchEnvelopeSchema, await readJson(req, deps.maxBodyBytes));
        // One wait for the policies and surfaces, shared by every item, as one request has.
        const until = clock().getTime() + INLINE_BUDGET_MS;
        const results = [];
        for (const [index, item] of requests.entries()) {
          try {
            const body = parseNewRequest(item, `requests[${index}].`);
            const issues = [
              ...(body.idempotency_key === undefined ? [{ path: `requests[${index}].idempotency_key`, message: "is required for each request of a batch" }] : []),
              ...(body.requested_by !== undefined && body.requested_by !== agent.name ? [{ path: `requests[${index}].requested_by`, message: `must be ${agent.name}, the agent the token belongs to (or left out)` }] : []),
            ];
            if (issues.length > 0) throw invalidRequest(issues);
            const { request, created } = await engine
              .open(toNewRequestInput(body, undefined), agent, { budgetMs: until - clock().getTime() })
              .catch((error: unknown) => {
                if (error instanceof HitlError && error.code === "invalid_request") throw invalidRequest(error.issues.map((issue) => ({ ...issue, path: `requests[${index}].${issue.path}` })));
                throw error;
              });
            results.push({ index, status: created ? 201 : 200, request: present(request) });
          } catch (error) {
            const answer = errorAnswer(error, "/requests/batch");
            results.push({ index, status: answer.status, error: { code: answer.code, message: answer.message, ...(answer.issues.length ? { issues: answer.issues } : {}) } });
          }
        }
        sendJson(res, 200, { results });
      },
    },
    {
      method: "GET",
      pattern: /^\/requests$/,
      async handle({ res, query, agent }) {
        const q = parse(listQuerySchema, queryObject(query), "query.");
        const requests = await engine.list({ repo: q.repo, status: q.status, requestType: q.request_type, workflowId: q.workflow_id, limit: q.limit }, agent);
        sendJson(res, 200, { requests: requests.map(present) });
      },
    },
    {
      method: "GET",
      pattern: /^\/requests\/([A-Za-z0-9_-]+)$/,
      async handle({ res, params, agent }) {
        sendJson(res, 200, present(await engine.revealedFor(params[0]!, agent)));
      },
    },
    {
      method: "GET",
      pattern: /^\/requests\/([A-Za-z0-9_-]+)\/context$/,
      async handle({ res, params, agent }) {
        const { request, layers } = await engine.contextFor(params[0]!, agent);
        sendJson(res, 200, { id: request.id, context_hash: request.contextHash, ...layers, context_purged_at: request.contextPurgedAt ?? null });
      },
    },
    {
      method: "GET",
      pattern: /^\/requests\/([A-Za-z0-9_-]+)\/decision$/,
      async handle({ req, res, params, query, agent }) {
        const { wait } = parse(waitQuerySchema, queryObject(query), "query.");
        const abort = new AbortController();
        const onClose = () => abort.abort();
        req.on("close", onClose);
        try {
          const stopWaiting = deps.closing ? AbortSignal.any([abort.signal, deps.closing]) : abort.signal;
          const request = await engine.waitForDecision(params[0]!, agent, wait * 1000, stopWaiting);
          // The agent hung up: nobody to answer. (When the process stops, it gets the status as it is.)
          if (abort.signal.aborted) return;
          const shown = present(request);
          sendJson(res, 200, { id: shown.id, status: shown.status, decision: shown.decision, ...resumeFields(request) });
        } finally {
          req.off("close", onClose);
        }
      },
    },
    {
      method: "POST",
      pattern: /^\/requests\/([A-Za-z0-9_-]+)\/validate$/,
      async handle({ req, res, params, agent }) {
        const body = parse(validateSchema, await readJson(req, deps.maxBodyBytes));
        const result = await engine.validate(params[0]!, agent, { decisionData: body.decision_data, pullRequestHead: body.pull_request_head, reAsk: body.re_ask });
        sendJson(res, 200, toApiValidation(result, clock()));
      },
    },
    {
      method: "POST",
      pattern: /^\/requests\/([A-Za-z0-9_-]+)\/cancel$/,
      async handle({ req, res, params, agent }) {
        const body = parse(cancelSchema, await readJson(req, deps.maxBodyBytes));
        sendJson(res, 200, present(await engine.cancel(params[0]!, agent, body.reason ?? null)));
      },
    },
    {
      method: "GET",
      pattern: /^\/audit$/,
      async handle({ req, res, query, agent }) {
        const q = parse(auditQuerySchema, queryObject(query), "query.");
        const page = await engine.auditPage({ ...auditRange(q), cursor: q.cursor, limit: q.limit }, agent);
        const entries = page.entries.map(toApiAudit);
        const next = page.nextCursor;
        const headers: Record<string, string> = next === null ? {} : { "hitl-next-cursor": next, link: `<${API_PREFIX}/audit?${new URLSearchParams({ ...queryObject(query), cursor: next })}>; rel="next"` };
        // JSON lines unless JSON is asked for: the trail's first form, kept for the clients that read it.
        if (/\bapplication\/json\b/.test(req.headers.accept ?? "")) {
          sendJson(res, 200, { entries, next_cursor: next }, headers);
          return;
        }
        res.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store", ...headers });
        res.end(entries.map((entry) => JSON.stringify(entry) + "\n").join(""));
      },
    },
    {
      method: "GET",
      pattern: /^\/audit\/verify$/,
      async handle({ res, query, agent }) {
        const q = parse(auditVerifyQuerySchema, queryObject(query), "query.");
        sendJson(res, 200, toApiAuditVerification(await engine.verifyAudit(q.repo, agent)));
      },
    },
    {
      method: "GET",
      pattern: /^\/audit\/export$/,
      async handle({ req, res, query, agent }) {
        const q = parse(auditExportQuerySchema, queryObject(query), "query.");
        // One repository's head as the export begins, to record elsewhere (`hitl audit verify --head`).
        const head = q.repo !== undefined && agent.readAll ? await engine.auditHead(q.repo) : null;
        const pages = engine.auditEntries(auditRange(q), agent);
        // The first page is read before answering, so a store that is down still gets its 503.
        const first = await pages.next();
        const name = `hitl-audit-${(q.repo ?? "all").replace("/", "-")}-${clock().toISOString().slice(0, 10)}.jsonl.gz`;
        res.writeHead(200, {
          "content-type": "application/gzip",
          "content-disposition": `attachment; filename="${name}"`,
          "cache-control": "no-store",
          ...(head ? { "hitl-audit-head": `${head.repo}@${head.seq}:${head.hash}` } : {}),
        });
        const gzip = createGzip();
        gzip.pipe(res);
        // A reader that hangs up ends the export: nothing waits on a drain that will not come.
        const hungUp = once(res, "close").then(() => undefined);
        const aborted = () => req.destroyed || res.destroyed;
        try {
          for (let page = first; !page.done && !aborted(); page = await pages.next()) {
            // Backpressure: a slow reader holds the next page in the store, not in memory.
            if (!gzip.write(page.value.map((entry) => JSON.stringify(toApiAudit(entry)) + "\n").join(""))) await Promise.race([once(gzip, "drain"), hungUp]);
          }
        } catch (error) {
          deps.log.error({ err: error }, "audit export failed midway; the answer is cut off");
          gzip.destroy();
          res.destroy();
          return;
        } finally {
          await pages.return(undefined);
        }
        if (aborted()) {
          gzip.destroy();
          return;
        }
        gzip.end();
        await Promise.race([once(res, "finish").catch(() => undefined), hungUp]);
      },
    },
    {
      method: "GET",
      pattern: /^\/reports\/compliance$/,
      async handle({ res, query, agent }) {
        const { format, ...scope } = parse(reportQuerySchema, queryObject(query), "query.");
        const sources = { list: engine.list, audit: engine.audit, jwks: deps.receipts.jwks, issuer: deps.receipts.issuer, clock };
        const report = await gatherComplianceReport(sources, scope, agent);
        if (format === "json") return sendJson(res, 200, report);
        const [type, body] = format === "csv" ? ["text/csv; charset=utf-8; header=present", reportCsv(report)] : ["text/markdown; charset=utf-8", reportMarkdown(report)];
        res.writeHead(200, { "content-type": type, "cache-control": "no-store", "content-disposition": `inline; filename="compliance-report.${format}"` });
        res.end(body);
      },
    },
    {
      method: "GET",
      pattern: /^\/stats$/,
      async handle({ res, query, agent }) {
        const q = parse(statsQuerySchema, queryObject(query), "query.");
        const until = clock();
        const since = q.since ? new Date(q.since) : new Date(until.getTime() - STATS_DEFAULT_DAYS * 86_400_000);
        // Bounded: the most recent ended requests of each final status, newest first, scoped to the agent as every read is.
        const lists = await Promise.all(FINAL_STATUSES.map((status) => engine.list({ repo: q.repo, status, limit: STATS_PER_STATUS }, agent)));
        const truncated = lists.some((list) => list.length === STATS_PER_STATUS && Date.parse(list.at(-1)!.createdAt) >= since.getTime());
        const stats = decisionStats(lists.flat(), since);
        sendJson(res, 200, toApiStats(stats, { repo: q.repo, since, until, truncated, scope: agent.readAll ? "all" : "own" }));
      },
    },
    {
      method: "GET",
      pattern: /^\/suggestions$/,
      async handle({ res, query, agent }) {
        const q = parse(suggestionsQuerySchema, queryObject(query), "query.");
        const { suggestions, truncated } = await engine.suggestions(q.repo, { agent });
        sendJson(res, 200, { repo: q.repo, suggestions: suggestions.map(toApiSuggestion), truncated });
      },
    },
    {
      method: "POST",
      pattern: /^\/suggestions\/(sug_[0-9a-f]{16})\/pull-request$/,
      async handle({ req, res, params, agent }) {
        const body = parse(suggestionPullRequestSchema, await readJson(req, deps.maxBodyBytes));
        const { pullRequest } = await engine.openSuggestionPullRequest(body.repo, params[0]!, { agent });
        sendJson(res, pullRequest.created ? 201 : 200, toApiSuggestionPullRequest(params[0]!, pullRequest));
      },
    },
    {
      method: "POST",
      pattern: /^\/simulate$/,
      async handle({ req, res, agent }) {
        const body = parse(simulateSchema, await readJson(req, deps.maxBodyBytes));
        const input = parseNewRequest(body.request, "request.");
        let candidate: LoadedConfig | null = null;
        if (body.config !== undefined) {
          const parsed = parseConfig(body.config, ".hitl.yml");
          candidate = parsed.ok ? { config: parsed.config, error: null, file: ".hitl.yml" } : { config: null, error: formatConfigErrors(parsed.errors), file: ".hitl.yml" };
        }
        const result = await engine.simulate(toNewRequestInput(input, undefined), agent, candidate).catch((error: unknown) => {
          // The request is the body's `request`, so its fields are named from there.
          if (error instanceof HitlError && error.code === "invalid_request") throw invalidRequest(error.issues.map((issue) => ({ ...issue, path: `request.${issue.path}` })));
          throw error;
        });
        sendJson(res, 200, toApiSimulation(result, clock()));
      },
    },
  ];

  async function dispatch(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    if (await openApi(req, res)) return;
    const matching = routes.filter((route) => route.pattern.test(path));
    if (matching.length === 0) throw new HitlError("not_found", 404, `No endpoint ${path}.`);
    const route = matching.find((candidate) => candidate.method === req.method);
    if (!route) {
      res.setHeader("allow", matching.map((candidate) => candidate.method).join(", "));
      throw new HitlError("method_not_allowed", 405, `${req.method} is not allowed on ${path}.`);
    }
    const agent = authenticateAgent(req.headers.authorization, deps.agents);
    if (!agent) {
      res.setHeader("www-authenticate", 'Bearer realm="hitl"');
      throw new HitlError("unauthorized", 401, "A valid agent token is required: Authorization: Bearer <token>.");
    }
    const params = route.pattern.exec(path)!.slice(1);
    await route.handle({ req, res, agent, params, query });
  }

  /** How the API answers a failure: its status, code, sentence and fields at fault. */
  function errorAnswer(error: unknown, path: string): { status: number; code: string; message: string; issues: FieldIssue[] } {
    if (error instanceof HitlError) return { status: error.status, code: error.code, message: error.message, issues: error.issues };
    if (error instanceof StoreUnavailableError) {
      deps.log.error({ err: error }, "store unavailable");
      return { status: 503, code: "store_unavailable", message: "The request store did not answer. Retry shortly with the same Idempotency-Key: a request is never created twice.", issues: [] };
    }
    if (typeof (error as { status?: unknown }).status === "number") {
      deps.log.error({ err: error, path }, "GitHub call failed");
      return { status: 502, code: "github_unavailable", message: `GitHub answered HTTP ${(error as { status: number }).status}; nothing was created. Retry shortly.`, issues: [] };
    }
    deps.log.error({ err: error, path }, "API request failed");
    return { status: 500, code: "internal_error", message: "Something went wrong on our side; nothing acknowledged was lost. Retry shortly.", issues: [] };
  }

  return async function apiHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== API_PREFIX && !url.pathname.startsWith(`${API_PREFIX}/`)) return false;
    if (deps.closing?.aborted) {
      res.setHeader("connection", "close");
      res.setHeader("retry-after", "1");
      sendError(res, 503, "shutting_down", "This server is stopping. Retry shortly (with the same Idempotency-Key): another replica, or this one after its restart, will answer.");
      return true;
    }
    try {
      await dispatch(req, res, url.pathname.slice(API_PREFIX.length), url.searchParams);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return true;
      }
      // The unread rest of an oversized body is not worth receiving: close after answering.
      if (error instanceof HitlError && error.status === 413) res.setHeader("connection", "close");
      const answer = errorAnswer(error, url.pathname);
      sendError(res, answer.status, answer.code, answer.message, answer.issues);
    }
    return true;
  };
}
