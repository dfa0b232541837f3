import { afterEach, describe, expect, it } from "vitest";
import { AGENT, api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T10:00:00.000Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/**
 * A row can join a batch issue after it was posted (a replica whose clock runs a little behind
 * puts the agent's request into the batch as it posts). `/approve all` and `/approve 1-2` name
 * the rows the person saw: a row that was not yet on the issue when they commented is not
 * theirs to have approved, however late the comment is read (a webhook retried, recovery).
 */
describe("a row that joined a batch issue after the command was written", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  afterEach(async () => {
    await app?.close();
    await github?.close();
  });

  it("is not decided by that command", async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write" }, files: { main: { ".hitl.yml": "approvers: [alice]\nbatch: {by: priority, max_size: 5, max_wait: 10m}\n" } } } },
    });
    app = await startApp({ githubUrl: github.url, now: at(60) });
    const open = async (task: string) => {
      const response = await api(app, "POST", "/requests", { repo: REPO, task_description: task, approval_reason: "Needs a human", deadline: "2099-01-01T00:00:00Z" });
      expect(response.status).toBe(201);
      return response.json.id as string;
    };
    const seen = await open("Refund order 1");
    app.setNow(at(600));
    await app.runtime.jobs.run();
    expect(github.repo(REPO).issues[0]!.body!.match(/^\| \d+ \|/gm)).toEqual(["| 1 |"]);

    // Alice reads the issue and writes `/approve all` at 10:10:30; meanwhile a replica six seconds behind opens the agent's next request.
    app.setNow(at(594));
    const late = await open("Refund order 2 (late)");
    app.setNow(at(660));
    await app.runtime.jobs.run();
    expect(github.repo(REPO).issues[0]!.body!.match(/^\| \d+ \|/gm)).toEqual(["| 1 |", "| 2 |"]);

    const payload = issueCommentPayload({ repo: REPO, issueNumber: 1, body: "/approve all", login: "alice", at: at(630).toISOString() });
    expect((await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload, secret: WEBHOOK_SECRET })).status).toBe(200);
    await app.runtime.jobs.run();
    expect((await app.store.get(seen))!.status).toBe("approved");
    expect((await app.store.get(late))!.status).toBe("pending");
    const replies = github.repo(REPO).issues[0]!.comments.filter((c) => c.user === "hitl[bot]").map((c) => c.body);
    expect(replies).toEqual(["@alice, `/approve all`:\n\n- Row 1: approved.\n- Row 2: not applied: it was not on this issue yet when you commented."]);
  });
});
