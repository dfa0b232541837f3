import http from "node:http";
import https from "node:https";
import { guardedLookup, targetRefusal, type AllowedTargets, type Resolve } from "./private-targets.js";

/** Where hitl may send, and how it resolves names (injected in tests). */
export interface Outbound {
  allowed: AllowedTargets;
  resolve?: Resolve;
}

/**
 * POSTs `body` to `url` with node's own client: the target is checked before connecting and its
 * addresses at the connection; redirects are never followed. Throws with the reason unless the
 * answer is 2xx (so a 3xx is retried like any failure). Errors never carry the URL, which may
 * hold a secret (Slack's do).
 */
export async function postJson(outbound: Outbound, url: string, body: string, headers: Record<string, string>, timeoutMs = 10_000): Promise<void> {
  await post(outbound, url, body, headers, timeoutMs, 0);
}

/** The most of an answer's body `postForAnswer` reads. */
const ANSWER_LIMIT = 1024 * 1024;

/**
 * As `postJson`, and resolves with the 2xx answer's body (at most 1 MiB, as text), for APIs that
 * answer with what the caller needs next (Slack's message `ts`).
 */
export function postForAnswer(outbound: Outbound, url: string, body: string, headers: Record<string, string>, timeoutMs = 10_000): Promise<string> {
  return post(outbound, url, body, headers, timeoutMs, ANSWER_LIMIT);
}

function post(outbound: Outbound, url: string, body: string, headers: Record<string, string>, timeoutMs: number, keepBytes: number): Promise<string> {
  const refusal = targetRefusal(url, outbound.allowed);
  if (refusal) return Promise.reject(new Error(`refused to send: the URL ${refusal}`));
  const target = new URL(url);
  const client = target.protocol === "https:" ? https : http;
  return new Promise<string>((resolve, reject) => {
    const request = client.request(
      target,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        lookup: guardedLookup(outbound.allowed, outbound.resolve),
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          response.resume();
          reject(new Error(`answered HTTP ${status}${status >= 300 && status < 400 ? " (redirects are not followed)" : ""}`));
          return;
        }
        if (keepBytes === 0) {
          response.resume();
          resolve("");
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > keepBytes) response.destroy(new Error(`answered with more than ${keepBytes} bytes`));
          else chunks.push(chunk);
        });
        response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}
