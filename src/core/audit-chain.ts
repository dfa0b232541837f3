import { createHash } from "node:crypto";
import { canonicalJson } from "./context-hash.js";
import type { AuditEntry } from "./types.js";

/**
 * The audit trail of each repository is a hash chain. Every entry carries its place in the
 * repository's chain (`seq`, from 1), the hash of the entry before it (`prev_hash`; the first
 * entry's is `GENESIS_HASH`) and its own `hash`: SHA-256, in lowercase hex, of the UTF-8 bytes of
 * the canonical JSON of the entry as the API shows it (`auditRecord`), without `hash`.
 *
 * Canonical JSON (`canonicalJson` of context-hash.ts): object keys sorted by their UTF-16 code
 * units at every depth, no whitespace, strings and numbers as JSON.stringify writes them, members
 * whose value is undefined left out. An export line is exactly such a record, so whoever holds
 * one can recompute its hash with nothing but SHA-256.
 *
 * This module is pure (no store, no server), shared by both stores, the verify endpoint, the
 * CLI's offline verifier and the tests. A field added to `auditRecord` later must be optional
 * and left out when absent, so entries written before it keep their hashes.
 */

export const GENESIS_HASH = "0".repeat(64);

/** Where an entry sits in its repository's chain. */
export interface ChainLink {
  seq: number;
  prevHash: string;
  hash: string;
}

export type ChainedAuditEntry = AuditEntry & ChainLink;

/** The last entry of a chain, or where it starts: seq 0 and the genesis hash, or a checkpoint. */
export interface ChainPoint {
  seq: number;
  hash: string;
}

/** Where a repository's chain starts now: the genesis, or the last entry retention removed. */
export interface ChainAnchor extends ChainPoint {
  /** When entries were last removed by retention; null: none ever were. */
  removedAt: string | null;
}

/** A repository's chain as the store keeps it: its newest entry and its anchor. */
export interface ChainHead extends ChainPoint {
  repo: string;
  anchor: ChainAnchor;
}

export const GENESIS: ChainAnchor = { seq: 0, hash: GENESIS_HASH, removedAt: null };

/** An audit entry as the API, the export and the hash see it. */
export function auditRecord(entry: AuditEntry) {
  return {
    id: entry.id,
    at: entry.at,
    repo: entry.repo,
    request_id: entry.requestId,
    event: entry.event,
    actor: { ...entry.actor },
    status: entry.status,
    action: entry.action,
    justification: entry.justification,
    context_hash: entry.contextHash,
    ...(entry.details ? { details: entry.details } : {}),
    ...(entry.requestedBy ? { requested_by: entry.requestedBy } : {}),
    ...(entry.receipt ? { receipt: entry.receipt } : {}),
  };
}

export type AuditRecord = ReturnType<typeof auditRecord> & { seq: number; prev_hash: string; hash: string };

/** The chained record of a stored entry. */
export function chainedRecord(entry: ChainedAuditEntry): AuditRecord {
  return { ...auditRecord(entry), seq: entry.seq, prev_hash: entry.prevHash, hash: entry.hash };
}

/** SHA-256 (hex) of a record's canonical JSON without its `hash`. */
export function recordHash(record: Record<string, unknown>): string {
  const { hash: _hash, ...rest } = record;
  return createHash("sha256").update(canonicalJson(rest), "utf8").digest("hex");
}

/**
 * Links `entries` (one repository's, in order) after `head`: each gets the next seq, the hash
 * before it and its own hash. Returns them and the chain's new head.
 */
export function linkEntries(head: ChainPoint, entries: AuditEntry[]): { linked: ChainedAuditEntry[]; head: ChainPoint } {
  let { seq, hash } = head;
  const linked = entries.map((entry) => {
    const { seq: _s, prevHash: _p, hash: _h, ...plain } = entry as Partial<ChainedAuditEntry> & AuditEntry;
    seq += 1;
    const prevHash = hash;
    hash = recordHash({ ...auditRecord(plain), seq, prev_hash: prevHash });
    return { ...plain, seq, prevHash, hash };
  });
  return { linked, head: { seq, hash } };
}

export type ChainFaultKind = "altered" | "removed" | "reordered" | "truncated";

export interface ChainFault {
  kind: ChainFaultKind;
  repo: string;
  /** The entry named: the altered one, the first one missing, the one out of place, or the head missing. */
  seq: number;
  /** Its request (and entry id), when the entry is at hand. */
  requestId: string | null;
  entryId: string | null;
  /** The line of the file (offline verification), from 1. */
  line?: number;
  message: string;
}

export interface RepoChainSummary {
  repo: string;
  entries: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Where verification started: seq and hash before the first entry read. */
  startsAfter: ChainPoint;
  /** Why it started there, for people: "the genesis", "a retention checkpoint", or "an earlier entry not in this file". */
  startedFrom: "genesis" | "checkpoint" | "outside";
}

export interface ChainVerdict {
  ok: boolean;
  fault: ChainFault | null;
  repos: RepoChainSummary[];
}

interface RepoState {
  summary: RepoChainSummary;
  expect: number;
  prevHash: string;
  /** A gap seen and not yet explained: entries may be missing, or come later out of order. */
  gap: { from: number; to: number; at: ChainFault } | null;
  broken: boolean;
  /** The entry read before, to name it when the next one shows it was rewritten. */
  last: Partial<AuditRecord> | null;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Walks chained records (as exported, any number of repositories interleaved) and finds the first
 * entry that was altered, removed or reordered; with the heads and anchors the store keeps (the
 * verify endpoint), also one that was cut off the end. Offline, a file's first entry of a
 * repository is trusted as the start unless it is seq 1 (then it must follow the genesis hash).
 */
export function createChainVerifier(known: { heads?: Map<string, ChainHead>; recorded?: Map<string, ChainPoint> } = {}) {
  const repos = new Map<string, RepoState>();
  /** Heads recorded outside the store (`--head`): whether the entry at that seq was read, and matched. */
  const recordedSeen = new Map<string, boolean>();
  let fault: ChainFault | null = null;
  let line = 0;

  const describe = (record: Partial<AuditRecord>) => `seq ${record.seq} (request ${record.request_id ?? "?"}, entry ${record.id ?? "?"})`;
  function fail(state: RepoState | null, found: ChainFault): void {
    if (state) state.broken = true;
    fault ??= found;
  }
  const faultAt = (kind: ChainFaultKind, record: Partial<AuditRecord>, message: string): ChainFault => ({
    kind,
    repo: String(record.repo ?? ""),
    seq: typeof record.seq === "number" ? record.seq : 0,
    requestId: typeof record.request_id === "string" ? record.request_id : null,
    entryId: typeof record.id === "string" ? record.id : null,
    ...(known.heads ? {} : { line }),
    message,
  });

  function start(repo: string, record: AuditRecord): RepoState {
    const head = known.heads?.get(repo);
    const anchor = head?.anchor ?? (record.seq === 1 ? GENESIS : { seq: record.seq - 1, hash: record.prev_hash, removedAt: null });
    const startedFrom = head ? (anchor.seq === 0 ? "genesis" : "checkpoint") : record.seq === 1 ? "genesis" : "outside";
    const state: RepoState = {
      summary: { repo, entries: 0, firstSeq: null, lastSeq: null, startsAfter: { seq: anchor.seq, hash: anchor.hash }, startedFrom },
      expect: anchor.seq + 1,
      prevHash: anchor.hash,
      gap: null,
      broken: false,
      last: null,
    };
    repos.set(repo, state);
    return state;
  }

  return {
    /** Checks the next record (a parsed line; `at`: its line in the file, when lines were skipped). */
    push(value: unknown, at?: number): void {
      line = at ?? line + 1;
      const record = (value ?? {}) as AuditRecord;
      if (
        typeof value !== "object" || value === null || typeof record.repo !== "string" || !Number.isSafeInteger(record.seq) || record.seq < 1 ||
        typeof record.prev_hash !== "string" || !HEX64.test(record.prev_hash) || typeof record.hash !== "string"
      ) {
        fail(null, faultAt("altered", record, `Line ${line} is not a chained audit entry (it needs repo, seq, prev_hash and hash).`));
        return;
      }
      const state = repos.get(record.repo) ?? start(record.repo, record);
      if (state.broken) return;
      if (state.gap && record.seq >= state.gap.from && record.seq <= state.gap.to) {
        const at = state.gap.at;
        fail(state, { ...at, kind: "reordered", message: `Entry ${at.message} comes before entry seq ${record.seq}: the entries of ${record.repo} were reordered.` });
        return;
      }
      if (recordHash(record as unknown as Record<string, unknown>) !== record.hash) {
        fail(state, faultAt("altered", record, `Entry ${describe(record)} of ${record.repo} was altered: its content does not match its hash.`));
        return;
      }
      state.summary.entries += 1;
      state.summary.firstSeq ??= record.seq;
      if (record.seq < state.expect) {
        fail(state, faultAt("reordered", record, `Entry ${describe(record)} of ${record.repo} comes after seq ${state.expect - 1}: the entries were reordered or repeated.`));
        return;
      }
      if (record.seq > state.expect && !state.gap) {
        // Missing, unless the entries in between come later (reordered): decided at the end.
        state.gap = { from: state.expect, to: record.seq - 1, at: faultAt("removed", record, describe(record)) };
      } else if (record.seq === state.expect && record.prev_hash !== state.prevHash) {
        if (!state.last) {
          const start = state.summary.startedFrom === "checkpoint" ? `the retention checkpoint after seq ${record.seq - 1}` : "the genesis hash";
          fail(state, faultAt("altered", record, `Entry ${describe(record)} of ${record.repo} was altered: its prev_hash is not ${start}.`));
          return;
        }
        fail(state, faultAt("altered", { ...state.last, repo: record.repo, seq: record.seq - 1 },
          `Entry ${describe(state.last)} of ${record.repo} was altered or replaced: entry ${describe(record)} names another hash before it.`));
        return;
      }
      state.expect = record.seq + 1;
      state.prevHash = record.hash;
      state.last = record;
      const recorded = known.recorded?.get(record.repo);
      if (recorded?.seq === record.seq) recordedSeen.set(record.repo, recorded.hash === record.hash);
      state.summary.lastSeq = record.seq;
    },

    /** The verdict, once every record was pushed. */
    finish(): ChainVerdict {
      const empty: RepoChainSummary[] = [];
      for (const state of repos.values()) {
        if (state.broken || !state.gap) continue;
        const { from, to, at } = state.gap;
        const missing = from === to ? `seq ${from} is` : `seq ${from} to ${to} are`;
        fail(state, { ...at, seq: from, message: `Entries of ${at.repo}: ${missing} missing (removed); entry ${at.message} follows seq ${from - 1}.` });
      }
      for (const [repo, head] of known.heads ?? []) {
        const state = repos.get(repo);
        if (!state) {
          const startedFrom = head.anchor.seq === 0 ? "genesis" : "checkpoint";
          empty.push({ repo, entries: 0, firstSeq: null, lastSeq: null, startsAfter: { seq: head.anchor.seq, hash: head.anchor.hash }, startedFrom });
        }
        if (state?.broken) continue;
        const last = state?.summary.lastSeq ?? head.anchor.seq;
        const lastHash = state ? state.prevHash : head.anchor.hash;
        if (last < head.seq) {
          const what = state ? `ends at seq ${last}` : "has no entries";
          fail(state ?? null, { kind: "truncated", repo, seq: last + 1, requestId: null, entryId: null, message: `The audit of ${repo} ${what}, but its head is seq ${head.seq}: the newest entries were removed.` });
        } else if (last === head.seq && lastHash !== head.hash) {
          fail(state ?? null, { kind: "altered", repo, seq: last, requestId: null, entryId: null, message: `Entry seq ${last} of ${repo} does not match the chain's head: it was altered or replaced.` });
        }
      }
      for (const [repo, recorded] of known.recorded ?? []) {
        const state = repos.get(repo);
        if (state?.broken || recordedSeen.get(repo) === true) continue;
        const last = state?.summary.lastSeq ?? 0;
        if (state && state.summary.firstSeq !== null && state.summary.firstSeq > recorded.seq) {
          fail(state, { kind: "removed", repo, seq: recorded.seq, requestId: null, entryId: null, message: `The audit of ${repo} here starts at seq ${state.summary.firstSeq}, after the head recorded elsewhere (seq ${recorded.seq}): it cannot be checked against it.` });
        } else if (last < recorded.seq) {
          fail(state ?? null, { kind: "truncated", repo, seq: last + 1, requestId: null, entryId: null, message: `The audit of ${repo} ends at seq ${last}, before the head recorded elsewhere (seq ${recorded.seq}): the newest entries were removed.` });
        } else {
          fail(state ?? null, { kind: "altered", repo, seq: recorded.seq, requestId: null, entryId: null, message: `Entry seq ${recorded.seq} of ${repo} does not match the head recorded elsewhere: the chain was rewritten.` });
        }
      }
      return { ok: fault === null, fault, repos: [...[...repos.values()].map((state) => state.summary), ...empty] };
    },
  };
}

/** One line for people: what was verified, and where it started. */
export function describeVerdict(verdict: ChainVerdict): string {
  if (verdict.fault) return verdict.fault.message;
  if (verdict.repos.length === 0) return "No audit entries to verify.";
  return verdict.repos
    .map((repo) => {
      const from = repo.startedFrom === "genesis" ? "from its start" : repo.startedFrom === "checkpoint" ? `from the retention checkpoint after seq ${repo.startsAfter.seq}` : `from seq ${repo.firstSeq} (earlier entries are not in this file)`;
      return repo.entries === 0 ? `${repo.repo}: no entries to verify ${from}.` : `${repo.repo}: ${repo.entries} entries verified, seq ${repo.firstSeq} to ${repo.lastSeq}, ${from}.`;
    })
    .join("\n");
}
