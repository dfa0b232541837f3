import { z } from "zod";
// zod-openapi (5.x, which runs on Node 20) turns the zod schemas into OpenAPI 3.1 with zod 4's own
// z.toJSONSchema underneath: it adds what a bare JSON Schema lacks (parameters from object schemas,
// input and output variants of one schema, `$ref` components from `.meta({ id })`, callbacks), so
// this file describes operations and writes no schema by hand.
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponsesObject } from "zod-openapi";
import { auditExportQuerySchema, auditQuerySchema, auditVerifyQuerySchema, batchOpenSchema, cancelSchema, listQuerySchema, newRequestSchema, simulateSchema, statsQuerySchema, suggestionPullRequestSchema as suggestionPullRequestBody, suggestionsQuerySchema, validateSchema, waitQuerySchema } from "./request-schema.js";
import { validationSchema } from "./resume-schema.js";
import { sweepReportSchema } from "./sweep-schema.js";
import { complianceReportSchema } from "../compliance/report-schema.js";
import { reportQuerySchema } from "../compliance/report-query.js";
import { jwksSchema } from "../receipts/jwks-schema.js";
import { apiRequestSchema, auditEntrySchema, batchResultSchema, contextLayersSchema, auditPageSchema, auditVerificationSchema, callbackSchema, decisionPollSchema, ERROR_CODES, errorSchema, requestListSchema, simulationSchema, statsSchema, suggestionListSchema, suggestionPullRequestSchema } from "./response-schema.js";

type ErrorStatus = keyof typeof ERROR_CODES;

const ERROR_MEANING: Record<ErrorStatus, string> = {
  400: "The body or query is not valid; `issues` names each field at fault",
  401: "No valid agent token: `Authorization: Bearer <token>`",
  403: "The repository's `.hitl.yml` does not list this agent, or the call needs a token with read-all",
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

/** What `POST /api/v1/inbound/email` answers once it read a reply (decided or not). */
const inboundEmailResult = z
  .object({
    outcome: z.string().describe("`decided`, `voted`, or why not: `already_decided`, `refused`, `vote_refused`, `unknown_action`, `past_deadline`, `stale`, `old_head`, `needs_input`"),
    request_id: z.string(),
    status: z.string().describe("The request's status now"),
    login: z.string().describe("Whose decision it was: the reply address's recipient"),
    action: z.string(),
    error: z.object({ code: z.string(), message: z.string() }).optional().describe("When nothing was decided"),
  })
  .meta({ id: "InboundEmailResult" });

const inboundProblem = (description: string) => ({ description, ...json(errorSchema) });

const inboundEmail: ZodOpenApiOperationObject = {
  operationId: "receiveEmailReply",
  summary: "An email reply to a decision email, from an inbound-mail provider",
  description:
    "The body is the raw RFC 822 message. The reply address (`reply+<token>@…`, read from To, Cc, Delivered-To or X-Original-To, never From) says which request and whose decision; From must be that person's address in `.hitl.yml` `people:`; the first line of the reply is `approve`, `reject` or `choose <id>`, and the rest up to the quoted message is the reason.",
  security: [{ inboundEmailSecret: [] }, { inboundEmailBearer: [] }],
  requestBody: { required: true, content: { "message/rfc822": { schema: z.string().describe("The raw message") } } },
  responses: {
    200: { description: "Decided (or, on a request with stages, the vote counted)", ...json(inboundEmailResult) },
    400: inboundProblem("Not a message, no reply address among the recipients, or its token is not valid (invalid_message, no_reply_address, invalid_reply_token)"),
    401: inboundProblem("No valid HITL_INBOUND_EMAIL_SECRET (unauthorized)"),
    403: { description: "From is not the recipient's address (from_mismatch), the recipient has no email in people: (unknown_recipient), or the engine refused them (not_allowed, vote_refused)", ...json(inboundEmailResult.or(errorSchema)) },
    404: inboundProblem("No such request (not_found)"),
    405: inboundProblem("Not a POST (method_not_allowed)"),
    409: { description: "Already decided, or the request changed since the email (already_decided, stale)", ...json(inboundEmailResult.or(errorSchema)) },
    410: { description: "The reply address expired, or the deadline passed (reply_token_expired, past_deadline)", ...json(inboundEmailResult.or(errorSchema)) },
    413: inboundProblem("The message is larger than HITL_MAX_BODY_BYTES (payload_too_large)"),
    422: { description: "The first line is not a command, the action is not offered, or the reason is missing (no_command, unknown_action, needs_input)", ...json(inboundEmailResult.or(errorSchema)) },
    500: inboundProblem("Something failed on the server; nothing was decided (internal_error)"),
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
        inboundEmailBearer: { type: "http", scheme: "bearer", description: "HITL_INBOUND_EMAIL_SECRET, for the inbound-mail provider" },
        inboundEmailSecret: { type: "apiKey", in: "header", name: "X-Hitl-Inbound-Secret", description: "HITL_INBOUND_EMAIL_SECRET, for providers that cannot send a bearer token" },
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
      "/api/v1/requests/batch": {
        post: {
          operationId: "createRequests",
          summary: "Open several requests in one call",
          description:
            "Each item is opened as POST /requests would open it alone, with its own idempotency_key (required), and answered in `results` in the order sent: an item that is not valid, or not allowed, fails alone. The call answers 200 once every item is answered; 400 only when the envelope itself is not valid (no `requests`, or more than 100).",
          requestBody: { required: true, ...json(batchOpenSchema) },
          responses: { 200: { description: "One result per item", ...json(batchResultSchema) }, ...errors(400, 413) },
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
      "/api/v1/requests/{id}/context": {
        get: {
          operationId: "getRequestContext",
          summary: "The request's context layers, the full one included",
          description:
            "`summary`, `detail` and `full` as the agent sent them in `context`. `full` is never posted to GitHub, chat or email; this is where the agent (or a read-all token) reads it back, and the approver's desk shows it. Null layers were not sent, or retention removed them.",
          requestParams: { path: requestId },
          responses: { 200: { description: "The layers", ...json(contextLayersSchema) }, ...errors(404) },
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
          summary: "The audit trail, oldest first, a page at a time: the agent's own requests' entries, or every entry with read-all",
          description:
            "Without `repo`, every repository's. Follow `next_cursor` (also in the `Hitl-Next-Cursor` header and a `Link: rel=\"next\"`) until it is null; entries written meanwhile come on later pages, none twice. JSON lines by default; `Accept: application/json` answers an AuditPage.",
          requestParams: { query: auditQuerySchema },
          responses: {
            200: {
              description: "One AuditEntry per line, or a page",
              headers: z.object({ "hitl-next-cursor": z.string().optional().describe("The next page's cursor; absent on the last page") }),
              content: { "application/x-ndjson": { schema: auditEntrySchema }, "application/json": { schema: auditPageSchema } },
            },
            ...errors(400),
          },
        },
      },
      "/api/v1/audit/verify": {
        get: {
          operationId: "verifyAudit",
          summary: "Walk a repository's hash chain from its anchor to its head; name the first entry altered, removed or reordered",
          requestParams: { query: auditVerifyQuerySchema },
          responses: { 200: { description: "The verdict (a fault is still 200: `ok` is false)", ...json(auditVerificationSchema) }, ...errors(400, 403) },
        },
      },
      "/api/v1/audit/export": {
        get: {
          operationId: "exportAudit",
          summary: "Stream the audit as gzip JSON lines, for archiving; `npx hitl audit verify FILE` checks the file offline",
          description: "The same entries as `GET /api/v1/audit` without paging, as a gzip file (`application/gzip`, not a Content-Encoding: save it as it comes).",
          requestParams: { query: auditExportQuerySchema },
          responses: {
            200: {
              description: "A .jsonl.gz file: one AuditEntry per line",
              headers: z.object({
                "hitl-audit-head": z.string().optional().describe("With `repo` and a read-all token: `owner/name@seq:hash`, the chain's head as the export began. Record it elsewhere; `hitl audit verify FILE --head` checks a later file reaches it unchanged."),
              }),
              content: { "application/gzip": { schema: z.string().meta({ format: "binary" }) } },
            },
            ...errors(400),
          },
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
      "/api/v1/suggestions": {
        get: {
          operationId: "listSuggestions",
          summary: "Delegation rules the repository's history supports, as ready YAML with their evidence",
          description:
            "Mines the decisions people made (never rules, fallbacks or agents), per request type, for rules that would have decided many past requests exactly as people did and none otherwise: the approved range of a number, or a value of a low-cardinality field. Each comes with how many requests support it, which, and the closest counter-examples. Reads how every request of the repository was decided, so it needs a token with read-all.",
          requestParams: { query: suggestionsQuerySchema },
          responses: { 200: { description: "The suggestions, strongest evidence first", ...json(suggestionListSchema) }, ...errors(400, 403, 422, 502) },
        },
      },
      "/api/v1/suggestions/{id}/pull-request": {
        post: {
          operationId: "openSuggestionPullRequest",
          summary: "Open a pull request adding a suggested rule to .hitl.yml",
          description:
            "Adds the rule last under `rules:` on branch `hitl/suggest-<id>`, keeping the rest of the file as written, and opens a pull request with the evidence; the `hitl/config` check validates it as any change. Asking again answers the pull request already opened (200). Needs a token with read-all.",
          requestParams: { path: z.object({ id: z.string().regex(/^sug_[0-9a-f]{16}$/).describe("The suggestion's id, `sug_…`") }) },
          requestBody: { required: true, ...json(suggestionPullRequestBody.meta({ id: "SuggestionPullRequestBody" })) },
          responses: {
            200: { description: "The pull request opened for this suggestion before", ...json(suggestionPullRequestSchema) },
            201: { description: "The pull request, opened", ...json(suggestionPullRequestSchema) },
            ...errors(400, 403, 404, 409, 413, 422, 502),
          },
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
      "/api/v1/inbound/email": { post: inboundEmail },
      "/api/v1/slack/interactions": {
        post: {
          operationId: "slackInteraction",
          summary: "Slack's interactivity requests: button presses and form submissions",
          description:
            "Set as the Slack app's Interactivity Request URL (with HITL_SLACK_BOT_TOKEN and HITL_SLACK_SIGNING_SECRET). Signed by Slack, not by an agent token: `X-Slack-Signature` is checked against the raw body and `X-Slack-Request-Timestamp` must be within 5 minutes. Each interaction is taken once; it is stored as a job before the 200, then applied as the decision of the login `.hitl.yml` `people:` maps the Slack user to.",
          security: [],
          requestParams: {
            header: z.object({
              "x-slack-signature": z.string().describe("`v0=` and the hex HMAC-SHA256 of `v0:<timestamp>:<raw body>`, keyed by the signing secret"),
              "x-slack-request-timestamp": z.string().describe("Unix seconds; refused when more than 5 minutes from now"),
            }),
          },
          requestBody: { required: true, content: { "application/x-www-form-urlencoded": { schema: z.object({ payload: z.string().describe("Slack's interaction payload, as JSON") }) } } },
          responses: {
            200: { description: "Received; the decision is applied right after (or a form opened)", content: { "text/plain": { schema: z.string().max(0) } } },
            400: { description: "No payload, no user, or a button hitl did not sign (invalid_request)", ...json(errorSchema) },
            401: { description: "The signature does not hold or the timestamp is stale (unauthorized)", ...json(errorSchema) },
            405: { description: "Not a POST (method_not_allowed)", ...json(errorSchema) },
            409: { description: "This interaction was received before (replayed)", ...json(errorSchema) },
            413: { description: "The body is too large (payload_too_large)", ...json(errorSchema) },
            503: { description: "The interaction could not be recorded; Slack shows the person an error (store_unavailable)", ...json(errorSchema) },
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
      "/api/v1/reports/compliance": {
        get: {
          operationId: "getComplianceReport",
          summary: "Who decided what, how, and whether separation of duties held, with every receipt checked against the published keys",
          description:
            "Requests opened in [since, until). A read-all token sees every agent's requests; any other token only its own agent's (the report's scope says so). See docs/compliance.md for what each check evidences.",
          requestParams: { query: reportQuerySchema },
          responses: {
            200: {
              description: "The report",
              content: {
                "application/json": { schema: complianceReportSchema },
                "text/csv": { schema: z.string().describe("One row per request, RFC 4180, a header row first") },
                "text/markdown": { schema: z.string().describe("The summary, the violations, and the requests") },
              },
            },
            ...errors(400),
          },
        },
      },
      "/.well-known/jwks.json": {
        get: {
          operationId: "getJwks",
          summary: "The public keys receipts are signed with (current and retired); no token needed",
          security: [],
          responses: { 200: { description: "A JWK Set; cache it for at most max-age", content: { "application/jwk-set+json": { schema: jwksSchema } } } },
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
