import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHomeHandler, renderHomePage, type HomeFacts } from "../../src/api/home-page.js";
import { REPO_ROOT } from "../support/server-process.js";

const FACTS: HomeFacts = { version: "0.1.0", appId: 1234, agents: ["refund-agent", "deploy-bot"], store: "embedded", webhookProxy: false, docs: ["README.md", "agents.md"] };

/** The page as text, the way a person reads it: tags dropped, entities decoded, lines trimmed. */
function visibleText(html: string): string[] {
  const body = html.slice(html.indexOf("<body>"));
  return body
    .replace(/<\/(tr|h1|h2|p|li|table)>/g, "\n")
    .replace(/<\/t[hd]>/g, " | ")
    .replace(/<[^>]+>/g, "")
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

describe("the home page", () => {
  it("says what hitl is, how it is configured, how many requests wait, and where the docs are", () => {
    expect(visibleText(renderHomePage(FACTS, { count: 3, atLeast: false }))).toEqual([
      "hitl 0.1.0",
      "Asynchronous human approval for AI agents, on GitHub: an agent asks over HTTP, people decide on an issue or pull request, the agent hears back, signed.",
      "GitHub App | Registered, app id 1234. |",
      "Agent tokens | 2 configured. |",
      "Store | embedded (SQLite, one process) |",
      "Webhooks | Straight from GitHub to /api/github/webhooks. |",
      "Pending | 3 requests wait for a decision. |",
      "Docs",
      "README.md",
      "docs/agents.md",
      "The API, as OpenAPI 3.1 (/api/v1/openapi.json)",
      "Health (/healthz)",
    ]);
  });

  it("links to the approver's desk when it is on", () => {
    const text = visibleText(renderHomePage({ ...FACTS, desk: true }, { count: 3, atLeast: false }));
    expect(text[7]).toBe("Desk | The approver's desk: sign in with GitHub to decide what waits for you. |");
    expect(renderHomePage({ ...FACTS, desk: true }, null)).toContain('<a href="/desk">The approver\'s desk</a>');
  });

  it("says what is missing in setup mode, and never shows a value that could be secret", () => {
    const text = visibleText(renderHomePage({ ...FACTS, appId: null, agents: [], store: "redis", webhookProxy: true }, null));
    expect(text.slice(2, 7)).toEqual([
      "GitHub App | Not registered yet: register the GitHub App (this writes APP_ID, PRIVATE_KEY and WEBHOOK_SECRET to .env), then restart. |",
      "Agent tokens | None: set HITL_AGENT_TOKENS (name:token); until then the API answers 401. |",
      "Store | Redis |",
      "Webhooks | Through the webhook proxy in WEBHOOK_PROXY_URL. |",
      "Pending | Unknown: the store does not answer. |",
    ]);
    expect(visibleText(renderHomePage(FACTS, { count: 1000, atLeast: true }))[6]).toBe("Pending | At least 1000 requests wait for a decision. |");
  });

  it("escapes everything it shows", () => {
    const html = renderHomePage({ ...FACTS, version: "<script>alert(1)</script>", agents: ['"><img src=x onerror=alert(1)>'], docs: ["a&b.md"] }, { count: 1, atLeast: false });
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(html).toContain('<a href="/docs/a%26b.md">docs/a&#38;b.md</a>');
    // The public page counts the agents and names none.
    expect(html).not.toContain("onerror");
    // No external asset of any kind.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  describe("served", () => {
    let server: Server;
    afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

    async function serve(pending: (limit: number) => Promise<number>) {
      const handler = createHomeHandler({ facts: FACTS, pending, root: REPO_ROOT });
      server = createServer((req, res) => {
        void handler(req, res).then((handled) => {
          if (!handled) res.writeHead(404).end("not found");
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    it("answers GET / with the page, locked down, and serves the README and docs/*.md as text, nothing else", async () => {
      const asked: number[] = [];
      const url = await serve(async (limit) => (asked.push(limit), 2));
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(page.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
      const html = await page.text();
      expect(visibleText(html)).toContain("Pending | 2 requests wait for a decision. |");
      expect(asked).toEqual([1000]);
      expect(html).toContain('<a href="/docs/configuration.md">docs/configuration.md</a>');
      const readme = await fetch(`${url}/docs/README.md`);
      expect(readme.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(await readme.text()).toMatch(/^# hitl\n/);
      expect((await fetch(`${url}/docs/configuration.md`)).status).toBe(200);
      for (const path of ["/docs/..%2Fpackage.json", "/docs/%2E%2E%2F.env", "/docs/missing.md", "/docs/", "/index.html"]) {
        expect((await fetch(`${url}${path}`)).status, path).toBe(404);
      }
    });

    it("still answers when the store does not", async () => {
      const url = await serve(() => Promise.reject(new Error("store down")));
      expect(visibleText(await (await fetch(`${url}/`)).text())).toContain("Pending | Unknown: the store does not answer. |");
    });
  });
});
