import type { ApprovalRequest, AuditEntry } from "../core/types.js";
import type { ListQuery } from "../store/store.js";
import { createEngineContext, type Agent, type EngineDeps } from "./context.js";
import { createAuditTrail } from "./audit-trail.js";
import { createDeciding } from "./decide-request.js";
import { createDeployments } from "./deployments.js";
import { createGitHubDecisions } from "./github-decisions.js";
import { createOpening } from "./open-request.js";
import { createBatches } from "./batches.js";
import { HitlError, notFound } from "./errors.js";
import { unsealRequest } from "../sensitive/seal-request.js";
import { unhidden } from "../sensitive/hidden-fields.js";
import { openedLayers, type OpenedLayers } from "../core/context-layers.js";
import { SealError } from "../sensitive/sealing.js";
import { createPushes } from "./pull-request-pushes.js";
import { createIssueEvents } from "./issue-events.js";
import { createValidating } from "./validate-request.js";
import { createSuggestions } from "./suggestions.js";

export type { Agent, EngineDeps } from "./context.js";
export type { ChannelDecision, ChannelOutcome, DecisionOutcome, GitHubDecision } from "./decide-request.js";
export type { CommentInput, InputResult, ReviewInput } from "./github-decisions.js";
export type { ClosedResult, IssueGone } from "./issue-events.js";

/**
 * The approval engine: every state change of a request goes through here. It talks to the
 * world only through the store and the GitHub gateway it is given.
 */
export function createEngine(deps: EngineDeps) {
  const ctx = createEngineContext(deps);
  const { store, clock, decided, mustGet } = ctx;

  const deciding = createDeciding(ctx);
  const batches = createBatches(ctx);
  const opening = createOpening(ctx, batches);

  /**
   * Whose requests an agent reads: its own, or everyone's with `read-all`. Another agent's
   * request is not found, so an agent cannot even learn that it exists.
   */
  const readsAll = (agent: Agent) => agent.readAll === true;
  function revealTo(request: ApprovalRequest, agent: Agent): ApprovalRequest {
    // What `.hitl.yml` keeps off GitHub is not secret: every agent that may read the request reads it.
    if (request.requestedBy !== agent.name) return unhidden(request);
    try {
      return unsealRequest(ctx.sealingKeys ?? null, request);
    } catch (error) {
      if (!(error instanceof SealError)) throw error;
      throw new HitlError("sensitive_data_unavailable", 500, `The sensitive values of request ${request.id} cannot be opened: ${error.message}.`);
    }
  }

  async function readableBy(id: string, agent: Agent): Promise<ApprovalRequest> {
    const request = await mustGet(id);
    if (!readsAll(agent) && request.requestedBy !== agent.name) throw notFound(id);
    return request;
  }

  return {
    ...opening,
    ...deciding,
    ...createValidating(ctx, opening.open),
    ...createGitHubDecisions(ctx, deciding.decideFromGitHub, batches),
    /** A batch row changed: its batch issue's table shows it (see batches.ts). */
    syncBatchRow: batches.syncRow,
    /**
     * Decides several requests with the batch issues' table edits held until the last one, so rows
     * decided together show in one edit per batch (`null`: every batch), e.g. a desk selection.
     */
    holdingBatchEdits: batches.holding,
    ...createPushes(ctx),
    ...createDeployments(ctx, opening.resume),
    ...createAuditTrail(store),
    ...createIssueEvents(ctx, deciding.decideFromGitHub),
    ...createSuggestions(ctx),

    get: mustGet,

    /** A request as `agent` may read it. */
    getFor: readableBy,

    /**
     * A request `agent` may read, with its sensitive values opened for the agent that asked
     * (they are its own), and the values `.hitl.yml` keeps off GitHub put back for every reader.
     * Anyone else, `read-all` agents too, gets the sensitive placeholders: reading every
     * request is an operator's or auditor's tool, not a way to the values people were shown.
     */
    async revealedFor(id: string, agent: Agent): Promise<ApprovalRequest> {
      return revealTo(await readableBy(id, agent), agent);
    },

    /** The context layers of a request `agent` may read, the full one opened, and the request as stored. */
    async contextFor(id: string, agent: Agent): Promise<{ request: ApprovalRequest; layers: OpenedLayers }> {
      const request = await readableBy(id, agent);
      return { request, layers: openedLayers(request.layers) };
    },

    /**
     * The context layers of a request, the full one opened, for a page that has already
     * authorized the person reading it as one who may decide the request (the desk, a one-click
     * page). Null for an unknown request.
     */
    async fullContext(id: string): Promise<OpenedLayers | null> {
      const request = await store.get(id);
      return request ? openedLayers(request.layers) : null;
    },

    /** The requests shown on an issue or pull request, newest first. */
    onSurface(repo: string, number: number): Promise<ApprovalRequest[]> {
      return store.findBySurface(repo, number);
    },

    /** The requests `agent` may read that match the query. */
    list(query: ListQuery, agent: Agent): Promise<ApprovalRequest[]> {
      return store.list(readsAll(agent) ? query : { ...query, requestedBy: agent.name });
    },

    /** A repository's audit trail as `agent` may read it: only its own requests' entries without `read-all`. */
    audit(repo: string, limit: number | undefined, agent: Agent): Promise<AuditEntry[]> {
      return store.audit(repo, limit, readsAll(agent) ? undefined : agent.name);
    },

    /** Resolves with the request once it is final, or as it is when `waitMs` has passed. */
    async waitForDecision(id: string, agent: Agent, waitMs: number, signal?: AbortSignal): Promise<ApprovalRequest> {
      const deadline = clock().getTime() + waitMs;
      let request = await readableBy(id, agent);
      while (request.status === "pending" && !signal?.aborted) {
        const left = deadline - clock().getTime();
        if (left <= 0) break;
        // Another replica may decide it: look at the store at least every second.
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            decided.off(id, done);
            signal?.removeEventListener("abort", done);
            resolve();
          };
          const timer = setTimeout(done, Math.min(left, 1_000));
          decided.on(id, done);
          signal?.addEventListener("abort", done);
        });
        request = await mustGet(id);
      }
      return request;
    },

    /** The shared write conventions, for the sweep. */
    internals: ctx,
  };
}

export type Engine = ReturnType<typeof createEngine>;
