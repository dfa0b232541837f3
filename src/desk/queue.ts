import { PRIORITIES, type ApprovalRequest, type Priority } from "../core/types.js";
import { hasStages, outcomeOf } from "../core/vote.js";

/** The queue's filters, as the query string carries them (`?repo=…&type=…&priority=…&mine=1&stage=…`). */
export interface QueueFilter {
  repo?: string;
  type?: string;
  priority?: Priority;
  /** Only requests that name the person (or a team of theirs) among those asked now. */
  mine?: boolean;
  /** A stage's name, or `single` for requests decided by one person. */
  stage?: string;
}

export interface QueueRow {
  request: ApprovalRequest;
  waitsOnMe: boolean;
  /** The open stage's name, or `single`. */
  stage: string;
}

export interface FacetCount {
  value: string;
  count: number;
}

/** How many of the person's requests each filter value would show (counted on the whole queue). */
export interface QueueCounts {
  all: number;
  repo: FacetCount[];
  type: FacetCount[];
  priority: FacetCount[];
  stage: FacetCount[];
  mine: number;
}

export const SINGLE_STAGE = "single";
/** Requests without a type are filtered as this. */
export const NO_TYPE = "none";

export function stageOf(request: ApprovalRequest, now: Date): string {
  if (!hasStages(request)) return SINGLE_STAGE;
  const outcome = outcomeOf(request, now);
  return outcome.type === "open" ? outcome.stage.name : SINGLE_STAGE;
}

export function readFilter(query: URLSearchParams): QueueFilter {
  const text = (name: string) => {
    const value = query.get(name)?.trim();
    return value ? value.slice(0, 200) : undefined;
  };
  const priority = query.get("priority");
  return {
    ...(text("repo") ? { repo: text("repo") } : {}),
    ...(text("type") ? { type: text("type") } : {}),
    ...(priority && (PRIORITIES as readonly string[]).includes(priority) ? { priority: priority as Priority } : {}),
    ...(query.get("mine") === "1" ? { mine: true } : {}),
    ...(text("stage") ? { stage: text("stage") } : {}),
  };
}

export function filterQuery(filter: QueueFilter): string {
  const params = new URLSearchParams();
  if (filter.repo) params.set("repo", filter.repo);
  if (filter.type) params.set("type", filter.type);
  if (filter.priority) params.set("priority", filter.priority);
  if (filter.mine) params.set("mine", "1");
  if (filter.stage) params.set("stage", filter.stage);
  return params.toString();
}

export function matches(row: QueueRow, filter: QueueFilter): boolean {
  const { request } = row;
  return (
    (filter.repo === undefined || request.repo.toLowerCase() === filter.repo.toLowerCase()) &&
    (filter.type === undefined || (request.requestType ?? NO_TYPE) === filter.type) &&
    (filter.priority === undefined || request.priority === filter.priority) &&
    (!filter.mine || row.waitsOnMe) &&
    (filter.stage === undefined || row.stage === filter.stage)
  );
}

const RANK: Record<Priority, number> = { critical: 0, high: 1, normal: 2, low: 3 };

/** Most urgent first: by priority, then by the least time left, then the oldest. */
export function byUrgency(a: QueueRow, b: QueueRow): number {
  return (
    RANK[a.request.priority] - RANK[b.request.priority] ||
    Date.parse(a.request.deadline) - Date.parse(b.request.deadline) ||
    Date.parse(a.request.createdAt) - Date.parse(b.request.createdAt) ||
    a.request.id.localeCompare(b.request.id)
  );
}

function facet(rows: QueueRow[], valueOf: (row: QueueRow) => string, order?: readonly string[]): FacetCount[] {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(valueOf(row), (counts.get(valueOf(row)) ?? 0) + 1);
  const values = [...counts.keys()].sort((a, b) => (order ? order.indexOf(a) - order.indexOf(b) : a.localeCompare(b)));
  return values.map((value) => ({ value, count: counts.get(value)! }));
}

export function countQueue(rows: QueueRow[]): QueueCounts {
  return {
    all: rows.length,
    repo: facet(rows, (row) => row.request.repo),
    type: facet(rows, (row) => row.request.requestType ?? NO_TYPE),
    priority: facet(rows, (row) => row.request.priority, ["critical", "high", "normal", "low"]),
    stage: facet(rows, (row) => row.stage),
    mine: rows.filter((row) => row.waitsOnMe).length,
  };
}
