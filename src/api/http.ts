import type { IncomingMessage, ServerResponse } from "node:http";
import { HitlError, type FieldIssue } from "../engine/errors.js";

/** The raw body, at most `limit` bytes: a 413 past it (the declared length first), before reading the rest. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads a JSON body of at most `limit` bytes: 413 past it, 400 when it is not JSON. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = (await readBody(req, limit)).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HitlError("invalid_json", 400, "The body is not valid JSON.");
  }
}

function tooLarge(limit: number): HitlError {
  return new HitlError("payload_too_large", 413, `The body is larger than ${limit} bytes.`);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, issues: FieldIssue[] = []): void {
  sendJson(res, status, { error: { code, message, ...(issues.length ? { issues } : {}) } });
}
