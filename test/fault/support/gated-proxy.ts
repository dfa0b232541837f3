import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A pass-through HTTP proxy in front of the GitHub stand-in that can hold back one kind of
 * call until the test lets it through: the way to stop a handler at an exact point.
 */
export interface GatedProxy {
  /** Base URL for Octokit (with the stand-in's `/api/v3`). */
  url: string;
  /** The next call matching `method` and `path` waits; resolves once it is waiting. */
  hold(method: string, path: string): { held: Promise<void>; release(): void };
  close(): Promise<void>;
}

export async function startGatedProxy(targetUrl: string): Promise<GatedProxy> {
  const target = new URL(targetUrl);
  let gate: { method: string; path: string; reached: () => void; opened: Promise<void> } | null = null;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void (async () => {
        const path = new URL(req.url ?? "/", "http://proxy").pathname;
        const current = gate;
        if (current && req.method === current.method && path.endsWith(current.path)) {
          gate = null;
          current.reached();
          await current.opened;
        }
        const headers: IncomingHttpHeaders = { ...req.headers, host: target.host };
        const upstream = httpRequest(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on("error", (error) => {
          res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ message: `proxy: ${error.message}` }));
        });
        upstream.end(Buffer.concat(chunks));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    hold(method, path) {
      let reached!: () => void;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (reached = resolve));
      const opened = new Promise<void>((resolve) => (release = resolve));
      gate = { method: method.toUpperCase(), path, reached, opened };
      return { held, release };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
