import type { NewRequestInput } from "../core/build-request.js";
import { validateDecision, worthReasking, type Validation } from "../core/drift.js";
import { followUpInput } from "../core/follow-up.js";
import type { ApprovalRequest, Decider } from "../core/types.js";
import { CAS_ATTEMPTS, type Agent, type EngineContext } from "./context.js";
import { HitlError, notFound } from "./errors.js";
import { unsealRequest } from "../sensitive/seal-request.js";
import { SENSITIVE_PLACEHOLDER } from "../sensitive/sensitive-fields.js";
import { HIDDEN_PLACEHOLDER } from "../sensitive/hidden-fields.js";
import type { Drift } from "../core/types.js";

/** The drift with every value at or under a sensitive (or hidden) path replaced by the placeholder. */
function withheldDrift(drift: Drift, paths: readonly string[], placeholder = SENSITIVE_PLACEHOLDER): Drift {
  if (paths.length === 0) return drift;
  const hidden = (field: string) => paths.some((path) => field === path || field.startsWith(`${path}.`) || path.startsWith(`${field}.`));
  const fields = drift.fields.map((entry) =>
    hidden(entry.field) ? { field: entry.field, ...("approved" in entry ? { approved: placeholder } : {}), ...("current" in entry ? { current: placeholder } : {}) } : entry,
  );
  return { ...drift, fields };
}

/** The agent's current context, as `POST /requests/:id/validate` takes it. */
export interface ValidateInput {
  decisionData?: Record<string, unknown>;
  pullRequestHead?: string;
  reAsk: boolean;
}

export interface ValidateResult {
  request: ApprovalRequest;
  validation: Validation;
  /** The linked follow-up: opened now (`reAsk`) or earlier. */
  followUp: ApprovalRequest | null;
}

type Open = (input: NewRequestInput, agent: Agent, options: { internal: true; now: Date }) => Promise<{ request: ApprovalRequest; created: boolean }>;

/** Whether a decision still holds for the agent's context, and re-asking when it does not. */
export function createValidating(ctx: EngineContext, open: Open) {
  const { store, github, clock, audit, job, commit, mustGet } = ctx;

  /** Marks the first request superseded by its follow-up (once, whoever gets there first). */
  async function supersede(id: string, followUp: ApprovalRequest, validation: Validation, agent: Agent): Promise<ApprovalRequest> {
    for (let i = 0; i < CAS_ATTEMPTS; i++) {
      const current = await mustGet(id);
      if (current.status !== "approved") return current;
      const actor: Decider = { type: "agent", name: agent.name };
      const next: ApprovalRequest = { ...current, status: "superseded", supersededBy: followUp.id, updatedAt: clock().toISOString() };
      const details = { superseded_by: followUp.id, reasons: validation.reasons, drifted_fields: validation.drift.fields.map((field) => field.field) };
      const stored = await commit(next, current.version, [audit(next, "superseded", actor, details)], [job(next, "sync_surface", "superseded")]);
      if (stored) return stored;
    }
    throw new HitlError("conflict", 409, `Request ${id} changed while it was being superseded; try again.`);
  }

  return {
    /**
     * Only the agent that opened a request validates it (others get the 404 of an unknown id).
     * A pull request's head is read from GitHub, the authority on what would be merged; the
     * agent's own `pullRequestHead` must match the approved head as well.
     */
    async validate(id: string, agent: Agent, input: ValidateInput): Promise<ValidateResult> {
      const request = await mustGet(id);
      if (request.requestedBy !== agent.name) throw notFound(id);
      // Drift is judged on what was approved, sensitive values included (opened in memory only).
      const approvedView = unsealRequest(ctx.sealingKeys ?? null, request);
      let githubHead: string | null | undefined;
      if (request.surface.type === "pull_request" && request.decision) {
        const pull = await github.pullRequest(request.installationId, request.repo, request.surface.number, { withFiles: false });
        githubHead = pull?.headSha ?? null;
      }
      const context = { decisionData: input.decisionData, agentHead: input.pullRequestHead, githubHead };
      const validation = validateDecision(approvedView, context, clock());
      const linked = request.supersededBy ? await store.get(request.supersededBy) : null;
      if (linked || !input.reAsk || !worthReasking(validation)) return { request, validation, followUp: linked };

      const now = clock();
      // The follow-up's issue says what changed: never the sensitive values themselves.
      const followUp = followUpInput(approvedView, input.decisionData, withheldDrift(withheldDrift(validation.drift, approvedView.sensitive?.paths ?? []), approvedView.hidden?.paths ?? [], HIDDEN_PLACEHOLDER), now);
      if (!followUp) {
        throw new HitlError("cannot_re_ask", 409, `Request ${id} was opened before hitl kept what it asked of the policy, so it cannot be asked again as it was. Open a new request.`);
      }
      const { request: opened } = await open(followUp, agent, { internal: true, now });
      const first = await supersede(id, opened, validation, agent);
      return { request: first, validation, followUp: opened };
    },
  };
}
