import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Hitl, requireApproval, UnavailableError } from "../../src/client/index.js";
import { REPO_ROOT } from "../support/server-process.js";

const CLIENT_DIR = join(REPO_ROOT, "src", "client");

describe("hitl/client", () => {
  it("imports nothing but its own files: no server code, no packages, no Node built-ins", () => {
    const files = readdirSync(CLIENT_DIR).filter((name) => name.endsWith(".ts"));
    expect(files).toContain("index.ts");
    for (const file of files) {
      const source = readFileSync(join(CLIENT_DIR, file), "utf8");
      const specifiers = [...source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g)].map((match) => match[1]!);
      for (const specifier of specifiers) expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\/[a-z-]+\.js$/);
      for (const specifier of specifiers) expect(files, `${file} imports ${specifier}`).toContain(specifier.slice(2).replace(/\.js$/, ".ts"));
    }
  });

  it("is exported as hitl/client, built to dist/ with its types", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { exports: Record<string, { types: string; import: string }>; bin: Record<string, string> };
    expect(pkg.exports["./client"]).toEqual({ types: "./dist/client/index.d.ts", import: "./dist/client/index.js" });
    expect(pkg.bin.hitl).toBe("dist/cli/main.js");
  });

  const decided = (decision: Record<string, unknown>) => ({ id: "req_1", status: decision.status, decision });
  const fakeServer = (answers: Array<(url: string, init: RequestInit) => Response>) => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return answers.shift()!(url, init);
    }) as unknown as typeof globalThis.fetch;
    return { calls, fetch };
  };
  const json = (status: number, body: unknown) => () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

  it("createMany sends every item with its own idempotency key, generated where missing, and returns the results", async () => {
    const results = { results: [{ index: 0, status: 201, request: { id: "req_1" } }, { index: 1, status: 400, error: { code: "invalid_request", message: "no" } }] };
    const server = fakeServer([json(200, results)]);
    const hitl = new Hitl({ url: "https://hitl.test", token: "t", fetch: server.fetch });
    const answer = await hitl.createMany([
      { repo: "o/r", task_description: "A", approval_reason: "R", idempotency_key: "mine" },
      { repo: "o/r", task_description: "B", approval_reason: "R" },
    ]);
    expect(answer).toEqual(results);
    expect(server.calls[0]!.url).toBe("https://hitl.test/api/v1/requests/batch");
    const sent = JSON.parse(String(server.calls[0]!.init.body)) as { requests: { idempotency_key: string }[] };
    expect(sent.requests[0]!.idempotency_key).toBe("mine");
    expect(sent.requests[1]!.idempotency_key).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("passes the approver's edits of editable arguments to the tool, and ignores edits of others", async () => {
    const server = fakeServer([
      json(201, { id: "req_1", status: "pending" }),
      json(200, decided({ status: "approved", action: "approve", justification: null, edited_fields: { amount: 50, account: "attacker" } })),
    ]);
    const hitl = new Hitl({ url: "https://hitl.test", token: "t", fetch: server.fetch });
    const runs: unknown[] = [];
    const refund = requireApproval((args: { amount: number; account: string }) => runs.push(args), { hitl, repo: "o/r", task: "Refund", reason: "Money", editable: ["amount"] });
    await refund({ amount: 120, account: "customer" });
    expect(runs).toEqual([{ amount: 50, account: "customer" }]);
    expect(JSON.parse(String(server.calls[0]!.init.body))).toMatchObject({ decision_data: { amount: 120, account: "customer" } });
  });

  it("retries 503s with the same idempotency key, then gives up with UnavailableError", async () => {
    const unavailable = json(503, { error: { code: "store_unavailable", message: "The request store did not answer." } });
    const server = fakeServer([unavailable, unavailable, unavailable]);
    const hitl = new Hitl({ url: "https://hitl.test/", token: "t", fetch: server.fetch, retries: 3, backoffMs: 1 });
    const error = await hitl.create({ repo: "o/r", task_description: "t", approval_reason: "r" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ status: 503, code: "store_unavailable" });
    expect(server.calls.map((call) => call.url)).toEqual(Array(3).fill("https://hitl.test/api/v1/requests"));
    expect(new Set(server.calls.map((call) => new Headers(call.init.headers).get("idempotency-key"))).size).toBe(1);
  });
});
