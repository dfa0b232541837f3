import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AGENT, api, OTHER_AGENT, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { startSlackStandIn, type SlackStandIn } from "../support/slack-stand-in.js";

/**
 * Every agent's GitHub accounts are refused on every request. An organisation's `people:`
 * directory may list such an account (a service user with a Slack id or a mailbox): it must not be
 * asked to decide another agent's request either, where it would read the request and its buttons.
 */
const REPO = "octo-org/payments";
const POLICY = `people:
  alice: {slack: UALICE1}
  deploy-ci: {slack: UDEPLOY1}
notify: [{events: [opened], channels: [slack]}]
`;

describe("agents' accounts are never told to decide, on any channel", () => {
  let github: GitHubStandIn;
  let slack: SlackStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    // No approvers: anyone with write access decides, deploy-ci (the other agent's account) too on GitHub's side.
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write", "deploy-ci": "write" }, files: { main: { ".hitl.yml": POLICY } } } } });
    slack = await startSlackStandIn();
    app = await startApp({
      githubUrl: github.url,
      agents: [AGENT, { ...OTHER_AGENT, githubLogins: ["deploy-ci"] }],
      slack: { botToken: slack.token, signingSecret: "slack-signing-secret-for-tests", apiUrl: slack.apiUrl },
    });
  });

  afterEach(async () => {
    await app.close();
    await Promise.all([github.close(), slack.close()]);
  });

  it("another agent's account in people: hears nothing of a request it may not decide", async () => {
    const created = await api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 1234", approval_reason: "Refunds need a human" });
    expect(created.status).toBe(201);
    const id = (created.json as { id: string }).id;
    await app.runtime.jobs.run();
    await app.runtime.jobs.run();
    expect(slack.accepted("chat.postMessage").map((message) => message.channel)).toEqual(["UALICE1"]);
    expect(((await api(app, "GET", `/requests/${id}`)).json as { notifications: unknown }).notifications).toEqual([
      { channel: "slack", recipient: "@alice", event: "opened", state: "sent", attempts: 1, last_error: null },
    ]);
  });
});
