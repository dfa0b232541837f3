import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLinkHandler } from "../../src/channels/links/link-handler.js";
import { linkBinding, linkKeyFrom, signLink } from "../../src/channels/links/link-token.js";
import { makeRequest } from "../support/fixtures.js";

const KEY = linkKeyFrom("link-secret-for-tests-0123456789abcdef");
const NOW = new Date("2026-11-24T10:00:00.000Z");

describe("the link handler", () => {
  const request = makeRequest({ id: "req_handler" });
  const logged: string[] = [];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const handler = createLinkHandler({
      store: { get: async (id) => (id === request.id ? request : null), takeUse: async () => 1, uses: async () => 0 },
      decide: async () => {
        throw new Error("a GET never decides");
      },
      key: KEY,
      publicUrl: "https://hitl.example.com/approvals",
      clock: () => NOW,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as never,
      maxBodyBytes: 4096,
    });
    // What the access log would write: the request's URL once the answer is sent.
    server = createServer((req, res) => {
      res.on("finish", () => logged.push(req.url ?? ""));
      void handler(req, res).then((handled) => handled || res.writeHead(404).end());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("keeps the token out of the access log, scopes the cookie to the link under the public URL's path, and leaves other paths alone", async () => {
    const token = signLink(KEY, { requestId: request.id, binding: linkBinding(request), login: "alice", action: "approve", expiresAt: Date.parse("2026-11-25T10:00:00Z"), nonce: "n1", via: "link" });
    const page = await fetch(`${base}/l/${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("set-cookie")).toBe(`hitl_csrf=${/name="csrf" value="([^"]+)"/.exec(await page.text())![1]}; Path=/approvals/l/${token}; Max-Age=86400; HttpOnly; SameSite=Strict; Secure`);
    expect((await fetch(`${base}/other`)).status).toBe(404);
    expect(logged).toEqual(["/l/[redacted]", "/other"]);
    expect(logged.join(" ")).not.toContain(token.slice(0, 20));
  });

  it("answers other methods with 405", async () => {
    const response = await fetch(`${base}/l/x.y`, { method: "PUT" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, POST");
  });
});
