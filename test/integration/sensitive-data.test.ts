import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEmailSender } from "../../src/channels/email/email-sender.js";
import { linkKeyFrom } from "../../src/channels/links/link-token.js";
import { parseSealingKeys, type SealingKeys } from "../../src/sensitive/sealing.js";
import { SENSITIVE_PLACEHOLDER } from "../../src/sensitive/sensitive-fields.js";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import { editedContextHash } from "../../src/core/decide.js";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { createRedisStore } from "../../src/store/redis-store.js";
import { createRespRequester } from "../../src/store/resp-requester.js";
import { deleteKeys, REDIS_URL, scanKeys } from "../support/redis-keys.js";
import type { Store } from "../../src/store/store.js";
import { AGENT, api, OTHER_AGENT, startApp, type AppHarness } from "../support/app-harness.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { startSlackStandIn, type SlackStandIn } from "../support/slack-stand-in.js";
import { startSmtpStandIn, type SmtpStandIn } from "../support/smtp-stand-in.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const KEY = linkKeyFrom("link-secret-for-tests-0123456789abcdef");
const PUBLIC_URL = "https://hitl.example.com";
const CARD = "4111-1111-1111-1111";
const EMAIL = "ann.q.private@example.net";
const SSN = "078-05-1120";
const SECRETS = [CARD, EMAIL, SSN];

const keysOf = (text: string): SealingKeys => {
  const parsed = parseSealingKeys(text);
  if ("errors" in parsed) throw new Error(parsed.errors.join("; "));
  return parsed.keys;
};

const POLICY = `approvers: [alice, bob]
people:
  alice: {email: alice@example.com, slack: UALICE1}
  bob: {email: bob@example.com}
notify:
  - events: [opened, decided]
    channels: [email, slack]
sensitive:
  - request_type: refund
    paths: [customer.email]
rules:
  - id: blocked-card
    when: {field: card_number, equals: "4000-0000-0000-0002"}
    action: reject
`;

const body = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  request_type: "refund",
  decision_data: { amount: 120, card_number: CARD, customer: { name: "Ann", email: EMAIL } },
  sensitive: ["card_number"],
  sensitive_data: { ssn: SSN },
  available_actions: [
    { id: "approve", label: "Refund" },
    { id: "reject", label: "Deny" },
  ],
  deadline: "2026-11-25T09:00:00Z",
  ...overrides,
});

describe("sensitive data stays off GitHub, chat, email, callbacks, logs and the store", () => {
  let github: GitHubStandIn;
  let smtp: SmtpStandIn;
  let slack: SlackStandIn;
  let receiver: CallbackReceiver;
  let app: AppHarness;
  let sender: ReturnType<typeof createEmailSender>;
  let dir: string;
  let store: Store;
  const logLines: string[] = [];

  async function start(sealingKeys: SealingKeys | null) {
    app = await startApp({
      githubUrl: github.url,
      now: T0,
      store,
      senders: [sender],
      links: { publicUrl: PUBLIC_URL, key: KEY },
      slack: { botToken: slack.token, signingSecret: "slack-signing-secret-for-tests", apiUrl: slack.apiUrl },
      agents: [AGENT, { ...OTHER_AGENT, readAll: true }],
      log: pino({ level: "trace" }, { write: (line: string) => void logLines.push(line) }),
      sealingKeys,
    });
  }

  beforeEach(async () => {
    logLines.length = 0;
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": POLICY } } } } });
    smtp = await startSmtpStandIn();
    slack = await startSlackStandIn();
    receiver = await startCallbackReceiver();
    sender = createEmailSender({ settings: { smtpUrl: smtp.url, from: "hitl <hitl@example.com>", replyDomain: null }, publicUrl: PUBLIC_URL, linkKey: KEY });
    dir = await mkdtemp(join(tmpdir(), "hitl-sensitive-"));
    store = await createEmbeddedStore({ dir });
  });

  afterEach(async () => {
    await app.close();
    sender.close();
    await store.close();
    await Promise.all([github.close(), smtp.close(), slack.close(), receiver.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  /** Everything that left hitl or was written by it, as raw text. */
  async function everythingWritten(): Promise<string> {
    const files = await Promise.all((await readdir(dir)).map((name) => readFile(join(dir, name)).then((bytes) => bytes.toString("latin1"))));
    return [
      JSON.stringify(github.calls),
      ...smtp.received.map((mail) => mail.raw),
      JSON.stringify(slack.calls),
      ...receiver.received.map((call) => call.body),
      ...logLines,
      ...files,
    ].join("\n");
  }

  it("seals, shows a notice instead, opens them only for the approver's page and the requesting agent", async () => {
    await start(keysOf(`k2:${randomBytes(32).toString("base64")},k1:${randomBytes(32).toString("base64")}`));
    const created = await api(app, "POST", "/requests", body({ callback_url: `${receiver.base}/cb` }));
    expect(created.status).toBe(201);
    const id = (created.json as { id: string }).id;
    await app.runtime.jobs.run();
    await app.runtime.jobs.run();

    // The issue says how many fields are withheld and where to see them; the data shows placeholders.
    const issue = github.callsTo("POST", `/repos/${REPO}/issues`)[0]!.body as { body: string };
    expect(issue.body).toContain(
      "3 sensitive fields are kept off GitHub: `card_number`, `customer.email`, `ssn`. Approvers see the values on the one-click confirmation page, or ask the requesting agent.",
    );
    expect(issue.body).toContain(`"card_number": "${SENSITIVE_PLACEHOLDER}"`);
    expect(issue.body).toContain("| context hash | not shown (the request has sensitive fields) |");

    // The requesting agent reads its own values back; a read-all agent gets the placeholders.
    const own = (await api(app, "GET", `/requests/${id}`)).json as { decision_data: unknown };
    expect(own.decision_data).toEqual({ amount: 120, card_number: CARD, customer: { name: "Ann", email: EMAIL }, ssn: SSN });
    const other = await api(app, "GET", `/requests/${id}`, undefined, { token: OTHER_AGENT.token });
    expect(other.status).toBe(200);
    expect((other.json as { decision_data: unknown }).decision_data).toEqual({ amount: 120, card_number: SENSITIVE_PLACEHOLDER, customer: { name: "Ann", email: SENSITIVE_PLACEHOLDER }, ssn: SENSITIVE_PLACEHOLDER });

    // The one-click page, reached only from a notified approver's mail, shows them.
    const mail = smtp.received.find((received) => received.to.includes("alice@example.com"))!;
    const link = /^Approve: Refund.*\n(https:\/\/hitl\.example\.com\/l\/\S+)$/m.exec(mail.parsed.text!)![1]!;
    const page = await fetch(`${app.url}${link.replace(PUBLIC_URL, "")}`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain(CARD);
    expect(html).toContain(SSN);
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const cookie = page.headers.get("set-cookie")!.split(";")[0]!;
    const confirmed = await fetch(`${app.url}${link.replace(PUBLIC_URL, "")}`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, justification: "" }).toString(),
      redirect: "manual",
    });
    expect(confirmed.status).toBe(200);
    await app.runtime.jobs.run();
    await app.runtime.jobs.run();
    expect(receiver.received.map((call) => call.event)).toContain("request.approved");

    // Drift is judged on the values approved: the same data holds, another card does not.
    const same = await api(app, "POST", `/requests/${id}/validate`, { decision_data: own.decision_data });
    expect((same.json as { valid: boolean }).valid).toBe(true);
    const changed = await api(app, "POST", `/requests/${id}/validate`, { decision_data: { ...(own.decision_data as object), card_number: "5500-0000-0000-0004" } });
    expect((changed.json as { valid: boolean; reasons: string[] }).reasons).toEqual(["drifted"]);

    expect(smtp.received.length).toBeGreaterThan(0);
    expect(slack.calls.length).toBeGreaterThan(0);
    expect(logLines.length).toBeGreaterThan(0);
    const written = await everythingWritten();
    for (const secret of SECRETS) expect(written).not.toContain(secret);
    expect(written).toContain(SENSITIVE_PLACEHOLDER);
  });

  it("an approval with edits hashes what was approved with the real values, not the placeholders", async () => {
    await start(keysOf(`k1:${randomBytes(32).toString("base64")}`));
    const created = await api(app, "POST", "/requests", body({ editable_fields: { amount: { type: "number", minimum: 1, maximum: 500 } } }));
    expect(created.status).toBe(201);
    const id = (created.json as { id: string }).id;
    await app.runtime.jobs.run();
    const mail = smtp.received.find((received) => received.to.includes("alice@example.com"))!;
    const link = /^Approve: Refund.*\n(https:\/\/hitl\.example\.com\/l\/\S+)$/m.exec(mail.parsed.text!)![1]!.replace(PUBLIC_URL, "");
    const page = await fetch(`${app.url}${link}`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const cookie = page.headers.get("set-cookie")!.split(";")[0]!;
    const confirmed = await fetch(`${app.url}${link}`, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrf, justification: "", "field:amount": "100" }).toString(), redirect: "manual" });
    expect(confirmed.status).toBe(200);

    const stored = (await store.get(id))!;
    const plain = { amount: 120, card_number: CARD, customer: { name: "Ann", email: EMAIL }, ssn: SSN };
    const decision = ((await api(app, "GET", `/requests/${id}`)).json as { decision: { edited_fields: unknown; edited_context_hash: string } }).decision;
    expect(decision.edited_fields).toEqual({ amount: 100 });
    expect(decision.edited_context_hash).toBe(editedContextHash({ ...stored, decisionData: plain }, { amount: 100 }));
    expect(decision.edited_context_hash).not.toBe(editedContextHash(stored, { amount: 100 }));
    for (const secret of SECRETS) expect(await everythingWritten()).not.toContain(secret);
  });

  it("lets rules test a sensitive value, in memory only", async () => {
    await start(keysOf(`k1:${randomBytes(32).toString("base64")}`));
    const created = await api(app, "POST", "/requests", body({ decision_data: { amount: 120, card_number: "4000-0000-0000-0002" } }));
    expect(created.status).toBe(201);
    const id = (created.json as { id: string }).id;
    const request = (await api(app, "GET", `/requests/${id}`)).json as { status: string; decision: { decided_by: unknown; justification: string } };
    expect(request.decision.justification).toBe("Rule blocked-card matched: card_number is [sensitive].");
    expect(request.status).toBe("rejected");
    expect(request.decision.decided_by).toEqual({ type: "rule", id: "blocked-card" });
    expect(await everythingWritten()).not.toContain("4000-0000-0000-0002");
  });

  it("refuses sensitive data without HITL_ENCRYPTION_KEYS, and .hitl.yml's paths cannot be left out", async () => {
    await start(null);
    const marked = await api(app, "POST", "/requests", body());
    expect(marked.status).toBe(422);
    expect(marked.json).toMatchObject({ error: { code: "sensitive_data_unsupported", message: "This server keeps no sensitive data: set HITL_ENCRYPTION_KEYS. The request marks card_number, customer.email, ssn as sensitive." } });
    // The agent marks nothing; the file still makes customer.email sensitive.
    const forced = await api(app, "POST", "/requests", body({ sensitive: undefined, sensitive_data: undefined, decision_data: { amount: 120, customer: { email: EMAIL } } }));
    expect(forced.status).toBe(422);
    expect((forced.json as { error: { message: string } }).error.message).toBe("This server keeps no sensitive data: set HITL_ENCRYPTION_KEYS. The request marks customer.email as sensitive.");
    // Another request type is not forced.
    const plain = await api(app, "POST", "/requests", body({ request_type: "other", sensitive: undefined, sensitive_data: undefined, decision_data: { amount: 120 } }));
    expect(plain.status).toBe(201);
    expect(await everythingWritten()).not.toContain(EMAIL);
  });

  it("answers 400 naming the field for a path decision_data lacks, a repeated key, or an editable sensitive field", async () => {
    await start(keysOf(`k1:${randomBytes(32).toString("base64")}`));
    const bad = await api(
      app,
      "POST",
      "/requests",
      body({ sensitive: ["card_numbr"], sensitive_data: { amount: 1 }, editable_fields: { card_number: { type: "string" } }, decision_data: { amount: 120, card_number: CARD } }),
    );
    expect(bad.status).toBe(400);
    expect((bad.json as { error: { issues: unknown } }).error.issues).toEqual([
      { path: "sensitive_data.amount", message: "amount is also a key of decision_data; name it in one of them" },
      { path: "sensitive.0", message: "card_numbr is not a path of decision_data" },
    ]);
    // Stage branches are tested on the stored request, which holds placeholders: no branching on a sensitive field.
    const branching = await api(app, "POST", "/requests", body({ stages: [{ name: "ops", then: [{ when: { any: [{ field: "amount", gt: 1 }, { not: { field: "customer.email", equals: "x" } }] }, action: "approve" }] }] }));
    expect(branching.status).toBe(400);
    expect((branching.json as { error: { issues: unknown } }).error.issues).toEqual([{ path: "sensitive", message: "customer.email is tested by a branch of stage ops; stages cannot branch on sensitive fields" }]);
  });
});

describe("sensitive data in the Redis store", () => {
  it("holds no plaintext in any key, and the agent still reads its values back", async () => {
    const prefix = `hitl-test:sensitive:${randomBytes(6).toString("hex")}:`;
    const requester = createRespRequester(REDIS_URL);
    const store = createRedisStore({ redis: new Redis(requester), prefix, onClose: () => requester.close() });
    const github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": "approvers: [alice, bob]\n" } } } } });
    const app = await startApp({ githubUrl: github.url, now: T0, store, sealingKeys: keysOf(`k1:${randomBytes(32).toString("base64")}`) });
    const admin = new IORedis(REDIS_URL);
    try {
      const created = await api(app, "POST", "/requests", body({ request_type: undefined, decision_data: { amount: 120, card_number: CARD, customer: { email: EMAIL } }, sensitive: ["card_number", "customer.email"] }));
      expect(created.status).toBe(201);
      const id = (created.json as { id: string }).id;
      await app.runtime.jobs.run();
      expect(((await api(app, "GET", `/requests/${id}`)).json as { decision_data: unknown }).decision_data).toEqual({ amount: 120, card_number: CARD, customer: { email: EMAIL }, ssn: SSN });

      const keys = await scanKeys(REDIS_URL, `${prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      const raw: string[] = [];
      for (const key of keys) {
        const type = await admin.type(key);
        if (type === "string") raw.push((await admin.get(key)) ?? "");
        else if (type === "hash") raw.push(JSON.stringify(await admin.hgetall(key)));
        else if (type === "list") raw.push(JSON.stringify(await admin.lrange(key, 0, -1)));
        else if (type === "set") raw.push(JSON.stringify(await admin.smembers(key)));
        else if (type === "zset") raw.push(JSON.stringify(await admin.zrange(key, "0", "-1", "WITHSCORES")));
        else if (type === "stream") raw.push(JSON.stringify(await admin.xrange(key, "-", "+")));
        else throw new Error(`unexpected key type ${type} of ${key}`);
      }
      const text = raw.join("\n");
      expect(text).toContain("v1.k1.");
      for (const secret of SECRETS) expect(text).not.toContain(secret);
    } finally {
      admin.disconnect();
      await app.close();
      await store.close();
      await github.close();
      await deleteKeys(REDIS_URL, `${prefix}*`);
    }
  });
});
