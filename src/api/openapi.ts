import { z } from "zod";
// zod-openapi (5.x, which runs on Node 20) turns the zod schemas into OpenAPI 3.1 with zod 4's own
// z.toJSONSchema underneath: it adds what a bare JSON Schema lacks (parameters from object schemas,
// input and output variants of one schema, `$ref` components from `.meta({ id })`, callbacks), so
// this file describes operations and writes no schema by hand.
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponsesObject } from "zod-openapi";
import { auditQuerySchema, cancelSchema, listQuerySchema, newRequestSchema, simulateSchema, statsQuerySchema, validateSchema, waitQuerySchema } from "./request-schema.js";
import { validationSchema } from "./resume-schema.js";
import { sweepReportSchema } from "./sweep-schema.js";
import { apiRequestSchema, auditEntrySchema, callbackSchema, decisionPollSchema, ERROR_CODES, errorSchema, requestListSchema, simulationSchema, statsSchema } from "./response-schema.js";

type ErrorStatus = keyof typeof ERROR_CODES;

const ERROR_MEANING: Record<ErrorStatus, string> = {
  400: "The body or query is not valid; `issues` names each field at fault",
  401: "No valid agent token: `Authorization: Bearer <token>`",
  403: "The repository's `.hitl.yml` does not list this agent",
  404: "No such request, or another agent's (without `read-all`)",
  405: "The path does not take this method",
  409: "The request is no longer pending, or changed meanwhile; or its pull request already has a request waiting",
  413: "The body is larger than HITL_MAX_BODY_BYTES",
  422: "The app is not installed on the repository, or the Idempotency-Key was used with another body",
  500: "Something failed on the server; nothing acknowledged was lost",
  502: "GitHub failed; nothing was created. Retry with the same Idempotency-Key",
  503: "The store did not answer, or the server is stopping. Retry with the same Idempotency-Key",
};

const json = (schema: z.ZodType) => ({ content: { "application/json": { schema } } });

/** Every route can answer 401, 500 and 503 (store down, or stopping); `statuses` are the others. */
function errors(...statuses: ErrorStatus[]): ZodOpenApiResponsesObject {
  const all = [...new Set<ErrorStatus>([...statuses, 401, 500, 503])].sort();
  return Object.fromEntries(all.map((status) => [status, { description: `${ERROR_MEANING[status]} (${ERROR_CODES[status].join(", ")})`, ...json(errorSchema) }]));
}

const requestId = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]+$/).describe("The request's id, e.g. `req_…`") });
const requestResponse = (description: string) => ({ description, ...json(apiRequestSchema) });

const signatureHeader = z
  .string()
  .regex(/^sha256=[0-9a-f]{64}$/)
  .describe("`sha256=` and the hex HMAC-SHA256 of the raw body, keyed by the agent's token. Compare in constant time.");

const openRequest: ZodOpenApiOperationObject = {
  operationId: "createRequest",
  summary: "Open a request",
  description: "Opens an issue (or a check run on a pull request) for people to decide, unless a `.hitl.yml` rule decides at once. Retrying with the same Idempotency-Key and body returns the first request (200).",
  requestParams: { header: z.object({ "idempotency-key": z.string().min(1).max(200).optional().describe("Makes retries safe: the same key and body return the same request") }) },
  // Inline, not a component: openapi-typescript reads a default as "always present" outside request bodies.
  requestBody: { required: true, ...json(newRequestSchema) },
  responses: {
    200: requestResponse("The request first opened with this Idempotency-Key"),
    201: { ...requestResponse("The request, opened"), headers: z.object({ location: z.string().describe("/api/v1/requests/{id}") }) },
    ...errors(400, 403, 409, 413, 422, 502),
  },
  callbacks: {
    decision: {
      "{$request.body#/callback_url}": {
        post: {
          summary: "The decision, signed",
          description:
            "Sent when the request is decided (or expires, or is cancelled), retried with backoff until a 2xx. Verify `X-Hitl-Signature-256` over the raw body, refuse a `sent_at` older than a few minutes and a `delivery_id` already seen.",
          requestParams: {
            header: z.object({
              "x-hitl-signature-256": signatureHeader,
              "x-hitl-delivery": z.string().describe("The body's `delivery_id`"),
            }),
          },
          // By reference, so that it is the same `Request` the API answers with (zod-openapi renders a callback's body as input).
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/Callback" } } } },
          responses: { "2XX": { description: "Received; any other answer is retried" } },
        },
      },
    },
  },
};

/** The agent API, from the zod schemas that validate it (requests) and describe it (responses). */
export function openApiDocument(): Record<string, unknown> {
  return withoutUnusedInputs(createDocument({
    openapi: "3.1.0",
    info: { title: "hitl agent API", version: "1", description: "Ask people on GitHub for approval, and learn their decision." },
    servers: [{ url: "/", description: "The server that serves this document" }],
    security: [{ agentToken: [] }],
    components: {
      schemas: { Callback: callbackSchema },
      securitySchemes: {
        agentToken: { type: "http", scheme: "bearer", description: "An agent token from HITL_AGENT_TOKENS" },
        sweepToken: { type: "http", scheme: "bearer", description: "HITL_SWEEP_TOKEN, for the scheduler that runs the sweep; agent tokens are refused" },
      },
    },
    paths: {
      "/api/v1/requests": {
        post: openRequest,
        get: {
          operationId: "listRequests",
          summary: "List the agent's own requests (every agent's with read-all): pending by priority then age, else newest first",
          requestParams: { query: listQuerySchema },
          responses: { 200: { description: "The requests", ...json(requestListSchema) }, ...errors(400) },
        },
      },
      "/api/v1/requests/{id}": {
        get: {
          operationId: "getRequest",
          summary: "A request, its decision and escalation schedule",
          requestParams: { path: requestId },
          responses: { 200: requestResponse("The request"), ...errors(404) },
        },
      },
      "/api/v1/requests/{id}/decision": {
        get: {
          operationId: "waitForDecision",
          summary: "Long-poll until the request is decided, for at most `wait` seconds (60)",
          requestParams: { path: requestId, query: waitQuerySchema },
          responses: { 200: { description: "The status and decision; still `pending` when the wait ran out", ...json(decisionPollSchema) }, ...errors(400, 404) },
        },
      },
      "/api/v1/requests/{id}/validate": {
        post: {
          operationId: "validateDecision",
          summary: "Whether a decision still holds for the agent's current context",
          description:
            "Only the agent that opened the request may validate it. Compares the approved data with `decision_data`, the decision's age with `max_decision_age`, and (pull requests) the approved head with GitHub's and the agent's. With `re_ask: true`, an approval that no longer holds is superseded by a linked follow-up request, once.",
          requestParams: { path: requestId },
          requestBody: { required: true, ...json(validateSchema) },
          responses: { 200: { description: "The validation, and the follow-up when one was opened", ...json(validationSchema) }, ...errors(400, 404, 413, 422, 502) },
        },
      },
      "/api/v1/requests/{id}/cancel": {
        post: {
          operationId: "cancelRequest",
          summary: "Withdraw a pending request",
          requestParams: { path: requestId },
          requestBody: json(cancelSchema),
          responses: { 200: requestResponse("The request, cancelled"), ...errors(400, 404, 409, 413) },
        },
      },
      "/api/v1/audit": {
        get: {
          operationId: "getAudit",
          summary: "A repository's audit trail, one JSON object per line: the agent's own requests' entries, or all with read-all",
          requestParams: { query: auditQuerySchema },
          responses: { 200: { description: "One AuditEntry per line", content: { "application/x-ndjson": { schema: auditEntrySchema } } }, ...errors(400) },
        },
      },
      "/api/v1/stats": {
        get: {
          operationId: "getStats",
          summary: "Decision figures of a repository: per request type and per approver, time to decision, approval, deadline and fallback rates, the share decided automatically",
          description:
            "Counts the requests created since `since` (default 30 days ago) that have ended: the agent's own, or all with `read-all`. Reads at most the 2,000 most recent of each final status; `truncated` says when the window held more.",
          requestParams: { query: statsQuerySchema },
          responses: { 200: { description: "The figures", ...json(statsSchema) }, ...errors(400) },
        },
      },
      "/api/v1/simulate": {
        post: {
          operationId: "simulateRequest",
          summary: "What would happen to a request, and why, without creating anything",
          requestBody: { required: true, ...json(simulateSchema.meta({ id: "Simulate" })) },
          responses: { 200: { description: "The outcome and the request it would be", ...json(simulationSchema) }, ...errors(400, 413, 422, 502) },
        },
      },
      "/api/v1/sweep": {
        post: {
          operationId: "runSweep",
          summary: "Run one scheduler tick now, for deployments where no process stays up to run the cron",
          description:
            "Escalates, warns and applies fallbacks to the requests that are due, runs a recovery pass (decisions on GitHub whose webhook was lost), then the due jobs (issue updates, callbacks, channel posts), and answers once all of it is done, with what it did. For an external scheduler (a GitHub Actions schedule, Upstash QStash, Cloud Scheduler) with `HITL_SWEEP_CRON=off`; calling it every minute matches the default cron. Takes `HITL_SWEEP_TOKEN` only: an agent token is refused (403). No body.",
          security: [{ sweepToken: [] }],
          responses: {
            200: { description: "What the tick did", ...json(sweepReportSchema) },
            401: { description: "No `Authorization: Bearer <HITL_SWEEP_TOKEN>`, or another token (unauthorized)", ...json(errorSchema) },
            403: { description: "An agent token (agent_token_refused), or HITL_SWEEP_TOKEN is not set on this server (sweep_disabled)", ...json(errorSchema) },
            405: { description: "Only POST (method_not_allowed)", ...json(errorSchema) },
            500: { description: "The sweep failed; what it did is kept, the next call goes on (internal_error)", ...json(errorSchema) },
            503: { description: "The store did not answer, or the server is stopping; call again shortly (store_unavailable, shutting_down)", ...json(errorSchema) },
          },
        },
      },
      "/api/v1/openapi.json": {
        get: {
          operationId: "getOpenApi",
          summary: "This document; no token needed",
          security: [],
          responses: { 200: { description: "OpenAPI 3.1", content: { "application/json": { schema: z.record(z.string(), z.unknown()) } } } },
        },
      },
    },
  }, {
    // Answers are described, not closed: a field added later must not break a client that validates them.
    override: ({ jsonSchema, io }) => {
      if (io === "output" && jsonSchema.additionalProperties === false) delete jsonSchema.additionalProperties;
    },
  }) as unknown as Record<string, unknown>);
}

/**
 * zod-openapi renders a schema registered by id both as input and as output (`RequestOutput`)
 * once it meets it in either role; the answers' schemas are only ever output, so their unused
 * input twins go and the output ones take the plain name.
 */
function withoutUnusedInputs(document: Record<string, unknown>): Record<string, unknown> {
  const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
  const referenced = (name: string) => JSON.stringify(document).includes(`"#/components/schemas/${name}"`);
  let removed = true;
  while (removed) {
    const unused = Object.keys(schemas).filter((name) => !referenced(name));
    unused.forEach((name) => delete schemas[name]);
    removed = unused.length > 0;
  }
  let text = JSON.stringify(document);
  for (const name of Object.keys(schemas)) {
    const base = name.replace(/Output$/, "");
    if (base !== name && !(base in schemas)) text = text.replaceAll(`"#/components/schemas/${name}"`, `"#/components/schemas/${base}"`).replace(`"${name}":`, `"${base}":`);
  }
  return JSON.parse(text) as Record<string, unknown>;
}
