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
export function postJson(outbound: Outbound, url: string, body: string, headers: Record<string, string>, timeoutMs = 10_000): Promise<void> {
  const refusal = targetRefusal(url, outbound.allowed);
  if (refusal) return Promise.reject(new Error(`refused to send: the URL ${refusal}`));
  const target = new URL(url);
  const client = target.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
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
        response.resume();
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`answered HTTP ${status}${status >= 300 && status < 400 ? " (redirects are not followed)" : ""}`));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}
