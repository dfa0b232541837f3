/**
 * Renders one example issue of each presentation to docs/images/presentation-<name>.png, the
 * way a phone shows it: the markdown to HTML with micromark (CommonMark and GFM, as GitHub), a
 * GitHub-like stylesheet, and a headless Chromium screenshot 430 pixels wide.
 *
 *   npx tsx scripts/render-presentations.ts [path-to-chromium]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { renderIssueTitle, renderRequestBody } from "../src/core/render/request-markdown.js";
import { PRESENTATION_EXAMPLES } from "../test/support/presentation-examples.js";

const CHROMIUM = process.argv[2] ?? "/usr/bin/chromium";
const NOW = new Date("2026-11-24T10:00:00.000Z");

const CSS = `
body { margin: 0; background: #fff; color: #1f2328; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
.page { padding: 12px 16px; }
h1.title { font-size: 20px; font-weight: 600; margin: 0 0 12px; }
.comment { border: 1px solid #d1d9e0; border-radius: 6px; }
.comment-head { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 12px; color: #59636e; border-radius: 6px 6px 0 0; }
.comment-body { padding: 12px; overflow-wrap: break-word; }
.comment-body > :first-child { margin-top: 0; }
p, ul, table, pre, details { margin: 0 0 12px; }
h3 { font-size: 16px; font-weight: 600; margin: 20px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #d1d9e0b3; }
h4 { font-size: 14px; font-weight: 600; margin: 16px 0 6px; }
ul { padding-left: 2em; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #818b981f; padding: 0.2em 0.4em; border-radius: 6px; }
pre { background: #f6f8fa; padding: 12px; border-radius: 6px; overflow: auto; }
pre code { background: none; padding: 0; }
table { border-collapse: collapse; display: block; overflow: auto; max-width: 100%; }
th, td { border: 1px solid #d1d9e0; padding: 4px 10px; text-align: left; }
th { font-weight: 600; } tr:nth-child(2n) { background: #f6f8fa; }
summary { cursor: pointer; }
`;

const dir = mkdtempSync(join(tmpdir(), "hitl-render-"));
for (const [name, request] of Object.entries(PRESENTATION_EXAMPLES)) {
  const markdown = renderRequestBody(request, { now: NOW, recent: [], markerKey: "example" });
  // GitHub shows raw HTML that it allows (details, summary) and hides comments; micromark does the same with this option.
  const body = micromark(markdown, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });
  const title = renderIssueTitle(request, NOW).replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const html = `<!doctype html><meta charset="utf-8"><style>${CSS}</style><div class="page"><h1 class="title">${title}</h1><div class="comment"><div class="comment-head"><b>hitl</b> bot opened this issue</div><div class="comment-body">${body}</div></div></div>`;
  const file = join(dir, `${name}.html`);
  writeFileSync(file, html);
  const png = join(process.cwd(), "docs", "images", `presentation-${name.replace(/_/g, "-")}.png`);
  execFileSync(CHROMIUM, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", `--screenshot=${png}`, "--window-size=430,1100", `file://${file}`], { stdio: "ignore" });
  console.log(png);
}
