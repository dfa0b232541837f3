import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CHECKS } from "../../src/compliance/report-schema.js";
import { receiptPayloadSchema } from "../../src/receipts/receipt-payload.js";
import { REPO_ROOT } from "../support/server-process.js";

const doc = readFileSync(join(REPO_ROOT, "docs", "compliance.md"), "utf8");
const firstColumn = (heading: string) => {
  const table = doc.split(heading)[1]!.split("\n\n").find((block) => block.startsWith("| "))!;
  return table.split("\n").slice(2).map((line) => /^\| `([^`]+)` \|/.exec(line)?.[1]);
};

describe("docs/compliance.md", () => {
  it("describes every claim of a version 1 receipt, in the schema's order", () => {
    expect(firstColumn("### The claims, version 1")).toEqual(Object.keys(receiptPayloadSchema.shape));
  });

  it("defines every check the report runs", () => {
    expect(firstColumn("### Checks")).toEqual([...CHECKS]);
  });
});
