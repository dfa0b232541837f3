import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/server-process.js";

describe("the README's five-line integration", () => {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const example = /<!-- five-line integration -->\n```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";

  it("is five lines", () => {
    expect(example.split("\n").filter((line) => line.trim() !== "")).toHaveLength(5);
  });

  it("compiles against hitl/client as written", async () => {
    const dir = await mkdtemp(join(REPO_ROOT, "test", "client", ".readme-"));
    try {
      const file = join(dir, "example.ts");
      await writeFile(file, example.replace('from "hitl/client"', `from ${JSON.stringify(join(REPO_ROOT, "src", "client", "index.js"))}`) + "\nexport {};\n");
      const program = ts.createProgram([file], { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: ["node"], skipLibCheck: true });
      expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
