import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run-cli.js";
import { receiptPayload } from "../../src/receipts/receipt-payload.js";
import { signPayload } from "../../src/receipts/receipt-signer.js";
import { publicJwk } from "../../src/receipts/signing-keys.js";
import { makeRequest } from "../support/fixtures.js";
import { REPO_ROOT } from "../support/server-process.js";

const run = promisify(execFile);
const ISSUER = "https://hitl.example.com";

/** The one fenced block of `language` in the README that contains `marker`. */
async function readmeBlock(language: string, marker: string): Promise<string> {
  const readme = await readFile(join(REPO_ROOT, "README.md"), "utf8");
  const blocks = [...readme.matchAll(new RegExp("^```" + language + "\\n([\\s\\S]*?)^```$", "gm"))].map((match) => match[1]!).filter((code) => code.includes(marker));
  expect(blocks).toHaveLength(1);
  return blocks[0]!;
}

async function exec(file: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("the README's receipt verification", () => {
  let dir: string;
  let receipt: string;
  let tampered: string;
  let x: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(REPO_ROOT, "test", "client", ".readme-receipt-"));
    const { privateKey } = generateKeyPairSync("ed25519");
    const jwk = publicJwk(privateKey);
    x = jwk.x;
    const request = makeRequest({
      id: "req_readme01",
      status: "approved",
      decision: { action: "approve", status: "approved", decidedBy: { type: "human", login: "alice" }, justification: "ok", decidedAt: "2026-11-24T10:05:00.000Z", via: "comment" },
    });
    receipt = await signPayload(receiptPayload(request, ISSUER), { kid: jwk.kid, privateKey, publicJwk: jwk });
    const [header, body, signature] = receipt.split(".");
    const claims = JSON.parse(Buffer.from(body!, "base64url").toString());
    tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, status: "rejected" })).toString("base64url")}.${signature}`;
    await writeFile(join(dir, "hitl-jwks.json"), JSON.stringify({ keys: [jwk] }));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs as written in TypeScript, and refuses an altered receipt", async () => {
    const example = (await readmeBlock("ts", "verifyReceipt(")).replace('from "hitl/client"', `from ${JSON.stringify(join(REPO_ROOT, "src", "client", "index.js"))}`);
    await writeFile(join(dir, "example.ts"), `${example}\nexport {};\n`);
    await writeFile(join(dir, "receipt.jws"), `${receipt}\n`);
    expect(await exec(process.execPath, ["--import", "tsx", "example.ts"], dir)).toEqual({ code: 0, stdout: "req_readme01: approved by human alice via comment\n", stderr: "" });
    await writeFile(join(dir, "receipt.jws"), tampered);
    const refused = await exec(process.execPath, ["--import", "tsx", "example.ts"], dir);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("ReceiptVerificationError: The receipt's signature does not match its content under key");
  }, 60_000);

  it("runs as written with OpenSSL and nothing else, and refuses an altered receipt", async () => {
    const script = await readmeBlock("bash", "openssl pkeyutl");
    await writeFile(join(dir, "verify.sh"), script);
    await writeFile(join(dir, "receipt.jws"), receipt);
    const verified = await exec("bash", ["verify.sh"], dir, { X: x });
    expect(verified.code).toBe(0);
    expect(verified.stdout.startsWith("Signature Verified Successfully\n")).toBe(true);
    expect(JSON.parse(verified.stdout.slice("Signature Verified Successfully\n".length))).toMatchObject({ v: 1, request_id: "req_readme01", status: "approved", iss: ISSUER });
    await writeFile(join(dir, "receipt.jws"), tampered);
    const refused = await exec("bash", ["verify.sh"], dir, { X: x });
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toContain("Signature Verification Failure");
  }, 30_000);

  it("hitl receipt verify says the same, offline", async () => {
    await writeFile(join(dir, "receipt.jws"), receipt);
    await writeFile(join(dir, "tampered.jws"), tampered);
    const lines: string[] = [];
    const io = { out: (line: string) => void lines.push(line), err: (line: string) => void lines.push(`err: ${line}`), env: {} };
    const jwks = join(dir, "hitl-jwks.json");
    expect(await runCli(["receipt", "verify", `@${join(dir, "receipt.jws")}`, "--jwks", jwks, "--issuer", ISSUER], io)).toBe(0);
    expect(await runCli(["receipt", "verify", `@${join(dir, "tampered.jws")}`, "--jwks", jwks], io)).toBe(1);
    expect(await runCli(["receipt", "verify", receipt, "--jwks", jwks, "--request", "req_other"], io)).toBe(1);
    expect(await runCli(["receipt", "verify", receipt, "--jwks", join(dir, "missing.json")], io)).toBe(3);
    expect(lines.slice(0, 3)).toEqual([
      `valid: req_readme01 in octo-org/payments approved (approve) by human alice via comment at 2026-11-24T10:05:00.000Z (people: alice); issued by ${ISSUER}`,
      `invalid: The receipt's signature does not match its content under key ${JSON.parse(await readFile(jwks, "utf8")).keys[0].kid}: it was altered, or signed by another key.`,
      "invalid: The receipt is for request req_readme01, not req_other.",
    ]);
    expect(lines[3]!.startsWith(`err: --jwks ${join(dir, "missing.json")}: no such file\n\nhitl: ask people on GitHub`)).toBe(true);
  });
});
