import type { ApprovalRequest, AuditEntry, EscalationState, Job, RequestStatus } from "../core/types.js";
import type { ListQuery } from "./store.js";
import { compareIds, compareNewest, dueMs, idempotencyIndexKey, pendingScore, surfaceNumber, toMs } from "./order.js";
import { SortedIndex } from "./sorted-index.js";

export type DeliveryState = "claimed" | "done";

export interface DeliveryMark {
  id: string;
  state: DeliveryState;
  /** Epoch milliseconds after which the mark no longer counts. */
  expiresAt: number;
}

/**
 * Everything one atomic write changed. It is both a journal line and a unit of the snapshot,
 * and applying it is the only way the state changes, so a replay rebuilds exactly what was live.
 */
export interface ChangeBody {
  /** Written whole: the new version of each request. */
  requests?: ApprovalRequest[];
  /** Appended to the audit trail of their repositories. */
  audit?: AuditEntry[];
  /** Added, or replaced whole. */
  jobs?: Job[];
  jobsDone?: string[];
  deliveries?: DeliveryMark[];
  deliveriesReleased?: string[];
  /** [key, count taken so far]. */
  uses?: Array<[string, number]>;
}

/**
 * The embedded store's data in memory, with every index derived from the requests themselves.
 * It does no I/O and never checks anything: the store decides, the state applies.
 */
export class EmbeddedState {
  private readonly requests = new Map<string, ApprovalRequest>();
  private readonly byRepo = new Map<string, Set<string>>();
  /** Per repository, ids by creation time: "the newest N of a repository" without a sort. */
  private readonly byRepoCreated = new Map<string, SortedIndex>();
  private readonly byStatus = new Map<RequestStatus, Set<string>>();
  private readonly bySurface = new Map<string, Set<string>>();
  private readonly dueIndex = new SortedIndex();
  private readonly idempotency = new Map<string, string>();
  private readonly audits = new Map<string, AuditEntry[]>();
  private readonly jobs = new Map<string, Job>();
  private readonly jobQueue = new SortedIndex();
  private readonly deliveries = new Map<string, DeliveryMark>();
  private readonly deliveryExpiry = new SortedIndex();
  private readonly useCounts = new Map<string, number>();
  /** Ids of the requests `restore` had to park. */
  readonly parkedOnLoad: string[] = [];

  /** Applies the whole change, or throws before changing anything (a time that does not parse). */
  apply(change: ChangeBody): void {
    for (const request of change.requests ?? []) {
      toMs(request.createdAt);
      dueMs(request);
    }
    for (const job of change.jobs ?? []) toMs(job.runAt);
    for (const request of change.requests ?? []) this.putRequest(request);
    for (const entry of change.audit ?? []) {
      const trail = this.audits.get(entry.repo);
      if (trail) trail.push(entry);
      else this.audits.set(entry.repo, [entry]);
    }
    for (const job of change.jobs ?? []) {
      this.jobs.set(job.id, job);
      this.jobQueue.set(job.id, toMs(job.runAt));
    }
    for (const id of change.jobsDone ?? []) {
      this.jobs.delete(id);
      this.jobQueue.delete(id);
    }
    for (const mark of change.deliveries ?? []) {
      this.deliveries.set(mark.id, mark);
      this.deliveryExpiry.set(mark.id, mark.expiresAt);
    }
    for (const id of change.deliveriesReleased ?? []) this.forgetDelivery(id);
    for (const [key, count] of change.uses ?? []) this.useCounts.set(key, count);
  }

  /**
   * Applies a change read back from disk. Unlike `apply` it never refuses: a record with a
   * time that does not parse (written by a version that did not check, or by hand) is mended
   * so the store opens, and such a request is parked with the reason. A stored record can
   * then never keep the process from starting.
   */
  restore(change: ChangeBody, now: Date): void {
    const at = now.toISOString();
    this.apply({
      ...change,
      ...(change.requests ? { requests: change.requests.map((request) => this.mended(request, at)) } : {}),
      ...(change.jobs ? { jobs: change.jobs.map((job) => (isTime(job.runAt) ? job : { ...job, runAt: at })) } : {}),
    });
  }

  private mended(request: ApprovalRequest, at: string): ApprovalRequest {
    const problems: string[] = [];
    let mended = request;
    if (!isTime(request.createdAt)) {
      problems.push(`createdAt ${JSON.stringify(request.createdAt)} is not a time`);
      mended = { ...mended, createdAt: isTime(request.updatedAt) ? request.updatedAt : new Date(0).toISOString() };
    }
    const escalation: Partial<EscalationState> | null = typeof request.escalation === "object" ? request.escalation : null;
    if (escalation === null) problems.push("escalation is missing");
    else if (escalation.nextAt != null && !isTime(escalation.nextAt)) problems.push(`escalation.nextAt ${JSON.stringify(escalation.nextAt)} is not a time`);
    if (problems.length === 0) return request;
    this.parkedOnLoad.push(request.id);
    const parked = { ladder: [], warningBeforeMs: null, level: 0, warned: false, ...escalation, nextAt: null };
    return { ...mended, escalation: parked, error: { at, message: `parked when the store was loaded: ${problems.join("; ")}` } };
  }

  request(id: string): ApprovalRequest | undefined {
    return this.requests.get(id);
  }

  idempotent(requestedBy: string, key: string): ApprovalRequest | undefined {
    const id = this.idempotency.get(idempotencyIndexKey(requestedBy, key));
    return id === undefined ? undefined : this.requests.get(id);
  }

  findBySurface(repo: string, number: number): ApprovalRequest[] {
    return this.resolve(this.bySurface.get(surfaceKey(repo, number))).sort(compareNewest);
  }

  list(query: ListQuery): ApprovalRequest[] {
    const limit = Math.max(0, query.limit ?? 100);
    if (query.repo !== undefined && query.status !== "pending") return this.newestOfRepo(query.repo, query, limit);
    const candidates = this.smallest([
      query.repo === undefined ? undefined : (this.byRepo.get(query.repo) ?? new Set()),
      query.status === undefined ? undefined : (this.byStatus.get(query.status) ?? new Set()),
    ]);
    const matches = (candidates ? this.resolve(candidates) : [...this.requests.values()]).filter(
      (r) => (query.repo === undefined || r.repo === query.repo) && (query.status === undefined || r.status === query.status) && matchesRest(r, query),
    );
    return sortedByKey(matches, query.status === "pending").slice(0, limit);
  }

  /** Walks the repository's requests newest first and stops once `limit` match. */
  private newestOfRepo(repo: string, query: ListQuery, limit: number): ApprovalRequest[] {
    const found: ApprovalRequest[] = [];
    for (const id of this.byRepoCreated.get(repo)?.descending() ?? []) {
      if (found.length >= limit) break;
      const request = this.requests.get(id)!;
      if ((query.status === undefined || request.status === query.status) && matchesRest(request, query)) found.push(request);
    }
    return found;
  }

  audit(repo: string, limit: number, requestedBy?: string): AuditEntry[] {
    if (limit <= 0) return [];
    const trail = this.audits.get(repo) ?? [];
    if (requestedBy === undefined) return trail.slice(-limit);
    const found: AuditEntry[] = [];
    for (let i = trail.length - 1; i >= 0 && found.length < limit; i--) if (trail[i]!.requestedBy === requestedBy) found.push(trail[i]!);
    return found.reverse();
  }

  due(nowMs: number, limit: number): ApprovalRequest[] {
    return this.resolve(this.dueIndex.upTo(nowMs, limit));
  }

  job(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  jobsDue(nowMs: number, limit: number): Job[] {
    return this.jobQueue.upTo(nowMs, limit).map((id) => this.jobs.get(id)!);
  }

  pendingJobs(): Job[] {
    return this.jobQueue.ids().map((id) => this.jobs.get(id)!);
  }

  /** The delivery's mark, forgetting every mark that lapsed by `nowMs`. */
  delivery(id: string, nowMs: number): DeliveryMark | undefined {
    for (const lapsed of this.deliveryExpiry.upTo(nowMs)) this.forgetDelivery(lapsed);
    return this.deliveries.get(id);
  }

  uses(key: string): number {
    return this.useCounts.get(key) ?? 0;
  }

  counts(): { requests: number; pending: number; jobs: number; deliveries: number } {
    return {
      requests: this.requests.size,
      pending: this.byStatus.get("pending")?.size ?? 0,
      jobs: this.jobs.size,
      deliveries: this.deliveries.size,
    };
  }

  /** The whole state as changes that rebuild it, a bounded number of records per change. */
  *snapshot(nowMs: number): Generator<ChangeBody> {
    yield* chunked([...this.requests.values()], (requests) => ({ requests }));
    for (const trail of this.audits.values()) yield* chunked(trail, (audit) => ({ audit }));
    yield* chunked(this.pendingJobs(), (jobs) => ({ jobs }));
    const live = [...this.deliveries.values()].filter((mark) => mark.expiresAt > nowMs);
    yield* chunked(live, (deliveries) => ({ deliveries }));
    yield* chunked([...this.useCounts.entries()], (uses) => ({ uses }));
  }

  private putRequest(request: ApprovalRequest): void {
    const previous = this.requests.get(request.id);
    if (previous) this.unindex(previous);
    this.requests.set(request.id, request);
    addTo(this.byRepo, request.repo, request.id);
    let created = this.byRepoCreated.get(request.repo);
    if (!created) this.byRepoCreated.set(request.repo, (created = new SortedIndex()));
    created.set(request.id, toMs(request.createdAt));
    addTo(this.byStatus, request.status, request.id);
    const number = surfaceNumber(request);
    if (number !== null) addTo(this.bySurface, surfaceKey(request.repo, number), request.id);
    const due = dueMs(request);
    if (due !== null) this.dueIndex.set(request.id, due);
    if (request.idempotencyKey !== null) {
      const key = idempotencyIndexKey(request.requestedBy, request.idempotencyKey);
      if (!this.idempotency.has(key)) this.idempotency.set(key, request.id);
    }
  }

  private unindex(request: ApprovalRequest): void {
    removeFrom(this.byRepo, request.repo, request.id);
    removeFrom(this.byStatus, request.status, request.id);
    const number = surfaceNumber(request);
    if (number !== null) removeFrom(this.bySurface, surfaceKey(request.repo, number), request.id);
    this.dueIndex.delete(request.id);
  }

  private forgetDelivery(id: string): void {
    this.deliveries.delete(id);
    this.deliveryExpiry.delete(id);
  }

  private resolve(ids: Iterable<string> | undefined): ApprovalRequest[] {
    return [...(ids ?? [])].map((id) => this.requests.get(id)!);
  }

  private smallest(sets: Array<Set<string> | undefined>): Set<string> | undefined {
    let best: Set<string> | undefined;
    for (const set of sets) if (set && (!best || set.size < best.size)) best = set;
    return best;
  }
}

/** The filters that no index answers: the request type and the agent. */
function matchesRest(request: ApprovalRequest, query: ListQuery): boolean {
  return (query.requestType === undefined || request.requestType === query.requestType) && (query.requestedBy === undefined || request.requestedBy === query.requestedBy);
}

function isTime(iso: unknown): boolean {
  return typeof iso === "string" && !Number.isNaN(Date.parse(iso));
}

function surfaceKey(repo: string, number: number): string {
  return `${repo}#${number}`;
}

function addTo<K>(index: Map<K, Set<string>>, key: K, id: string): void {
  const set = index.get(key);
  if (set) set.add(id);
  else index.set(key, new Set([id]));
}

function removeFrom<K>(index: Map<K, Set<string>>, key: K, id: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(id);
  if (set.size === 0) index.delete(key);
}

function* chunked<T>(items: T[], wrap: (chunk: T[]) => ChangeBody, size = 500): Generator<ChangeBody> {
  for (let i = 0; i < items.length; i += size) yield wrap(items.slice(i, i + size));
}

/**
 * Pending: by urgency then oldest (`pendingScore`), equal scores by id ascending. Otherwise the
 * order of `compareNewest`. Each request's time is parsed once instead of once per comparison:
 * listing a busy repository is on the path of every request that opens an issue.
 */
function sortedByKey(requests: ApprovalRequest[], pending: boolean): ApprovalRequest[] {
  const keyed = requests.map((request) => ({ request, key: pending ? pendingScore(request) : -toMs(request.createdAt) }));
  keyed.sort((a, b) => a.key - b.key || (pending ? compareIds(a.request.id, b.request.id) : compareIds(b.request.id, a.request.id)));
  return keyed.map((entry) => entry.request);
}
