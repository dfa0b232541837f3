import type { Person } from "../config/schema.js";
import { approverLists } from "../core/schedule.js";
import type { ApprovalRequest, Job, NotificationRecord } from "../core/types.js";
import { hasStages, outcomeOf, stageApproverLists } from "../core/vote.js";
import type { GitHubGateway, Logger } from "../engine/ports.js";
import { MAX_JOB_ATTEMPTS } from "../engine/retry-policy.js";
import { deliveryIdOf } from "../notify/callback.js";
import type { Store } from "../store/store.js";
import { ACTIONABLE_EVENTS, PermanentSendError, type ChannelSender, type Notification, type Recipient } from "./channel.js";
import { notificationEventOf, planNotifications } from "./plan.js";
import { levelRoute } from "./routes.js";

/** How many `people:` entries one event looks at (each may cost a permission or membership call). */
const MAX_AUDIENCE = 100;
/** Record writes race the request's other writes; they are small, so they are tried more often. */
const RECORD_ATTEMPTS = 20;
/** A record's `last_error` is cut to this many characters. */
const ERROR_LIMIT = 300;

export interface DispatcherDeps {
  store: Store;
  github: GitHubGateway;
  clock: () => Date;
  log: Logger;
  newId: (prefix: string) => string;
  onJobsQueued?: () => void;
  senders: ChannelSender[];
  /** Names of the environment's channels (`HITL_CHANNEL_<NAME>`): an escalation level's `notify` posts to those itself. */
  environmentChannels: ReadonlySet<string>;
  /** The request as JSON for programs (the API's shape without the checkpoint). */
  toChannelJson: (request: ApprovalRequest) => unknown;
  /** Every agent's GitHub accounts (`github=` in HITL_AGENT_TOKENS): they never decide, so they are never asked to. */
  agentAccounts?: string[];
}

/** The people of the request's repository (`.hitl.yml` `people:`, with `_extends`); none when the file is broken. */
export async function peopleOf(github: GitHubGateway, request: ApprovalRequest): Promise<Record<string, Person>> {
  const loaded = await github.loadConfig(request.installationId, request.repo);
  return loaded.config?.people ?? {};
}

/**
 * Runs the `channel_event` and `channel_send` jobs: who hears of an event and on which channels
 * (recorded on the request with the send jobs, in one compare-and-set, so an event is planned
 * once however often its job runs), then each send, retried by the job runner.
 */
export function createChannelDispatcher(deps: DispatcherDeps) {
  const { store, github, clock, log } = deps;
  const senders = new Map(deps.senders.map((sender) => [sender.kind, sender]));

  const sendJob = (request: ApprovalRequest, record: NotificationRecord, op: "send" | "update", runAt: Date): Job => ({
    id: deps.newId("job"),
    kind: "channel_send",
    requestId: request.id,
    reason: "decided",
    runAt: runAt.toISOString(),
    attempts: 0,
    lastError: null,
    notification: { key: record.key, op },
  });

  /**
   * Changes the request's notification records (and queues jobs) with a compare-and-set that
   * touches nothing else; `change` sees the stored request each time and returns null to stop.
   */
  /** Record writes of one request wait for each other in this process, so parallel sends do not race one another (nor a decision) for its version. */
  const writing = new Map<string, Promise<unknown>>();
  function changeRecords(id: string, change: (request: ApprovalRequest) => { records: NotificationRecord[]; jobs: Job[] } | null): Promise<ApprovalRequest | null> {
    const before = writing.get(id) ?? Promise.resolve();
    const mine = before.then(() => writeRecords(id, change));
    const settled = mine.catch(() => undefined);
    writing.set(id, settled);
    void settled.then(() => {
      if (writing.get(id) === settled) writing.delete(id);
    });
    return mine;
  }

  async function writeRecords(id: string, change: (request: ApprovalRequest) => { records: NotificationRecord[]; jobs: Job[] } | null): Promise<ApprovalRequest | null> {
    for (let i = 0; i < RECORD_ATTEMPTS; i++) {
      const current = await store.get(id);
      if (!current) return null;
      const changed = change(current);
      if (!changed) return current;
      const stored = await store.update({ ...current, notifications: changed.records }, current.version, { jobs: changed.jobs });
      if (stored) {
        if (changed.jobs.length > 0) deps.onJobsQueued?.();
        return stored;
      }
    }
    throw new Error(`could not record notifications on ${id}: it kept changing`);
  }

  /** The logins of `people` who may decide the request now (checked as a decision would be), never its requesters nor any agent's account. */
  async function mayDecideNow(request: ApprovalRequest, people: Record<string, Person>): Promise<string[]> {
    const requesters = new Set(
      [request.requestedBy, ...(request.agentLogins ?? []), ...(deps.agentAccounts ?? []), request.onBehalfOf, request.surfaceRef?.author]
        .filter((login): login is string => Boolean(login))
        .map((login) => login.toLowerCase()),
    );
    let lists = approverLists(request);
    if (hasStages(request) && request.status === "pending") {
      const open = outcomeOf(request, clock());
      if (open.type === "open") lists = stageApproverLists(request, open.stage);
    }
    const found: string[] = [];
    for (const login of Object.keys(people).slice(0, MAX_AUDIENCE)) {
      if (requesters.has(login.toLowerCase())) continue;
      let may = true;
      for (const approvers of lists) {
        if (!(await github.mayDecide(request.installationId, request.repo, login, approvers))) {
          may = false;
          break;
        }
      }
      if (may) found.push(login);
    }
    return found;
  }

  async function fanOut(request: ApprovalRequest, job: Job): Promise<void> {
    const ended = request.status !== "pending";
    const happened = notificationEventOf(job.reason, request);
    const step = job.reason === "escalated" ? request.escalation.ladder[request.escalation.level - 1] : undefined;
    const level = levelRoute(step, deps.environmentChannels);
    const routes = [...(level ? [level] : []), ...(request.notify ?? [])];
    const wanted = happened !== null && routes.some((route) => route.events.includes(happened.event));
    // An event nobody is to hear, on a request with nothing out there to update: done.
    const outstanding = (request.notifications ?? []).some((record) => ACTIONABLE_EVENTS.has(record.event) && record.state === "sent");
    if (!wanted && !(ended && outstanding)) return;
    if (happened && (happened.event === "opened" || happened.event === "warning" || happened.event === "escalated") && ended) return;

    let audience: string[] = [];
    let people: Record<string, Person> = {};
    if (wanted) {
      people = await peopleOf(github, request);
      audience = await mayDecideNow(request, people);
      if (ended) {
        const told = (request.notifications ?? []).filter((record) => record.recipient.startsWith("@")).map((record) => record.recipient.slice(1));
        audience = [...new Set([...audience, ...told.filter((login) => people[login])])];
      }
    }
    const now = clock();
    let unconfigured: string[] = [];
    await changeRecords(request.id, (current) => {
      const records = [...(current.notifications ?? [])];
      const jobs: Job[] = [];
      if (happened && wanted) {
        const plan = planNotifications({ request: current, ...happened, routes, people, audience, senders, now });
        unconfigured = plan.unconfigured;
        for (const record of plan.records) {
          records.push(record);
          jobs.push(sendJob(current, record, "send", record.heldUntil ? new Date(record.heldUntil) : now));
        }
      }
      if (current.status !== "pending") {
        for (const record of records) {
          const sender = senders.get(record.channel);
          if (ACTIONABLE_EVENTS.has(record.event) && record.state === "sent" && (sender?.update || sender?.withdraw)) jobs.push(sendJob(current, record, "update", now));
        }
      }
      return jobs.length > 0 ? { records, jobs } : null;
    });
    if (unconfigured.length > 0) log.warn({ requestId: request.id, channels: unconfigured }, "notify names channels that are not configured; they were skipped");
  }

  const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, ERROR_LIMIT);

  function withRecord(key: string, edit: (record: NotificationRecord, request: ApprovalRequest) => { record: NotificationRecord; jobs?: Job[] } | null) {
    return (current: ApprovalRequest) => {
      const records = current.notifications ?? [];
      const index = records.findIndex((record) => record.key === key);
      if (index < 0) return null;
      const edited = edit(records[index]!, current);
      if (!edited) return null;
      return { records: records.map((record, at) => (at === index ? edited.record : record)), jobs: edited.jobs ?? [] };
    };
  }

  async function recipientOf(request: ApprovalRequest, record: NotificationRecord, sender: ChannelSender): Promise<Recipient | null> {
    if (!record.recipient.startsWith("@")) return { login: null, person: null, address: record.recipient };
    const login = record.recipient.slice(1);
    const person = (await peopleOf(github, request))[login];
    const address = person ? sender.addressOf(person) : null;
    return person && address ? { login, person, address } : null;
  }

  async function deliver(request: ApprovalRequest, job: Job): Promise<void> {
    const spec = job.notification;
    const record = request.notifications?.find((candidate) => candidate.key === spec?.key);
    if (!spec || !record) return;
    const sender = senders.get(record.channel);
    const now = clock();
    const notification: Notification = {
      event: record.event,
      eventKey: record.eventKey,
      request,
      requestJson: deps.toChannelJson(request),
      now,
      deliveryId: deliveryIdOf(job.id),
    };
    const mark = (state: NotificationRecord["state"], extra: Partial<NotificationRecord> = {}) =>
      changeRecords(request.id, withRecord(record.key, (stored) => ({ record: { ...stored, state, attempts: job.attempts, ...extra } })));

    if (spec.op === "update") {
      if (record.state !== "sent" || !record.ref || !sender) return;
      const recipient = (await recipientOf(request, record, sender)) ?? { login: null, person: null, address: record.recipient };
      if (sender.update) await sender.update(notification, recipient, record.ref);
      else if (sender.withdraw) await sender.withdraw(notification, recipient, record.ref);
      await changeRecords(request.id, withRecord(record.key, (stored) => ({ record: { ...stored, state: "updated" } })));
      return;
    }
    if (record.state !== "queued" && record.state !== "held" && record.state !== "retrying") return;
    if (!sender) {
      await mark("failed", { lastError: `the ${record.channel} channel is not configured` });
      return;
    }
    if (ACTIONABLE_EVENTS.has(record.event) && request.status !== "pending") {
      await mark("withdrawn");
      return;
    }
    const recipient = await recipientOf(request, record, sender);
    if (!recipient) {
      await mark("failed", { lastError: `${record.recipient} has no ${record.channel} address in people:` });
      return;
    }
    const thread = request.notifications?.find((other) => other.channel === record.channel && other.recipient === record.recipient && other.ref && other.key !== record.key)?.ref;
    let ref: Record<string, string> | undefined;
    try {
      ref = (await sender.send(thread ? { ...notification, thread } : notification, recipient)).ref;
    } catch (error) {
      const permanent = error instanceof PermanentSendError || job.attempts >= MAX_JOB_ATTEMPTS;
      await mark(permanent ? "failed" : "retrying", { lastError: errorText(error) });
      log.warn({ requestId: request.id, channel: record.channel, recipient: record.recipient, attempts: job.attempts, error: errorText(error), gaveUp: permanent }, "a notification could not be sent");
      if (permanent) return;
      throw error;
    }
    // The request may have ended while the message went out: then it is updated at once.
    await changeRecords(
      request.id,
      withRecord(record.key, (stored, current) => {
        const sent: NotificationRecord = { ...stored, state: "sent", attempts: job.attempts, lastError: null, ...(ref ? { ref } : {}) };
        const late = current.status !== "pending" && ACTIONABLE_EVENTS.has(sent.event) && ref && (sender.update || sender.withdraw);
        return { record: sent, jobs: late ? [sendJob(current, sent, "update", clock())] : [] };
      }),
    );
  }

  return {
    /** Whether a channel kind can be sent on. */
    has: (kind: string) => senders.has(kind),
    fanOut,
    deliver,
  };
}

export type ChannelDispatcher = ReturnType<typeof createChannelDispatcher>;
