import { writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import { hitlConfigSchema } from "../src/config/schema.js";

export const JSON_SCHEMA_PATH = fileURLToPath(new URL("../schema/hitl.schema.json", import.meta.url));

/**
 * The JSON Schema editors use to check `.hitl.yml` as people type. It describes what may be
 * written (the input side: defaults are optional), in draft-07, which editors support best.
 */
export function buildJsonSchema(): string {
  const generated = z.toJSONSchema(hitlConfigSchema, { io: "input", target: "draft-07" }) as Record<string, unknown>;
  const { $schema, description: _root, ...rest } = generated;
  const document = {
    $schema,
    title: "hitl configuration (.hitl.yml)",
    description:
      "Approval policy for hitl: who approves requests from AI agents, deadlines and escalation, and the delegation rules that decide routine requests without a person.",
    ...rest,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(JSON_SCHEMA_PATH, buildJsonSchema());
  console.log(`wrote ${JSON_SCHEMA_PATH}`);
}
