import { describe, expect, it } from "vitest";
import { chainedRecord, createChainVerifier, describeVerdict, GENESIS, GENESIS_HASH, linkEntries, recordHash, type AuditRecord, type ChainHead } from "../../src/core/audit-chain.js";
import { makeAudit, makeRequest } from "../support/fixtures.js";

const REPO = "octo-org/payments";

/** `count` linked records of one repository. */
function chain(count: number, repo = REPO): AuditRecord[] {
  const request = makeRequest({ repo });
  const { linked } = linkEntries(GENESIS, Array.from({ length: count }, (_, i) => makeAudit(request, { at: `2026-11-24T10:0${i}:00.000Z` })));
  return linked.map(chainedRecord);
}

function verify(records: unknown[], heads?: Map<string, ChainHead>) {
  const verifier = createChainVerifier({ heads });
  for (const record of records) verifier.push(record);
  return verifier.finish();
}

describe("the audit chain", () => {
  it("hashes the canonical JSON of the record without its hash: sorted keys, no whitespace", () => {
    const [first] = chain(1);
    const { hash, ...rest } = first!;
    const sorted = Object.fromEntries(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)));
    expect(JSON.stringify(sorted)).not.toContain(" ");
    expect(hash).toBe(recordHash({ ...first!, hash: "ignored" }));
    expect(first!.prev_hash).toBe(GENESIS_HASH);
    // Key order in the record does not matter, content does.
    expect(recordHash(Object.fromEntries(Object.entries(first!).reverse()))).toBe(hash);
    expect(recordHash({ ...first!, justification: "x" })).not.toBe(hash);
  });

  it("verifies interleaved repositories and says where each started", () => {
    const a = chain(3);
    const b = chain(2, "octo-org/other");
    const verdict = verify([a[0], b[0], a[1], b[1], a[2]]);
    expect(verdict.ok).toBe(true);
    expect(describeVerdict(verdict)).toBe("octo-org/payments: 3 entries verified, seq 1 to 3, from its start.\nocto-org/other: 2 entries verified, seq 1 to 2, from its start.");
    expect(describeVerdict(verify(a.slice(1)))).toBe("octo-org/payments: 2 entries verified, seq 2 to 3, from seq 2 (earlier entries are not in this file).");
  });

  it("names an entry rewritten together with its own hash by the entry after it", () => {
    const records = chain(4);
    const forged = { ...records[1]!, justification: "approved by alice" };
    forged.hash = recordHash(forged);
    const verdict = verify([records[0], forged, records[2], records[3]]);
    expect(verdict.fault).toEqual({
      kind: "altered",
      repo: REPO,
      seq: 2,
      requestId: forged.request_id,
      entryId: forged.id,
      line: 3,
      message: `Entry seq 2 (request ${forged.request_id}, entry ${forged.id}) of ${REPO} was altered or replaced: entry seq 3 (request ${records[2]!.request_id}, entry ${records[2]!.id}) names another hash before it.`,
    });
  });

  it("names a repeated entry, a line that is no entry, and a first entry that does not follow the genesis", () => {
    const records = chain(3);
    expect(verify([records[0], records[1], records[1], records[2]]).fault).toMatchObject({ kind: "reordered", seq: 2, line: 3 });
    expect(verify([records[0], null]).fault).toMatchObject({ kind: "altered", line: 2, message: "Line 2 is not a chained audit entry (it needs repo, seq, prev_hash and hash)." });
    const moved = { ...records[0]!, prev_hash: "1".repeat(64) };
    moved.hash = recordHash(moved);
    expect(verify([moved]).fault).toMatchObject({ kind: "altered", seq: 1, message: `Entry seq 1 (request ${moved.request_id}, entry ${moved.id}) of ${REPO} was altered: its prev_hash is not the genesis hash.` });
  });

  it("with the store's head and anchor: a chain cut off its end, or starting after its checkpoint", () => {
    const records = chain(5);
    const head: ChainHead = { repo: REPO, seq: 5, hash: records[4]!.hash, anchor: { seq: 2, hash: records[1]!.hash, removedAt: "2026-12-01T00:00:00.000Z" } };
    const heads = new Map([[REPO, head]]);
    const whole = verify(records.slice(2), heads);
    expect(describeVerdict(whole)).toBe("octo-org/payments: 3 entries verified, seq 3 to 5, from the retention checkpoint after seq 2.");
    expect(verify(records.slice(2, 4), heads).fault).toMatchObject({ kind: "truncated", seq: 5, message: "The audit of octo-org/payments ends at seq 4, but its head is seq 5: the newest entries were removed." });
    expect(verify(records.slice(3), heads).fault).toMatchObject({ kind: "removed", seq: 3 });
    expect(verify([], heads).fault).toMatchObject({ kind: "truncated", seq: 3, message: "The audit of octo-org/payments has no entries, but its head is seq 5: the newest entries were removed." });
  });
});
