import type { IncomingMessage, ServerResponse } from "node:http";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { authenticateAgent, type AgentCredential } from "../api/agent-auth.js";
import { readJson, sendError } from "../api/http.js";
import { HitlError } from "../engine/errors.js";
import { Hitl } from "../client/index.js";
import { createMcpServer } from "./mcp-server.js";

export const MCP_PATH = "/mcp";

export interface McpHandlerDeps {
  agents: AgentCredential[];
  maxBodyBytes: number;
  closing?: AbortSignal;
}

/** This server's own agent API, as reached over the connection the call came in on. */
function selfUrl(req: IncomingMessage): string {
  const address = (req.socket.localAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
  return `http://${address.includes(":") ? `[${address}]` : address}:${req.socket.localPort}`;
}

/**
 * `/mcp`: the hitl tools over MCP's Streamable HTTP, stateless (a server and transport per call),
 * for the agent whose bearer token comes with it. The tools call the agent API with that same
 * token, so a model can do through MCP exactly what its agent may do, and no more.
 */
export function createMcpHandler(deps: McpHandlerDeps) {
  return async function mcpHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (new URL(req.url ?? "/", "http://localhost").pathname !== MCP_PATH) return false;
    if (deps.closing?.aborted) {
      res.setHeader("retry-after", "1");
      sendError(res, 503, "shutting_down", "This server is stopping. Retry shortly.");
      return true;
    }
    const agent = authenticateAgent(req.headers.authorization, deps.agents);
    if (!agent) {
      res.setHeader("www-authenticate", 'Bearer realm="hitl"');
      sendError(res, 401, "unauthorized", "A valid agent token is required: Authorization: Bearer <token>.");
      return true;
    }
    let body: unknown;
    try {
      body = req.method === "POST" ? await readJson(req, deps.maxBodyBytes) : undefined;
    } catch (error) {
      if (!(error instanceof HitlError)) throw error;
      if (error.status === 413) res.setHeader("connection", "close");
      sendError(res, error.status, error.code, error.message);
      return true;
    }
    const server = createMcpServer(new Hitl({ url: selfUrl(req), token: agent.token, retries: 1 }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
    return true;
  };
}
