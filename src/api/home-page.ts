import { readFile, readdir } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";

/**
 * `GET /` on the running app: a small page, rendered on the server with no external asset, that
 * says what hitl is, whether it is configured, how many requests wait, and where the docs and the
 * API description are. It names settings, never their values: no token, secret, key or URL of a
 * store or webhook proxy appears (a smee.io URL lets anyone read the webhooks sent to it).
 */

export interface HomeFacts {
  version: string;
  /** The GitHub App's id; null in Probot's setup mode (no APP_ID yet). */
  appId: number | null;
  /** The agents' names (HITL_AGENT_TOKENS), not their tokens. */
  agents: string[];
  store: "embedded" | "redis" | "upstash";
  /** WEBHOOK_PROXY_URL is set (webhooks come through a proxy such as smee.io). */
  webhookProxy: boolean;
  /** The approver's desk is on (`/desk`); absent or false: not shown. */
  desk?: boolean;
  /** The Markdown files served under `/docs/`, by name (`README.md`, `configuration.md`, …). */
  docs: string[];
}

/** How many requests wait for a decision: a count, `at_least` when there are more than were counted, or null when the store does not answer. */
export type PendingCount = { count: number; atLeast: boolean } | null;

const STORE_NAMES: Record<HomeFacts["store"], string> = {
  embedded: "embedded (SQLite, one process)",
  redis: "Redis",
  upstash: "Upstash Redis",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const CSS = `body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;background:#f6f8fa}
main{max-width:40rem;margin:0 auto;padding:1.5rem 1rem}h1{font-size:1.6rem;margin:0 0 .25rem}
p.lead{margin:0 0 1.25rem;color:#59636e}table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d1d9e0;border-radius:6px}
th,td{text-align:left;vertical-align:top;padding:.5rem .75rem;border-top:1px solid #d1d9e0}tr:first-child th,tr:first-child td{border-top:0}
th{width:7rem;font-weight:600}.ok::before{content:"✓ ";color:#1a7f37;font-weight:600}.todo::before{content:"! ";color:#9a6700;font-weight:600}.todo{background:#fff8c5}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
ul{padding-left:1.25rem;margin:0}code{font:13px ui-monospace,Menlo,monospace;background:#818b981f;padding:.1em .3em;border-radius:4px}a{color:#0969da}`;

/** The page, every value escaped. */
export function renderHomePage(facts: HomeFacts, pending: PendingCount): string {
  const row = (name: string, ok: boolean | null, html: string) => `<tr><th>${escapeHtml(name)}</th><td${ok === null ? "" : ` class="${ok ? "ok" : "todo"}"`}>${html}</td></tr>`;
  const app =
    facts.appId === null
      ? `Not registered yet: <a href="/probot">register the GitHub App</a> (this writes <code>APP_ID</code>, <code>PRIVATE_KEY</code> and <code>WEBHOOK_SECRET</code> to <code>.env</code>), then restart.`
      : `Registered, app id ${escapeHtml(String(facts.appId))}.`;
  const agents =
    facts.agents.length === 0
      ? "None: set <code>HITL_AGENT_TOKENS</code> (<code>name:token</code>); until then the API answers 401."
      : // Counted, not named: the page is public, and which agents act on an organisation is not.
        `${facts.agents.length} configured.`;
  const waiting =
    pending === null ? "Unknown: the store does not answer." : `${pending.atLeast ? "At least " : ""}${pending.count} ${pending.count === 1 ? "request waits" : "requests wait"} for a decision.`;
  const webhooks = facts.webhookProxy ? "Through the webhook proxy in <code>WEBHOOK_PROXY_URL</code>." : "Straight from GitHub to <code>/api/github/webhooks</code>.";
  const docs = facts.docs.map((name) => `<li><a href="/docs/${encodeURIComponent(name)}">${escapeHtml(name === "README.md" ? "README.md" : `docs/${name}`)}</a></li>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>hitl</title><style>${CSS}</style></head>
<body><main>
<h1>hitl <small>${escapeHtml(facts.version)}</small></h1>
<p class="lead">Asynchronous human approval for AI agents, on GitHub: an agent asks over HTTP, people decide on an issue or pull request, the agent hears back, signed.</p>
<table>
${row("GitHub App", facts.appId !== null, app)}
${row("Agent tokens", facts.agents.length > 0, agents)}
${row("Store", null, escapeHtml(STORE_NAMES[facts.store]))}
${row("Webhooks", null, webhooks)}
${row("Pending", pending !== null, waiting)}
${facts.desk ? row("Desk", null, `<a href="/desk">The approver's desk</a>: sign in with GitHub to decide what waits for you.`) : ""}
</table>
<h2>Docs</h2>
<ul>${docs}<li><a href="/api/v1/openapi.json">The API, as OpenAPI 3.1</a> (<code>/api/v1/openapi.json</code>)</li><li><a href="/healthz">Health</a> (<code>/healthz</code>)</li></ul>
</main></body></html>
`;
}

const MAX_COUNTED = 1_000;

/**
 * Serves `GET /` and the Markdown docs under `/docs/` (as plain text). `docsDir` is the package's
 * root; only `README.md` and `docs/*.md` are served, by exact name.
 */
export function createHomeHandler(options: {
  facts: Omit<HomeFacts, "docs">;
  /** Pending requests, at most `limit` of them listed. */
  pending: (limit: number) => Promise<number>;
  root: string;
}) {
  const docs = listDocs(options.root);
  return async function homeHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const path = (req.url ?? "/").split("?")[0]!;
    if (path === "/") {
      const count = await options.pending(MAX_COUNTED).then(
        (n) => ({ count: n, atLeast: n >= MAX_COUNTED }),
        () => null,
      );
      const html = renderHomePage({ ...options.facts, docs: await docs }, count);
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : html);
      return true;
    }
    const doc = /^\/docs\/([^/]+)$/.exec(path)?.[1];
    if (doc === undefined) return false;
    const name = safeDecode(doc);
    if (name === null || !(await docs).includes(name)) return false;
    const text = await readFile(name === "README.md" ? join(options.root, "README.md") : join(options.root, "docs", name), "utf8");
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" });
    res.end(req.method === "HEAD" ? undefined : text);
    return true;
  };
}

/** `README.md` and the Markdown files in `docs/`, when the package ships them. */
async function listDocs(root: string): Promise<string[]> {
  const readme = await readFile(join(root, "README.md"), "utf8").then(
    () => ["README.md"],
    () => [],
  );
  const docs = await readdir(join(root, "docs")).catch(() => [] as string[]);
  return [...readme, ...docs.filter((name) => /^[a-z0-9][a-z0-9-]*\.md$/.test(name)).sort()];
}

function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
