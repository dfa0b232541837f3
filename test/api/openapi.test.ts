import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileErrors, validate } from "@readme/openapi-parser";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/api/openapi.js";

type Operation = { operationId?: string; responses: Record<string, unknown>; callbacks?: Record<string, unknown> };
const document = openApiDocument() as { openapi: string; paths: Record<string, Record<string, Operation>>; servers: unknown[]; components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> } };
const operation = (path: string, method: string) => document.paths[path]![method]!;

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1 to a real validator", async () => {
    expect(document.openapi).toBe("3.1.0");
    const result = await validate(structuredClone(document) as never);
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
  });

  it("names every operation and describes each status a route answers, with a schema", () => {
    const expected: Record<string, [string, string, string[]]> = {
      createRequest: ["/api/v1/requests", "post", ["200", "201", "400", "401", "403", "409", "413", "422", "500", "502", "503"]],
      createRequests: ["/api/v1/requests/batch", "post", ["200", "400", "401", "413", "500", "503"]],
      listRequests: ["/api/v1/requests", "get", ["200", "400", "401", "500", "503"]],
      getRequest: ["/api/v1/requests/{id}", "get", ["200", "401", "404", "500", "503"]],
      getRequestContext: ["/api/v1/requests/{id}/context", "get", ["200", "401", "404", "500", "503"]],
      waitForDecision: ["/api/v1/requests/{id}/decision", "get", ["200", "400", "401", "404", "500", "503"]],
      validateDecision: ["/api/v1/requests/{id}/validate", "post", ["200", "400", "401", "404", "413", "422", "500", "502", "503"]],
      cancelRequest: ["/api/v1/requests/{id}/cancel", "post", ["200", "400", "401", "404", "409", "413", "500", "503"]],
      getAudit: ["/api/v1/audit", "get", ["200", "400", "401", "500", "503"]],
      verifyAudit: ["/api/v1/audit/verify", "get", ["200", "400", "401", "403", "500", "503"]],
      exportAudit: ["/api/v1/audit/export", "get", ["200", "400", "401", "500", "503"]],
      getStats: ["/api/v1/stats", "get", ["200", "400", "401", "500", "503"]],
      listSuggestions: ["/api/v1/suggestions", "get", ["200", "400", "401", "403", "422", "500", "502", "503"]],
      openSuggestionPullRequest: ["/api/v1/suggestions/{id}/pull-request", "post", ["200", "201", "400", "401", "403", "404", "409", "413", "422", "500", "502", "503"]],
      simulateRequest: ["/api/v1/simulate", "post", ["200", "400", "401", "413", "422", "500", "502", "503"]],
      getOpenApi: ["/api/v1/openapi.json", "get", ["200"]],
      runSweep: ["/api/v1/sweep", "post", ["200", "401", "403", "405", "500", "503"]],
      receiveEmailReply: ["/api/v1/inbound/email", "post", ["200", "400", "401", "403", "404", "405", "409", "410", "413", "422", "500"]],
      slackInteraction: ["/api/v1/slack/interactions", "post", ["200", "400", "401", "405", "409", "413", "503"]],
      getComplianceReport: ["/api/v1/reports/compliance", "get", ["200", "400", "401", "500", "503"]],
      getJwks: ["/.well-known/jwks.json", "get", ["200"]],
    };
    const found = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => [op.operationId, path, method]));
    expect(found.map(([id]) => id).sort()).toEqual(Object.keys(expected).sort());
    for (const [id, [path, method, statuses]] of Object.entries(expected)) {
      const responses = operation(path, method).responses as Record<string, { content?: Record<string, { schema?: unknown }> }>;
      expect(Object.keys(responses).sort(), id).toEqual(statuses);
      for (const [status, response] of Object.entries(responses)) expect(Object.values(response.content ?? {})[0]?.schema, `${id} ${status}`).toBeDefined();
    }
    expect(document.components.schemas.Request).toMatchObject({ type: "object", required: expect.arrayContaining(["id", "status", "decision", "escalation"]) });
  });

  it("has servers, the bearer scheme, and the signed callback", () => {
    expect(document.servers.length).toBeGreaterThan(0);
    expect(document.components.securitySchemes.agentToken).toEqual(expect.objectContaining({ type: "http", scheme: "bearer" }));
    const callback = (operation("/api/v1/requests", "post").callbacks!.decision as Record<string, { post: { parameters: { name: string; in: string; required: boolean }[] } }>)["{$request.body#/callback_url}"]!.post;
    expect(callback.parameters).toContainEqual(expect.objectContaining({ name: "x-hitl-signature-256", in: "header", required: true }));
    expect(document.components.schemas.Callback).toMatchObject({ required: ["event", "delivery_id", "sent_at", "request"] });
  });

  it("generates a typed client that compiles against it (openapi-typescript, then tsc)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hitl-openapi-"));
    try {
      await writeFile(join(dir, "api.d.ts"), astToString(await openapiTS(structuredClone(document) as never)));
      await writeFile(
        join(dir, "client.ts"),
        `import type { paths, components } from "./api.js";
type NewRequest = paths["/api/v1/requests"]["post"]["requestBody"]["content"]["application/json"];
type Created = paths["/api/v1/requests"]["post"]["responses"][201]["content"]["application/json"];
type Poll = paths["/api/v1/requests/{id}/decision"]["get"]["responses"][200]["content"]["application/json"];
type Problem = paths["/api/v1/requests/{id}/cancel"]["post"]["responses"][409]["content"]["application/json"];
type Signed = components["schemas"]["Callback"];
const body: NewRequest = { repo: "octo-org/payments", task_description: "Refund", approval_reason: "Over $50", decision_data: { amount: 120 } };
declare const created: Created;
const status: "pending" | "approved" | "rejected" | "expired" | "cancelled" | "superseded" = created.status;
declare const poll: Poll;
const by: string | undefined = poll.decision?.decided_by.type;
declare const problem: Problem;
const code: string = problem.error.code;
declare const signed: Signed;
const sentAt: string = signed.sent_at + signed.request.id;
// @ts-expect-error an unknown priority is refused by the types, as by the API
const wrong: NewRequest = { ...body, priority: "urgent" };
export { body, status, by, code, sentAt, wrong };
`,
      );
      const program = ts.createProgram([join(dir, "client.ts")], { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: false, types: [] });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      expect(diagnostics).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("the TypeScript client's types", () => {
  it("are what openapi-typescript makes of the document today (npm run client-types)", async () => {
    const { clientTypesSource } = await import("../../scripts/client-types.js");
    expect(readFileSync(new URL("../../src/client/api-types.ts", import.meta.url), "utf8")).toBe(await clientTypesSource());
  }, 30_000);
});
