import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { createChainVerifier, describeVerdict, type ChainVerdict } from "../core/audit-chain.js";

/**
 * Verifies an audit export offline: gzip (as `GET /api/v1/audit/export` answers it) or plain JSON
 * lines, read as a stream, so a year of entries needs no more memory than one line. Every
 * repository's chain in the file is checked from its first entry there (from the genesis hash when
 * that is seq 1); the server is not asked anything.
 */
export async function verifyAuditFile(file: string): Promise<{ verdict: ChainVerdict; message: string }> {
  const head = Buffer.alloc(2);
  const handle = await open(file, "r");
  try {
    await handle.read(head, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const gzipped = head[0] === 0x1f && head[1] === 0x8b;
  const input = createReadStream(file);
  const text = gzipped ? input.pipe(createGunzip()) : input;
  input.on("error", (error) => text.destroy(error));
  const verifier = createChainVerifier();
  let line = 0;
  for await (const raw of createInterface({ input: text, crlfDelay: Infinity })) {
    line += 1;
    if (raw.trim() === "") continue;
    let value: unknown = null;
    try {
      value = JSON.parse(raw);
    } catch {
      value = null;
    }
    verifier.push(value, line);
  }
  const verdict = verifier.finish();
  return { verdict, message: describeVerdict(verdict) };
}
