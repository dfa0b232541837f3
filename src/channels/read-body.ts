import type { IncomingMessage } from "node:http";
import { HitlError } from "../engine/errors.js";

/** The raw body, at most `limit` bytes: a 413 past it, before reading the rest. */
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

function tooLarge(limit: number): HitlError {
  return new HitlError("payload_too_large", 413, `The body is larger than ${limit} bytes.`);
}
