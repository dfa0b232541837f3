import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApprovalRequest, Priority } from "../../src/core/types.js";
import type { Store } from "../../src/store/store.js";
import { makeAudit, makeJob, makeRequest } from "../support/fixtures.js";

export type StoreFactory = () => Promise<{ store: Store; cleanup(): Promise<void> }>;

const BASE = Date.parse("2026-11-24T10:00:00.000Z");
/** The time `minutes` after the base time, as ISO. */
const at = (minutes: number): string => new Date(BASE + minutes * 60_000).toISOString();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function approved(request: ApprovalRequest, minutes = 5): ApprovalRequest {
  return {
    ...request,
    status: "approved",
    updatedAt: at(minutes),
    escalation: { ...request.escalation, nextAt: null },
    decision: {
      action: "approve",
      status: "approved",
      decidedBy: { type: "human", login: "alice" },
      justification: "looks right",
      decidedAt: at(minutes),
      via: "comment",
    },
  };
}

/** Every adapter must pass this suite; it is the executable form of the Store doc comments. */
export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name}: Store contract`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });

    afterEach(async () => {
      await cleanup();
    });

    describe("create and get", () => {
      it("stores a new request at version 1 and reads it back unchanged", async () => {
        const request = makeRequest({ version: 7, decisionData: { amount: 120.5, nested: { list: [1, "two", null] } } });
        const result = await store.create(request);
        expect(result).toEqual({ request: { ...request, version: 1 }, created: true });
        expect(await store.get(request.id)).toEqual({ ...request, version: 1 });
      });

      it("answers null for an unknown id", async () => {
        expect(await store.get("req_missing")).toBeNull();
      });

      it("refuses a second request with an id already stored", async () => {
        const request = makeRequest();
        await store.create(request);
        await expect(store.create({ ...request, taskDescription: "other" })).rejects.toThrow(request.id);
        expect((await store.get(request.id))?.taskDescription).toBe(request.taskDescription);
      });

      it("refuses a request or job whose times do not parse, writing nothing", async () => {
        const request = makeRequest({ createdAt: "yesterday" });
        await expect(store.create(request)).rejects.toThrow(/yesterday/);
        const good = makeRequest();
        await expect(store.create(good, { jobs: [makeJob(good, { runAt: "soon" })] })).rejects.toThrow(/soon/);
        expect(await store.get(request.id)).toBeNull();
        expect(await store.get(good.id)).toBeNull();
        expect(await store.pendingJobs()).toEqual([]);
        expect(await store.create(good)).toEqual({ request: good, created: true });
      });

      it("writes the audit entries and jobs with the request", async () => {
        const request = makeRequest();
        const entry = makeAudit(request);
        const job = makeJob(request);
        await store.create(request, { audit: [entry], jobs: [job] });
        expect(await store.audit(request.repo)).toEqual([entry]);
        expect(await store.pendingJobs()).toEqual([job]);
      });

      it("returns the first request again when the same agent reuses an idempotency key, writing nothing", async () => {
        const first = makeRequest({ idempotencyKey: "refund-1234", requestedBy: "refund-agent" });
        await store.create(first, { audit: [makeAudit(first)], jobs: [makeJob(first)] });
        const again = makeRequest({ idempotencyKey: "refund-1234", requestedBy: "refund-agent", taskDescription: "again" });
        const result = await store.create(again, { audit: [makeAudit(again)], jobs: [makeJob(again)] });
        expect(result).toEqual({ request: first, created: false });
        expect(await store.get(again.id)).toBeNull();
        expect(await store.audit(first.repo)).toHaveLength(1);
        expect(await store.pendingJobs()).toHaveLength(1);
      });

      it("creates a new request when another agent uses the same idempotency key", async () => {
        const first = makeRequest({ idempotencyKey: "k:1", requestedBy: "agent-a" });
        const other = makeRequest({ idempotencyKey: "k:1", requestedBy: "agent-b" });
        // Separators in names must not make different (agent, key) pairs collide.
        const tricky = makeRequest({ idempotencyKey: "1", requestedBy: "agent-a:k" });
        await store.create(first);
        expect(await store.create(other)).toEqual({ request: other, created: true });
        expect(await store.create(tricky)).toEqual({ request: tricky, created: true });
      });

      it("keeps the first request for a key after it changed", async () => {
        const first = makeRequest({ idempotencyKey: "k", requestedBy: "agent-a" });
        await store.create(first);
        await store.update(approved(first), 1);
        const result = await store.create(makeRequest({ idempotencyKey: "k", requestedBy: "agent-a" }));
        expect(result.created).toBe(false);
        expect(result.request).toMatchObject({ id: first.id, status: "approved", version: 2 });
      });

      it("hands out copies: changing a returned request changes nothing stored", async () => {
        const request = makeRequest();
        const { request: created } = await store.create(request);
        created.decisionData.amount = 1;
        const read = (await store.get(request.id))!;
        read.approvers.push("mallory");
        expect(await store.get(request.id)).toEqual({ ...request, version: 1 });
      });
    });

    describe("update (compare-and-set)", () => {
      it("writes the next version and its effects when the version still matches", async () => {
        const request = makeRequest();
        const created = makeAudit(request);
        await store.create(request, { audit: [created] });
        const next = approved(request);
        const decided = makeAudit(next, { event: "decided", action: "approve" });
        const callback = makeJob(next, { kind: "callback", reason: "decided" });
        const stored = await store.update(next, 1, { audit: [decided], jobs: [callback] });
        expect(stored).toEqual({ ...next, version: 2 });
        expect(await store.get(request.id)).toEqual({ ...next, version: 2 });
        expect(await store.audit(request.repo)).toEqual([created, decided]);
        expect(await store.pendingJobs()).toEqual([callback]);
      });

      it("sets the version itself, whatever `next` carries", async () => {
        const request = makeRequest();
        await store.create(request);
        expect((await store.update({ ...request, version: 41 }, 1))?.version).toBe(2);
        expect((await store.update({ ...request, version: 1 }, 2))?.version).toBe(3);
      });

      it("writes nothing and answers null when another write came first", async () => {
        const request = makeRequest();
        await store.create(request);
        const first = await store.update({ ...request, approvers: ["bob"] }, 1);
        expect(first?.version).toBe(2);
        const late = approved(request);
        const stale = await store.update(late, 1, { audit: [makeAudit(late, { event: "decided" })], jobs: [makeJob(late)] });
        expect(stale).toBeNull();
        expect(await store.get(request.id)).toEqual({ ...request, approvers: ["bob"], version: 2 });
        expect(await store.audit(request.repo)).toEqual([]);
        expect(await store.pendingJobs()).toEqual([]);
      });

      it("answers null for a request that does not exist", async () => {
        expect(await store.update(makeRequest(), 1)).toBeNull();
      });

      it("lets exactly one of many concurrent writers of the same version win", async () => {
        const request = makeRequest();
        await store.create(request);
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) => store.update({ ...request, approvers: [`user${i}`] }, 1)),
        );
        const winners = results.filter((r) => r !== null);
        expect(winners).toHaveLength(1);
        expect(await store.get(request.id)).toEqual(winners[0]);
      });
    });

    describe("findBySurface", () => {
      it("finds the requests on an issue or pull request of a repository, newest first", async () => {
        const older = makeRequest({ surface: { type: "pull_request", number: 42 }, createdAt: at(0) });
        const newer = makeRequest({ surface: { type: "pull_request", number: 42 }, createdAt: at(10) });
        const otherRepo = makeRequest({ repo: "octo-org/other", surface: { type: "pull_request", number: 42 } });
        const otherPull = makeRequest({ surface: { type: "pull_request", number: 43 } });
        for (const r of [older, newer, otherRepo, otherPull]) await store.create(r);
        expect((await store.findBySurface("octo-org/payments", 42)).map((r) => r.id)).toEqual([newer.id, older.id]);
        expect((await store.findBySurface("octo-org/other", 42)).map((r) => r.id)).toEqual([otherRepo.id]);
        expect(await store.findBySurface("octo-org/payments", 44)).toEqual([]);
      });

      it("finds an issue request once its issue was opened", async () => {
        const request = makeRequest({ surface: { type: "issue" } });
        await store.create(request);
        expect(await store.findBySurface(request.repo, 7)).toEqual([]);
        const posted = { ...request, surfaceRef: { type: "issue" as const, number: 7, url: "https://github.com/octo-org/payments/issues/7" } };
        await store.update(posted, 1);
        expect(await store.findBySurface(request.repo, 7)).toEqual([{ ...posted, version: 2 }]);
      });
    });

    describe("list", () => {
      it("orders pending requests critical first, then oldest first", async () => {
        const spec: Array<[Priority, number]> = [
          ["low", 0],
          ["critical", 30],
          ["high", 5],
          ["normal", 1],
          ["high", 20],
          ["critical", 10],
        ];
        const requests = spec.map(([priority, minutes]) => makeRequest({ priority, createdAt: at(minutes) }));
        for (const r of requests) await store.create(r);
        const listed = await store.list({ status: "pending" });
        expect(listed.map((r) => [r.priority, r.createdAt])).toEqual([
          ["critical", at(10)],
          ["critical", at(30)],
          ["high", at(5)],
          ["high", at(20)],
          ["normal", at(1)],
          ["low", at(0)],
        ]);
      });

      it("orders other statuses, and no status, newest first", async () => {
        const requests = [0, 20, 10, 30].map((minutes) => makeRequest({ createdAt: at(minutes), priority: "critical" }));
        for (const r of requests) await store.create(r);
        for (const r of requests.slice(0, 3)) await store.update(approved(r), 1);
        expect((await store.list({ status: "approved" })).map((r) => r.createdAt)).toEqual([at(20), at(10), at(0)]);
        expect((await store.list({})).map((r) => r.createdAt)).toEqual([at(30), at(20), at(10), at(0)]);
        expect((await store.list({ status: "pending" })).map((r) => r.id)).toEqual([requests[3]!.id]);
        expect(await store.list({ status: "rejected" })).toEqual([]);
      });

      it("filters by repository, status and request type, and keeps to the limit", async () => {
        const a = makeRequest({ repo: "octo-org/a", requestType: "refund", createdAt: at(1) });
        const b = makeRequest({ repo: "octo-org/a", requestType: "deploy", createdAt: at(2) });
        const c = makeRequest({ repo: "octo-org/b", requestType: "refund", createdAt: at(3) });
        const d = makeRequest({ repo: "octo-org/a", requestType: "refund", createdAt: at(4) });
        for (const r of [a, b, c, d]) await store.create(r);
        await store.update(approved(d), 1);
        const ids = async (query: Parameters<Store["list"]>[0]) => (await store.list(query)).map((r) => r.id);
        expect(await ids({ repo: "octo-org/a" })).toEqual([d.id, b.id, a.id]);
        expect(await ids({ repo: "octo-org/a", requestType: "refund" })).toEqual([d.id, a.id]);
        expect(await ids({ repo: "octo-org/a", status: "pending" })).toEqual([a.id, b.id]);
        expect(await ids({ requestType: "refund", status: "pending" })).toEqual([a.id, c.id]);
        expect(await ids({ requestType: "refund" })).toEqual([d.id, c.id, a.id]);
        expect(await ids({ repo: "octo-org/a", limit: 2 })).toEqual([d.id, b.id]);
        expect(await ids({ status: "pending", limit: 1 })).toEqual([a.id]);
        expect(await ids({ repo: "octo-org/none" })).toEqual([]);
      });

      it("filters by the agent that opened the request, alone and with every other filter", async () => {
        const mine = (overrides: Parameters<typeof makeRequest>[0]) => makeRequest({ requestedBy: "refund-agent", ...overrides });
        const theirs = (overrides: Parameters<typeof makeRequest>[0]) => makeRequest({ requestedBy: "deploy-bot", ...overrides });
        const a = mine({ repo: "octo-org/a", requestType: "refund", createdAt: at(1) });
        const b = theirs({ repo: "octo-org/a", requestType: "refund", createdAt: at(2) });
        const c = mine({ repo: "octo-org/b", requestType: "deploy", createdAt: at(3), priority: "critical" });
        const d = theirs({ repo: "octo-org/b", requestType: "deploy", createdAt: at(4), priority: "critical" });
        const e = mine({ repo: "octo-org/a", requestType: "refund", createdAt: at(5) });
        for (const r of [a, b, c, d, e]) await store.create(r);
        await store.update(approved(e), 1);
        const ids = async (query: Parameters<Store["list"]>[0]) => (await store.list(query)).map((r) => r.id);
        expect(await ids({ requestedBy: "refund-agent" })).toEqual([e.id, c.id, a.id]);
        expect(await ids({ requestedBy: "deploy-bot" })).toEqual([d.id, b.id]);
        expect(await ids({ requestedBy: "refund-agent", repo: "octo-org/a" })).toEqual([e.id, a.id]);
        expect(await ids({ requestedBy: "refund-agent", status: "pending" })).toEqual([c.id, a.id]);
        expect(await ids({ requestedBy: "refund-agent", repo: "octo-org/a", status: "pending" })).toEqual([a.id]);
        expect(await ids({ requestedBy: "deploy-bot", requestType: "deploy" })).toEqual([d.id]);
        expect(await ids({ requestedBy: "refund-agent", limit: 2 })).toEqual([e.id, c.id]);
        expect(await ids({ requestedBy: "nobody" })).toEqual([]);
      });

      it("filters by workflow id, alone and with every other filter, following status changes", async () => {
        const flow = (workflowId: string | null, overrides: Parameters<typeof makeRequest>[0]) => makeRequest({ workflowId, ...overrides });
        const a = flow("run-7", { repo: "octo-org/a", requestType: "refund", createdAt: at(1), requestedBy: "refund-agent" });
        const b = flow("run-7", { repo: "octo-org/b", requestType: "deploy", createdAt: at(2), priority: "critical", requestedBy: "refund-agent" });
        const c = flow("run-8", { repo: "octo-org/a", requestType: "refund", createdAt: at(3), requestedBy: "refund-agent" });
        const d = flow("run-7", { repo: "octo-org/a", requestType: "refund", createdAt: at(4), requestedBy: "deploy-bot" });
        const e = flow(null, { repo: "octo-org/a", requestType: "refund", createdAt: at(5), requestedBy: "refund-agent" });
        // Any characters, as agents send them; a prefix of another id is another id.
        const f = flow("run-7:x y/é", { createdAt: at(6) });
        for (const r of [a, b, c, d, e, f]) await store.create(r);
        await store.update(approved(d), 1);
        const ids = async (query: Parameters<Store["list"]>[0]) => (await store.list(query)).map((r) => r.id);
        expect(await ids({ workflowId: "run-7" })).toEqual([d.id, b.id, a.id]);
        expect(await ids({ workflowId: "run-7:x y/é" })).toEqual([f.id]);
        expect(await ids({ workflowId: "run-7", status: "pending" })).toEqual([b.id, a.id]);
        expect(await ids({ workflowId: "run-7", status: "approved" })).toEqual([d.id]);
        expect(await ids({ workflowId: "run-7", repo: "octo-org/a" })).toEqual([d.id, a.id]);
        expect(await ids({ workflowId: "run-7", repo: "octo-org/a", status: "pending" })).toEqual([a.id]);
        expect(await ids({ workflowId: "run-7", requestType: "deploy" })).toEqual([b.id]);
        expect(await ids({ workflowId: "run-7", requestedBy: "refund-agent" })).toEqual([b.id, a.id]);
        expect(await ids({ workflowId: "run-7", limit: 2 })).toEqual([d.id, b.id]);
        expect(await ids({ workflowId: "run-7", status: "pending", limit: 1 })).toEqual([b.id]);
        expect(await ids({ workflowId: "run-9" })).toEqual([]);
        // A superseded approval moves between status lists like any other.
        const superseded = await store.update({ ...(await store.get(d.id))!, status: "superseded", supersededBy: a.id }, 2);
        expect(superseded?.status).toBe("superseded");
        expect(await ids({ workflowId: "run-7", status: "approved" })).toEqual([]);
        expect(await ids({ workflowId: "run-7", status: "superseded" })).toEqual([d.id]);
        expect(await ids({ status: "superseded" })).toEqual([d.id]);
        expect(await ids({ workflowId: "run-7" })).toEqual([d.id, b.id, a.id]);
      });

      it("returns at most 100 by default", async () => {
        await Promise.all(Array.from({ length: 105 }, (_, i) => store.create(makeRequest({ createdAt: at(i) }))));
        const listed = await store.list({});
        expect(listed).toHaveLength(100);
        expect(listed[0]!.createdAt).toBe(at(104));
      });
    });

    describe("audit", () => {
      it("gives a repository's trail oldest first, the newest `limit` of it", async () => {
        const request = makeRequest();
        const entries = [0, 1, 2, 3].map((i) => makeAudit(request, { at: at(i), event: i === 0 ? "created" : "escalated" }));
        await store.create(request, { audit: entries.slice(0, 2) });
        await store.update({ ...request, updatedAt: at(2) }, 1, { audit: entries.slice(2) });
        const other = makeRequest({ repo: "octo-org/other" });
        await store.create(other, { audit: [makeAudit(other)] });
        expect(await store.audit(request.repo)).toEqual(entries);
        expect(await store.audit(request.repo, 2)).toEqual(entries.slice(2));
        expect(await store.audit("octo-org/other")).toHaveLength(1);
        expect(await store.audit("octo-org/none")).toEqual([]);
      });

      it("gives only the entries of one agent's requests, the newest `limit` of them", async () => {
        const mine = makeRequest({ requestedBy: "refund-agent" });
        const theirs = makeRequest({ requestedBy: "deploy-bot" });
        const own = [0, 1, 2].map((i) => makeAudit(mine, { at: at(i * 2), event: i === 0 ? "created" : "escalated" }));
        const other = [0, 1].map((i) => makeAudit(theirs, { at: at(i * 2 + 1), event: i === 0 ? "created" : "escalated" }));
        await store.create(mine, { audit: [own[0]!] });
        await store.create(theirs, { audit: [other[0]!] });
        await store.update({ ...mine, updatedAt: at(2) }, 1, { audit: [own[1]!] });
        await store.update({ ...theirs, updatedAt: at(3) }, 1, { audit: [other[1]!] });
        await store.update({ ...mine, updatedAt: at(4) }, 2, { audit: [own[2]!] });
        expect(await store.audit(mine.repo)).toEqual([own[0], other[0], own[1], other[1], own[2]]);
        expect(await store.audit(mine.repo, 1000, "refund-agent")).toEqual(own);
        expect(await store.audit(mine.repo, 2, "refund-agent")).toEqual(own.slice(1));
        expect(await store.audit(mine.repo, undefined, "deploy-bot")).toEqual(other);
        expect(await store.audit(mine.repo, 1000, "nobody")).toEqual([]);
        expect(await store.audit("octo-org/other", 1000, "refund-agent")).toEqual([]);
      });
    });

    describe("countPending", () => {
      it("counts pending requests by priority, every priority named, decided ones left out", async () => {
        expect(await store.countPending()).toEqual({ low: 0, normal: 0, high: 0, critical: 0 });
        const priorities: Priority[] = ["critical", "low", "low", "normal", "critical", "critical"];
        const requests = priorities.map((priority, i) => makeRequest({ priority, createdAt: at(i), repo: i % 2 ? "acme/a" : "acme/b" }));
        for (const request of requests) await store.create(request);
        await store.update(approved({ ...requests[0]!, version: 1 }), 1);
        await store.update(approved({ ...requests[1]!, version: 1 }), 1);
        expect(await store.countPending()).toEqual({ low: 1, normal: 1, high: 0, critical: 2 });
      });
    });

    describe("due", () => {
      it("returns pending requests whose next escalation is due, soonest first, up to the limit", async () => {
        const withNext = (nextAt: string | null, extra: Partial<ApprovalRequest> = {}) =>
          makeRequest({ escalation: { ladder: [], warningBeforeMs: null, level: 0, warned: false, nextAt }, ...extra });
        const second = withNext(at(60));
        const first = withNext(at(0));
        const later = withNext(at(120));
        const never = withNext(null);
        const final = withNext(at(-60), { status: "approved" });
        for (const r of [second, first, later, never, final]) await store.create(r);
        const now = new Date(at(60));
        expect((await store.due(now, 10)).map((r) => r.id)).toEqual([first.id, second.id]);
        expect((await store.due(now, 1)).map((r) => r.id)).toEqual([first.id]);
        expect(await store.due(new Date(at(-1)), 10)).toEqual([]);
        expect((await store.due(new Date(at(1000)), 10)).map((r) => r.id)).toEqual([first.id, second.id, later.id]);
      });

      it("stops returning a request once its next time moves or it is decided", async () => {
        const escalation = { ladder: [], warningBeforeMs: null, level: 0, warned: false, nextAt: at(0) };
        const moved = makeRequest({ escalation });
        const decided = makeRequest({ escalation });
        await store.create(moved);
        await store.create(decided);
        await store.update({ ...moved, escalation: { ...escalation, level: 1, nextAt: at(240) } }, 1);
        await store.update(approved(decided), 1);
        expect(await store.due(new Date(at(60)), 10)).toEqual([]);
        expect((await store.due(new Date(at(240)), 10)).map((r) => r.id)).toEqual([moved.id]);
      });
    });

    describe("jobs", () => {
      it("leases due jobs in runAt order: runAt moves by the lease and attempts go up", async () => {
        const request = makeRequest();
        const late = makeJob(request, { runAt: at(10) });
        const early = makeJob(request, { runAt: at(0), kind: "callback" });
        const future = makeJob(request, { runAt: at(100) });
        await store.create(request, { jobs: [late, early, future] });
        const now = new Date(at(10));
        const plus = (ms: number) => new Date(now.getTime() + ms).toISOString();
        expect(await store.claimJobs(now, 1, 30_000)).toEqual([{ ...early, runAt: plus(30_000), attempts: 1 }]);
        expect(await store.claimJobs(now, 10, 60_000)).toEqual([{ ...late, runAt: plus(60_000), attempts: 1 }]);
        expect(await store.claimJobs(now, 10, 60_000)).toEqual([]);
        const afterLease = new Date(now.getTime() + 30_000);
        expect(await store.claimJobs(afterLease, 10, 40_000)).toEqual([{ ...early, runAt: plus(70_000), attempts: 2 }]);
        expect(await store.pendingJobs()).toEqual([
          { ...late, runAt: plus(60_000), attempts: 1 },
          { ...early, runAt: plus(70_000), attempts: 2 },
          future,
        ]);
        expect(await store.claimJobs(now, 0, 1000)).toEqual([]);
      });

      it("retries a job at the time given, with its error, and forgets a completed one", async () => {
        const request = makeRequest();
        const job = makeJob(request, { runAt: at(0) });
        const other = makeJob(request, { runAt: at(1) });
        await store.create(request, { jobs: [job, other] });
        await store.claimJobs(new Date(at(1)), 1, 60_000);
        await store.retryJob(job.id, new Date(at(20)), "GitHub answered 502");
        expect(await store.claimJobs(new Date(at(19)), 10, 3_600_000)).toEqual([{ ...other, runAt: at(79), attempts: 1 }]);
        const [retried] = await store.claimJobs(new Date(at(20)), 10, 1000);
        expect(retried).toEqual({ ...job, runAt: new Date(Date.parse(at(20)) + 1000).toISOString(), attempts: 2, lastError: "GitHub answered 502" });
        await store.completeJob(job.id);
        await store.completeJob("job_missing");
        await store.retryJob("job_missing", new Date(at(0)), "gone");
        expect((await store.pendingJobs()).map((j) => j.id)).toEqual([other.id]);
        expect(await store.claimJobs(new Date(at(1000)), 10, 1000)).toHaveLength(1);
      });

      it("never hands one job to two concurrent claimers", async () => {
        const request = makeRequest();
        const jobs = Array.from({ length: 20 }, (_, i) => makeJob(request, { runAt: at(i % 5) }));
        await store.create(request, { jobs });
        const now = new Date(at(10));
        const batches = await Promise.all(Array.from({ length: 8 }, () => store.claimJobs(now, 4, 60_000)));
        const ids = batches.flat().map((j) => j.id);
        expect(ids).toHaveLength(20);
        expect(new Set(ids).size).toBe(20);
        expect(batches.every((batch) => batch.length <= 4)).toBe(true);
      });
    });

    describe("deliveries", () => {
      it("claims a delivery once, and ignores it after it was handled", async () => {
        expect(await store.claimDelivery("d-1", 60_000)).toBe("claimed");
        expect(await store.claimDelivery("d-1", 60_000)).toBe("in_hand");
        await store.finishDelivery("d-1", true);
        expect(await store.claimDelivery("d-1", 60_000)).toBe("done");
        expect(await store.claimDelivery("d-2", 60_000)).toBe("claimed");
      });

      it("releases a delivery whose handling failed, so a redelivery is handled", async () => {
        expect(await store.claimDelivery("d-1", 60_000)).toBe("claimed");
        await store.finishDelivery("d-1", false);
        expect(await store.claimDelivery("d-1", 60_000)).toBe("claimed");
      });

      it("lets a claim that was never finished lapse", async () => {
        expect(await store.claimDelivery("d-1", 80)).toBe("claimed");
        expect(await store.claimDelivery("d-1", 80)).toBe("in_hand");
        await sleep(200);
        expect(await store.claimDelivery("d-1", 80)).toBe("claimed");
      });

      it("gives a delivery to exactly one of many concurrent claimers", async () => {
        const results = await Promise.all(Array.from({ length: 10 }, () => store.claimDelivery("d-race", 60_000)));
        expect(results.filter((result) => result === "claimed")).toHaveLength(1);
        expect(results.filter((result) => result === "in_hand")).toHaveLength(9);
      });
    });

    describe("uses", () => {
      it("counts uses up to the maximum, per key", async () => {
        expect(await store.uses("rule:octo-org/payments:small")).toBe(0);
        expect(await store.takeUse("rule:octo-org/payments:small", 2)).toBe(1);
        expect(await store.takeUse("rule:octo-org/payments:small", 2)).toBe(2);
        expect(await store.takeUse("rule:octo-org/payments:small", 2)).toBeNull();
        expect(await store.uses("rule:octo-org/payments:small")).toBe(2);
        expect(await store.takeUse("rule:octo-org/payments:other", 1)).toBe(1);
        expect(await store.takeUse("rule:octo-org/payments:none", 0)).toBeNull();
      });

      it("gives the last use to exactly one of many concurrent takers", async () => {
        for (let i = 0; i < 4; i++) await store.takeUse("last", 5);
        const results = await Promise.all(Array.from({ length: 10 }, () => store.takeUse("last", 5)));
        expect(results.filter((r) => r !== null)).toEqual([5]);
        expect(await store.uses("last")).toBe(5);
      });

      it("counts to max with an expiry as without, and keeps the count meanwhile", async () => {
        expect(await store.takeUse("link:n1", 2, { ttlMs: 60_000 })).toBe(1);
        expect(await store.takeUse("link:n1", 2, { ttlMs: 60_000 })).toBe(2);
        expect(await store.takeUse("link:n1", 2, { ttlMs: 60_000 })).toBeNull();
        expect(await store.uses("link:n1")).toBe(2);
        const results = await Promise.all(Array.from({ length: 8 }, () => store.takeUse("link:n2", 1, { ttlMs: 60_000 })));
        expect(results.filter((r) => r !== null)).toEqual([1]);
      });
    });

    describe("settings", () => {
      it("answers null for a setting never stored, and the stored value after", async () => {
        expect(await store.setting("signing-key")).toBeNull();
        const value = JSON.stringify({ kty: "OKP", crv: "Ed25519", x: "abc", d: "def" });
        expect(await store.createSetting("signing-key", value)).toBe(value);
        expect(await store.setting("signing-key")).toBe(value);
        expect(await store.setting("other")).toBeNull();
      });

      it("keeps the first value: a later create answers it and changes nothing", async () => {
        await store.createSetting("signing-key", "first");
        expect(await store.createSetting("signing-key", "second")).toBe("first");
        expect(await store.setting("signing-key")).toBe("first");
      });

      it("keeps values exactly as written, JSON-looking or not", async () => {
        for (const value of ["123", "true", "null", '{ "spaced": 1 }', "[1,2]", "", "ünïcode \u2028"]) {
          const name = `exact-${JSON.stringify(value)}`;
          expect(await store.createSetting(name, value)).toBe(value);
          expect(await store.setting(name)).toBe(value);
        }
      });

      it("gives every one of many concurrent creators the same single value", async () => {
        const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store.createSetting("race", `value-${i}`)));
        expect(new Set(results).size).toBe(1);
        expect(await store.setting("race")).toBe(results[0]);
      });

      it("keeps the first value of a setting with an expiry, meanwhile, as without", async () => {
        expect(await store.createSetting("expiring", "first", { ttlMs: 60_000 })).toBe("first");
        expect(await store.createSetting("expiring", "second", { ttlMs: 60_000 })).toBe("first");
        expect(await store.createSetting("expiring", "third")).toBe("first");
        expect(await store.setting("expiring")).toBe("first");
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.createSetting("expiring-race", `value-${i}`, { ttlMs: 60_000 })));
        expect(new Set(results).size).toBe(1);
      });
    });

    describe("locks", () => {
      it("is held by one owner at a time, renewed by its owner, released only by it", async () => {
        expect(await store.acquireLock("sweep", "a", 60_000)).toBe(true);
        expect(await store.acquireLock("sweep", "b", 60_000)).toBe(false);
        expect(await store.acquireLock("sweep", "a", 60_000)).toBe(true);
        expect(await store.acquireLock("other", "b", 60_000)).toBe(true);
        await store.releaseLock("sweep", "b");
        expect(await store.acquireLock("sweep", "b", 60_000)).toBe(false);
        await store.releaseLock("sweep", "a");
        expect(await store.acquireLock("sweep", "b", 60_000)).toBe(true);
      });

      it("lapses after its time unless the owner renews it", async () => {
        expect(await store.acquireLock("lapsing", "a", 100)).toBe(true);
        expect(await store.acquireLock("renewed", "a", 400)).toBe(true);
        await sleep(250);
        expect(await store.acquireLock("renewed", "a", 400)).toBe(true);
        expect(await store.acquireLock("lapsing", "b", 100)).toBe(true);
        await sleep(250);
        expect(await store.acquireLock("renewed", "b", 400)).toBe(false);
      });
    });

    describe("write slots", () => {
      const t0 = new Date("2026-12-01T10:00:00.000Z");
      const after = (ms: number) => new Date(t0.getTime() + ms);

      it("spaces slots of one key by the spacing, each key on its own", async () => {
        expect(await store.takeSlot("github-write:1", t0, 1000)).toEqual(t0);
        expect(await store.takeSlot("github-write:1", t0, 1000)).toEqual(after(1000));
        expect(await store.takeSlot("github-write:1", after(300), 1000)).toEqual(after(2000));
        expect(await store.takeSlot("github-write:2", after(300), 1000)).toEqual(after(300));
        expect(await store.takeSlot("github-notify:1", after(300), 3000)).toEqual(after(300));
      });

      it("gives the time asked for once the last slot's spacing has passed", async () => {
        expect(await store.takeSlot("github-write:1", t0, 1000)).toEqual(t0);
        expect(await store.takeSlot("github-write:1", after(1500), 1000)).toEqual(after(1500));
        expect(await store.takeSlot("github-write:1", after(2500), 1000)).toEqual(after(2500));
      });

      it("gives concurrent takers distinct slots a spacing apart", async () => {
        const slots = await Promise.all(Array.from({ length: 10 }, () => store.takeSlot("github-write:9", t0, 1000)));
        expect(slots.map((slot) => slot.getTime() - t0.getTime()).sort((a, b) => a - b)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
      });
    });

    describe("cached values", () => {
      it("keeps a value until it is replaced or dropped", async () => {
        expect(await store.getCached("installation-token:1")).toBeNull();
        await store.putCached("installation-token:1", "v1.sealed", 60_000);
        await store.putCached("installation-token:2", "42", 60_000);
        expect(await store.getCached("installation-token:1")).toBe("v1.sealed");
        expect(await store.getCached("installation-token:2")).toBe("42");
        await store.putCached("installation-token:1", '{"json":"text"}', 60_000);
        expect(await store.getCached("installation-token:1")).toBe('{"json":"text"}');
        await store.dropCached("installation-token:1");
        expect(await store.getCached("installation-token:1")).toBeNull();
        expect(await store.getCached("installation-token:2")).toBe("42");
      });

      it("forgets a value after its time", async () => {
        await store.putCached("short", "x", 80);
        await store.putCached("long", "y", 60_000);
        await sleep(200);
        expect(await store.getCached("short")).toBeNull();
        expect(await store.getCached("long")).toBe("y");
      });
    });

    it("answers ping", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
