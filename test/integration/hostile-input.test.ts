import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { afterEach, describe, expect, it } from "vitest";
import type { ApprovalRequest } from "../../src/core/types.js";
import { createRedisStore } from "../../src/store/redis-store.js";
import { createRespRequester } from "../../src/store/resp-requester.js";
import { api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { aliasBomb, nestedJson, spliceJson } from "../support/hostile.js";
import { deleteKeys, REDIS_URL } from "../support/redis-keys.js";
import { deliver, pullRequestPayload } from "../support/webhooks.js";

/**
 * Whatever an agent sends or a repository's `.hitl.yml` says, the process answers quickly with
 * an error naming the field or the line, and one poisoned request never holds up the others.
 */

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);
const BOMB_ERROR = ".hitl.yml:10:24 aliases (*name) expand the file past 1000000 values and characters; at most 1000000 are allowed";

const refund = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 77",
  approval_reason: "Large refund",
  decision_data: { amount: 900 },
  ...overrides,
});

describe("hostile input", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  async function start(policy: string | null, others: Record<string, string> = {}, store?: Parameters<typeof startApp>[0]["store"]) {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: {
          collaborators: { alice: "write", bob: "write" },
          files: { main: policy === null ? {} : { ".hitl.yml": policy } },
          pulls: [{ number: 5, headSha: "d".repeat(40), files: [{ filename: ".hitl.yml" }] }],
        },
        ...Object.fromEntries(Object.entries(others).map(([name, text]) => [name, { files: { main: { ".hitl.yml": text } } }])),
      },
      installations: [{ id: 1, account: "octo-org" }],
    });
    app = await startApp({ githubUrl: github.url, now: T0, ...(store ? { store } : {}) });
  }

  /** Run after the app has closed: stores a test brought along. */
  const cleanups: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    await app?.close();
    await github?.close();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  describe(".hitl.yml", () => {
    it("an alias bomb on the default branch is a config error at its line: every request goes to a person", async () => {
      await start(aliasBomb(7));
      const response = await api(app, "POST", "/requests", refund());
      expect(response.status).toBe(201);
      expect(response.json).toMatchObject({ status: "pending", fallback_action: { type: "abort" }, evaluation: { config_error: BOMB_ERROR } });
    });

    it("a deadline of 99999999999d is a config error, not a failed request", async () => {
      await start("approvers: [alice]\ndeadline: 99999999999d\n");
      const response = await api(app, "POST", "/requests", refund());
      expect(response.status).toBe(201);
      expect(response.json.evaluation.config_error).toBe(".hitl.yml:2:11 deadline: must be at most 365d (a year)");
      // The schema's default applies instead: 72 hours.
      expect(response.json.deadline).toBe(at(72).toISOString());
    });

    it("a pull request from a fork proposing an alias bomb gets a failing hitl/config check at the line", async () => {
      await start(null);
      const head = "d".repeat(40);
      github.repo(REPO).files[head] = { ".hitl.yml": aliasBomb(7) };
      const payload = pullRequestPayload({ repo: REPO, action: "opened", number: 5, headSha: head, author: "mallory" });
      Object.assign(payload.pull_request.head.repo!, { full_name: "mallory/payments", fork: true });
      const delivered = await deliver(`${app.url}/api/github/webhooks`, { event: "pull_request", payload, secret: WEBHOOK_SECRET });
      expect(delivered.status).toBe(200);
      const [check] = github.callsTo("POST", `/repos/${REPO}/check-runs`);
      expect(check!.body).toMatchObject({
        name: "hitl/config",
        head_sha: head,
        conclusion: "failure",
        output: {
          title: ".hitl.yml has 1 error",
          annotations: [
            {
              path: ".hitl.yml",
              start_line: 10,
              end_line: 10,
              start_column: 24,
              end_column: 24,
              annotation_level: "failure",
              title: "YAML",
              message: "aliases (*name) expand the file past 1000000 values and characters; at most 1000000 are allowed",
            },
          ],
        },
      });
    });

    it("an _extends cycle stops after three files, with one read each", async () => {
      await start("_extends: base-a\napprovers: [alice]\n", { "octo-org/base-a": "_extends: octo-org/base-b\n", "octo-org/base-b": `_extends: ${REPO}\n` });
      github.clearCalls();
      const response = await api(app, "POST", "/requests", refund());
      expect(response.status).toBe(201);
      expect(response.json.evaluation.config_error).toBe(".hitl.yml: _extends goes deeper than 3 files");
      const reads = github.calls.filter((call) => call.method === "GET" && call.path.includes("/contents/")).map((call) => call.path);
      expect(reads).toEqual([
        `/repos/${REPO}/contents/.hitl.yml`,
        "/repos/octo-org/base-a/contents/.hitl.yml",
        "/repos/octo-org/base-b/contents/.hitl.yml",
        `/repos/${REPO}/contents/.hitl.yml`,
      ]);
    });

    it("a file whose errors quote huge values still gets its hitl/config check, within GitHub's limits", async () => {
      await start(null);
      const head = "d".repeat(40);
      const key = "k".repeat(300);
      github.repo(REPO).files[head] = { ".hitl.yml": `${key}: 1\nrules:\n  - id: r\n    when: {task_type: [x]}\n    action: ${"x".repeat(70_000)}\n` };
      await deliver(`${app.url}/api/github/webhooks`, { event: "pull_request", payload: pullRequestPayload({ repo: REPO, action: "opened", number: 5, headSha: head }), secret: WEBHOOK_SECRET });
      const [check] = github.callsTo("POST", `/repos/${REPO}/check-runs`);
      const output = (check!.body as { output: { title: string; summary: string; annotations: { title: string; message: string }[] } }).output;
      expect(check).toMatchObject({ status: 201, body: { name: "hitl/config", conclusion: "failure" } });
      expect(output.title).toBe(".hitl.yml has 2 errors");
      expect(output.annotations.map((annotation) => annotation.title)).toEqual([`${key.slice(0, 254)}…`, "rules.0.action"]);
      expect(output.annotations[0]!.message).toMatch(/^unknown key 'k{80}…' — allowed keys: _extends, approvers/);
      expect(output.annotations[1]!.message.length).toBeLessThanOrEqual(16_000);
      expect(output.summary.length).toBe(65_535);
      expect(output.summary.endsWith("…")).toBe(true);
    });

    it("POST /simulate with a candidate whose alias contains itself answers with the config error", async () => {
      await start(null);
      const config = "approvers: [alice]\nrules:\n  - id: loop\n    when: &c {not: *c}\n    action: approve\n";
      const response = await api(app, "POST", "/simulate", { request: refund(), config });
      expect(response.status).toBe(200);
      expect(response.json).toMatchObject({ outcome: "needs_human", config: { error: ".hitl.yml:4:20 the alias *c is inside the mapping or list it names" } });
    });
  });

  describe("requests", () => {
    it("durations past 365 days are refused, naming each field", async () => {
      await start(null);
      const response = await api(
        app,
        "POST",
        "/requests",
        refund({ fallback_action: { type: "delegate", extend_by: "99999999999d" }, escalation: [{ after: "400d", approvers: ["bob"] }], warning_before: "53w" }),
      );
      expect(response.status).toBe(400);
      expect(response.json.error.issues).toEqual([
        { path: "fallback_action.extend_by", message: "must be at most 365d (a year)" },
        { path: "escalation.0.after", message: "must be at most 365d (a year)" },
        { path: "warning_before", message: "must be at most 365d (a year)" },
      ]);
    });

    it("decision_data 10,000 lists deep is a 400 naming decision_data, as is one with too many keys", async () => {
      await start(null);
      const deep = await api(app, "POST", "/requests", spliceJson(refund(), "decision_data", `{"rows": ${nestedJson(10_000)}}`));
      expect(deep.status).toBe(400);
      expect(deep.json.error.issues).toEqual([{ path: "decision_data", message: "must not nest objects and lists more than 20 deep" }]);
      const wide = Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, i]));
      const many = await api(app, "POST", "/requests", refund({ decision_data: wide }));
      expect(many.status).toBe(400);
      expect(many.json.error.issues).toEqual([{ path: "decision_data", message: "must not hold more than 10000 keys and list items in all" }]);
      // The same bound holds for the free-form parts of a fallback.
      const value = await api(app, "POST", "/requests", spliceJson(refund({ fallback_action: { type: "use_default", action: "approve" } }), "fallback_action.value", nestedJson(5_000)));
      expect(value.status).toBe(400);
      expect(value.json.error.issues).toEqual([{ path: "fallback_action.value", message: "must not nest objects and lists more than 20 deep" }]);
      // As deep as allowed is fine.
      const allowed = await api(app, "POST", "/requests", spliceJson(refund(), "decision_data", `{"rows": ${nestedJson(19)}}`));
      expect(allowed.status).toBe(201);
    });

    it("an Idempotency-Key reused with a different body is a 422 naming the key; the same body gets the first request", async () => {
      await start(null);
      const key = { headers: { "idempotency-key": "refund-77" } };
      const first = await api(app, "POST", "/requests", refund(), key);
      expect(first.status).toBe(201);
      // The same request, keys in another order and a default written out: the same body.
      const same = await api(app, "POST", "/requests", { priority: "normal", ...refund() }, key);
      expect(same.status).toBe(200);
      expect(same.json.id).toBe(first.json.id);
      const different = await api(app, "POST", "/requests", refund({ decision_data: { amount: 9_000 } }), key);
      expect(different.status).toBe(422);
      expect(different.json).toEqual({
        error: {
          code: "idempotency_key_reused",
          message: `Idempotency-Key "refund-77" was already used for request ${first.json.id} with a different body. Send the same body again to get that request back, or use a new key for a new request.`,
        },
      });
      expect((await app.store.list({ repo: REPO })).map((request) => request.id)).toEqual([first.json.id]);
    });

    it("a request stored before fingerprints were kept answers a reused key as before", async () => {
      await start(null);
      const key = { headers: { "idempotency-key": "refund-78" } };
      const first = await api(app, "POST", "/requests", refund(), key);
      const stored = (await app.store.get(first.json.id))!;
      expect(stored.idempotencyFingerprint).toMatch(/^[0-9a-f]{64}$/);
      const { idempotencyFingerprint: _dropped, ...old } = stored;
      await app.store.update(old, stored.version);
      const different = await api(app, "POST", "/requests", refund({ decision_data: { amount: 9_000 } }), key);
      expect(different.status).toBe(200);
      expect(different.json.id).toBe(first.json.id);
    });
  });

  describe("the sweep", () => {
    async function sweepAt(date: Date) {
      app.setNow(date);
      const result = await app.runtime.sweep();
      await app.runtime.jobs.run();
      return result;
    }

    async function poison(id: string, change: (request: ApprovalRequest) => Partial<ApprovalRequest>) {
      const stored = (await app.store.get(id))!;
      expect(await app.store.update({ ...stored, ...change(stored) }, stored.version)).not.toBeNull();
    }

    const auditOf = async (id: string) =>
      (await api(app, "GET", `/audit?repo=${REPO}`)).text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.request_id === id);

    it("parks poisoned requests first in the due index, once, and moves every other one", async () => {
      await start("approvers: [alice, bob]\n");
      const open = async (body: Record<string, unknown>) => {
        const response = await api(app, "POST", "/requests", refund(body));
        expect(response.status).toBe(201);
        return response.json.id as string;
      };
      const unbounded = await open({ priority: "critical", deadline: at(1).toISOString(), fallback_action: { type: "delegate", extend_by: "1h" } });
      const unreadable = await open({ priority: "critical", deadline: at(1).toISOString() });
      const escalating = await open({ deadline: at(8).toISOString(), escalation: [{ after: "90m", approvers: ["bob"] }] });
      const expiring = await open({ deadline: at(1.75).toISOString(), fallback_action: { type: "abort", reason: "Nobody answered" } });
      // What an older version could have stored: an extension past any date, a deadline that is no time.
      await poison(unbounded, (request) => ({ fallback: { type: "delegate", extend_by: "99999999999d" }, deadline: request.deadline }));
      await poison(unreadable, () => ({ deadline: "the day after tomorrow" }));
      const due = (await app.store.due(at(2), 10)).map((request) => request.id);
      expect(due.slice(0, 2).sort()).toEqual([unbounded, unreadable].sort());
      expect(due.slice(2)).toEqual([escalating, expiring]);
      // Even before the sweep parks it, a poisoned request can be read: it shows nothing scheduled.
      const before = await api(app, "GET", `/requests/${unreadable}`);
      expect(before.status).toBe(200);
      expect(before.json.escalation).toEqual({ level: 0, next: null });

      expect(await sweepAt(at(2))).toEqual({ ran: true, escalated: 1, warned: 0, expired: 1, delegated: 0, parked: 2 });
      expect((await api(app, "GET", `/requests/${escalating}`)).json).toMatchObject({ status: "pending", escalation: { level: 1 } });
      expect((await api(app, "GET", `/requests/${expiring}`)).json).toMatchObject({ status: "expired", decision: { justification: "Nobody answered" } });

      const parked = (await api(app, "GET", `/requests/${unbounded}`)).json;
      expect(parked).toMatchObject({
        status: "pending",
        escalation: { level: 0, next: null },
        error: { at: at(2).toISOString(), message: "fallback.extend_by 99999999999d puts the deadline past any date that can be stored" },
      });
      const unreadableShown = await api(app, "GET", `/requests/${unreadable}`);
      expect(unreadableShown.status).toBe(200);
      expect(unreadableShown.json.error.message).toBe('deadline "the day after tomorrow" is not a time');
      expect((await auditOf(unbounded)).filter((entry) => entry.event === "error")).toEqual([
        expect.objectContaining({
          event: "error",
          actor: { type: "system", reason: "sweep" },
          status: "pending",
          details: { message: "fallback.extend_by 99999999999d puts the deadline past any date that can be stored" },
        }),
      ]);

      // Out of the due index: later sweeps neither retry nor report them again.
      expect((await app.store.due(at(9), 10)).map((request) => request.id)).toEqual([escalating]);
      expect(await sweepAt(at(9))).toEqual({ ran: true, escalated: 0, warned: 0, expired: 1, delegated: 0, parked: 0 });
      expect((await auditOf(unreadable)).filter((entry) => entry.event === "error")).toHaveLength(1);
      // People can still decide a parked request.
      expect((await api(app, "GET", `/requests/${unbounded}`)).json.status).toBe("pending");
    });

    it("a request stored in Redis without its escalation state is parked; the sweep's sort does not stop on it", async () => {
      const prefix = `hitl-test:${randomBytes(6).toString("hex")}:`;
      const requester = createRespRequester(REDIS_URL);
      const redis = new Redis(requester);
      const store = createRedisStore({ redis, prefix, onClose: () => requester.close() });
      cleanups.push(() => store.close(), () => deleteKeys(REDIS_URL, `${prefix}*`));
      await start(null, {}, store);
      const open = async (body: Record<string, unknown>) => (await api(app, "POST", "/requests", refund(body))).json.id as string;
      const shapeless = await open({ deadline: at(1).toISOString() });
      const expiring = await open({ deadline: at(1).toISOString(), fallback_action: { type: "abort", reason: "Nobody answered" } });
      // What an older version, or a hand, could have left in Redis: the document without its schedule.
      const { escalation: _dropped, ...document } = (await store.get(shapeless))!;
      await redis.hset(`${prefix}req:${shapeless}`, { json: JSON.stringify(document) });

      expect(await sweepAt(at(2))).toEqual({ ran: true, escalated: 0, warned: 0, expired: 1, delegated: 0, parked: 1 });
      expect((await api(app, "GET", `/requests/${expiring}`)).json.status).toBe("expired");
      expect((await api(app, "GET", `/requests/${shapeless}`)).json).toMatchObject({
        status: "pending",
        escalation: { level: 0, next: null },
        error: { message: "escalation is not a schedule" },
      });
      expect(await store.due(at(3), 10)).toEqual([]);
    });
  });
});
