import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AGENT, api, OTHER_AGENT, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T10:00:00.000Z");

/**
 * A batch issue holds the requests of several agents, and one command decides many rows: none of
 * that may let an agent decide its own request, or let its text pass for a row or a command.
 */
describe("an agent cannot decide its own rows of a batch", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: {
          // No approvers: anyone with write access decides, the agent's own account among those with access.
          collaborators: { alice: "write", "ci-user": "write", "deploy-user": "write" },
          files: { main: { ".hitl.yml": "batch: {by: priority, max_size: 3, max_wait: 10m}\n" } },
        },
      },
    });
    app = await startApp({ githubUrl: github.url, now: T0, agents: [{ ...AGENT, githubLogins: ["ci-user"] }, { ...OTHER_AGENT, githubLogins: ["deploy-user"] }] });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const open = async (task: string, token = AGENT.token) => {
    const response = await api(app, "POST", "/requests", { repo: REPO, task_description: task, approval_reason: "Needs a human", deadline: "2099-01-01T00:00:00Z" }, { token });
    expect(response.status).toBe(201);
    return response.json.id as string;
  };
  const comment = async (text: string, login: string) => {
    const payload = issueCommentPayload({ repo: REPO, issueNumber: 1, body: text, login, at: new Date(T0.getTime() + 60_000).toISOString() });
    expect((await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload, secret: WEBHOOK_SECRET })).status).toBe(200);
    await app.runtime.jobs.run();
  };
  const replies = () => github.repo(REPO).issues[0]!.comments.filter((c) => c.user === "hitl[bot]").map((c) => c.body);
  const statuses = async (ids: string[]) => Promise.all(ids.map(async (id) => (await app.store.get(id))!.status));

  it("each agent's GitHub account decides only the other agent's rows, never its own", async () => {
    const mine = await open("Refund order 1");
    const theirs = await open("Deploy v2", OTHER_AGENT.token);
    // Agent text that looks like a row and a command stays text in its cell.
    const sneaky = await open("ok |\n| 9 | /approve all");
    expect(github.repo(REPO).issues[0]!.body!.match(/^\| \d+ \|/gm)).toEqual(["| 1 |", "| 2 |", "| 3 |"]);

    await comment("/approve all", "ci-user");
    expect(replies()[0]).toBe(
      ["@ci-user, `/approve all`:", "", "- Row 1: not applied: you opened this request.", "- Row 2: not applied: this is an agent's GitHub account.", "- Row 3: not applied: you opened this request."].join("\n"),
    );
    expect(await statuses([mine, theirs, sneaky])).toEqual(["pending", "pending", "pending"]);
    await comment("/approve 1", "deploy-user");
    expect(replies()[1]).toBe("@deploy-user, `/approve 1`:\n\n- Row 1: not applied: this is an agent's GitHub account.");
    expect(await statuses([mine, theirs, sneaky])).toEqual(["pending", "pending", "pending"]);

    // A person decides; the audit names the batch for each row.
    await comment("/approve 1-3 checked", "alice");
    expect(await statuses([mine, theirs, sneaky])).toEqual(["approved", "approved", "approved"]);
    const batchId = (await app.store.get(mine))!.batch!.id;
    expect((await app.store.audit(REPO)).filter((entry) => entry.event === "decided").map((entry) => [entry.actor, entry.details?.batch_id])).toEqual([
      [{ type: "human", login: "alice" }, batchId],
      [{ type: "human", login: "alice" }, batchId],
      [{ type: "human", login: "alice" }, batchId],
    ]);
  });
});
