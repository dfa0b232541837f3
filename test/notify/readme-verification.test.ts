import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedPost } from "../../src/notify/callback.js";
import { REPO_ROOT } from "../support/server-process.js";

const TOKEN = "refund-agent-token-0123456789";

/** The one fenced block of `language` in the README that contains `marker`. */
async function readmeBlock(language: string, marker: string): Promise<string> {
  const readme = await readFile(join(REPO_ROOT, "README.md"), "utf8");
  const blocks = [...readme.matchAll(new RegExp("^```" + language + "\\n([\\s\\S]*?)^```$", "gm"))].map((match) => match[1]!).filter((code) => code.includes(marker));
  expect(blocks).toHaveLength(1);
  return blocks[0]!;
}

/** Deliveries as the job runner signs them, and what a receiver must make of each. */
function cases() {
  const message = { event: "request.approved", request: { id: "req_1", status: "approved", decision: { action: "approve", justification: "regular — ok" } } };
  const fresh = signedPost(message, "dlv_fresh", new Date(), TOKEN);
  const stale = signedPost(message, "dlv_stale", new Date(Date.now() - 10 * 60_000), TOKEN);
  const forged = signedPost(message, "dlv_forged", new Date(), "someone-elses-token-012345");
  const signature = (post: typeof fresh) => post.headers["X-Hitl-Signature-256"]!;
  const tampered = fresh.body.replace('"action":"approve"', '"action":"reject"');
  expect(tampered).not.toBe(fresh.body);
  return [
    { name: "fresh", raw: fresh.body, signature: signature(fresh), expected: { ok: "dlv_fresh" } },
    { name: "tampered", raw: tampered, signature: signature(fresh), expected: { error: "bad signature" } },
    { name: "stale", raw: stale.body, signature: signature(stale), expected: { error: "stale" } },
    { name: "other key", raw: forged.body, signature: signature(forged), expected: { error: "bad signature" } },
    { name: "no signature", raw: fresh.body, signature: "", expected: { error: "bad signature" } },
  ];
}

const TS_RUNNER = `
import { readFileSync } from "node:fs";
import { verifyHitl } from "./verify.ts";
for (const c of JSON.parse(readFileSync(0, "utf8"))) {
  try {
    console.log(JSON.stringify({ ok: verifyHitl(Buffer.from(c.raw, "utf8"), c.signature, c.token).delivery_id }));
  } catch (error) {
    console.log(JSON.stringify({ error: (error as Error).message }));
  }
}
`;

const PY_RUNNER = `
import sys
for c in json.loads(sys.stdin.read()):
    try:
        print(json.dumps({"ok": verify_hitl(c["raw"].encode(), c["signature"], c["token"])["delivery_id"]}))
    except ValueError as error:
        print(json.dumps({"error": str(error)}))
`;

describe("the README's callback verification snippets", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hitl-readme-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = (command: string, args: string[], input: ReturnType<typeof cases>) =>
    execFileSync(command, args, { cwd: REPO_ROOT, input: JSON.stringify(input.map((c) => ({ ...c, token: TOKEN }))), encoding: "utf8", timeout: 30_000 })
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));

  it("are about ten lines each", async () => {
    const code = (block: string) => block.split("\n").filter((line) => line.trim() !== "" && !/^\s*(\/\*\*|"""|#)/.test(line.trim()));
    expect(code(await readmeBlock("ts", "verifyHitl")).length).toBeLessThanOrEqual(10);
    expect(code(await readmeBlock("python", "def verify_hitl")).length).toBeLessThanOrEqual(10);
  });

  it("TypeScript (run with tsx) accepts a signed callback and refuses a tampered, stale or forged one", async () => {
    await writeFile(join(dir, "verify.ts"), await readmeBlock("ts", "verifyHitl"));
    await writeFile(join(dir, "run.ts"), TS_RUNNER);
    const input = cases();
    expect(run(process.execPath, ["--import", "tsx", join(dir, "run.ts")], input)).toEqual(input.map((c) => c.expected));
  });

  it("Python (standard library only) accepts a signed callback and refuses a tampered, stale or forged one", async () => {
    await writeFile(join(dir, "verify.py"), (await readmeBlock("python", "def verify_hitl")) + PY_RUNNER);
    const input = cases();
    expect(run("python3", ["-I", join(dir, "verify.py")], input)).toEqual(input.map((c) => c.expected));
  });
});
