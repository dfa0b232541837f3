import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One call the receiver got. */
export interface Callback {
  /** The path it was sent to, e.g. `/hooks/hitl`. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** `event` of the JSON body ("" when there is none). */
  event: string;
  /** `request.id` of the JSON body ("" when there is none). */
  requestId: string;
  /** What the receiver answered. */
  status: number;
}

export interface CallbackReceiver {
  /** `http://127.0.0.1:<port>`: every path under it is received. */
  base: string;
  /** `<base>/hooks/hitl`, an agent's callback URL. */
  url: string;
  /** Every call, in order. */
  received: Callback[];
  /** The next calls get these statuses, one each, then 204 again. */
  failNext(statuses: number[]): void;
  /** The next call gets a redirect to `location`. */
  redirectNext(location: string, status?: number): void;
  /** How many TCP connections reached the receiver, answered or not. */
  connections(): number;
  close(): Promise<void>;
}

/** An agent's callback endpoint (or a notification channel) that records every call and can be made to fail for a while. */
export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const received: Callback[] = [];
  const failures: { status: number; headers?: Record<string, string> }[] = [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let event = "";
      let requestId = "";
      try {
        const parsed = JSON.parse(body) as { event?: string; request?: { id?: string } };
        event = parsed.event ?? "";
        requestId = parsed.request?.id ?? "";
      } catch {
        // recorded as is
      }
      const { status, headers } = failures.shift() ?? { status: 204 };
      received.push({ path: req.url ?? "/", headers: req.headers, body, event, requestId, status });
      res.writeHead(status, headers).end();
    });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    url: `${base}/hooks/hitl`,
    received,
    failNext: (statuses) => void failures.push(...statuses.map((status) => ({ status }))),
    redirectNext: (location, status = 302) => void failures.push({ status, headers: { location } }),
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
