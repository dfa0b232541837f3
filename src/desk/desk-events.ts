import type { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import type { ApprovalRequest } from "../core/types.js";
import type { Store } from "../store/store.js";
import { describeOutcome } from "../channels/request-facts.js";

/** How often the store is asked again, so a change made on another replica arrives too. */
export const RECHECK_MS = 3_000;
/** The most requests one page watches. */
export const MAX_WATCHED = 200;

export interface Watched {
  id: string;
  version: number;
}

/** `id:version,id:version`, as the page's `data-watch` attributes give them. */
export function readWatch(text: string | null): Watched[] {
  const watched: Watched[] = [];
  for (const part of (text ?? "").split(",").slice(0, MAX_WATCHED)) {
    const match = /^([A-Za-z0-9_-]{1,100}):(\d{1,12})$/.exec(part);
    if (match) watched.push({ id: match[1]!, version: Number(match[2]) });
  }
  return watched;
}

/** What a page is told of a request that changed since it was shown. */
export function changeOf(request: ApprovalRequest): { id: string; final: boolean; text: string } {
  return request.status === "pending"
    ? { id: request.id, final: false, text: "This request changed after this page was shown (a vote or a new step); open it again before deciding." }
    : { id: request.id, final: true, text: `Decided elsewhere: ${describeOutcome(request)}` };
}

/**
 * Server-sent events: one `changed` event per watched request once it changes (the engine's
 * in-process `decided` emitter, and a re-read of the store every few seconds for other replicas'
 * writes and votes). Ends when the client goes, or the app drains.
 */
export function streamChanges(res: ServerResponse, deps: { store: Pick<Store, "get">; decided: EventEmitter; closing: AbortSignal; recheckMs?: number }, watched: Watched[]): void {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no", connection: "keep-alive" });
  res.write("retry: 5000\n\n");
  const open = new Map(watched.map((w) => [w.id, w.version]));
  const send = (request: ApprovalRequest) => {
    if (!open.has(request.id)) return;
    open.delete(request.id);
    deps.decided.off(request.id, send);
    res.write(`event: changed\ndata: ${JSON.stringify(changeOf(request))}\n\n`);
  };
  for (const id of open.keys()) deps.decided.on(id, send);
  let checking = false;
  const check = () => {
    if (checking) return;
    checking = true;
    void (async () => {
      for (const [id, version] of [...open]) {
        const request = await deps.store.get(id);
        if (request && (request.version !== version || request.status !== "pending")) send(request);
      }
      res.write(": still here\n\n");
    })()
      .catch(() => undefined)
      .finally(() => (checking = false));
  };
  // Changes made between the page and this stream count too.
  check();
  const timer = setInterval(check, deps.recheckMs ?? RECHECK_MS);
  const stop = () => {
    clearInterval(timer);
    for (const id of open.keys()) deps.decided.off(id, send);
    open.clear();
    deps.closing.removeEventListener("abort", end);
  };
  const end = () => {
    stop();
    res.end();
  };
  res.on("close", stop);
  deps.closing.addEventListener("abort", end);
}
