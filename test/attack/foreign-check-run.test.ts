import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, OTHER_AGENT, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { checkRunRequestedActionPayload, deliver } from "../support/webhooks.js";

/**
 * A button counts only on a check run hitl made for that request, in that repository. An agent's
 * own app can make a check run named `hitl/approval` whose external id names any request, with an
 * "approve" button; a person pressing it decides nothing.
 */
const REPO = "octo-org/payments";
const LEDGER = "octo-org/ledger";
const HEAD = "a".repeat(40);

describe("buttons on check runs hitl did not make for the request", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: { collaborators: { alice: "write" }, pulls: [{ number: 42, headSha: HEAD, user: "dev-dana" }] },
        [LEDGER]: { collaborators: { alice: "write" }, pulls: [{ number: 7, headSha: HEAD, user: "dev-dana" }] },
      },
    });
    app = await startApp({ githubUrl: github.url });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const send = (payload: unknown) => deliver(`${app.url}/api/github/webhooks`, { event: "check_run", payload, secret: WEBHOOK_SECRET });
  const open = async () => {
    const response = await api(app, "POST", "/requests", { repo: REPO, task_description: "Deploy payments v2", approval_reason: "Deploys need a human", decision_data: { v: 2 }, surface: { type: "pull_request", number: 42 } }, { token: OTHER_AGENT.token });
    expect(response.status).toBe(201);
    return response.json.id as string;
  };
  const status = async (id: string) => (await api(app, "GET", `/requests/${id}`, undefined, { token: OTHER_AGENT.token })).json.status;

  it("another app's check run naming the request decides nothing", async () => {
    const victim = await open();
    const forged = checkRunRequestedActionPayload({ repo: REPO, checkRunId: 999_001, identifier: "approve", login: "alice", headSha: HEAD, externalId: victim, pullNumbers: [42], app: { id: 99, slug: "agent-tools" } });
    expect((await send(forged)).status).toBe(200);
    expect(await status(victim)).toBe("pending");
  });

  it("hitl's check run in another repository naming the request decides nothing", async () => {
    const victim = await open();
    const elsewhere = checkRunRequestedActionPayload({ repo: LEDGER, checkRunId: 999_002, identifier: "approve", login: "alice", headSha: HEAD, externalId: victim, pullNumbers: [7] });
    expect((await send(elsewhere)).status).toBe(200);
    expect(await status(victim)).toBe("pending");
  });
});
