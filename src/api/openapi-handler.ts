import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson } from "./http.js";
import { openApiDocument } from "./openapi.js";

export const OPENAPI_PATH = "/api/v1/openapi.json";

/** `GET /api/v1/openapi.json`, with no token: the document is made once, on the first call. */
export function createOpenApiHandler() {
  let document: Record<string, unknown> | undefined;
  return async function openApiHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (req.method !== "GET" || new URL(req.url ?? "/", "http://localhost").pathname !== OPENAPI_PATH) return false;
    sendJson(res, 200, (document ??= openApiDocument()));
    return true;
  };
}
