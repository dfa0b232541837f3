import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createEmailSender } from "../../src/channels/email/email-sender.js";
import { linkKeyFrom, linkUseKey, readLink, type LinkClaims } from "../../src/channels/links/link-token.js";
import { createRedisStore } from "../../src/store/redis-store.js";
import { createRespRequester } from "../../src/store/resp-requester.js";
import type { Store } from "../../src/store/store.js";
import { api, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn } from "../support/github-stand-in.js";
import { deleteKeys, REDIS_URL } from "../support/redis-keys.js";
import { startSmtpStandIn } from "../support/smtp-stand-in.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const KEY = linkKeyFrom("link-secret-for-tests-0123456789abcdef");
const PUBLIC_URL = "https://hitl.example.com";
const POLICY = `approvers: [alice, bob]
people:
  alice: {email: alice@example.com}
  bob: {email: bob@example.com}
notify: [{events: [opened], channels: [email]}]
`;

async function withRaw<T>(use: (raw: IORedis) => Promise<T>): Promise<T> {
  const raw = new IORedis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await raw.connect();
    return await use(raw);
  } finally {
    raw.disconnect();
  }
}

describe("one-click links with two replicas on Redis", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  function redisStore(prefix: string): Store {
    const requester = createRespRequester(REDIS_URL);
    return createRedisStore({ redis: new Redis(requester), prefix, onClose: () => requester.close() });
  }

  it("a link confirmed on both replicas at once is used once: one vote counts, the other is told the link was used", async () => {
    const prefix = `hitl-test:${randomBytes(6).toString("hex")}:`;
    const github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": POLICY } } } } });
    const smtp = await startSmtpStandIn();
    const sender = createEmailSender({ settings: { smtpUrl: smtp.url, from: "hitl <hitl@example.com>", replyDomain: null }, publicUrl: PUBLIC_URL, linkKey: KEY });
    const stores = [redisStore(prefix), redisStore(prefix)];
    const apps: AppHarness[] = [];
    for (const store of stores) apps.push(await startApp({ githubUrl: github.url, now: T0, store, senders: [sender], links: { publicUrl: PUBLIC_URL, key: KEY } }));
    cleanups.push(
      () => github.close(),
      () => smtp.close(),
      async () => sender.close(),
      () => deleteKeys(REDIS_URL, `${prefix}*`),
      ...stores.map((store) => () => store.close()),
      ...apps.map((app) => () => app.close()),
    );
    const [a, b] = apps as [AppHarness, AppHarness];

    const response = await api(a, "POST", "/requests", { repo: REPO, task_description: "Rotate the signing key", approval_reason: "Production secret", decision_data: {}, required_approvals: 2, deadline: "2026-11-25T09:00:00Z" });
    expect(response.status).toBe(201);
    const id = (response.json as { id: string }).id;
    await Promise.all([a.runtime.jobs.run(), b.runtime.jobs.run()]);
    await Promise.all([a.runtime.jobs.run(), b.runtime.jobs.run()]);
    // Each person is mailed once, though both replicas ran the jobs.
    expect(smtp.received.map((mail) => mail.to[0]).sort()).toEqual(["alice@example.com", "bob@example.com"]);

    const mail = smtp.received.find((received) => received.to.includes("alice@example.com"))!;
    const path = /^https:\/\/hitl\.example\.com(\/l\/\S+)$/m.exec(mail.parsed.text!)![1]!;
    const page = await fetch(`${a.url}${path}`);
    const cookie = page.headers.get("set-cookie")!.split(";")[0]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const confirm = (app: AppHarness) =>
      fetch(`${app.url}${path}`, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrf }).toString() }).then((answer) => answer.status);

    expect((await Promise.all([confirm(a), confirm(b)])).sort()).toEqual([200, 410]);
    const request = (await api(b, "GET", `/requests/${id}`)).json as { status: string; votes?: unknown[]; stages?: { approvals: unknown[] }[] };
    expect(request.status).toBe("pending");
    expect(JSON.stringify(request).match(/"by":"alice"/g)).toHaveLength(1);

    // The link's use is remembered until the link expires and an hour more, then Redis forgets it.
    const read = readLink(KEY, path.slice("/l/".length), T0);
    expect(read.ok).toBe(true);
    const claims = (read as { claims: LinkClaims }).claims;
    const ttl = await withRaw((raw) => raw.pttl(`${prefix}use:${linkUseKey(claims)}`));
    const expected = claims.expiresAt - T0.getTime() + 3_600_000;
    expect(ttl).toBeGreaterThan(expected - 60_000);
    expect(ttl).toBeLessThanOrEqual(expected);
  });
});
