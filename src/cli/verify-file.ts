import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { createChainVerifier, describeVerdict, type ChainPoint, type ChainVerdict } from "../core/audit-chain.js";

/**
 * Verifies an audit export offline: gzip (as `GET /api/v1/audit/export` answers it) or plain JSON
 * lines, read as a stream, so a year of entries needs no more memory than one line. Every
 * repository's chain in the file is checked from its first entry there (from the genesis hash when
 * that is seq 1); the server is not asked anything. `recorded`: heads kept outside the store
 * (`owner/name@seq:hash`), which the file must reach unchanged: a chain rewritten wholesale by
 * whoever held the store verifies on its own, but not against a head recorded before.
 */
export async function verifyAuditFile(file: string, recorded = new Map<string, ChainPoint>()): Promise<{ verdict: ChainVerdict; message: string }> {
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
  const verifier = createChainVerifier({ recorded });
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

/** `owner/name@seq:hash`, as `GET /api/v1/audit/verify` and the export's `Hitl-Audit-Head` give the parts. */
export function parseRecordedHead(text: string): { repo: string; point: ChainPoint } | null {
  const match = /^([^@\s]+\/[^@\s]+)@(\d+):([0-9a-f]{64})$/.exec(text.trim());
  return match ? { repo: match[1]!.toLowerCase(), point: { seq: Number(match[2]), hash: match[3]! } } : null;
}
