import { z } from "zod";
import { STATUSES } from "../core/types.js";
import { cancelSchema, newRequestSchema, simulateSchema, validateSchema } from "./request-schema.js";
import { validationSchema } from "./resume-schema.js";

const schema = (value: z.ZodType) => z.toJSONSchema(value, { io: "input", unrepresentable: "any", target: "openapi-3.0" });
const output = (value: z.ZodType) => z.toJSONSchema(value, { io: "output", unrepresentable: "any", target: "openapi-3.0" });

const error = {
  description: "An error, with the fields at fault",
  content: {
    "application/json": {
      schema: {
        type: "object",
        properties: {
          error: {
            type: "object",
            required: ["code", "message"],
            properties: {
              code: { type: "string" },
              message: { type: "string" },
              issues: { type: "array", items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } } },
            },
          },
        },
      },
    },
  },
};

const requestResponse = { description: "The request", content: { "application/json": { schema: { $ref: "#/components/schemas/Request" } } } };
const idParam = { name: "id", in: "path", required: true, schema: { type: "string" } };

/** The agent API described for tools, from the same zod schemas that validate it. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: "3.0.3",
    info: { title: "hitl agent API", version: "1", description: "Ask people on GitHub for approval, and learn their decision." },
    components: {
      securitySchemes: { agentToken: { type: "http", scheme: "bearer", description: "A token from HITL_AGENT_TOKENS" } },
      schemas: {
        NewRequest: schema(newRequestSchema),
        Cancel: schema(cancelSchema),
        Simulate: schema(simulateSchema),
        Validate: schema(validateSchema),
        Validation: output(validationSchema),
        Request: { type: "object", description: "A request as stored, snake_case, with `status`, `decision` and `escalation`." },
      },
    },
    security: [{ agentToken: [] }],
    paths: {
      "/api/v1/requests": {
        post: {
          summary: "Open a request",
          parameters: [{ name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", maxLength: 200 } }],
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/NewRequest" } } } },
          responses: { "201": requestResponse, "200": { ...requestResponse, description: "The first request for this Idempotency-Key" }, "400": error, "401": error, "403": error, "413": error, "422": error, "503": error },
        },
        get: {
          summary: "List the agent's own requests (every agent's with read-all): pending by priority then age, else newest first",
          parameters: [
            { name: "repo", in: "query", schema: { type: "string" } },
            { name: "status", in: "query", schema: { type: "string", enum: [...STATUSES] } },
            { name: "request_type", in: "query", schema: { type: "string" } },
            { name: "workflow_id", in: "query", schema: { type: "string", maxLength: 200 } },
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 500 } },
          ],
          responses: { "200": { description: "`{requests: [...]}`" }, "400": error, "401": error },
        },
      },
      "/api/v1/requests/{id}": { get: { summary: "A request, its decision and escalation schedule; another agent's is 404 without read-all", parameters: [idParam], responses: { "200": requestResponse, "404": error } } },
      "/api/v1/requests/{id}/decision": {
        get: {
          summary: "Long-poll until the request is decided",
          parameters: [idParam, { name: "wait", in: "query", schema: { type: "number", minimum: 0, maximum: 60 } }],
          responses: { "200": { description: "`{id, status, decision, workflow_id, checkpoint, resume, superseded_by}`; `status` is `pending` when `wait` ran out" }, "404": error },
        },
      },
      "/api/v1/requests/{id}/validate": {
        post: {
          summary: "Whether the decision still holds for the agent's current context; with re_ask, a follow-up request when it does not",
          parameters: [idParam],
          requestBody: { content: { "application/json": { schema: { $ref: "#/components/schemas/Validate" } } } },
          responses: {
            "200": { description: "The answer", content: { "application/json": { schema: { $ref: "#/components/schemas/Validation" } } } },
            "400": error,
            "401": error,
            "403": error,
            "404": error,
            "409": error,
            "422": error,
            "502": error,
          },
        },
      },
      "/api/v1/requests/{id}/cancel": {
        post: {
          summary: "Withdraw a pending request",
          parameters: [idParam],
          requestBody: { content: { "application/json": { schema: { $ref: "#/components/schemas/Cancel" } } } },
          responses: { "200": requestResponse, "404": error, "409": error },
        },
      },
      "/api/v1/audit": {
        get: {
          summary: "The audit trail of a repository, as JSON lines: the entries of the agent's own requests, or all with read-all",
          parameters: [{ name: "repo", in: "query", required: true, schema: { type: "string" } }, { name: "limit", in: "query", schema: { type: "integer" } }],
          responses: { "200": { description: "One JSON object per line", content: { "application/x-ndjson": {} } }, "400": error },
        },
      },
      "/api/v1/simulate": {
        post: {
          summary: "What would happen to a request, and why, without creating anything",
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/Simulate" } } } },
          responses: { "200": { description: "`{outcome, would_be, evaluation, config}`" }, "400": error },
        },
      },
    },
  };
}
