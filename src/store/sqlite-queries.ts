import type Database from "better-sqlite3";
import type { ApprovalRequest, AuditEntry, Job } from "../core/types.js";
import { contextExpiresAtMs, endedAtMs } from "../core/retention.js";
import { dueMs, surfaceNumber, toMs, urgencyRank } from "./order.js";
import { prepareAuditQueries } from "./sqlite-audit.js";
import type { ListQuery } from "./store.js";

export type DeliveryState = "claimed" | "done";

/**
 * The embedded store's SQL, one prepared statement per query. Each read names the index it
 * walks (INDEXED BY), so every Store method is an index lookup whatever the table holds; the
 * orderings are those of order.ts, which the Redis store shares.
 */
export type Queries = ReturnType<typeof prepareQueries>;

const REQUEST_COLUMNS = "id, repo, status, urgency, created_at, next_at, request_type, requested_by, surface_number, idempotency_key, workflow_id, version, body, ended_at, purge_at";
const REQUEST_VALUES =
  "@id, @repo, @status, @urgency, @created_at, @next_at, @request_type, @requested_by, @surface_number, @idempotency_key, @workflow_id, @version, @body, @ended_at, @purge_at";
const REQUEST_UPDATE =
  "repo = @repo, status = @status, urgency = @urgency, created_at = @created_at, next_at = @next_at, request_type = @request_type, " +
  "requested_by = @requested_by, surface_number = @surface_number, idempotency_key = @idempotency_key, workflow_id = @workflow_id, version = @version, body = @body, ended_at = @ended_at, purge_at = @purge_at";

/** The columns of a request's row (`body`: its JSON, if already made). Throws, before anything is written, on a time that does not parse. */
export function requestRow(request: ApprovalRequest, body = JSON.stringify(request)) {
  return {
    id: request.id,
    repo: request.repo,
    status: request.status,
    urgency: urgencyRank(request.priority),
    created_at: toMs(request.createdAt),
    next_at: dueMs(request),
    request_type: request.requestType,
    requested_by: request.requestedBy,
    surface_number: surfaceNumber(request),
    idempotency_key: request.idempotencyKey,
    workflow_id: request.workflowId ?? null,
    version: request.version,
    body,
    ended_at: endedAtMs(request),
    purge_at: contextExpiresAtMs(request),
  };
}

/** The statement that answers a list query, and its parameters (the limit last). */
export function listStatement(query: ListQuery): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const pending = query.status === "pending";
  // A literal, so the partial indexes on pending requests apply.
  if (pending) where.push("status = 'pending'");
  else if (query.status !== undefined) where.push("status = ?"), params.push(query.status);
  if (query.repo !== undefined) where.push("repo = ?"), params.push(query.repo);
  if (query.requestType !== undefined) where.push("request_type = ?"), params.push(query.requestType);
  if (query.requestedBy !== undefined) where.push("requested_by = ?"), params.push(query.requestedBy);
  if (query.workflowId !== undefined) where.push("workflow_id = ?"), params.push(query.workflowId);
  // A workflow's requests are few: its index first, whatever else the query filters by.
  const index = query.workflowId !== undefined
    ? "requests_workflow_created"
    : pending
    ? query.repo !== undefined
      ? "requests_repo_pending"
      : "requests_pending"
    : query.repo !== undefined
      ? query.status !== undefined
        ? "requests_repo_status_created"
        : "requests_repo_created"
      : query.status !== undefined
        ? "requests_status_created"
        : query.requestedBy !== undefined
          ? "requests_agent_created"
          : query.requestType !== undefined
            ? "requests_type_created"
            : "requests_created";
  const order = pending ? "urgency, created_at, id" : "created_at DESC, id DESC";
  const filter = where.length ? `WHERE ${where.join(" AND ")}` : "";
  params.push(Math.max(0, query.limit ?? 100));
  return { sql: `SELECT body FROM requests INDEXED BY ${index} ${filter} ORDER BY ${order} LIMIT ?`, params };
}

const parse = <T>(row: { body: string } | undefined): T | null => (row ? (JSON.parse(row.body) as T) : null);
const parseAll = <T>(rows: unknown[]): T[] => (rows as Array<{ body: string }>).map((row) => JSON.parse(row.body) as T);

export function prepareQueries(db: Database.Database) {
  const s = {
    getRequest: db.prepare("SELECT body FROM requests WHERE id = ?"),
    requestAgent: db.prepare("SELECT requested_by FROM requests WHERE id = ?").pluck(),
    idempotent: db.prepare(
      "SELECT body FROM requests INDEXED BY requests_idempotency WHERE requested_by = ? AND idempotency_key = ? AND idempotency_key IS NOT NULL ORDER BY seq LIMIT 1",
    ),
    insertRequest: db.prepare(`INSERT INTO requests (${REQUEST_COLUMNS}) VALUES (${REQUEST_VALUES})`),
    upsertRequest: db.prepare(`INSERT INTO requests (${REQUEST_COLUMNS}) VALUES (${REQUEST_VALUES}) ON CONFLICT (id) DO UPDATE SET ${REQUEST_UPDATE}`),
    casRequest: db.prepare(`UPDATE requests SET ${REQUEST_UPDATE} WHERE id = @id AND version = @expected`),
    bySurface: db.prepare(
      "SELECT body FROM requests INDEXED BY requests_surface WHERE repo = ? AND surface_number = ? ORDER BY created_at DESC, id DESC",
    ),
    pendingByUrgency: db.prepare("SELECT urgency, count(*) AS count FROM requests INDEXED BY requests_pending WHERE status = 'pending' GROUP BY urgency"),
    due: db.prepare("SELECT body FROM requests INDEXED BY requests_due WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at, id LIMIT ?"),
    audit: db.prepare("SELECT body FROM audit INDEXED BY audit_repo WHERE repo = ? ORDER BY seq DESC LIMIT ?"),
    auditOf: db.prepare("SELECT body FROM audit INDEXED BY audit_repo_agent WHERE repo = ? AND requested_by = ? ORDER BY seq DESC LIMIT ?"),
    putJob: db.prepare("INSERT INTO jobs (id, run_at, body) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET run_at = excluded.run_at, body = excluded.body"),
    getJob: db.prepare("SELECT body FROM jobs WHERE id = ?"),
    deleteJob: db.prepare("DELETE FROM jobs WHERE id = ?"),
    jobsDue: db.prepare("SELECT body FROM jobs INDEXED BY jobs_run_at WHERE run_at <= ? ORDER BY run_at, id LIMIT ?"),
    pendingJobs: db.prepare("SELECT body FROM jobs INDEXED BY jobs_run_at ORDER BY run_at, id"),
    delivery: db.prepare("SELECT state FROM deliveries WHERE id = ? AND expires_at > ?").pluck(),
    putDelivery: db.prepare(
      "INSERT INTO deliveries (id, state, expires_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at",
    ),
    deleteDelivery: db.prepare("DELETE FROM deliveries WHERE id = ?"),
    purgeDeliveries: db.prepare("DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries INDEXED BY deliveries_expiry WHERE expires_at <= ? LIMIT 100)"),
    uses: db.prepare("SELECT count FROM uses WHERE key = ?").pluck(),
    putUses: db.prepare("INSERT INTO uses (key, count) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET count = excluded.count"),
    meta: db.prepare("SELECT value FROM meta WHERE key = ?").pluck(),
    putMeta: db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
  };
  const lists = new Map<string, Database.Statement>();
  const audit = prepareAuditQueries(db);

  return {
    request: (id: string) => parse<ApprovalRequest>(s.getRequest.get(id) as { body: string } | undefined),
    idempotent: (requestedBy: string, key: string) =>
      parse<ApprovalRequest>(s.idempotent.get(requestedBy, key) as { body: string } | undefined),
    /** Inserts a new request (`body`: its JSON); the caller checked that its id is free. */
    insertRequest(request: ApprovalRequest, body: string): void {
      s.insertRequest.run(requestRow(request, body));
    },
    /** Writes the request whole, new or not (a migration, a bench's seed). */
    putRequest(request: ApprovalRequest): void {
      s.upsertRequest.run(requestRow(request));
    },
    /** Writes `request` (`body`: its JSON) only if the stored version is `expected`; true if it did. */
    casRequest(request: ApprovalRequest, body: string, expected: number): boolean {
      return s.casRequest.run({ ...requestRow(request, body), expected }).changes === 1;
    },
    findBySurface: (repo: string, number: number) => parseAll<ApprovalRequest>(s.bySurface.all(repo, number)),
    list(query: ListQuery): ApprovalRequest[] {
      const { sql, params } = listStatement(query);
      let statement = lists.get(sql);
      if (!statement) lists.set(sql, (statement = db.prepare(sql)));
      return parseAll<ApprovalRequest>(statement.all(...params));
    },
    /** Pending requests by urgency rank (0: critical). */
    pendingByUrgency: () => s.pendingByUrgency.all() as { urgency: number; count: number }[],
    due: (nowMs: number, limit: number) => parseAll<ApprovalRequest>(s.due.all(nowMs, Math.max(0, limit))),
    /**
     * Appends to the trail, linking each entry into its repository's chain; an entry without
     * `requestedBy` takes its request's agent. `auditMs`: the request's audit retention.
     */
    addAudit(entries: AuditEntry[], auditMs: number | null = null): void {
      audit.append(entries, (entry) => entry.requestedBy ?? (s.requestAgent.get(entry.requestId) as string | undefined) ?? null, auditMs);
    },
    auditChain: audit,
    audit(repo: string, limit: number, requestedBy?: string): AuditEntry[] {
      if (limit <= 0) return [];
      const rows = requestedBy === undefined ? s.audit.all(repo, limit) : s.auditOf.all(repo, requestedBy, limit);
      return parseAll<AuditEntry>(rows).reverse();
    },
    putJob(job: Job): void {
      s.putJob.run(job.id, toMs(job.runAt), JSON.stringify(job));
    },
    job: (id: string) => parse<Job>(s.getJob.get(id) as { body: string } | undefined),
    deleteJob: (id: string) => s.deleteJob.run(id).changes === 1,
    jobsDue: (nowMs: number, limit: number) => parseAll<Job>(s.jobsDue.all(nowMs, Math.max(0, limit))),
    pendingJobs: () => parseAll<Job>(s.pendingJobs.all()),
    /** The delivery's state, if its mark has not lapsed by `nowMs`; forgets a few lapsed marks on the way. */
    delivery(id: string, nowMs: number): DeliveryState | undefined {
      s.purgeDeliveries.run(nowMs);
      return s.delivery.get(id, nowMs) as DeliveryState | undefined;
    },
    putDelivery: (id: string, state: DeliveryState, expiresAt: number) => void s.putDelivery.run(id, state, expiresAt),
    deleteDelivery: (id: string) => void s.deleteDelivery.run(id),
    uses: (key: string) => (s.uses.get(key) as number | undefined) ?? 0,
    putUses: (key: string, count: number) => void s.putUses.run(key, count),
    meta: (key: string) => s.meta.get(key) as string | undefined,
    putMeta: (key: string, value: string) => void s.putMeta.run(key, value),
    counts(): { requests: number; pending: number; jobs: number; deliveries: number } {
      const count = (sql: string) => db.prepare(sql).pluck().get() as number;
      return {
        requests: count("SELECT count(*) FROM requests"),
        pending: count("SELECT count(*) FROM requests INDEXED BY requests_pending WHERE status = 'pending'"),
        jobs: count("SELECT count(*) FROM jobs"),
        deliveries: count("SELECT count(*) FROM deliveries"),
      };
    },
  };
}
