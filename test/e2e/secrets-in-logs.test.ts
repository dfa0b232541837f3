import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "../fault/support/redis-server.js";
import { testPrivateKey, WEBHOOK_SECRET } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { freePort } from "../support/ports.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import { waitFor } from "../support/wait.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";
import { SMTP_PASS, startSmtpStandIn, type SmtpStandIn } from "../support/smtp-stand-in.js";

const REPO = "octo-org/payments";
const AGENT_TOKEN = "log-agent-token-0123456789abcdef";
const REDIS_PASSWORD = "redis-password-0123456789";
const SIGNING_KEY = generateKeyPairSync("ed25519").privateKey;
const SIGNING_PEM = SIGNING_KEY.export({ type: "pkcs8", format: "pem" }) as string;
const INBOUND_SECRET = "inbound-email-secret-0123456789";
const TWILIO_TOKEN = "twilio-auth-token-0123456789";
const POLICY = `approvers: [alice]
people:
  alice: {email: alice@example.com}
notify:
  - {events: [opened], channels: [email]}
`;

/**
 * The real server at its most talkative (`LOG_LEVEL=trace`, `LOG_FORMAT=json`), on a Redis that
 * needs a password, driven through a request, a webhook and a decision: no secret it holds may
 * appear in any line it writes.
 */
describe("secrets never reach the logs", () => {
  let github: GitHubStandIn;
  let redis: RedisServer;
  let server: ServerProcess;
  let dataDir: string;
  let smtp: SmtpStandIn;

  beforeAll(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" }, files: { main: { ".hitl.yml": POLICY } } } } });
    smtp = await startSmtpStandIn();
    redis = await startRedisServer(await freePort(), ["--save", "", "--appendonly", "no", "--requirepass", REDIS_PASSWORD]);
    dataDir = await mkdtemp(join(tmpdir(), "hitl-logs-"));
    server = await startServerProcess({
      githubHost: github.host,
      env: {
        LOG_LEVEL: "trace",
        LOG_FORMAT: "json",
        HITL_AGENT_TOKENS: `log-agent:${AGENT_TOKEN}`,
        HITL_DATA_DIR: dataDir,
        REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}`,
        HITL_SWEEP_CRON: "*/2 * * * * *",
        HITL_SIGNING_KEY: SIGNING_PEM,
        HITL_PUBLIC_URL: "https://hitl.example.com",
        HITL_SMTP_URL: smtp.url,
        HITL_EMAIL_FROM: "hitl <hitl@example.com>",
        HITL_INBOUND_EMAIL_SECRET: INBOUND_SECRET,
        HITL_TWILIO_ACCOUNT_SID: "AC0123456789abcdef",
        HITL_TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
        HITL_TWILIO_FROM: "+14155550199",
        HITL_ALLOWED_PRIVATE_TARGETS: "127.0.0.1",
      },
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await redis?.kill();
    await github?.close();
    await smtp?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("logs the traffic, with every secret redacted", async () => {
    const created = await fetch(`${server.base}/api/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ repo: REPO, task_description: "Refund order 1234", approval_reason: "Refunds need a human", approvers: ["alice"] }),
    });
    expect(created.status).toBe(201);
    const { surface_number: issue, id } = (await created.json()) as { surface_number: number; id: string };
    // The approver's email and its link's page, and a reply posted with the inbound secret.
    const mail = await waitFor("the email", () => smtp.received.find((received) => received.to.includes("alice@example.com")));
    const link = /^https:\/\/hitl\.example\.com(\/l\/\S+)$/m.exec(mail.parsed.text!)![1]!;
    expect((await fetch(`${server.base}${link}`)).status).toBe(200);
    const replyAddress = mail.parsed.replyTo!.value[0]!.address!;
    const reply = await fetch(`${server.base}/api/v1/inbound/email`, {
      method: "POST",
      headers: { authorization: `Bearer ${INBOUND_SECRET}`, "content-type": "message/rfc822" },
      body: `From: mallory@example.com\r\nTo: ${replyAddress}\r\nSubject: Re\r\n\r\napprove\r\n`,
    });
    expect(reply.status).toBe(403);
    const delivery = await deliver(`${server.base}/api/github/webhooks`, {
      event: "issue_comment",
      payload: issueCommentPayload({ repo: REPO, issueNumber: issue, body: "/approve", login: "alice" }),
      secret: WEBHOOK_SECRET,
    });
    expect(delivery.status).toBe(200);
    await waitFor("the decision", async () => {
      const response = await fetch(`${server.base}/api/v1/requests/${id}`, { headers: { authorization: `Bearer ${AGENT_TOKEN}` } });
      const shown = (await response.json()) as { status: string; decision: { receipt?: string } | null };
      return shown.status === "approved" && shown.decision?.receipt ? true : undefined;
    });
    await waitFor("the issue to close", () => (github.callsTo("PATCH", `/repos/${REPO}/issues/${issue}`).length ? true : undefined));
    await server.stop();

    const lines = server.output().split("\n").filter((line) => line.startsWith("{"));

    const installationTokens = Object.keys(github.state.tokens);
    expect(installationTokens.length).toBeGreaterThan(0);
    const secrets: Record<string, string> = {
      "agent token": AGENT_TOKEN,
      "webhook secret": WEBHOOK_SECRET,
      "Redis password": REDIS_PASSWORD,
      // Any 40 characters from the middle of the key's base64 body.
      "private key": testPrivateKey().split("\n")[5]!.slice(0, 40),
      "receipt signing key (PEM)": SIGNING_PEM.split("\n")[1]!,
      "receipt signing key (JWK d)": SIGNING_KEY.export({ format: "jwk" }).d!,
      "SMTP password": SMTP_PASS,
      "inbound email secret": INBOUND_SECRET,
      "Twilio token": TWILIO_TOKEN,
      "link token": link.slice(3, 60),
      ...Object.fromEntries(installationTokens.map((token, index) => [`installation token ${index + 1}`, token])),
    };
    for (const [what, secret] of Object.entries(secrets)) {
      const leaking = lines.filter((line) => line.includes(secret));
      expect(leaking, `${what} appears in the logs`).toEqual([]);
    }
    // The logs did see the traffic: a trace-level server that logged nothing would pass vacuously.
    expect(lines.some((line) => line.includes('"authorization":"[redacted]"'))).toBe(true);
    expect(lines.some((line) => line.includes("/api/github/webhooks"))).toBe(true);
    expect(lines.some((line) => line.includes("/l/[redacted]"))).toBe(true);
  }, 60_000);
});
