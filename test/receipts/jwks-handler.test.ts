import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createJwksHandler } from "../../src/receipts/jwks-handler.js";

const KEYS = { keys: [{ kty: "OKP" as const, crv: "Ed25519" as const, x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", kid: "kid-1", alg: "EdDSA" as const, use: "sig" as const }] };
const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe("GET /.well-known/jwks.json", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  async function serve(jwks: () => Promise<typeof KEYS>): Promise<string> {
    const handler = createJwksHandler({ signer: { jwks }, log: silent });
    server = createServer(async (req, res) => {
      if (!(await handler(req, res))) res.writeHead(404).end("not mine");
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("serves the key set with cache headers, to GET and HEAD, and leaves other paths alone", async () => {
    const base = await serve(async () => KEYS);
    const got = await fetch(`${base}/.well-known/jwks.json?x=1`);
    expect([got.status, got.headers.get("cache-control"), got.headers.get("access-control-allow-origin"), await got.json()]).toEqual([200, "public, max-age=300", "*", KEYS]);
    const head = await fetch(`${base}/.well-known/jwks.json`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length"), await head.text()]).toEqual([200, String(JSON.stringify(KEYS).length), ""]);
    const posted = await fetch(`${base}/.well-known/jwks.json`, { method: "POST" });
    expect([posted.status, posted.headers.get("allow"), await posted.json()]).toEqual([405, "GET, HEAD", { error: { code: "method_not_allowed", message: "POST is not allowed on /.well-known/jwks.json." } }]);
    expect(await (await fetch(`${base}/.well-known/other.json`)).text()).toBe("not mine");
  });

  it("answers 503 while the keys cannot be loaded, and never caches that", async () => {
    const base = await serve(async () => {
      throw new Error("store down");
    });
    const answer = await fetch(`${base}/.well-known/jwks.json`);
    expect([answer.status, answer.headers.get("cache-control"), answer.headers.get("retry-after"), await answer.json()]).toEqual([
      503,
      "no-store",
      "5",
      { error: { code: "store_unavailable", message: "The signing keys could not be loaded from the store. Retry shortly." } },
    ]);
  });
});
