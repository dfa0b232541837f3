import { actionKind } from "../core/decide.js";
import { offeredActions } from "../core/render/request-markdown.js";
import { STATUSES, type ApprovalRequest } from "../core/types.js";
import type { ChannelOutcome } from "../engine/decide-request.js";
import type { GitHubGateway, Logger } from "../engine/ports.js";
import type { Store } from "../store/store.js";
import type { DecideFromChannel } from "../channels/decide-port.js";
import type { DeskAccess } from "./may-decide.js";
import { byUrgency, countQueue, matches, stageOf, type QueueCounts, type QueueFilter, type QueueRow } from "./queue.js";

/** The most pending requests one queue load reads. */
export const QUEUE_LIMIT = 500;
const RECENT_LIMIT = 30;

export interface DeskServiceDeps {
  store: Pick<Store, "list" | "get">;
  github: Pick<GitHubGateway, "mayDecide">;
  access: DeskAccess;
  decide: DecideFromChannel;
  /** Runs a batch's decisions so that rows of one batch issue they end are shown in one edit of its table. */
  holdEdits?: <T>(decide: () => Promise<T>) => Promise<T>;
  clock: () => Date;
  newId: (prefix: string) => string;
  log: Logger;
}

export interface Queue {
  rows: QueueRow[];
  counts: QueueCounts;
  /** More requests were pending than one load reads. */
  truncated: boolean;
  /** GitHub did not answer for some requests: they are not shown (and not counted) this time. */
  unchecked: boolean;
}

/** How many questions one queue load has out at GitHub at once. */
const PARALLEL = 8;

/** `work` on every item, at most `PARALLEL` at once, each result kept (fulfilled or not) in order. */
async function settleAll<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: "fulfilled", value: await work(items[index]!) };
      } catch (reason) {
        results[index] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  return results;
}

/** One request of a batch, as the form named it: its id and, when the row showed one, the context hash seen. */
export interface BatchItem {
  id: string;
  contextHash?: string;
  /** Pull requests: the head commit the row showed. */
  headSha?: string;
}

export type BatchResult =
  | { id: string; result: "outcome"; outcome: ChannelOutcome; action: string }
  /** Not one the person may decide (or it does not exist): nothing about it is told. */
  | { id: string; result: "not_yours" }
  /** It offers more than one action of that kind: only its page can tell which. */
  | { id: string; result: "choose"; request: ApprovalRequest };

export function createDeskService(deps: DeskServiceDeps) {
  const { store, access, clock } = deps;

  async function mine(login: string): Promise<{ rows: QueueRow[]; truncated: boolean; unchecked: boolean }> {
    const pending = await store.list({ status: "pending", limit: QUEUE_LIMIT + 1 });
    const now = clock();
    const shown = pending.slice(0, QUEUE_LIMIT);
    const settled = await settleAll(shown, async (request): Promise<QueueRow | null> =>
      (await access.mayDecide(request, login)) ? { request, waitsOnMe: await access.waitsOn(request, login), stage: stageOf(request, now) } : null,
    );
    const failed = settled.filter((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failed.length > 0) deps.log.warn({ err: failed[0]!.reason, login, requests: failed.length }, "desk queue: GitHub did not answer who may decide some requests; they are left out of this load");
    const rows = settled.flatMap((result) => (result.status === "fulfilled" && result.value ? [result.value] : []));
    return { rows: rows.sort(byUrgency), truncated: pending.length > QUEUE_LIMIT, unchecked: failed.length > 0 };
  }

  /** The action of `kind` a batch takes on a request: the one with that id, else its only one of that kind. */
  function batchAction(request: ApprovalRequest, kind: "approve" | "reject"): string | null {
    const ofKind = offeredActions(request).filter((action) => actionKind({ availableActions: offeredActions(request) }, action.id) === kind);
    if (ofKind.some((action) => action.id === kind)) return kind;
    return ofKind.length === 1 ? ofKind[0]!.id : null;
  }

  return {
    async queue(login: string, filter: QueueFilter): Promise<Queue> {
      const { rows, truncated, unchecked } = await mine(login);
      return { rows: rows.filter((row) => matches(row, filter)), counts: countQueue(rows), truncated, unchecked };
    },

    /**
     * A request as the desk shows it to `login`: a pending one they may decide, or one that
     * ended in a repository they may write to; null for anything else (it is not theirs to see).
     */
    async requestFor(login: string, id: string): Promise<{ request: ApprovalRequest; mayDecide: boolean } | null> {
      const request = await store.get(id);
      if (!request) return null;
      if (request.status === "pending") return (await access.mayDecide(request, login)) ? { request, mayDecide: true } : null;
      return (await deps.github.mayDecide(request.installationId, request.repo, login, [])) ? { request, mayDecide: false } : null;
    },

    /** Requests of the same type in the same repository that ended, newest first. */
    async history(request: ApprovalRequest, limit = 5): Promise<ApprovalRequest[]> {
      if (!request.requestType) return [];
      const listed = await store.list({ repo: request.repo, requestType: request.requestType, limit: 50 });
      return listed.filter((other) => other.id !== request.id && other.status !== "pending").slice(0, limit);
    },

    /** What the person decided or voted on lately, newest first. */
    async recent(login: string): Promise<ApprovalRequest[]> {
      const key = login.toLowerCase();
      const lists = await Promise.all(STATUSES.filter((status) => status !== "pending").map((status) => store.list({ status, limit: 200 })));
      const byThem = (request: ApprovalRequest) =>
        (request.decision?.decidedBy.type === "human" && request.decision.decidedBy.login.toLowerCase() === key) ||
        (request.decision?.approvals ?? request.votes ?? []).some((vote) => vote.by.toLowerCase() === key);
      return lists
        .flat()
        .filter(byThem)
        .sort((a, b) => Date.parse(b.decision?.decidedAt ?? b.updatedAt) - Date.parse(a.decision?.decidedAt ?? a.updatedAt))
        .slice(0, RECENT_LIMIT);
    },

    /**
     * Decides each request on its own, through the engine's one door (its own compare-and-set,
     * authorization and audit entry, all naming the batch), and says what became of each.
     */
    async batch(login: string, items: BatchItem[], kind: "approve" | "reject", justification: string): Promise<{ batchId: string; results: BatchResult[] }> {
      const batchId = deps.newId("batch");
      const results: BatchResult[] = [];
      const hold = deps.holdEdits ?? (<T>(decide: () => Promise<T>) => decide());
      await hold(async () => {
        for (const item of items) {
          const request = await store.get(item.id);
          if (!request || (request.status === "pending" && !(await access.mayDecide(request, login)))) {
            results.push({ id: item.id, result: "not_yours" });
            continue;
          }
          if (request.status !== "pending") {
            // Ended meanwhile: said so only to someone who may write to its repository.
            const sees = await deps.github.mayDecide(request.installationId, request.repo, login, []);
            results.push(sees ? { id: item.id, result: "outcome", outcome: { type: "already_decided", request }, action: kind } : { id: item.id, result: "not_yours" });
            continue;
          }
          const action = batchAction(request, kind);
          if (action === null) {
            results.push({ id: item.id, result: "choose", request });
            continue;
          }
          const outcome = await deps.decide({
            requestId: request.id,
            login,
            action,
            via: "desk",
            justification: justification === "" ? null : justification,
            batchId,
            ...(item.contextHash ? { contextHash: item.contextHash } : {}),
            ...(item.headSha ? { headSha: item.headSha } : {}),
          });
          results.push({ id: item.id, result: "outcome", outcome, action });
        }
      });
      return { batchId, results };
    },
  };
}

export type DeskService = ReturnType<typeof createDeskService>;
