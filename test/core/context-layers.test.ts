import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/core/context-hash.js";
import { COMPRESS_ABOVE_BYTES, hashedLayers, layersInput, openedLayers, packFull, storedLayers, unpackFull } from "../../src/core/context-layers.js";

const sha = (value: unknown) => createHash("sha256").update(canonicalJson(value)).digest("hex");

describe("context layers", () => {
  it("keeps a small full layer as its JSON text, and a large one brotli-compressed, both read back the same", () => {
    const small = { b: 1, a: [1, 2, "x"] };
    expect(packFull(small)).toEqual({ sha256: sha(small), bytes: 21, encoding: "json", data: '{"b":1,"a":[1,2,"x"]}' });
    expect(unpackFull(packFull(small))).toEqual(small);

    const large = { rows: Array.from({ length: 2_000 }, (_, i) => ({ id: i, sku: `SKU-${i % 50}`, note: "repeated text for the log" })) };
    const packed = packFull(large);
    expect(packed.encoding).toBe("br");
    expect(packed.bytes).toBe(Buffer.byteLength(JSON.stringify(large)));
    expect(packed.bytes).toBeGreaterThan(COMPRESS_ABOVE_BYTES);
    expect(packed.data.length).toBeLessThan(packed.bytes / 10);
    expect(packed.sha256).toBe(sha(large));
    expect(unpackFull(packed)).toEqual(large);
  });

  it("compresses past the threshold, not at it", () => {
    const at = "x".repeat(COMPRESS_ABOVE_BYTES - 2);
    expect(packFull(at).encoding).toBe("json");
    expect(packFull(`${at}x`).encoding).toBe("br");
  });

  it("stores only the layers sent; none, or an empty object, stores nothing", () => {
    expect(storedLayers(undefined)).toBeUndefined();
    expect(storedLayers({})).toBeUndefined();
    expect(storedLayers({ summary: "s" })).toEqual({ summary: "s" });
    const stored = storedLayers({ summary: "s", detail: "d", full: null })!;
    expect(stored.full).toEqual({ sha256: sha(null), bytes: 4, encoding: "json", data: "null" });
    expect(openedLayers(stored)).toEqual({ summary: "s", detail: "d", full: null });
    expect(openedLayers(undefined)).toEqual({ summary: null, detail: null, full: null });
    expect(layersInput(stored)).toEqual({ summary: "s", detail: "d", full: null });
  });

  it("hashes the full layer by the digest of its canonical JSON, so key order does not matter", () => {
    const one = storedLayers({ detail: "d", full: { a: 1, b: 2 } })!;
    const two = storedLayers({ detail: "d", full: { b: 2, a: 1 } })!;
    expect(hashedLayers(one)).toEqual({ detail: "d", full_sha256: sha({ a: 1, b: 2 }) });
    expect(hashedLayers(two)).toEqual(hashedLayers(one));
  });
});
