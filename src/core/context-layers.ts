import { createHash } from "node:crypto";
import { brotliCompressSync, brotliDecompressSync, constants } from "node:zlib";
import { canonicalJson } from "./context-hash.js";
import type { ContextLayers, PackedContext } from "./types.js";

/** A `full` layer whose JSON is longer than this many bytes is stored brotli-compressed. */
export const COMPRESS_ABOVE_BYTES = 16 * 1024;

/** The layers as an agent sends them (`full` as the JSON value itself). */
export interface LayersInput {
  summary?: string;
  detail?: string;
  full?: unknown;
}

/** The layers as the agent reads them back: each null when it was not sent (or retention removed it). */
export interface OpenedLayers {
  summary: string | null;
  detail: string | null;
  full: unknown;
}

/**
 * The `full` layer as stored: its JSON text, or past `COMPRESS_ABOVE_BYTES` that text
 * brotli-compressed (quality 5: most of the gain of 11 at a small part of its cost) in base64,
 * which both stores keep as they keep any string.
 */
export function packFull(full: unknown, compressAbove = COMPRESS_ABOVE_BYTES): PackedContext {
  const json = JSON.stringify(full);
  const bytes = Buffer.byteLength(json);
  const sha256 = createHash("sha256").update(canonicalJson(full)).digest("hex");
  if (bytes <= compressAbove) return { sha256, bytes, encoding: "json", data: json };
  const packed = brotliCompressSync(json, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: bytes } });
  return { sha256, bytes, encoding: "br", data: packed.toString("base64") };
}

/** The `full` layer's value, as the agent sent it. */
export function unpackFull(packed: PackedContext): unknown {
  const json = packed.encoding === "json" ? packed.data : brotliDecompressSync(Buffer.from(packed.data, "base64")).toString("utf8");
  return JSON.parse(json);
}

/** The layers to store; undefined when the agent sent none. */
export function storedLayers(input: LayersInput | undefined): ContextLayers | undefined {
  if (!input) return undefined;
  const layers: ContextLayers = {
    ...(input.summary !== undefined ? { summary: input.summary } : {}),
    ...(input.detail !== undefined ? { detail: input.detail } : {}),
    ...(input.full !== undefined ? { full: packFull(input.full) } : {}),
  };
  return Object.keys(layers).length > 0 ? layers : undefined;
}

/** The layers with `full` opened. */
export function openedLayers(layers: ContextLayers | undefined): OpenedLayers {
  return { summary: layers?.summary ?? null, detail: layers?.detail ?? null, full: layers?.full ? unpackFull(layers.full) : null };
}

/**
 * What the context hash covers of the layers: the texts, and the full layer by the SHA-256 of
 * its canonical JSON (so it binds the whole value, and re-hashing never decompresses it).
 */
export function hashedLayers(layers: ContextLayers): Record<string, string> {
  return {
    ...(layers.summary !== undefined ? { summary: layers.summary } : {}),
    ...(layers.detail !== undefined ? { detail: layers.detail } : {}),
    ...(layers.full ? { full_sha256: layers.full.sha256 } : {}),
  };
}

/** The layers back as an agent sent them, for a follow-up that asks again with the same context. */
export function layersInput(layers: ContextLayers | undefined): LayersInput | undefined {
  if (!layers) return undefined;
  return { ...(layers.summary !== undefined ? { summary: layers.summary } : {}), ...(layers.detail !== undefined ? { detail: layers.detail } : {}), ...(layers.full ? { full: unpackFull(layers.full) } : {}) };
}
