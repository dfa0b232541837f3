import { readFileSync } from "node:fs";
import fc from "fast-check";
import { dump } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse-config.js";
import { evaluatePolicy } from "../../src/core/policy.js";
import { AGENT, api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";
import { applyEdits, textEdit, YAML_NOISE } from "../support/text-edits.js";
import { nestedJson, spliceJson } from "../support/hostile.js";

/**
 * Generated bad input, end to end through the app: whatever an agent sends, whatever people
 * comment and whatever a repository's `.hitl.yml` says, hitl answers with a 4xx that names the
 * problem or does what was asked, never a 5xx, and it never decides more than it was told to.
 */

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const RUNS = 250;
/** Each property stops generating after this long, so the file's time stays bounded. */
const TIME_LIMIT_MS = 45_000;
const settings = { numRuns: RUNS, plugins: [fc.interruptAfterTimeLimit(TIME_LIMIT_MS)] };

const VALID_BODY = {
  repo: REPO,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  decision_data: { amount: 120, currency: "USD", customer: { tier: "gold" } },
  available_actions: [
    { id: "approve", label: "Refund", impact: "Customer gets $120 back" },
    { id: "reject", label: "Deny" },
  ],
  priority: "high",
  deadline: "2099-12-01T12:00:00Z",
  fallback_action: { type: "abort", reason: "nobody answered" },
  surface: { type: "issue" },
  approvers: ["alice", "@octo-org/finance"],
  request_type: "refund",
  risk_score: 0.4,
  confidence: 0.9,
  callback_url: "https://agent.example/hooks/hitl",
  idempotency_key: "refund-1234",
  escalation: [{ after: "1h", approvers: ["bob"], message: "please" }],
  warning_before: "30m",
  invalidate_on_push: false,
};

type Path = (string | number)[];

function paths(value: unknown, prefix: Path = []): Path[] {
  const found: Path[] = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(value)) value.forEach((item, index) => found.push(...paths(item, [...prefix, index])));
  else if (typeof value === "object" && value !== null) for (const [key, item] of Object.entries(value)) found.push(...paths(item, [...prefix, key]));
  return found;
}

/** Values that are close to valid, or that have broken parsers before. */
const nasty = fc.constantFrom<unknown>(
  "",
  " ",
  "\u0000",
  "2001-01-01T00:00:00Z",
  "2099-02-30T00:00:00Z",
  "9999-12-31T23:59:59Z",
  "0s",
  "99999999999999999999d",
  "1e3h",
  "-1h",
  "owner/name",
  "someone/else",
  "octo-org/payments",
  "@octo-org/finance",
  "pull_request",
  "issue",
  "approve",
  "abort",
  "delegate",
  "javascript:alert(1)",
  "http://127.0.0.1:1/",
  "x".repeat(6_000),
  0,
  -1,
  0.5,
  1.5,
  42,
  7,
  1e308,
  -0,
  Number.MAX_SAFE_INTEGER,
  true,
  false,
  null,
  [],
  {},
  [{}],
  { type: "pull_request" },
  { type: "pull_request", number: 42 },
  { type: "pull_request", number: 7 },
  { type: "pull_request", number: 1e21 },
  { type: "delegate", approvers: ["carol"], extend_by: "2h" },
  { type: "use_default", action: "approve" },
  JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}'),
);

const anyJson = fc.jsonValue({ maxDepth: 3 });

type BodyMutation = { kind: "delete"; pick: number } | { kind: "set"; pick: number; value: unknown } | { kind: "add"; key: string; value: unknown };

const bodyMutation: fc.Arbitrary<BodyMutation> = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("set" as const), pick: fc.nat(), value: fc.oneof(nasty, anyJson) }),
  fc.record({ kind: fc.constant("add" as const), key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("__proto__", "constructor", "requested_by", "status", "id")), value: fc.oneof(nasty, anyJson) }),
);

function mutateBody(mutations: BodyMutation[]): unknown {
  const root = structuredClone(VALID_BODY) as Record<string, unknown>;
  for (const mutation of mutations) {
    if (mutation.kind === "add") {
      // A copy: the generators hand out shared objects, which later mutations must not change.
      Object.defineProperty(root, mutation.key, { value: structuredClone(mutation.value), enumerable: true, writable: true, configurable: true });
      continue;
    }
    const all = paths(root);
    if (all.length === 0) break;
    const path = all[mutation.pick % all.length]!;
    let parent = root as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const key = path.at(-1)!;
    if (mutation.kind === "delete") {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else {
      parent[key] = structuredClone(mutation.value);
    }
  }
  return root;
}

interface Answer {
  status: number;
  json: any;
  text: string;
}

/** A 2xx, or a 4xx naming the problem: `error.code`, and for a 400 the fields with `issues`. */
function expectWellFormed(answer: Answer, sent: unknown): void {
  const context = `sent ${JSON.stringify(sent)?.slice(0, 500)} → ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, context).toBeLessThan(500);
  expect(answer.status, context).toBeGreaterThanOrEqual(200);
  if (answer.status < 300) return;
  expect(answer.status, context).toBeGreaterThanOrEqual(400);
  expect(typeof answer.json?.error?.code, context).toBe("string");
  expect(typeof answer.json?.error?.message, context).toBe("string");
  if (answer.status === 400 && answer.json.error.code !== "invalid_json") {
    const issues = answer.json.error.issues as { path: unknown; message: unknown }[];
    expect(Array.isArray(issues) && issues.length > 0, context).toBe(true);
    for (const issue of issues) {
      expect(typeof issue.path === "string" && issue.path.length > 0, context).toBe(true);
      expect(typeof issue.message === "string" && issue.message.length > 0, context).toBe(true);
    }
  }
}

describe("generated bad input", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  let now = T0.getTime();

  beforeAll(async () => {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: {
          collaborators: { alice: "write", bob: "write", carol: "write", mallory: "read" },
          pulls: [
            { number: 42, headSha: "a".repeat(40), user: "deploy-agent" },
            { number: 7, headSha: "c".repeat(40), state: "closed" },
          ],
        },
        "someone/else": {},
      },
      installations: [{ id: 1, account: "octo-org", repos: [REPO] }],
      teams: { "octo-org/finance": ["carol"] },
    });
    app = await startApp({ githubUrl: github.url, now: T0 });
  });

  afterAll(async () => {
    await app?.close();
    await github?.close();
  });

  /** Moves the app's clock past the 30 s for which a `.hitl.yml` is reused. */
  function nextMinute(): Date {
    now += 60_000;
    const date = new Date(now);
    app.setNow(date);
    return date;
  }

  describe("agent API", () => {
    it("arbitrary JSON bodies to POST /requests", async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(anyJson, fc.dictionary(fc.constantFrom(...Object.keys(VALID_BODY), "x"), fc.oneof(nasty, anyJson))), async (body) => {
          expectWellFormed(await api(app, "POST", "/requests", JSON.stringify(body)), body);
        }),
        settings,
      );
    }, 120_000);

    it("arbitrary bytes to POST /requests", async () => {
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: "binary", maxLength: 300 }), async (text) => {
          const answer = await api(app, "POST", "/requests", text);
          expectWellFormed(answer, text);
        }),
        settings,
      );
    }, 120_000);

    it("mutations of a valid body to POST /requests", async () => {
      const statuses = new Set<number>();
      await fc.assert(
        fc.asyncProperty(fc.array(bodyMutation, { minLength: 1, maxLength: 5 }), fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }), async (mutations, key) => {
          const body = mutateBody(mutations);
          const answer = await api(app, "POST", "/requests", JSON.stringify(body), key === undefined ? {} : { headers: { "idempotency-key": key.replace(/[^\x21-\x7e]/g, "x") } });
          expectWellFormed(answer, body);
          statuses.add(answer.status);
          if (answer.status < 300) expect(answer.json).toMatchObject({ id: expect.any(String), repo: REPO, requested_by: AGENT.name });
        }),
        settings,
      );
      // The mutations reach acceptance, field errors and the checks made after validation.
      expect([...statuses].some((status) => status < 300)).toBe(true);
      expect(statuses.has(400)).toBe(true);
    }, 120_000);

    it("mutations of a valid body, and arbitrary candidate policies, to POST /simulate", async () => {
      const config = fc.option(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.constantFrom("rules: []\n", "auto_approve: {confidence_above: 0.1, risk_below: 0.9}\n", "{{{", "approvers: 5\n")), { nil: undefined });
      await fc.assert(
        fc.asyncProperty(fc.array(bodyMutation, { minLength: 0, maxLength: 5 }), config, fc.option(anyJson, { nil: undefined }), async (mutations, text, extra) => {
          const body: Record<string, unknown> = { request: mutateBody(mutations), ...(text === undefined ? {} : { config: text }), ...(extra === undefined ? {} : { extra }) };
          const answer = await api(app, "POST", "/simulate", JSON.stringify(body));
          expectWellFormed(answer, body);
          if (answer.status < 300) expect(["decided", "needs_human"]).toContain(answer.json.outcome);
        }),
        settings,
      );
      // Simulating creates nothing.
      expect(github.callsTo("POST", "/repos/octo-org/payments/check-runs")).toEqual([]);
    }, 120_000);
  });

  describe("hostile shapes", () => {
    /** Values built as JSON text: deep, wide, or past what a date or a duration can hold. */
    const hostileJson = fc.oneof(
      fc.integer({ min: 21, max: 20_000 }).map(nestedJson),
      fc.integer({ min: 21, max: 20_000 }).map((depth) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`),
      fc.integer({ min: 10_001, max: 11_000 }).map((keys) => `{${Array.from({ length: keys }, (_, i) => `"k${i}":${i}`).join(",")}}`),
      fc.constantFrom('"99999999999d"', '"366d"', '"53w"', `"${"9".repeat(400)}s"`, '"+275760-09-13T00:00:00.000Z"', '"9999-12-31T23:59:59Z"', "1e308", "-1e308"),
    );
    /** Where to put it: every key of the body, and the free-form parts of each fallback. */
    const place = fc.constantFrom(
      ...Object.keys(VALID_BODY).map((key) => ({ key, body: VALID_BODY as Record<string, unknown> })),
      { key: "decision_data.customer", body: VALID_BODY },
      { key: "fallback_action.value", body: { ...VALID_BODY, fallback_action: { type: "use_default", action: "approve" } } },
      { key: "fallback_action.modifications", body: { ...VALID_BODY, fallback_action: { type: "retry_with_modification" } } },
      { key: "fallback_action.extend_by", body: { ...VALID_BODY, fallback_action: { type: "delegate", approvers: ["carol"] } } },
      { key: "escalation", body: VALID_BODY },
    );

    it("deep, wide and out-of-range values anywhere in POST /requests and POST /simulate are a 4xx naming the field", async () => {
      await fc.assert(
        fc.asyncProperty(place, hostileJson, fc.boolean(), async ({ key, body }, json, simulate) => {
          const text = spliceJson({ ...body, idempotency_key: undefined }, key, json);
          const answer = simulate ? await api(app, "POST", "/simulate", `{"request": ${text}}`) : await api(app, "POST", "/requests", text);
          expectWellFormed(answer, `${key} = ${json.slice(0, 80)}`);
          if (key.startsWith("decision_data") && /^[[{]/.test(json)) {
            expect(answer.status).toBe(400);
            expect(answer.json.error.issues).toEqual([expect.objectContaining({ path: simulate ? "request.decision_data" : "decision_data" })]);
          }
        }),
        settings,
      );
    }, 120_000);
  });

  describe("comments", () => {
    const commandish = fc
      .tuple(
        fc.constantFrom("/approve", "/reject", "/choose approve", "/choose reject", "/choose", "/APPROVE", "  /approve", "\n\n/approve", "> /approve", "`/approve`", "    /approve", "```\n/approve", "/approve\u0000", "\u200b/approve", "/approve/reject", "<!-- hitl:request:x -->/approve"),
        fc.string({ unit: "binary", maxLength: 80 }),
      )
      .map(([command, rest]) => `${command}${rest}`);
    const commentBody = fc.oneof(commandish, fc.string({ unit: "binary", maxLength: 200 }), fc.string({ unit: "grapheme", maxLength: 200 }));
    const login = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,20}$/).filter((name) => name.toLowerCase() !== "alice");

    let requestId: string;
    let issue: number;

    beforeAll(async () => {
      const created = await api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 77", approval_reason: "Large refund", approvers: ["alice"], deadline: "2099-01-01T00:00:00Z" });
      expect(created.status).toBe(201);
      requestId = created.json.id;
      issue = created.json.surface_number;
    });

    async function expectUndecided(): Promise<void> {
      const shown = await api(app, "GET", `/requests/${requestId}`);
      expect(shown.json).toMatchObject({ status: "pending", decision: null });
      const audit = (await api(app, "GET", `/audit?repo=${REPO}`)).text;
      expect(audit.split("\n").filter((line) => line.includes(requestId) && line.includes('"event":"decided"'))).toEqual([]);
    }

    const comment = (body: string, options: { login: string; userType?: "User" | "Bot"; action?: "created" | "edited"; issueNumber?: number }) =>
      deliver(`${app.url}/api/github/webhooks`, {
        event: "issue_comment",
        payload: issueCommentPayload({ repo: REPO, issueNumber: options.issueNumber ?? issue, body, login: options.login, userType: options.userType, action: options.action }),
        secret: WEBHOOK_SECRET,
      });

    it("from people who are not approvers", async () => {
      const repliesBefore = github.callsTo("POST", `/repos/${REPO}/issues/${issue}/comments`).length;
      await fc.assert(
        fc.asyncProperty(commentBody, fc.oneof(fc.constantFrom("mallory", "bob", "carol", AGENT.name, "hitl"), login), async (body, who) => {
          const delivery = await comment(body, { login: who });
          expect(delivery.status, `${who}: ${JSON.stringify(body)} → ${delivery.text}`).toBe(200);
          await expectUndecided();
        }),
        settings,
      );
      // Some of them were commands, and were told why they did not count.
      expect(github.callsTo("POST", `/repos/${REPO}/issues/${issue}/comments`).length).toBeGreaterThan(repliesBefore);
    }, 120_000);

    it("from bots, even one named like an approver", async () => {
      await fc.assert(
        fc.asyncProperty(commentBody, fc.constantFrom<[string, "User" | "Bot"]>(["dependabot[bot]", "Bot"], ["alice", "Bot"], ["alice[bot]", "User"], ["hitl[bot]", "Bot"]), async (body, [who, type]) => {
          const delivery = await comment(body, { login: who, userType: type });
          expect(delivery.status, `${who}: ${JSON.stringify(body)} → ${delivery.text}`).toBe(200);
          await expectUndecided();
        }),
        settings,
      );
    }, 120_000);

    it("edited by the approver, or on an issue with no request", async () => {
      await fc.assert(
        fc.asyncProperty(commentBody, fc.boolean(), async (body, edited) => {
          const delivery = edited ? await comment(body, { login: "alice", action: "edited" }) : await comment(body, { login: "alice", issueNumber: 9_000 });
          expect(delivery.status, `${JSON.stringify(body)} → ${delivery.text}`).toBe(200);
          await expectUndecided();
        }),
        settings,
      );
    }, 120_000);
  });

  describe(".hitl.yml", () => {
    const AUTO = "approvers: [alice]\nauto_approve:\n  confidence_above: 0.95\n  risk_below: 0.1\n  require_human_above_risk: 0.7\n";
    const STRICT = "approvers: [alice]\nauto_approve: {confidence_above: 0.995, risk_below: 0.1}\nrules:\n  - id: huge\n    when: {field: amount, gte: 1000}\n    action: reject\n";
    const RULES = `agents: [refund-agent]\nrules:\n  - id: small-refunds\n    when:\n      all:\n        - {field: amount, lt: 50}\n        - {task_type: [refund]}\n        - {risk_score: {max: 0.3}}\n    action: approve\n    max_uses: 3\n  - id: gold\n    when: {field: customer.tier, equals: gold}\n    action: {choose: approve}\n`;
    const FULL = readFileSync(new URL("../fixtures/config/valid-full.yml", import.meta.url), "utf8");
    const BASES = [AUTO, STRICT, RULES, FULL];

    const edit = textEdit([...YAML_NOISE, "0.5", "0.0", "1", "approve", "reject", "auto_approve: {confidence_above: 0, risk_below: 1}\n", "_extends: .github\n", "<<: *a\n"]);

    /** Policies built from the schema's own words, mostly valid, sometimes edited after. */
    const unit = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.01, 0.5, 0.98, 0.99, 1));
    const autoApprove = fc.oneof(
      fc.record({ confidence_above: unit, risk_below: unit }),
      fc.record({ confidence_above: unit, risk_below: unit, require_human_above_risk: unit }),
      fc.record({ require_human_above_risk: unit }),
    );
    const condition = fc.constantFrom<unknown>(
      { field: "amount", lt: 50 },
      { field: "amount", gt: 50 },
      { field: "currency", equals: "USD" },
      { risk_score: { max: 0.3 } },
      { confidence: { min: 0.999 } },
      { task_type: ["refund"] },
      { task_type: ["deploy"] },
      { not: { task_type: ["deploy"] } },
      { all: [{ field: "amount", gte: 10 }, { risk_score: { max: 0.05 } }] },
      { any: [{ field: "missing", equals: 1 }, { confidence: { max: 0.5 } }] },
      { time_window: { start: "00:00", end: "23:59", timezone: "UTC" } },
    );
    const rule = (index: number) =>
      fc.record(
        {
          id: fc.constant(`r${index}`),
          when: condition,
          action: fc.constantFrom<unknown>("approve", "reject", { choose: "approve" }, { choose: "reject" }, { choose: "nope" }),
          max_uses: fc.constantFrom(1, 2, 3),
          valid_until: fc.constantFrom("2020-01-01", "2099-01-01", "2026-11-24"),
        },
        { requiredKeys: ["id", "when", "action"] },
      );
    const validish = fc
      .record(
        {
          approvers: fc.constantFrom(["alice"], ["@octo-org/finance"]),
          agents: fc.constantFrom([AGENT.name], [AGENT.name, "deploy-bot"], ["someone-else"]),
          auto_approve: autoApprove,
          rules: fc.integer({ min: 0, max: 3 }).chain((count) => fc.tuple(...Array.from({ length: count }, (_, index) => rule(index)))),
        },
        { requiredKeys: [] },
      )
      .map((value) => dump(value));
    const structured = fc.tuple(validish, fc.array(edit, { maxLength: 2 })).map(([text, edits]) => applyEdits(text, edits));

    const policyText = fc.oneof(
      { arbitrary: fc.string({ unit: "binary", maxLength: 300 }), weight: 1 },
      { arbitrary: fc.tuple(fc.constantFrom(...BASES), fc.array(edit, { minLength: 1, maxLength: 5 })).map(([base, edits]) => applyEdits(base, edits)), weight: 2 },
      { arbitrary: structured, weight: 3 },
    );

    const confidentRequest = { repo: REPO, task_description: "Refund order 20", approval_reason: "Refund", decision_data: { amount: 20, currency: "USD" }, request_type: "refund", confidence: 0.99, risk_score: 0.01, deadline: "2099-01-01T00:00:00Z" };

    it("a confident, low-risk request is decided by the policy only when the file is valid and says so", async () => {
      let decidedCount = 0;
      let brokenCount = 0;
      await fc.assert(
        fc.asyncProperty(policyText, async (generated) => {
          // What GitHub stores and serves: UTF-8 (lone surrogates do not survive).
          const text = Buffer.from(generated, "utf8").toString("utf8");
          github.repo(REPO).files.main = { ".hitl.yml": text };
          const at = nextMinute();
          const parsed = parseConfig(text, ".hitl.yml");
          const expected = parsed.ok
            ? await evaluatePolicy({
                config: parsed.config,
                configError: null,
                facts: { decisionData: confidentRequest.decision_data, requestType: "refund", riskScore: 0.01, confidence: 0.99, availableActions: [{ id: "approve" }, { id: "reject" }] },
                now: at,
                takeUse: async (ruleId, max) => (await app.store.uses(`rule:${REPO}:${ruleId}`)) < max,
              })
            : null;
          const answer = await api(app, "POST", "/requests", confidentRequest);
          const context = `${JSON.stringify(text)} → ${answer.status} ${answer.text.slice(0, 300)}`;
          expectWellFormed(answer, text);
          if (answer.status >= 300) {
            // A valid file may keep this agent out; nothing else refuses a valid request.
            expect(parsed.ok, context).toBe(true);
            expect(answer.json.error.code, context).toBe("agent_not_allowed");
            return;
          }
          const decided = answer.json.status !== "pending";
          if (decided) decidedCount += 1;
          if (!parsed.ok) {
            brokenCount += 1;
            expect(decided, `a broken file decided: ${context}`).toBe(false);
            expect(answer.json.evaluation.config_error, context).toEqual(expect.any(String));
            return;
          }
          // `_extends` reads other files the generated text cannot know about: only the safe direction holds.
          const extended = /^_extends\s*:/m.test(text);
          if (!extended) expect(decided, `the policy ${expected!.outcome.type === "decide" ? "decides" : "does not decide"}: ${context}`).toBe(expected!.outcome.type === "decide");
          if (decided) {
            expect(expected!.outcome.type, context).toBe("decide");
            const by = answer.json.decision.decided_by;
            if (by.type === "rule") {
              expect(parsed.config.rules.some((rule) => rule.id === by.id), context).toBe(true);
            } else {
              expect(by, context).toEqual({ type: "system", reason: "auto_approve" });
              expect(0.99, context).toBeGreaterThan(parsed.config.auto_approve!.confidence_above!);
              expect(0.01, context).toBeLessThan(parsed.config.auto_approve!.risk_below!);
            }
          }
        }),
        settings,
      );
      // The generators reach both sides: files that decide, and broken ones.
      expect(decidedCount).toBeGreaterThan(0);
      expect(brokenCount).toBeGreaterThan(0);
    }, 120_000);

    interface Hostile {
      text: string;
      /** What the errors must say, when the file must be refused whatever else it holds. */
      refused?: RegExp;
    }

    /** `levels` anchors, each `fanout` aliases of the one before, under a key the schema checks or takes as-is. */
    function aliasBomb(fanout: number, levels: number, under: string): Hostile {
      const items = [`  - &x0 [${Array(fanout).fill("lol").join(", ")}]`];
      for (let i = 1; i < levels; i++) items.push(`  - &x${i} [${Array(fanout).fill(`*x${i - 1}`).join(", ")}]`);
      const text = under === "value" ? `fallback:\n  type: use_default\n  action: approve\n  value:\n${items.map((line) => `  ${line}`).join("\n")}\n` : `${under}:\n${items.join("\n")}\n`;
      return { text, ...(fanout ** levels >= 1_000_000 ? { refused: /alias/ } : {}) };
    }

    const hostileYaml: fc.Arbitrary<Hostile> = fc.oneof(
      fc.tuple(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 2, max: 14 }), fc.constantFrom("value", "approvers", "rules", "escalation", "agents")).map(([fanout, levels, under]) => aliasBomb(fanout, levels, under)),
      fc.tuple(fc.integer({ min: 31, max: 5_000 }), fc.boolean()).map(([depth, flow]) => ({
        text: flow
          ? `fallback: {type: use_default, action: approve, value: ${"[".repeat(depth)}${"]".repeat(depth)}}\n`
          : `fallback:\n  type: use_default\n  action: approve\n  value:\n    ${"- ".repeat(depth)}x\n`,
        refused: /nest deeper than/,
      })),
      fc.constantFrom<Hostile>(
        { text: "rules:\n  - id: loop\n    when: &c {not: *c}\n    action: approve\n", refused: /alias \*c is inside/ },
        { text: "fallback: {type: use_default, action: a, value: &v [1, [2, *v]]}\n", refused: /alias \*v is inside/ },
        { text: "approvers: &a [*a]\n", refused: /alias \*a is inside/ },
        { text: "rules:\n  - &r {id: r, when: {all: [*r]}, action: approve}\n", refused: /alias \*r is inside/ },
        { text: `approvers: [&a alice, ${Array(150).fill("*a").join(", ")}]\n`, refused: /more than 100 aliases/ },
        { text: `# ${"x".repeat(300_000)}\n`, refused: /at most 262144 are allowed/ },
      ),
      fc.tuple(fc.constantFrom("deadline: X\n", "escalation: [{after: X, approvers: [bob]}]\n", "escalation_critical: [{after: X, approvers: [bob]}]\n", "fallback: {type: delegate, extend_by: X}\n"), fc.stringMatching(/^[1-9]\d{3,40}$/), fc.constantFrom("d", "w")).map(([line, digits, unit]) => ({
        text: line.replace("X", `${digits}${unit}`),
        refused: /must be at most 365d \(a year\)/,
      })),
    );

    it("hostile files are refused quickly with the line, and never throw", () => {
      fc.assert(
        fc.property(hostileYaml, ({ text, refused }) => {
          const started = performance.now();
          const result = parseConfig(text, ".hitl.yml");
          const context = `${text.slice(0, 200)} → ${JSON.stringify(result).slice(0, 300)}`;
          expect(performance.now() - started, context).toBeLessThan(2_000);
          if (!refused) return;
          expect(result.ok, context).toBe(false);
          if (result.ok) return;
          expect(result.errors.some((error) => refused.test(error.message)), context).toBe(true);
          for (const error of result.errors) expect(error.line, context).toBeGreaterThanOrEqual(1);
        }),
        settings,
      );
    }, 120_000);

    it("hostile files on the default branch or sent to POST /simulate leave every request to a person", async () => {
      await fc.assert(
        fc.asyncProperty(hostileYaml.filter((hostile) => hostile.refused !== undefined), async ({ text }) => {
          github.repo(REPO).files.main = { ".hitl.yml": text };
          nextMinute();
          const opened = await api(app, "POST", "/requests", confidentRequest);
          const context = `${text.slice(0, 200)} → ${opened.status} ${opened.text.slice(0, 300)}`;
          expect(opened.status, context).toBe(201);
          expect(opened.json, context).toMatchObject({ status: "pending", evaluation: { config_error: expect.any(String) } });
          const simulated = await api(app, "POST", "/simulate", { request: confidentRequest, config: text });
          if (text.length > 256 * 1024) {
            expect(simulated.status, context).toBe(400);
            expect(simulated.json.error.issues, context).toEqual([expect.objectContaining({ path: "config" })]);
            return;
          }
          expect(simulated.status, context).toBe(200);
          expect(simulated.json, context).toMatchObject({ outcome: "needs_human", config: { error: expect.any(String) } });
        }),
        { ...settings, numRuns: 60 },
      );
    }, 120_000);
  });
});
