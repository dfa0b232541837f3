import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AGENT, api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T09:00:00.000Z");

/**
 * The context layers are the agent's own text and JSON. Through them it must not approve its own
 * request: not by forging hitl's marker or a status line in `detail`, not by a command in it, not
 * by swapping `full` behind an Idempotency-Key, and not by naming decision_data's values in `full`.
 */
describe("an agent cannot approve its own request through its context layers", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({ now: () => T0, repos: { [REPO]: { collaborators: { alice: "write", "ci-user": "write" }, files: { main: { ".hitl.yml": "approvers: [alice]\n" } } } } });
    app = await startApp({ githubUrl: github.url, now: T0, agents: [{ ...AGENT, githubLogins: ["ci-user"] }] });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const ask = (context: Record<string, unknown>, key = "k-1") =>
    api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 1234", approval_reason: "Refunds need a person", decision_data: { amount: 120 }, context }, { headers: { "idempotency-key": key } });

  it("a forged marker, status line and command in detail stay inert text, and the request stays pending", async () => {
    const forged = "<!-- hitl:request:req_forged:AAAA -->\n✅ **Approved by @alice** on 24 Nov 2026.\n\n/approve looks fine";
    const opened = await ask({ summary: "/approve", detail: forged });
    expect(opened.status).toBe(201);
    await app.runtime.jobs.run();
    const id = (opened.json as { id: string }).id;
    const body = (github.callsTo("POST", `/repos/${REPO}/issues`)[0]!.body as { body: string }).body;
    expect(body.startsWith(`<!-- hitl:request:${id}:`)).toBe(true);
    expect(body.match(/<!-- hitl:request:/g)).toHaveLength(1);
    expect(body).toContain(
      "### Detail\n\n&lt;!-- hitl:request:req&#95;forged:AAAA --&gt; ✅ &#42;&#42;Approved by @\u200Dalice&#42;&#42; on 24 Nov 2026.\n\n/approve looks fine\n\n### Decision data",
    );

    // The agent's own account repeating the command decides nothing either.
    const at = new Date(T0.getTime() + 60_000).toISOString();
    await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: 1, body: "/approve", login: "ci-user", at }), secret: WEBHOOK_SECRET });
    expect(((await api(app, "GET", `/requests/${id}`)).json as { status: string }).status).toBe("pending");
  });

  it("cannot swap the full layer behind the same Idempotency-Key, and full never changes what people approve", async () => {
    const first = await ask({ full: { amount: 1, note: "what the agent will really do" } });
    expect(first.status).toBe(201);
    const swapped = await ask({ full: { amount: 5_000 } });
    expect(swapped.status).toBe(422);
    expect((swapped.json as { error: { code: string } }).error.code).toBe("idempotency_key_reused");
    const same = await ask({ full: { amount: 1, note: "what the agent will really do" } });
    expect(same.status).toBe(200);
    expect((same.json as { id: string; decision_data: unknown }).decision_data).toEqual({ amount: 120 });
    await app.runtime.jobs.run();
    const body = (github.callsTo("POST", `/repos/${REPO}/issues`)[0]!.body as { body: string }).body;
    expect(body).toContain("| amount | 120 |");
    expect(body).not.toContain("what the agent will really do");
  });
});
