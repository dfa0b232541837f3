import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Hitl } from "../../src/client/index.js";
import { createEmailSender } from "../../src/channels/email/email-sender.js";
import { linkKeyFrom } from "../../src/channels/links/link-token.js";
import { contextHash } from "../../src/core/context-hash.js";
import { shownContext } from "../../src/core/build-request.js";
import { storedLayers } from "../../src/core/context-layers.js";
import { HIDDEN_PLACEHOLDER } from "../../src/sensitive/hidden-fields.js";
import { parseSealingKeys } from "../../src/sensitive/sealing.js";
import { SENSITIVE_PLACEHOLDER } from "../../src/sensitive/sensitive-fields.js";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import { DATABASE_FILE } from "../../src/store/sqlite-schema.js";
import { createRedisStore } from "../../src/store/redis-store.js";
import { createRespRequester } from "../../src/store/resp-requester.js";
import type { Store } from "../../src/store/store.js";
import { AGENT, api, OTHER_AGENT, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deleteKeys, REDIS_URL } from "../support/redis-keys.js";
import { startSlackStandIn, type SlackStandIn } from "../support/slack-stand-in.js";
import { startSmtpStandIn, type SmtpStandIn } from "../support/smtp-stand-in.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const KEY = linkKeyFrom("link-secret-for-tests-0123456789abcdef");
const PUBLIC_URL = "https://hitl.example.com";
const HIDDEN_EMAIL = "ann.hidden.example";
const HIDDEN_NOTE = "margin-forty-one-percent";
const FULL_MARKER = "full-layer-only-7f3a";
const MUST_NOT_LEAVE = [HIDDEN_EMAIL, HIDDEN_NOTE, FULL_MARKER];

const POLICY = `approvers: [alice, bob]
people:
  alice: {email: alice@example.com, slack: UALICE1}
notify:
  - events: [opened, decided]
    channels: [email, slack]
context:
  hide: [customer.email, internal]
`;

const DATA = { amount: 120, customer: { name: "Ann", email: HIDDEN_EMAIL }, internal: { note: HIDDEN_NOTE } };
const LAYERS = {
  summary: "Refund $120 to Ann for a damaged parcel",
  detail: "The parcel arrived broken; photos attached by @ann in #42.\n\nSee https://evil.example/steal for **more**.",
  full: { transcript: [`${FULL_MARKER}: customer wrote in`, "agent answered"], amount: 1 },
};

const body = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  decision_data: DATA,
  available_actions: [
    { id: "approve", label: "Refund" },
    { id: "reject", label: "Deny" },
  ],
  deadline: "2026-11-25T09:00:00Z",
  context: LAYERS,
  ...overrides,
});

describe("context layers and .hitl.yml context: {show, hide}", () => {
  let github: GitHubStandIn;
  let smtp: SmtpStandIn;
  let slack: SlackStandIn;
  let app: AppHarness;
  let sender: ReturnType<typeof createEmailSender>;

  async function start(policy = POLICY) {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": policy } } } } });
    app = await startApp({
      githubUrl: github.url,
      now: T0,
      senders: [sender],
      links: { publicUrl: PUBLIC_URL, key: KEY },
      slack: { botToken: slack.token, signingSecret: "slack-signing-secret-for-tests", apiUrl: slack.apiUrl },
      agents: [AGENT, OTHER_AGENT, { name: "auditor", token: "auditor-token-0123456789abcdef", readAll: true }],
    });
  }

  beforeEach(async () => {
    smtp = await startSmtpStandIn();
    slack = await startSlackStandIn();
    sender = createEmailSender({ settings: { smtpUrl: smtp.url, from: "hitl <hitl@example.com>", replyDomain: null }, publicUrl: PUBLIC_URL, linkKey: KEY });
  });

  afterEach(async () => {
    await app.close();
    sender.close();
    await Promise.all([github.close(), smtp.close(), slack.close()]);
  });

  /** Everything hitl sent to GitHub, Slack and by mail, as raw text. */
  const everythingSent = () => [JSON.stringify(github.calls), JSON.stringify(slack.calls), ...smtp.received.map((mail) => mail.raw)].join("\n");

  it("shows the detail inert and the summary in messages, keeps hidden values and the full layer off every surface, and gives them back to the agent", async () => {
    await start();
    const created = await api(app, "POST", "/requests", body());
    expect(created.status).toBe(201);
    const id = (created.json as { id: string }).id;
    await app.runtime.jobs.run();
    await app.runtime.jobs.run();

    const issue = (github.callsTo("POST", `/repos/${REPO}/issues`)[0]!.body as { body: string }).body;
    expect(issue).toContain(
      [
        "### Detail",
        "",
        "The parcel arrived broken; photos attached by @\u200Dann in #\u200D42.",
        "",
        "See https:\u200D//evil.example/steal for &#42;&#42;more&#42;&#42;.",
        "",
        "### Decision data",
        "",
        "```json",
        JSON.stringify({ amount: 120, customer: { name: "Ann", email: HIDDEN_PLACEHOLDER }, internal: HIDDEN_PLACEHOLDER }, null, 2),
        "```",
        "",
        "2 fields are not shown on GitHub (this repository's .hitl.yml `context`): `customer.email`, `internal`. Approvers see the values on the one-click confirmation page, or ask the requesting agent.",
      ].join("\n"),
    );
    expect(issue).toContain("| context hash | not shown (the request has fields not shown on GitHub) |");

    // Notifications lead with the summary and show the placeholders.
    const mail = smtp.received.find((received) => received.to.includes("alice@example.com"))!;
    expect(mail.parsed.text).toContain("Refund order 1234\n\nRefund $120 to Ann for a damaged parcel\n\nrefund-agent asks for approval. Why: Refunds over $50 need a human\n");
    expect(mail.parsed.html).toContain('<h1 style="font-size:21px;line-height:1.3;margin:0 0 8px">Refund order 1234</h1>\n<p style="margin:0 0 8px">Refund $120 to Ann for a damaged parcel</p>\n<p style="margin:0 0 8px">refund-agent asks for approval.');
    expect(mail.parsed.text).toContain(`  customer: {"name":"Ann","email":"${HIDDEN_PLACEHOLDER}"}\n  internal: "${HIDDEN_PLACEHOLDER}"\n`);
    const posted = slack.calls.find((call) => call.method === "chat.postMessage")!;
    const blocks = (posted.body as { blocks: { type: string; text?: { text: string } }[] }).blocks;
    expect(blocks[1]).toEqual({ type: "section", text: { type: "mrkdwn", text: "Refund $120 to Ann for a damaged parcel" } });
    expect(blocks[2]!.text!.text).toBe(
      "*Why:* Refunds over $50 need a human\n*Priority:* normal · *Deadline:* 25 Nov 2026 09:00 UTC\n*Asked by:* refund-agent in octo-org/payments · <https://github.com/octo-org/payments/issues/1|Issue #1>",
    );

    // The one-click page, for an approver, shows the hidden values.
    const link = /^Approve: Refund.*\n(https:\/\/hitl\.example\.com\/l\/\S+)$/m.exec(mail.parsed.text!)![1]!;
    const page = await (await fetch(`${app.url}${link.replace(PUBLIC_URL, "")}`)).text();
    expect(page).toContain(HIDDEN_EMAIL);
    expect(page).toContain(HIDDEN_NOTE);
    expect(page).toContain("<h1>Refund order 1234</h1>\n<p>Refund $120 to Ann for a damaged parcel</p>\n<p>refund-agent asks");
    expect(page).toContain(
      `<section class="card"><h2>Detail</h2><p>The parcel arrived broken; photos attached by @\u200Dann in #\u200D42.</p><p>See https:\u200D//evil.example/steal for **more**.</p><details><summary>Full context (${storedLayers(LAYERS)!.full!.bytes} bytes)</summary><pre style="white-space:pre-wrap;overflow-wrap:anywhere"><code>{\n  &#34;transcript&#34;: [\n    &#34;${FULL_MARKER}: customer wrote in&#34;,\n    &#34;agent answered&#34;\n  ],\n  &#34;amount&#34;: 1\n}</code></pre></details></section>`,
    );

    // The agent reads its values and its layers back; the full layer only from /context.
    const own = (await api(app, "GET", `/requests/${id}`)).json as Record<string, unknown>;
    expect(own.decision_data).toEqual(DATA);
    const fullStored = storedLayers(LAYERS)!.full!;
    expect(own.context).toEqual({ summary: LAYERS.summary, detail: LAYERS.detail, full: { bytes: fullStored.bytes, sha256: fullStored.sha256 } });
    const context = await api(app, "GET", `/requests/${id}/context`);
    expect(context.status).toBe(200);
    expect(context.json).toEqual({ id, context_hash: own.context_hash, summary: LAYERS.summary, detail: LAYERS.detail, full: LAYERS.full, context_purged_at: null });
    expect(await new Hitl({ url: app.url, token: AGENT.token }).context(id)).toEqual(context.json);

    // The hash binds the layers, the full one included; the same request without them hashes as it always did.
    const shown = { repo: REPO, taskDescription: "Refund order 1234", approvalReason: "Refunds over $50 need a human", decisionData: DATA, availableActions: (created.json as { available_actions: never }).available_actions };
    expect(own.context_hash).toBe(contextHash(shownContext({ ...shown, layers: storedLayers(LAYERS) })));
    expect(contextHash(shownContext({ ...shown, layers: storedLayers({ ...LAYERS, full: { ...LAYERS.full, amount: 2 } }) }))).not.toBe(own.context_hash);
    expect(contextHash(shownContext(shown))).toBe(contextHash(shown));

    // Another agent does not learn the request exists; a read-all token reads the layers and the hidden values.
    expect((await api(app, "GET", `/requests/${id}/context`, undefined, { token: OTHER_AGENT.token })).status).toBe(404);
    const auditor = await api(app, "GET", `/requests/${id}/context`, undefined, { token: "auditor-token-0123456789abcdef" });
    expect((auditor.json as { full: unknown }).full).toEqual(LAYERS.full);
    expect(((await api(app, "GET", `/requests/${id}`, undefined, { token: "auditor-token-0123456789abcdef" })).json as { decision_data: unknown }).decision_data).toEqual(DATA);

    expect(smtp.received.length).toBeGreaterThan(0);
    const sent = everythingSent();
    for (const value of MUST_NOT_LEAVE) expect(sent).not.toContain(value);
    expect(sent).toContain(HIDDEN_PLACEHOLDER);
  });

  it("show lists the only paths on GitHub; a rule still tests a hidden value, and its explanation says [hidden]", async () => {
    await start(`approvers: [alice]
context:
  show: [amount, customer.name]
rules:
  - id: vip
    when:
      all:
        - {field: amount, gt: 100}
        - {field: customer.tier, equals: gold}
    action: approve
`);
    const created = await api(app, "POST", "/requests", body({ context: undefined, decision_data: { amount: 120, customer: { name: "Ann", email: HIDDEN_EMAIL, tier: "silver" }, note: HIDDEN_NOTE } }));
    expect(created.status).toBe(201);
    await app.runtime.jobs.run();
    const issue = (github.callsTo("POST", `/repos/${REPO}/issues`)[0]!.body as { body: string }).body;
    expect(issue).toContain(JSON.stringify({ amount: 120, customer: { name: "Ann", email: HIDDEN_PLACEHOLDER, tier: HIDDEN_PLACEHOLDER }, note: HIDDEN_PLACEHOLDER }, null, 2));
    expect(issue).toContain("3 fields are not shown on GitHub (this repository's .hitl.yml `context`): `customer.email`, `customer.tier`, `note`.");
    expect(issue).toContain("Closest delegation rule: `vip` — amount is 120, above 100; customer.tier is &#91;hidden&#93;, not &#91;hidden&#93;.");
    expect(issue).not.toContain("silver");
    expect(issue).not.toContain("### Detail");

    const gold = await api(app, "POST", "/requests", body({ context: undefined, decision_data: { amount: 120, customer: { name: "Ann", tier: "gold" } } }));
    expect((gold.json as { status: string; decision: { decided_by: unknown } }).decision.decided_by).toEqual({ type: "rule", id: "vip" });
    for (const value of MUST_NOT_LEAVE) expect(everythingSent()).not.toContain(value);
  });

  it("a sensitive path is never shown, whatever show names; the agent still reads both kinds back", async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" }, files: { main: { ".hitl.yml": "approvers: [alice]\ncontext:\n  show: [amount, card]\n" } } } } });
    const parsed = parseSealingKeys(`k1:${randomBytes(32).toString("base64")}`);
    if ("errors" in parsed) throw new Error(parsed.errors.join("; "));
    app = await startApp({ githubUrl: github.url, now: T0, sealingKeys: parsed.keys });
    const data = { amount: 120, card: "4111-1111-1111-1111", note: HIDDEN_NOTE };
    const created = await api(app, "POST", "/requests", body({ context: undefined, decision_data: data, sensitive: ["card"] }));
    expect(created.status).toBe(201);
    await app.runtime.jobs.run();
    const issue = (github.callsTo("POST", `/repos/${REPO}/issues`)[0]!.body as { body: string }).body;
    expect(issue).toContain(
      [
        "| amount | 120 |",
        `| card | &#91;sensitive: kept off GitHub&#93; |`,
        `| note | &#91;hidden: not shown on GitHub&#93; |`,
        "",
        "1 sensitive field is kept off GitHub: `card`. Approvers see the values on the one-click confirmation page, or ask the requesting agent.",
        "",
        "1 field is not shown on GitHub (this repository's .hitl.yml `context`): `note`. Approvers see the values on the one-click confirmation page, or ask the requesting agent.",
      ].join("\n"),
    );
    expect(JSON.stringify(github.calls)).not.toContain("4111-1111-1111-1111");
    expect(JSON.stringify(github.calls)).not.toContain(HIDDEN_NOTE);
    expect(((await api(app, "GET", `/requests/${(created.json as { id: string }).id}`)).json as { decision_data: unknown }).decision_data).toEqual(data);
    expect(SENSITIVE_PLACEHOLDER).toBe("[sensitive: kept off GitHub]");
  });

  it("an agent cannot show a hidden path: not by making it editable, nor by a full layer that names it, nor by a key with a dot", async () => {
    await start(`approvers: [alice]\ncontext:\n  show: [amount]\n  hide: [internal]\n`);
    const editable = await api(app, "POST", "/requests", body({ editable_fields: { internal: { type: "string" } }, decision_data: { amount: 120, internal: HIDDEN_NOTE } }));
    expect(editable.status).toBe(400);
    expect((editable.json as { error: { issues: unknown } }).error.issues).toEqual([{ path: "editable_fields.internal", message: "internal is not shown on GitHub (.hitl.yml context); hidden fields cannot be editable" }]);

    const dotted = await api(app, "POST", "/requests", body({ decision_data: { amount: 120, "internal.copy": HIDDEN_NOTE } }));
    expect(dotted.status).toBe(400);
    expect((dotted.json as { error: { issues: { path: string }[] } }).error.issues.map((issue) => issue.path)).toEqual(["decision_data.internal.copy"]);

    // `full` says amount is 1 and names the hidden path: people still approve decision_data's 120, and nothing of full is shown.
    const created = await api(app, "POST", "/requests", body({ decision_data: { amount: 120, internal: HIDDEN_NOTE }, context: { full: { amount: 1, internal: "shown?" } } }));
    expect(created.status).toBe(201);
    await app.runtime.jobs.run();
    const issue = (github.callsTo("POST", `/repos/${REPO}/issues`)[0]!.body as { body: string }).body;
    expect(issue).toContain("| amount | 120 |\n| internal | &#91;hidden: not shown on GitHub&#93; |");
    expect(issue).not.toContain("shown?");
    expect(JSON.stringify(github.calls)).not.toContain(HIDDEN_NOTE);
  });

  it("hides the same paths in the alternatives' data and on a pull request's check run", async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write", author: "write" }, files: { main: { ".hitl.yml": "approvers: [alice]\ncontext:\n  hide: [payee, internal]\n" } }, pulls: [{ number: 42, headSha: "a".repeat(40), user: "author" }] } },
    });
    app = await startApp({ githubUrl: github.url, now: T0 });
    const created = await api(
      app,
      "POST",
      "/requests",
      body({
        surface: { type: "pull_request", number: 42 },
        decision_data: { amount: 120, internal: HIDDEN_NOTE },
        presentation: "comparative",
        available_actions: [
          { id: "full", label: "Full refund", kind: "approve", data: { amount: 120, payee: HIDDEN_EMAIL } },
          { id: "half", label: "Half refund", kind: "approve", data: { amount: 60, payee: HIDDEN_EMAIL } },
          { id: "reject", label: "Deny" },
        ],
      }),
    );
    expect(created.status).toBe(201);
    await app.runtime.jobs.run();
    const run = github.callsTo("POST", `/repos/${REPO}/check-runs`)[0]!.body as { output: { summary: string; text: string } };
    const text = `${run.output.summary}\n${run.output.text}`;
    expect(text).toContain(`| payee | &#91;hidden: not shown on GitHub&#93; | &#91;hidden: not shown on GitHub&#93; | — |`);
    expect(text).toContain("3 fields are not shown on GitHub (this repository's .hitl.yml `context`): `internal`, `payee` of action `full`, `payee` of action `half`.");
    expect(text).toContain("### Detail\n\nThe parcel arrived broken");
    for (const value of MUST_NOT_LEAVE) expect(JSON.stringify(github.calls)).not.toContain(value);
    // The agent reads its alternatives back as it sent them.
    const own = (await api(app, "GET", `/requests/${(created.json as { id: string }).id}`)).json as { available_actions: { data?: unknown }[] };
    expect(own.available_actions.map((action) => action.data)).toEqual([{ amount: 120, payee: HIDDEN_EMAIL }, { amount: 60, payee: HIDDEN_EMAIL }, undefined]);
  });

  it("while .hitl.yml is broken, shows no decision data but the fields people may edit", async () => {
    await start("approvers: [alice]\ncontext:\n  hide: notes\n");
    const created = await api(app, "POST", "/requests", body({ context: undefined, decision_data: { amount: 120, note: HIDDEN_NOTE }, editable_fields: { amount: { type: "number", minimum: 1, maximum: 500 } } }));
    expect(created.status).toBe(201);
    await app.runtime.jobs.run();
    const issue = (github.callsTo("POST", `/repos/${REPO}/issues`)[0]!.body as { body: string }).body;
    expect(issue).toContain("| amount | 120 |\n| note | &#91;hidden: not shown on GitHub&#93; |\n\n1 field is not shown on GitHub (this repository's .hitl.yml `context`): `note`.");
    expect((created.json as { evaluation: { config_error: string } }).evaluation.config_error).toContain("context.hide");
    for (const value of MUST_NOT_LEAVE) expect(everythingSent()).not.toContain(value);
  });

  it("retention removes the layers and the hidden values with the rest of the context, and says so in the chain", async () => {
    const DAY = 86_400_000;
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" }, files: { main: { ".hitl.yml": "approvers: [alice]\ncontext:\n  hide: [internal]\nretention:\n  context: 1d\n" } } } } });
    app = await startApp({ githubUrl: github.url, now: T0, retention: { contextMs: 30 * DAY, auditMs: null }, agents: [AGENT, { name: "auditor", token: "auditor-token-0123456789abcdef", readAll: true }] });
    const id = ((await api(app, "POST", "/requests", body())).json as { id: string }).id;
    await api(app, "POST", `/requests/${id}/cancel`, { reason: "not needed" });
    app.setNow(new Date(T0.getTime() + DAY));
    expect(await app.runtime.purge()).toEqual({ ran: true, contextPurged: 1, auditRemoved: 0 });

    expect((await api(app, "GET", `/requests/${id}/context`)).json).toMatchObject({ summary: null, detail: null, full: null, context_purged_at: new Date(T0.getTime() + DAY).toISOString() });
    const purged = (await api(app, "GET", `/requests/${id}`)).json as Record<string, unknown>;
    expect(purged.decision_data).toEqual({});
    expect(purged).not.toHaveProperty("context");
    const trail = (await api(app, "GET", `/audit?repo=${REPO}`, undefined, { token: "auditor-token-0123456789abcdef" })).text.trim().split("\n").map((line) => JSON.parse(line));
    expect(trail.at(-1)).toMatchObject({
      event: "context_purged",
      details: { removed: ["task_description", "approval_reason", "decision_data", "evaluation", "decision.justification", "decision.edited_fields", "sections", "presentation", "checkpoint", "prediction", "context.summary", "context.detail", "context.full"], kept_for: "1d" },
    });
    expect(((await api(app, "GET", `/audit/verify?repo=${REPO}`, undefined, { token: "auditor-token-0123456789abcdef" })).json as { ok: boolean }).ok).toBe(true);
    const stored = JSON.stringify(await app.runtime.engine.get(id));
    for (const value of MUST_NOT_LEAVE) expect(stored).not.toContain(value);
  });

  it("answers 400 naming the field for a bad layer", async () => {
    await start();
    const bad = await api(app, "POST", "/requests", body({ context: { summary: "two\nlines", detail: "x".repeat(20_001), extra: 1 } }));
    expect(bad.status).toBe(400);
    expect((bad.json as { error: { issues: unknown } }).error.issues).toEqual([
      { path: "context.summary", message: "must be one line" },
      { path: "context.detail", message: "Too big: expected string to have <=20000 characters" },
      { path: "context", message: 'Unrecognized key: "extra"' },
    ]);
  });
});

describe("a large full layer is stored compressed in both stores", () => {
  // About 1 MB of log lines, as an agent might attach them.
  const FULL = { log: Array.from({ length: 4_600 }, (_, i) => `${String(i).padStart(5, "0")} step ${i % 37} read order 1234 from the ledger, amount 120 USD, status ok, retry 0, shard ${i % 8} ${"-".repeat(120)}`) };
  const FULL_BYTES = Buffer.byteLength(JSON.stringify(FULL));

  async function roundTrip(store: Store, storedBytes: (id: string) => Promise<number>) {
    const github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" }, files: { main: { ".hitl.yml": "approvers: [alice]\n" } } } } });
    const app = await startApp({ githubUrl: github.url, now: T0, store });
    try {
      const created = await api(app, "POST", "/requests", body({ decision_data: { amount: 120 }, context: { full: FULL } }));
      expect(created.status).toBe(201);
      const id = (created.json as { id: string }).id;
      const stored = (await store.get(id))!;
      expect(stored.layers!.full!.encoding).toBe("br");
      expect(stored.layers!.full!.bytes).toBe(FULL_BYTES);
      const bytes = await storedBytes(id);
      expect(bytes).toBe(Buffer.byteLength(JSON.stringify(stored)));
      expect(FULL_BYTES).toBeGreaterThan(900_000);
      expect(bytes).toBeLessThan(FULL_BYTES / 20);
      expect(((await api(app, "GET", `/requests/${id}/context`)).json as { full: unknown }).full).toEqual(FULL);
    } finally {
      await app.close();
      await github.close();
    }
  }

  it("embedded SQLite: the row holds the compressed layer", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hitl-layers-"));
    const store = await createEmbeddedStore({ dir });
    try {
      await roundTrip(store, async (id) => {
        const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
        try {
          return (db.prepare("SELECT length(CAST(body AS BLOB)) AS bytes FROM requests WHERE id = ?").get(id) as { bytes: number }).bytes;
        } finally {
          db.close();
        }
      });
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("Redis: the request's value holds the compressed layer", async () => {
    const prefix = `hitl-test:layers:${randomBytes(6).toString("hex")}:`;
    const requester = createRespRequester(REDIS_URL);
    const store = createRedisStore({ redis: new Redis(requester), prefix, onClose: () => requester.close() });
    const admin = new IORedis(REDIS_URL);
    try {
      await roundTrip(store, async (id) => admin.hstrlen(`${prefix}req:${id}`, "json"));
    } finally {
      admin.disconnect();
      await store.close();
      await deleteKeys(REDIS_URL, `${prefix}*`);
    }
  });
});
