import { chainedRecord, createChainVerifier, describeVerdict, type ChainedAuditEntry, type ChainHead, type ChainVerdict } from "../core/audit-chain.js";
import type { AuditPage, AuditPageQuery, Store } from "../store/store.js";
import type { Agent } from "./context.js";
import { HitlError } from "./errors.js";

/** Entries read per store call while verifying or exporting: memory holds one page, whatever the trail's length. */
export const AUDIT_READ_PAGE = 1_000;

export interface AuditVerification {
  repo: string;
  head: ChainHead | null;
  verdict: ChainVerdict;
  message: string;
}

const readsAll = (agent: Agent) => agent.readAll === true;

/**
 * Reading the audit as an agent may: without `read-all`, only the entries of its own requests
 * (in every repository, or in the one asked for); verifying a chain reads every entry of it, so
 * it needs `read-all`.
 */
export function createAuditTrail(store: Store) {
  const scoped = (query: AuditPageQuery, agent: Agent): AuditPageQuery => (readsAll(agent) ? query : { ...query, requestedBy: agent.name });

  return {
    /** One page of the audit as `agent` may read it. */
    auditPage(query: AuditPageQuery, agent: Agent): Promise<AuditPage> {
      return store.auditPage(scoped(query, agent));
    },

    /** Every entry `agent` may read in the range, a page at a time (for the export). */
    async *auditEntries(query: Omit<AuditPageQuery, "limit" | "cursor">, agent: Agent): AsyncGenerator<ChainedAuditEntry[]> {
      let cursor: string | undefined;
      do {
        const page = await store.auditPage(scoped({ ...query, cursor, limit: AUDIT_READ_PAGE }, agent));
        if (page.entries.length) yield page.entries;
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
    },

    /** A repository's chain head and anchor. */
    auditHead(repo: string): Promise<ChainHead | null> {
      return store.auditHead(repo);
    },

    /** Walks a repository's chain from its anchor to its head; names the first entry altered, removed or reordered. */
    async verifyAudit(repo: string, agent: Agent): Promise<AuditVerification> {
      if (!readsAll(agent)) {
        throw new HitlError("read_all_required", 403, "Verifying an audit chain reads every entry of the repository: it needs a token with read-all.");
      }
      const head = await store.auditHead(repo);
      const verifier = createChainVerifier({ heads: head ? new Map([[repo, head]]) : new Map() });
      let cursor: string | undefined;
      do {
        const page = await store.auditPage({ repo, cursor, limit: AUDIT_READ_PAGE });
        for (const entry of page.entries) verifier.push(chainedRecord(entry));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      const verdict = verifier.finish();
      return { repo, head, verdict, message: describeVerdict(verdict) };
    },
  };
}
