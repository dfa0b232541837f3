import http from "node:http";
import https from "node:https";
import type { Outbound } from "./post-json.js";
import { guardedLookup, targetRefusal } from "./private-targets.js";

const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * POSTs a form (`application/x-www-form-urlencoded`) and resolves with the answer's status and
 * body (at most 64 KiB), through the same guard as `postJson`: the target is checked before
 * connecting and its addresses at the connection; redirects are never followed. Errors never
 * carry the URL or the headers (they may hold credentials).
 */
export function postForm(outbound: Outbound, url: string, form: Record<string, string>, headers: Record<string, string>, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  const refusal = targetRefusal(url, outbound.allowed);
  if (refusal) return Promise.reject(new Error(`refused to send: the URL ${refusal}`));
  const target = new URL(url);
  const client = target.protocol === "https:" ? https : http;
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const request = client.request(
      target,
      {
        method: "POST",
        headers: { ...headers, "content-type": "application/x-www-form-urlencoded", "content-length": String(Buffer.byteLength(body)) },
        lookup: guardedLookup(outbound.allowed, outbound.resolve),
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8").slice(0, MAX_ANSWER_BYTES) }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}
