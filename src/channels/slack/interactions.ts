import type { IncomingMessage, ServerResponse } from "node:http";
import { readBody, sendError } from "../../api/http.js";
import { HitlError } from "../../engine/errors.js";
import type { ApprovalRequest, Job } from "../../core/types.js";
import type { Engine } from "../../engine/engine.js";
import type { ChannelOutcome } from "../../engine/decide-request.js";
import type { GitHubGateway, Logger } from "../../engine/ports.js";
import type { Store } from "../../store/store.js";
import { peopleOf } from "../dispatcher.js";
import { readActionRef, type ActionRef } from "./action-ref.js";
import { needsForm, outcomeMessage, outcomeSentence } from "./blocks.js";
import { decisionForm, readForm, FORM_CALLBACK_ID, type FormMetadata } from "./form.js";
import { verifySlackRequest } from "./signature.js";
import type { SlackCall, SlackSettings } from "./slack-api.js";

export const SLACK_INTERACTIONS_PATH = "/api/v1/slack/interactions";
/** An interaction is remembered this long, so a replay inside Slack's timestamp window (and well past it) is refused. */
const REPLAY_MEMORY_MS = 60 * 60_000;
const VIEWS_OPEN_TIMEOUT_MS = 2_000;
/** Interaction bodies are small; Slack's are a few kilobytes. */
const MAX_BODY_BYTES = 256 * 1024;

/** What a `channel_input` job carries of a Slack interaction. */
export interface SlackInput {
  user: string;
  ref: ActionRef;
  /** The message the button was on, to update in place and to answer in. */
  message?: { channel: string; ts: string };
  justification?: string;
  reasonCode?: string;
  editedFields?: Record<string, unknown>;
}

export interface SlackInteractionDeps {
  settings: SlackSettings;
  call: SlackCall;
  store: Store;
  engine: Pick<Engine, "decideFromChannel">;
  github: GitHubGateway;
  clock: () => Date;
  log: Logger;
  newId: (prefix: string) => string;
  onJobsQueued?: () => void;
}

const header = (req: IncomingMessage, name: string) => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const text = (value: unknown) => (typeof value === "string" ? value : undefined);

/**
 * Slack's interactivity endpoint. A press is checked (signature, five-minute window, a button
 * hitl signed), claimed once by its trigger id (a replay is refused), and written to the store
 * as a `channel_input` job on its request before Slack gets its 200: the decision is applied
 * after the answer, within Slack's 3 seconds, and nothing acknowledged can be lost. Where the
 * request asks for a justification, a reason code or allows edits, the press opens a form instead
 * (`views.open` needs the trigger at once); its submission is the decision.
 */
export function createSlackInteractions(deps: SlackInteractionDeps) {
  const { settings, call, store, clock, log } = deps;

  async function queue(requestId: string, input: SlackInput): Promise<boolean> {
    for (let i = 0; i < 10; i++) {
      const current = await store.get(requestId);
      if (!current) return false;
      const job: Job = { id: deps.newId("job"), kind: "channel_input", requestId, reason: "decided", runAt: clock().toISOString(), attempts: 0, lastError: null, input: { channel: "slack", payload: { ...input } } };
      if (await store.update(current, current.version, { jobs: [job] })) {
        deps.onJobsQueued?.();
        return true;
      }
    }
    throw new Error(`could not queue a Slack decision on ${requestId}: it kept changing`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST") return sendError(res, 405, "method_not_allowed", "Use POST.");
    const raw = (await readBody(req, MAX_BODY_BYTES)).toString("utf8");
    const problem = verifySlackRequest(settings.signingSecret, { timestamp: header(req, "x-slack-request-timestamp"), signature: header(req, "x-slack-signature") }, raw, clock());
    if (problem) {
      log.warn({ problem }, "Slack interaction refused: its signature does not hold");
      const message = problem === "stale" ? "X-Slack-Request-Timestamp is more than 5 minutes away from now." : "X-Slack-Signature does not match the body.";
      return sendError(res, 401, "unauthorized", message);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(new URLSearchParams(raw).get("payload") ?? "");
    } catch {
      return sendError(res, 400, "invalid_request", "The body has no JSON payload field.");
    }
    if (!isRecord(payload) || !isRecord(payload.user) || typeof payload.user.id !== "string") return sendError(res, 400, "invalid_request", "The payload names no user.");
    const user = payload.user.id;
    const trigger = text(payload.trigger_id);

    let ref: ActionRef | null = null;
    let input: Omit<SlackInput, "user" | "ref"> = {};
    let replayId: string | undefined;
    if (payload.type === "block_actions") {
      const action = Array.isArray(payload.actions) && isRecord(payload.actions[0]) ? payload.actions[0] : null;
      ref = readActionRef(settings.signingSecret, action?.value);
      const container = isRecord(payload.container) ? payload.container : {};
      const channel = text(container.channel_id) ?? (isRecord(payload.channel) ? text(payload.channel.id) : undefined);
      const ts = text(container.message_ts);
      if (channel && ts) input = { message: { channel, ts } };
      replayId = trigger ?? (action ? `${user}:${text(action.action_ts)}` : undefined);
    } else if (payload.type === "view_submission" && isRecord(payload.view) && payload.view.callback_id === FORM_CALLBACK_ID) {
      const view = payload.view;
      let meta: FormMetadata;
      try {
        meta = JSON.parse(text(view.private_metadata) ?? "") as FormMetadata;
      } catch {
        return sendError(res, 400, "invalid_request", "The form's private_metadata is not hitl's.");
      }
      ref = readActionRef(settings.signingSecret, meta.ref);
      const request = ref ? await store.get(ref.requestId) : null;
      input = { ...readForm(view.state, meta, request), ...(meta.message ? { message: meta.message } : {}) };
      replayId = text(view.id) ? `view:${text(view.id)}:${text(view.hash)}` : undefined;
    } else {
      // Other interactions (a modal closed, a shortcut) carry no decision.
      res.writeHead(200).end();
      return;
    }
    if (!ref) return sendError(res, 400, "invalid_request", "The action is not a button hitl signed.");
    if (!replayId) return sendError(res, 400, "invalid_request", "The payload has no trigger_id.");
    const claim = await store.claimDelivery(`slack:${replayId}`, REPLAY_MEMORY_MS);
    if (claim !== "claimed") {
      log.warn({ requestId: ref.requestId, user }, "Slack interaction refused: it was received before (a replay)");
      return sendError(res, 409, "replayed", "This interaction was received before.");
    }
    try {
      if (payload.type === "block_actions") {
        const request = await store.get(ref.requestId);
        if (request && request.status === "pending" && needsForm(request) && trigger) {
          // The trigger lapses 3 s after the press, and Slack wants its answer by then too.
          await call("views.open", { trigger_id: trigger, view: decisionForm(request, ref, input.message, settings.signingSecret) }, VIEWS_OPEN_TIMEOUT_MS);
          await store.finishDelivery(`slack:${replayId}`, true);
          res.writeHead(200).end();
          return;
        }
      }
      const queued = await queue(ref.requestId, { user, ref, ...input });
      await store.finishDelivery(`slack:${replayId}`, true);
      if (!queued) log.warn({ requestId: ref.requestId }, "Slack button for a request hitl does not have");
    } catch (error) {
      await store.finishDelivery(`slack:${replayId}`, false).catch(() => undefined);
      throw error;
    }
    res.writeHead(200).end();
  }

  /**
   * Tells the person, only them, what came of their press. Best effort: the decision is made by
   * then, and a retry of the job would only answer "already decided".
   */
  async function answer(input: SlackInput, words: string): Promise<void> {
    try {
      if (input.message) await call("chat.postEphemeral", { channel: input.message.channel, user: input.user, text: words });
      else await call("chat.postMessage", { channel: input.user, text: words });
    } catch (error) {
      log.warn({ err: error, slackUser: input.user }, "could not answer a Slack press");
    }
  }

  /** Applies a press, from its `channel_input` job: who the Slack user is, then the decision as theirs. */
  async function apply(request: ApprovalRequest, job: Job): Promise<void> {
    if (job.input?.channel !== "slack") return;
    const input = job.input.payload as unknown as SlackInput;
    const people = await peopleOf(deps.github, request);
    const logins = Object.entries(people).filter(([, person]) => person.slack === input.user).map(([login]) => login);
    if (logins.length !== 1) {
      log.warn({ requestId: request.id, slackUser: input.user }, "Slack user not mapped to a login in people:; nothing decided");
      await answer(input, `Your Slack account (${input.user}) is not linked to a GitHub login in the people: of ${request.repo}'s .hitl.yml, so nothing was decided. Ask its maintainers to add you.`);
      return;
    }
    const login = logins[0]!;
    const outcome = await deps.engine.decideFromChannel({
      requestId: input.ref.requestId,
      login,
      action: input.ref.action,
      via: "slack",
      ...(input.ref.headSha ? { headSha: input.ref.headSha } : {}),
      ...(input.justification !== undefined ? { justification: input.justification } : {}),
      ...(input.reasonCode !== undefined ? { reasonCode: input.reasonCode } : {}),
      ...(input.editedFields !== undefined ? { editedFields: input.editedFields } : {}),
    });
    log.info({ requestId: request.id, login, outcome: outcome.type }, "decision from Slack");
    if ((outcome.type === "decided" || outcome.type === "already_decided") && input.message) {
      // Best effort too: the messages hitl recorded are also updated by the end's own job.
      await call("chat.update", { channel: input.message.channel, ts: input.message.ts, ...outcomeMessage(outcome.request) }).catch((error: unknown) =>
        log.warn({ err: error, requestId: request.id }, "could not update the pressed Slack message"),
      );
    }
    const words = replyFor(outcome, login, input.ref.action);
    if (words) await answer(input, words);
  }

  return {
    /** A Probot server handler: true for the interactions path, false for any other. */
    async handler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      if (new URL(req.url ?? "/", "http://x").pathname !== SLACK_INTERACTIONS_PATH) return false;
      try {
        await handle(req, res);
      } catch (error) {
        if (error instanceof HitlError) {
          if (!res.headersSent) sendError(res, error.status, error.code, error.message);
          return true;
        }
        log.error({ err: error }, "Slack interaction failed; Slack shows the person an error");
        if (!res.headersSent) sendError(res, 503, "store_unavailable", "The interaction could not be recorded; try again.");
      }
      return true;
    },
    apply,
  };
}

/** What the person who pressed is told, only them; null when the updated message says it. */
export function replyFor(outcome: ChannelOutcome, login: string, action: string): string | null {
  switch (outcome.type) {
    case "decided":
      return null;
    case "voted":
      return `Your vote (${action}) counts, as ${login}. The request waits for more votes.`;
    case "already_decided":
      return `Nothing was decided: this request is already ${outcome.request.status}. ${outcomeSentence(outcome.request)}`;
    case "refused":
      if (outcome.reason === "requester") return `Nothing was decided: ${login} asked for this request (or the agent acts for ${login}), and nobody decides their own request.`;
      return `Nothing was decided: ${login} is not among those who may decide this request (${outcome.allowed.length > 0 ? outcome.allowed.join(", ") : "anyone with write access"}).`;
    case "past_deadline":
      return "Nothing was decided: the deadline has passed, and the fallback applies.";
    case "old_head":
      return "Nothing was decided: new commits were pushed after this message was sent. See the request on GitHub.";
    case "needs_input":
      return outcome.problem.type === "feedback"
        ? `Nothing was decided: this request needs ${outcome.problem.missing === "reason_code" ? `a reason code (${outcome.problem.policy.reasons.join(", ")})` : `a justification of at least ${outcome.problem.policy.minLength} characters`}.`
        : `Nothing was decided: ${outcome.problem.problems.join("; ")}.`;
    case "unknown_action":
      return "Nothing was decided: the request does not offer that action.";
    case "vote_refused":
      if (outcome.reason === "counted_earlier") return "Nothing was decided: your vote counted in an earlier stage, and one person counts in one stage only.";
      if (outcome.reason === "stage_closed") return "Nothing was decided: the open stage has timed out.";
      return "Nothing was decided: you have no vote to withdraw.";
    case "stale":
      return "Nothing was decided: the request changed after this message was sent. See it on GitHub.";
    case "not_found":
      return `Nothing was decided: there is no request ${outcome.requestId}.`;
  }
}
