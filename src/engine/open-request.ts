import { notifyRoutesFor } from "../channels/routes.js";
import { KEEP_FOREVER, requestRetention } from "../core/retention.js";
import { buildRequest, idempotencyFingerprint, type NewRequestInput } from "../core/build-request.js";
import { neverDeciding } from "../core/authorize.js";
import { finish } from "../core/decide.js";
import { effectivePolicy, notAllowedMessage, type EffectivePolicy } from "../core/effective-policy.js";
import type { ApprovalRequest, Decider, Evaluation, PredictionRecord } from "../core/types.js";
import { createPredictions, predictionEvidence } from "./predictions.js";
import type { HitlConfig } from "../config/schema.js";
import { CAS_ATTEMPTS, type Agent, type EngineContext } from "./context.js";
import { HitlError, invalidRequest, type FieldIssue } from "./errors.js";
import type { LoadedConfig, PullRequestInfo } from "./ports.js";
import type { Effects } from "../store/store.js";
import { OPEN_SURFACE_GRACE_MS, retryDelayMs } from "./retry-policy.js";
import { recentDecisions } from "./recent-decisions.js";
import type { Batches } from "./batches.js";
import { sealRequest } from "../sensitive/seal-request.js";
import { presentPaths, testedFields, touchesSensitive } from "../sensitive/sensitive-fields.js";
import { hiddenPaths, hideRequest } from "../sensitive/hidden-fields.js";

/** How long `POST /requests` waits for the policy and the surface before answering without them. */
export const INLINE_BUDGET_MS = 5_000;

/** The promise's value, or null when it has not settled within `ms`. */
async function withinBudget<T>(promise: Promise<T | null>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms).unref()));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long opening a request on a pull request may hold that pull request's lock. */
const PULL_LOCK_MS = 30_000;

/**
 * While the call that opened a request is still posting it past the agent's budget (waiting for
 * a slot of the installation's write budget, which all replicas share), it holds this lease in
 * the store, renewed, so another replica's safety-net job does not post it a second time.
 */
const POSTING_LEASE_MS = 60_000;

/** A replayed request younger than this may still be posted by its first call. */
const REPLAY_GRACE_MS = 30_000;

const invalid = (path: string, message: string) => invalidRequest([{ path, message }]);

/** Opening requests: the policy first, then the surface, safe to repeat after a crash. */
export function createOpening(ctx: EngineContext, batches: Batches) {
  const { store, github, clock, newId, log, audit, job, channelJobs, commit, mustGet, evaluate } = ctx;
  /** Requests this process is posting right now, which its own safety-net job must leave alone. */
  const posting = new Set<string>();
  /** This process, as the holder of posting leases. */
  const poster = newId("poster");
  const postingLock = (requestId: string) => `posting:${requestId}`;
  const predictions = createPredictions({ store });

  /** Holds the request's posting lease, renewed, until `done` settles; other replicas' safety nets wait. */
  function holdPosting(requestId: string, done: Promise<unknown>): void {
    const renew = () => store.acquireLock(postingLock(requestId), poster, POSTING_LEASE_MS).catch(() => false);
    const first = renew();
    const timer = setInterval(() => void renew(), POSTING_LEASE_MS / 3).unref();
    void done.finally(async () => {
      clearInterval(timer);
      await first;
      await store.releaseLock(postingLock(requestId), poster).catch(() => undefined);
    });
  }

  /**
   * Tries the repository's policy on a freshly stored request and either decides it by rule or
   * posts it on its surface. Runs inline when the agent asks, and again from the `open_surface`
   * job if the process died half-way, so it must be safe to repeat.
   */
  async function process(request: ApprovalRequest, attempt: number, loadedConfig?: LoadedConfig, pull?: PullRequestInfo): Promise<ApprovalRequest> {
    let current = request;
    if (!current.evaluation) {
      const loaded = loadedConfig ?? (await github.loadConfig(current.installationId, current.repo));
      const evaluation = await evaluate(current, loaded);
      const { outcome } = evaluation;
      /** Decided before its surface existed: by a rule, or by a prediction. */
      const decideNow = async (decided: ApprovalRequest, decider: Decider, details?: Record<string, unknown>) => {
        // Decided before its check run existed: the head it was decided on is the pull request's now.
        const headSha = decided.decision!.headSha ?? (await headOf(current, pull));
        const next = headSha ? { ...decided, decision: { ...decided.decision!, headSha } } : decided;
        const stored = await commit(next, current.version, [audit(next, "decided", decider, { ...details, ...shadowDetails(evaluation) })], next.callbackUrl ? [job(next, "callback", "decided")] : []);
        return stored ?? mustGet(current.id);
      };
      if (outcome.type === "decide") {
        return decideNow(finish({ ...current, evaluation }, { action: outcome.action, status: outcome.status, decidedBy: outcome.decider, justification: outcome.reason, via: outcome.via }, clock()), outcome.decider);
      }
      // No rule decided: a prediction may, where `.hitl.yml` asks for one (a rule always comes first).
      const prediction = loaded.error === null ? await predictSafely(current, loaded.config) : null;
      if (prediction?.decided && prediction.outcome !== null) {
        const decider: Decider = { type: "prediction", id: current.requestType! };
        const status = prediction.outcome === "approve" ? "approved" : "rejected";
        const decided = finish({ ...current, evaluation, prediction }, { action: prediction.outcome, status, decidedBy: decider, justification: prediction.sentence, via: "prediction" }, clock());
        return decideNow(decided, decider, { prediction: predictionEvidence(prediction) });
      }
      const stored = await commit({ ...current, evaluation, ...(prediction ? { prediction } : {}), updatedAt: clock().toISOString() }, current.version, [], []);
      if (!stored) return mustGet(current.id);
      current = stored;
    }
    if (current.status !== "pending" || current.surfaceRef) return current;
    if (current.surface.type === "issue") {
      const joined = current.batch ? current : await batches.join(current, (loadedConfig ?? (await github.loadConfig(current.installationId, current.repo))).config?.batch);
      if (joined?.batch) return joined.status === "pending" && !joined.surfaceRef ? batches.postIfDue({ ...joined, batch: joined.batch }) : joined;
      if (joined) current = joined;
      if (current.status !== "pending" || current.surfaceRef) return current;
    }
    const recent = await recentDecisions(store, current);
    const surfaceRef = await github.openSurface(current, { recent, attempt, ...(pull ? { pull } : {}) });
    for (let i = 0; i < CAS_ATTEMPTS; i++) {
      const next: ApprovalRequest = { ...current, surfaceRef, updatedAt: clock().toISOString() };
      // Ended (decided, expired, cancelled) while it was being posted: the job that ended it found
      // no surface to update, so this one brings the surface up to date, once.
      const ended = next.status !== "pending";
      if (ended) next.surfaceRef = { ...surfaceRef, openedAfterEnd: true };
      const catchUp = ended ? [job(next, "sync_surface", "surface_opened")] : channelJobs(next, "surface_opened");
      const stored = await commit(next, current.version, [audit(next, "surface_opened", { type: "system", reason: "surface opened" }, { ...surfaceRef, ...shadowDetails(current.evaluation) })], catchUp);
      if (stored) return stored;
      current = await mustGet(current.id);
      if (current.surfaceRef) return current;
    }
    throw new Error(`Could not record the surface of ${current.id} after ${CAS_ATTEMPTS} attempts`);
  }

  /** The prediction for a request, or null; a failure to read the history leaves the request to people. */
  async function predictSafely(request: ApprovalRequest, config: HitlConfig | null): Promise<PredictionRecord | null> {
    try {
      return await predictions.forRequest(request, config);
    } catch (error) {
      log.warn({ err: error, requestId: request.id }, "could not predict the request; people decide it");
      return null;
    }
  }

  /** A pull request's head commit: as read when the request was opened, else from GitHub; undefined for an issue. */
  async function headOf(request: ApprovalRequest, pull: PullRequestInfo | undefined): Promise<string | undefined> {
    if (request.surface.type !== "pull_request") return undefined;
    if (pull) return pull.headSha;
    return (await github.pullRequest(request.installationId, request.repo, request.surface.number))?.headSha;
  }

  /**
   * The policy the request is opened under, or a 400 naming every field that would lower the
   * repository's bar. Users only GitHub can place (write access, team membership) are looked up
   * one by one; without an installation (a simulation with a candidate file) they are not.
   */
  async function enforce(config: HitlConfig | null, input: NewRequestInput, installationId: number | null, now: Date): Promise<EffectivePolicy> {
    const result = effectivePolicy(config, input, now);
    if (!result.ok) throw invalidRequest(result.violations);
    const { policy } = result;
    if (installationId === null) return policy;
    const refused: FieldIssue[] = [];
    for (const { path, login } of policy.verify) {
      if (!(await github.mayDecide(installationId, input.repo, login, policy.policyApprovers))) {
        refused.push({ path, message: notAllowedMessage(login, policy.policyApprovers, input.repo) });
      }
    }
    if (refused.length > 0) throw invalidRequest(refused);
    return policy;
  }

  /** A 400 naming each approver the request names who may never decide it. */
  function refuseNeverDeciding(input: NewRequestInput, agent: Agent, pullRequestAuthor?: string): void {
    const issues = neverDeciding(input, [...(agent.githubLogins ?? []), ...(ctx.agentAccounts ?? []), ...(pullRequestAuthor ? [pullRequestAuthor] : [])]);
    if (issues.length > 0) throw invalidRequest(issues);
  }

  /** Checks what must hold before anything is stored: the agent, the policy, the pull request. */
  async function admit(input: NewRequestInput, agent: Agent, now: Date) {
    const installationId = await github.installationId(input.repo);
    if (installationId === null) {
      throw new HitlError("app_not_installed", 422, `The app is not installed on ${input.repo}, or the repository does not exist. Install it there first.`);
    }
    const loaded = await github.loadConfig(installationId, input.repo);
    mustBeListed(loaded, agent, input.repo);
    const policy = await enforce(loaded.config, input, installationId, now);
    if (input.surface.type !== "pull_request") refuseNeverDeciding(input, agent);
    if (input.surface.type !== "pull_request") return { installationId, loaded, policy, input, pull: undefined, wholePull: false };
    const wholePull = Object.keys(input.decisionData).length === 0;
    const pull = await github.pullRequest(installationId, input.repo, input.surface.number, { withFiles: wholePull });
    if (!pull) throw invalid("surface.number", `${input.repo} has no pull request #${input.surface.number}`);
    if (pull.state !== "open") throw invalid("surface.number", `pull request #${pull.number} is ${pull.merged ? "merged" : "closed"}`);
    refuseNeverDeciding(input, agent, pull.author);
    return { installationId, loaded, policy, input: wholePull ? { ...input, decisionData: summarisePull(pull) } : input, pull, wholePull };
  }

  /**
   * An agent retries a request whose first call never answered (the process died). Its
   * surface is posted now rather than by the safety-net job minutes later; a first call still
   * in flight (younger than the grace) is left to finish, so there is never a second issue.
   */
  async function resumeReplayed(request: ApprovalRequest, now: Date): Promise<ApprovalRequest> {
    const age = now.getTime() - new Date(request.createdAt).getTime();
    if (request.status !== "pending" || request.surfaceRef || age < REPLAY_GRACE_MS) return request;
    try {
      return await process(request, 2);
    } catch (error) {
      log.warn({ err: error, requestId: request.id }, "could not post a replayed request yet; its job will");
      return request;
    }
  }

  /**
   * One request at a time may wait on a pull request: branch protection reads only the newest
   * `hitl/approval` run on a commit, so a second request approved there would open the merge gate
   * for a first one nobody approved. Opens on one pull request take a short store lock, so two
   * racing calls (on any replica) cannot both pass the check. A replay of the waiting request's own
   * Idempotency-Key still gets that request back.
   */
  async function createOnPullRequest(request: ApprovalRequest, number: number, effects: Effects): Promise<{ request: ApprovalRequest; created: boolean }> {
    const lock = `pull:${request.repo}#${number}`;
    const busy = (detail: string) =>
      new HitlError("pull_request_busy", 409, `Pull request #${number} ${detail}; one request at a time may wait on a pull request. Wait for its decision, or cancel it, then ask again.`);
    if (!(await store.acquireLock(lock, request.id, PULL_LOCK_MS))) throw busy("has another request being opened right now");
    try {
      const replay = (other: ApprovalRequest) => request.idempotencyKey !== null && other.requestedBy === request.requestedBy && other.idempotencyKey === request.idempotencyKey;
      const waiting = (await store.findBySurface(request.repo, number)).find((other) => other.status === "pending" && !replay(other));
      // Another agent's request is not named: an agent learns nothing of requests it may not read.
      if (waiting) throw busy(waiting.requestedBy === request.requestedBy ? `already has a pending request, ${waiting.id}` : "already has a pending request");
      return await store.create(request, effects);
    } finally {
      await store.releaseLock(lock, request.id);
    }
  }

  /**
   * The request with its sensitive values sealed: those the agent marked and those `.hitl.yml`
   * forces for its type (which the agent cannot leave out). Without keys, a 422 rather than
   * storing them in clear.
   */
  function sealSensitive(request: ApprovalRequest, input: NewRequestInput, config: HitlConfig | null): ApprovalRequest {
    const forced = (config?.sensitive ?? []).filter((entry) => entry.request_type === "*" || entry.request_type === input.requestType).flatMap((entry) => entry.paths);
    const paths = presentPaths(request.decisionData, [...(input.sensitivePaths ?? []), ...forced]);
    if (paths.length === 0) return request;
    if (!ctx.sealingKeys) {
      throw new HitlError("sensitive_data_unsupported", 422, `This server keeps no sensitive data: set HITL_ENCRYPTION_KEYS. The request marks ${paths.join(", ")} as sensitive.`);
    }
    if (request.editableFields) {
      const editable = Object.keys(request.editableFields).filter((name) => paths.some((path) => path === name || path.startsWith(`${name}.`)));
      if (editable.length > 0) throw invalidRequest(editable.map((name) => ({ path: `editable_fields.${name}`, message: `${name} is sensitive; sensitive fields cannot be editable` })));
    }
    // Stage branches are tested against the stored request, which holds placeholders: a branch on
    // a sensitive field would never take, so an agent could mark a field to steer a request past a stage.
    const branching = (request.stages ?? []).flatMap((stage) => (stage.then ?? []).flatMap((branch) => testedFields(branch.when).filter((field) => touchesSensitive(field, paths)).map((field) => ({ stage: stage.name, field }))));
    if (branching.length > 0) {
      throw invalidRequest(branching.map(({ stage, field }) => ({ path: "sensitive", message: `${field} is tested by a branch of stage ${stage}; stages cannot branch on sensitive fields` })));
    }
    return sealRequest(ctx.sealingKeys, request, paths);
  }

  /**
   * The sealed request with the values `.hitl.yml`'s `context` keeps off GitHub taken out too
   * (sensitive ones are off already). What the agent sent decides nothing here: the paths come
   * from `.hitl.yml` alone, and a value people may edit must be shown to them, so it cannot be hidden.
   */
  function hideFromGitHub(request: ApprovalRequest, loaded: LoadedConfig): ApprovalRequest {
    // A broken file shows no more than it meant to: only what people may edit, until it is fixed.
    const visibility = loaded.error !== null ? { show: Object.keys(request.editableFields ?? {}) } : loaded.config?.context;
    const { paths, unnamed } = hiddenPaths(request.decisionData, visibility, request.sensitive?.paths ?? []);
    // The alternatives' data (a comparative table's rows) is shown by the same paths.
    const actionPaths = request.availableActions.map((action, index) => ({ index, id: action.id, ...hiddenPaths(action.data ?? {}, visibility) }));
    const unnameable = [
      ...unnamed.map((path) => `decision_data.${path}`),
      ...actionPaths.flatMap((action) => action.unnamed.map((path) => `available_actions.${action.index}.data.${path}`)),
    ];
    if (unnameable.length > 0) {
      throw invalidRequest(unnameable.map((path) => ({ path, message: "has a dot in its key, which no path can name, so it cannot be kept off GitHub as this repository's .hitl.yml asks (context.show, or a broken file, which shows no data); rename the key" })));
    }
    const editable = Object.keys(request.editableFields ?? {}).filter((name) => touchesSensitive(name, paths));
    if (editable.length > 0) throw invalidRequest(editable.map((name) => ({ path: `editable_fields.${name}`, message: `${name} is not shown on GitHub (.hitl.yml context); hidden fields cannot be editable` })));
    return hideRequest(request, paths, Object.fromEntries(actionPaths.map((action) => [action.id, action.paths])));
  }

  return {
    /**
     * Opens a request for an agent. Returns the first request again for a reused idempotency key.
     * `internal`: hitl's own request (a follow-up), whose key alone identifies it, opened at `now`
     * (the time its deadline was reckoned from). `budgetMs`: how long to wait for the policy and the
     * surface (default `INLINE_BUDGET_MS`; a batch shares one budget among its items).
     */
    async open(asked: NewRequestInput, agent: Agent, options: { internal?: boolean; now?: Date; budgetMs?: number } = {}): Promise<{ request: ApprovalRequest; created: boolean }> {
      const now = options.now ?? clock();
      const fingerprint = asked.idempotencyKey === undefined || options.internal ? undefined : idempotencyFingerprint(asked);
      const { installationId, loaded, policy, input, pull, wholePull } = await admit(asked, agent, now);
      const built = buildRequest(input, policy, { id: newId("req"), now, requestedBy: agent.name, installationId, agentLogins: agent.githubLogins });
      // The agent sent no data for a pull request: people decide the whole pull request, and a follow-up summarises it afresh.
      if (wholePull) built.asked = { ...built.asked, wholePullRequest: true };
      const notify = notifyRoutesFor(loaded.config, built.priority);
      if (notify.length > 0) built.notify = notify;
      // Kept as long as the environment and the repository's `.hitl.yml` said when it was opened.
      built.retention = requestRetention(ctx.retention ?? KEEP_FOREVER, loaded.config?.retention);
      const sealed = hideFromGitHub(sealSensitive(built, input, loaded.config), loaded);
      const request: ApprovalRequest = fingerprint === undefined ? sealed : { ...sealed, idempotencyFingerprint: fingerprint };
      const safetyNet = job(request, "open_surface", "created", new Date(now.getTime() + OPEN_SURFACE_GRACE_MS));
      const effects = { audit: [audit(request, "created", { type: "agent", name: agent.name })], jobs: [safetyNet] };
      const { request: stored, created } = request.surface.type === "pull_request" ? await createOnPullRequest(request, request.surface.number, effects) : await store.create(request, effects);
      if (!created) {
        // Requests stored before fingerprints were kept have none, and answer as they always did.
        if (stored.idempotencyFingerprint !== undefined && stored.idempotencyFingerprint !== fingerprint) {
          throw new HitlError(
            "idempotency_key_reused",
            422,
            `Idempotency-Key ${JSON.stringify(asked.idempotencyKey)} was already used for request ${stored.id} with a different body. Send the same body again to get that request back, or use a new key for a new request.`,
          );
        }
        return { request: await resumeReplayed(stored, now), created: false };
      }
      posting.add(stored.id);
      const processing = process(stored, 1, loaded, pull).finally(() => posting.delete(stored.id)).then(
        async (processed) => {
          // A batch's row has its own job, at the batch's time.
          if (processed.status !== "pending" || processed.surfaceRef || processed.batch) await store.completeJob(safetyNet.id);
          return processed;
        },
        async (error: unknown) => {
          // The request is stored: its safety-net job posts it once GitHub answers.
          log.warn({ err: error, requestId: stored.id }, "could not post the request on GitHub yet; it will be retried");
          await store.retryJob(safetyNet.id, new Date(clock().getTime() + retryDelayMs(1)), error instanceof Error ? error.message : String(error));
          return null;
        },
      );
      // The agent is not kept waiting on GitHub (whose write spacing can queue an issue for
      // seconds): past the budget it gets the stored request, and posting goes on without it.
      let settled = false;
      void processing.finally(() => (settled = true));
      const processed = await withinBudget(processing, Math.max(0, options.budgetMs ?? INLINE_BUDGET_MS));
      if (!settled) holdPosting(stored.id, processing);
      processing.catch((error: unknown) => log.error({ err: error, requestId: stored.id }, "could not record a failed post"));
      return { request: processed ?? (await store.get(stored.id)) ?? stored, created: true };
    },

    /**
     * Finishes what `open` could not, from the `open_surface` job. `attempt` counts the try
     * `open` made inline, so any value above 1 means an issue may already exist.
     */
    async resume(requestId: string, attempt: number): Promise<void> {
      // Still queued behind GitHub's write spacing here: posting it twice could make two issues.
      if (posting.has(requestId)) throw new Error("the request is still being posted by the call that opened it");
      if (!(await store.acquireLock(postingLock(requestId), poster, POSTING_LEASE_MS))) {
        throw new Error("the request is still being posted by the replica that opened it");
      }
      try {
        const request = await store.get(requestId);
        if (!request || request.status !== "pending" || request.surfaceRef) return;
        await process(request, attempt);
      } finally {
        await store.releaseLock(postingLock(requestId), poster).catch(() => undefined);
      }
    },

    /**
     * What would happen to a request, and why, without storing or posting anything. A candidate
     * policy is tried instead of the repository's when given.
     */
    async simulate(
      input: NewRequestInput,
      agent: Agent,
      candidate: LoadedConfig | null,
    ): Promise<{ request: ApprovalRequest; evaluation: Evaluation; config: LoadedConfig; policy: EffectivePolicy }> {
      const installationId = await github.installationId(input.repo);
      if (installationId === null && !candidate) {
        throw new HitlError("app_not_installed", 422, `The app is not installed on ${input.repo}; pass a candidate config to simulate without it.`);
      }
      // An agent the repository's own file keeps out learns nothing of it, candidate or not.
      const own = installationId === null ? null : await github.loadConfig(installationId, input.repo);
      if (own) mustBeListed(own, agent, input.repo);
      const loaded = candidate ?? own!;
      const now = clock();
      const policy = await enforce(loaded.config, input, installationId, now);
      const request = buildRequest(input, policy, { id: "req_simulated", now, requestedBy: agent.name, installationId: installationId ?? 0, agentLogins: agent.githubLogins });
      const evaluation = await evaluate(request, loaded, { dryRun: true });
      // What a prediction would do where no rule decides; the cache is read, never written.
      const prediction = evaluation.outcome.type === "human" && loaded.error === null ? await predictions.forRequest(request, loaded.config, { dryRun: true }) : null;
      return { request: { ...request, evaluation, ...(prediction ? { prediction } : {}) }, evaluation, config: loaded, policy };
    },
  };
}

/** `.hitl.yml`'s `agents:`, when it lists any, names every agent that may ask in the repository. */
function mustBeListed(loaded: LoadedConfig, agent: Agent, repo: string): void {
  const agents = loaded.config?.agents;
  if (agents && agents.length > 0 && !agents.includes(agent.name)) {
    throw new HitlError("agent_not_allowed", 403, `Agent ${agent.name} may not open requests in ${repo}: its ${loaded.file ?? ".hitl.yml"} lists agents ${agents.join(", ")}.`);
  }
}

/** Audit details naming what rules in `mode: shadow` would have done; they decided nothing. */
function shadowDetails(evaluation: Evaluation | null | undefined): { shadow: { rule: string; action: string }[] } | undefined {
  const shadow = evaluation?.shadow;
  return shadow?.length ? { shadow: shadow.map((match) => ({ rule: match.ruleId, action: match.action })) } : undefined;
}

/** What an approver of a whole pull request decides on: the size of the change and its files. */
function summarisePull(pull: PullRequestInfo): Record<string, unknown> {
  return {
    pull_request: `#${pull.number}`,
    author: pull.author,
    head_commit: pull.headSha.slice(0, 7),
    files_changed: pull.changedFiles,
    additions: pull.additions,
    deletions: pull.deletions,
    ...(pull.files ? { files: pull.files.slice(0, 30).map((file) => `${file.filename} (${file.status}, +${file.additions} −${file.deletions})`) } : {}),
  };
}
