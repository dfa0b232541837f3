import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildJsonSchema, JSON_SCHEMA_PATH } from "../../scripts/write-json-schema.js";

describe("schema/hitl.schema.json", () => {
  it("is in step with the zod schema (run `npm run schema` to regenerate it)", () => {
    const committed = readFileSync(JSON_SCHEMA_PATH, "utf8");
    const message = "schema/hitl.schema.json is stale: run `npm run schema` and commit the result";
    expect(committed === buildJsonSchema(), message).toBe(true);
  });

  it("describes every property, so editors can show what each key does", () => {
    const undocumented: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (typeof node !== "object" || node === null) return;
      const record = node as Record<string, unknown>;
      if (record.properties && typeof record.properties === "object") {
        for (const [key, value] of Object.entries(record.properties as Record<string, Record<string, unknown>>)) {
          if (typeof value.description !== "string" || value.description === "") undocumented.push(`${path}.${key}`);
        }
      }
      for (const [key, value] of Object.entries(record)) walk(value, `${path}.${key}`);
    };
    walk(JSON.parse(buildJsonSchema()), "$");
    expect(undocumented).toEqual([]);
  });

  it("rejects unknown keys everywhere an object is allowed", () => {
    const open: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (typeof node !== "object" || node === null) return;
      const record = node as Record<string, unknown>;
      if (record.type === "object" && record.properties && record.additionalProperties !== false) open.push(path);
      for (const [key, value] of Object.entries(record)) walk(value, `${path}.${key}`);
    };
    walk(JSON.parse(buildJsonSchema()), "$");
    expect(open).toEqual([]);
  });

  it("every key is documented in docs/configuration.md", () => {
    const docs = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");
    const keys = new Set<string>();
    const walk = (node: unknown): void => {
      if (typeof node !== "object" || node === null) return;
      const record = node as Record<string, unknown>;
      if (record.properties && typeof record.properties === "object") for (const key of Object.keys(record.properties)) keys.add(key);
      for (const value of Object.values(record)) walk(value);
    };
    walk(JSON.parse(buildJsonSchema()));
    expect([...keys].filter((key) => !docs.includes(`\`${key}\``) && !docs.includes(`\`${key}:`))).toEqual([]);
  });
});
