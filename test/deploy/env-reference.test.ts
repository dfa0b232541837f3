import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { HITL_ENV_KEYS } from "../../src/env.js";
import { REPO_ROOT } from "../support/server-process.js";

/**
 * docs/deploy.md's reference table against what the code reads: hitl's schema, every
 * `process.env.X`, `env.X` and `env["X"]` (and destructured `process.env`) in src/, the channel
 * variables read by pattern, and the variables Probot and its key loader read in their own code
 * (found the same way in node_modules, so a Probot upgrade that reads a new one fails here too).
 */

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, suffix);
    return path.endsWith(suffix) ? [path] : [];
  });
}

const NAME = "[A-Z][A-Z0-9_]*";
/** The variables a source text reads. */
function variablesRead(source: string): string[] {
  const found = new Set<string>();
  for (const match of source.matchAll(new RegExp(`\\benv\\.(${NAME})\\b`, "g"))) found.add(match[1]!);
  for (const match of source.matchAll(new RegExp(`\\benv\\[\\s*["'\`](${NAME})["'\`]\\s*\\]`, "g"))) found.add(match[1]!);
  for (const match of source.matchAll(/(?:const|let|var)\s*\{([^}]*)\}\s*=\s*process\.env\b/g)) {
    for (const part of match[1]!.split(",")) {
      const name = part.split(":")[0]!.trim();
      if (new RegExp(`^${NAME}$`).test(name)) found.add(name);
    }
  }
  return [...found];
}

const documented = (() => {
  const text = readFileSync(join(REPO_ROOT, "docs/deploy.md"), "utf8");
  const section = text.split(/^## Environment variables$/m)[1]?.split(/^## /m)[0] ?? "";
  return section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const cells = line.split(" | ").map((cell) => cell.replace(/^\| |\s*\|$/g, "").trim());
      return { name: /^`([^`]+)`$/.exec(cells[0]!)?.[1] ?? `(not one name: ${cells[0]})`, cells };
    });
})();
const names = documented.map((row) => row.name);

const ourFiles = filesUnder(join(REPO_ROOT, "src"), ".ts");
const readByUs = new Map<string, string[]>();
for (const file of ourFiles) {
  for (const name of variablesRead(readFileSync(file, "utf8"))) readByUs.set(name, [...(readByUs.get(name) ?? []), relative(REPO_ROOT, file)]);
}

const modules = join(REPO_ROOT, "node_modules");
/** Probot's `probot receive` command (GITHUB_EVENT_NAME, GITHUB_TOKEN …) is a tool hitl does not use. */
const probotFiles = [...filesUnder(join(modules, "probot/lib"), ".js").filter((file) => !file.endsWith("bin/receive.js")), ...filesUnder(join(modules, "@probot/get-private-key/dist-src"), ".js")];
const readByProbot = new Set(probotFiles.flatMap((file) => variablesRead(readFileSync(file, "utf8"))));

describe("docs/deploy.md's environment variable reference", () => {
  it("finds what it checks: the table, hitl's variables and Probot's", () => {
    expect(names.length).toBeGreaterThan(20);
    expect(readByUs.get("HITL_URL")).toEqual(["src/cli/run-cli.ts"]);
    expect([...readByProbot]).toEqual(expect.arrayContaining(["APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "PORT", "HOST", "GHE_HOST", "WEBHOOK_PROXY_URL"]));
    expect(variablesRead('const { WEBHOOK_PROXY_URL, GHE_HOST } = process.env; io.env.HITL_URL; env["X_Y"]; env.lower')).toEqual(["HITL_URL", "X_Y", "WEBHOOK_PROXY_URL", "GHE_HOST"]);
  });

  it("has one row per variable: name, default, what, and whether it is a secret", () => {
    for (const row of documented) {
      expect(row.cells, row.name).toHaveLength(4);
      expect(row.cells[3], row.name).toMatch(/^(yes|no)\b/);
      expect(row.cells[2]!.length, row.name).toBeGreaterThan(5);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it("lists every variable hitl reads: its schema, and every process.env / env access in src/", () => {
    const missing = [...new Set([...HITL_ENV_KEYS, ...readByUs.keys()])].filter((name) => !names.includes(name));
    expect(missing.map((name) => `${name} (${readByUs.get(name)?.join(", ") ?? "src/env.ts schema"})`)).toEqual([]);
  });

  it("lists the channel variables, which are read by pattern", () => {
    const channels = readFileSync(join(REPO_ROOT, "src/notify/channels.ts"), "utf8");
    expect(channels).toContain("/^HITL_CHANNEL_([A-Z0-9_]+)$/");
    expect(names).toEqual(expect.arrayContaining(["HITL_CHANNEL_<NAME>", "HITL_CHANNEL_<NAME>_SECRET"]));
  });

  it("lists every variable Probot reads", () => {
    expect([...readByProbot].filter((name) => !names.includes(name))).toEqual([]);
  });

  it("lists nothing that nobody reads", () => {
    const read = new Set([...HITL_ENV_KEYS, ...readByUs.keys(), ...readByProbot, "HITL_CHANNEL_<NAME>", "HITL_CHANNEL_<NAME>_SECRET"]);
    expect(names.filter((name) => !read.has(name))).toEqual([]);
  });
});
