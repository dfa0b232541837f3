import { afterEach, describe, expect, it } from "vitest";
import { AGENT, api, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { sweepReportSchema } from "../../src/api/sweep-schema.js";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import { StoreUnavailableError } from "../../src/store/store.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const REPO = "octo-org/payments";
const ISSUE = `/repos/${REPO}/issues/1`;
const T0 = new Date("2026-11-24T09:00:00.000Z");
const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);
const SWEEP_TOKEN = "sweep-token-0123456789abcdef0123456789";
const POLICY = `approvers: [alice]
deadline: 8h
escalation:
  - after: 1h
    approvers: [bob]
    message: Alice is away; please take this.
`;

async function sweep(app: AppHarness, init: { method?: string; token?: string; authorization?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.authorization !== undefined) headers.authorization = init.authorization;
  const response = await fetch(`${app.url}/api/v1/sweep`, { method: init.method ?? "POST", headers });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

describe("POST /api/v1/sweep", () => {
  let github: GitHubStandIn | undefined;
  let app: AppHarness | undefined;

  afterEach(async () => {
    await app?.close();
    await github?.close();
    app = github = undefined;
  });

  async function start(sweepToken: string | null = SWEEP_TOKEN) {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", bob: "write" }, files: { main: { ".hitl.yml": POLICY } } } } });
    app = await startApp({ githubUrl: github.url, now: T0, sweepToken: sweepToken ?? undefined });
    return { app, github };
  }

  const unauthorized = { error: { code: "unauthorized", message: "The sweep token is required: Authorization: Bearer <HITL_SWEEP_TOKEN>." } };

  it("answers 401 without a token, or with a wrong one, and runs nothing", async () => {
    const { app, github } = await start();
    for (const init of [{}, { token: "not-the-sweep-token-0123456789abcdef" }, { authorization: `Basic ${SWEEP_TOKEN}` }, { token: `${SWEEP_TOKEN}x` }]) {
      const answer = await sweep(app, init);
      expect({ status: answer.status, body: answer.body, challenge: answer.headers.get("www-authenticate") }).toEqual({ status: 401, body: unauthorized, challenge: 'Bearer realm="hitl-sweep"' });
    }
    expect(github.calls).toEqual([]);
  });

  it("refuses an agent token with 403, so no agent can hurry deadlines", async () => {
    const { app, github } = await start();
    expect(await sweep(app, { token: AGENT.token })).toMatchObject({
      status: 403,
      body: { error: { code: "agent_token_refused", message: "An agent token cannot run the sweep: use HITL_SWEEP_TOKEN." } },
    });
    expect(github.calls).toEqual([]);
  });

  it("answers 405 to another method and 403 when HITL_SWEEP_TOKEN is not set", async () => {
    const { app } = await start();
    const wrongMethod = await sweep(app, { method: "GET", token: SWEEP_TOKEN });
    expect({ status: wrongMethod.status, body: wrongMethod.body, allow: wrongMethod.headers.get("allow") }).toEqual({
      status: 405,
      body: { error: { code: "method_not_allowed", message: "GET is not allowed on /api/v1/sweep; use POST." } },
      allow: "POST",
    });
    await app.close();
    await github!.close();
    const off = await start(null);
    expect(await sweep(off.app, { token: SWEEP_TOKEN })).toMatchObject({
      status: 403,
      body: { error: { code: "sweep_disabled", message: "/api/v1/sweep is off on this server: set HITL_SWEEP_TOKEN to let an external scheduler run the sweep." } },
    });
  });

  it("with the token, runs one tick to the end: escalates the due request on GitHub and says what it did", async () => {
    const { app, github } = await start();
    const created = await api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 77", approval_reason: "Large refund", decision_data: { amount: 900 } });
    expect(created.status).toBe(201);
    await app.runtime.jobs.run();

    // Not yet due: the sweep moves nothing; the recovery pass reads the issue's comments once.
    app.setNow(at(0.5));
    github.clearCalls();
    expect(await sweep(app, { token: SWEEP_TOKEN })).toMatchObject({
      status: 200,
      body: {
        sweep: { ran: true, escalated: 0, warned: 0, expired: 0, delegated: 0, parked: 0 },
        recovery: { ran: true, checked: 1, listings: 1, not_modified: 0, handled: 0 },
        jobs: { ran: 0 },
      },
    });
    expect(github.calls.map((call) => `${call.method} ${call.path}`)).toEqual([`GET ${ISSUE}/comments`]);

    app.setNow(at(1));
    github.clearCalls();
    const answer = await sweep(app, { token: SWEEP_TOKEN });
    expect(answer).toMatchObject({
      status: 200,
      body: {
        sweep: { ran: true, escalated: 1, warned: 0, expired: 0, delegated: 0, parked: 0 },
        recovery: { ran: true, checked: 1, listings: 1, not_modified: 1, handled: 0 },
        jobs: { ran: 1 },
      },
    });
    // The answer is what the OpenAPI document says it is.
    expect(sweepReportSchema.strict().safeParse(answer.body).error).toBeUndefined();
    // Everything happened before the answer: the issue is reassigned and bob is told.
    expect(github.calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([`GET ${ISSUE}/comments 304`, `PATCH ${ISSUE} 200`, `POST ${ISSUE}/comments 201`]);
    expect(github.callsTo("PATCH", ISSUE)[0]!.body).toEqual({ assignees: ["bob"], body: expect.stringContaining("**Escalated** to @\u200dbob (level 1, 24 Nov 2026 10:00 UTC)") });
    expect((github.callsTo("POST", `${ISSUE}/comments`)[0]!.body as { body: string }).body).toContain("Alice is away; please take this.");
    expect((await api(app, "GET", `/requests/${created.json.id}`)).json.escalation).toMatchObject({ level: 1 });
  });

  it("shares one tick between calls that overlap, so GitHub is read once", async () => {
    const { app, github } = await start();
    expect((await api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 78", approval_reason: "Large refund", decision_data: { amount: 900 } })).status).toBe(201);
    await app.runtime.jobs.run();
    app.setNow(at(1));
    github.clearCalls();
    const [first, second] = await Promise.all([sweep(app, { token: SWEEP_TOKEN }), sweep(app, { token: SWEEP_TOKEN })]);
    expect(first.body).toEqual(second.body);
    expect(first.body.sweep).toMatchObject({ ran: true, escalated: 1 });
    expect(github.callsTo("GET", `${ISSUE}/comments`)).toHaveLength(1);
    expect(github.callsTo("PATCH", ISSUE)).toHaveLength(1);
  });

  it("answers 503 store_unavailable when the store does not answer, and sweeps nothing", async () => {
    github = await startGitHubStandIn({ repos: {} });
    const dir = await mkdtemp(join(tmpdir(), "hitl-sweep-"));
    const real = await createEmbeddedStore({ dir });
    const down = async (): Promise<never> => {
      throw new StoreUnavailableError("Redis at 127.0.0.1:6390 could not take a lock: connection refused");
    };
    try {
      app = await startApp({ githubUrl: github.url, store: { ...real, acquireLock: down, due: down }, now: T0, sweepToken: SWEEP_TOKEN });
      expect(await sweep(app, { token: SWEEP_TOKEN })).toMatchObject({
        status: 503,
        body: { error: { code: "store_unavailable", message: "The request store did not answer; nothing was swept. Call again shortly." } },
      });
      expect(github.calls).toEqual([]);
    } finally {
      await app?.close();
      app = undefined;
      await real.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
