import { createServer, request as httpRequest, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy does with one request to GitHub. */
export type FaultAction =
  /** Pass it to the stand-in and give its answer back (the default). */
  | { type: "forward" }
  /** Answer this without the stand-in ever seeing the request. */
  | { type: "fail"; status: number; headers?: Record<string, string>; body?: unknown }
  /**
   * Pass it to the stand-in (which acts on it) and then answer this instead of its reply: the
   * write happened on GitHub, but the answer was lost on the way back.
   */
  | { type: "lose_answer"; status: number; headers?: Record<string, string>; body?: unknown }
  /** Never answer (until the proxy closes): a call that hangs. */
  | { type: "hang" };

export interface ProxiedCall {
  method: string;
  /** Without `/api/v3` and the query. */
  path: string;
  action: FaultAction["type"];
  status: number;
  /** When the request arrived (epoch ms). */
  at: number;
}

export interface FaultProxy {
  /** Base URL for Octokit, with `/api/v3`. */
  url: string;
  /** `127.0.0.1:<port>`, for `GHE_HOST` (with `GHE_PROTOCOL=http`). */
  host: string;
  /** Every request the proxy saw, in order, with what it did. */
  calls: ProxiedCall[];
  /** Decides, per request, what happens; `undefined` forwards. Replaces the previous rule. */
  setRule(rule: ((call: { method: string; path: string }) => FaultAction | undefined) | null): void;
  close(): Promise<void>;
}

const API_PREFIX = "/api/v3";

/**
 * A proxy in front of the GitHub stand-in that can fail calls, hang them, or let GitHub act and
 * then lose the answer (which the stand-in's own `failNext` cannot do: it answers instead of
 * acting).
 */
export async function startFaultProxy(target: { host: string }): Promise<FaultProxy> {
  const [targetHost = "127.0.0.1", targetPort = "80"] = target.host.split(":");
  let rule: ((call: { method: string; path: string }) => FaultAction | undefined) | null = null;
  const calls: ProxiedCall[] = [];
  const hanging = new Set<ServerResponse>();

  const server: Server = createServer((incoming, response) => {
    void handle(incoming, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(599);
      response.end(String(error));
    });
  });

  async function handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const at = Date.now();
    const method = (incoming.method ?? "GET").toUpperCase();
    const url = new URL(incoming.url ?? "/", "http://proxy");
    const path = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) || "/" : url.pathname;
    const action = rule?.({ method, path }) ?? { type: "forward" };
    if (action.type === "hang") {
      calls.push({ method, path, action: action.type, status: 0, at });
      hanging.add(response);
      response.on("close", () => hanging.delete(response));
      return;
    }
    if (action.type === "fail") {
      calls.push({ method, path, action: action.type, status: action.status, at });
      sendFault(response, action);
      return;
    }
    const upstream = await forward(incoming, body);
    calls.push({ method, path, action: action.type, status: action.type === "lose_answer" ? action.status : upstream.status, at });
    if (action.type === "lose_answer") {
      sendFault(response, action);
      return;
    }
    response.writeHead(upstream.status, upstream.headers);
    response.end(upstream.body);
  }

  function forward(incoming: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers = { ...incoming.headers, host: target.host };
      delete headers["content-length"];
      const outgoing = httpRequest(
        { host: targetHost, port: Number(targetPort), method: incoming.method, path: incoming.url, headers: { ...headers, "content-length": String(body.length) } },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => parts.push(chunk));
          answer.on("end", () => {
            const copied: Record<string, string | string[]> = {};
            for (const [key, value] of Object.entries(answer.headers)) {
              if (value === undefined || key === "transfer-encoding" || key === "connection" || key === "keep-alive") continue;
              copied[key] = value;
            }
            resolve({ status: answer.statusCode ?? 502, headers: copied, body: Buffer.concat(parts) });
          });
          answer.on("error", reject);
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  return {
    url: `http://${host}${API_PREFIX}`,
    host,
    calls,
    setRule(next) {
      rule = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const response of hanging) response.destroy();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function sendFault(response: ServerResponse, fault: { status: number; headers?: Record<string, string>; body?: unknown }): void {
  const body = fault.body ?? { message: STATUS_CODES[fault.status] ?? "Error", documentation_url: "https://docs.github.com/rest", status: String(fault.status) };
  response.writeHead(fault.status, { "content-type": "application/json; charset=utf-8", "x-github-request-id": "fault", ...fault.headers });
  response.end(JSON.stringify(body));
}

/** GitHub's primary rate limit: 403 with nothing left until `reset`. */
export function rateLimited403(resetEpochSeconds: number): { status: number; headers: Record<string, string>; body: unknown } {
  return {
    status: 403,
    headers: { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000", "x-ratelimit-reset": String(resetEpochSeconds), "x-ratelimit-resource": "core" },
    body: { message: "API rate limit exceeded for installation ID 1.", documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api", status: "403" },
  };
}

/** GitHub's secondary rate limit as a 429 with `retry-after`. */
export function tooManyRequests429(retryAfterSeconds: number): { status: number; headers: Record<string, string>; body: unknown } {
  return {
    status: 429,
    headers: { "retry-after": String(retryAfterSeconds) },
    body: { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api", status: "429" },
  };
}
