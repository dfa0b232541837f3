import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Hitl } from "../client/index.js";
import { createMcpServer } from "./mcp-server.js";

/** `hitl mcp`: serves the tools on stdin and stdout until the client closes them. */
export async function serveMcpStdio(hitl: Hitl): Promise<void> {
  const server = createMcpServer(hitl);
  const closed = new Promise<void>((resolve) => (server.server.onclose = resolve));
  await server.connect(new StdioServerTransport());
  process.stdin.once("end", () => void server.close());
  await closed;
}
