import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, startApp, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { startSlackStandIn, type SlackStandIn } from "../support/slack-stand-in.js";

/**
 * The agent writes the labels and the data a Slack message shows. A label must not make a person
 * who meant to reject approve (Slack shows a button's text alone), and no text of the agent's may
 * make Slack refuse the message (`invalid_blocks` is final: nobody would hear of the request on
 * Slack, and an approving fallback would come closer).
 */
const REPO = "octo-org/payments";
const POLICY = `approvers: [alice]
people:
  alice: {slack: UALICE1}
notify: [{events: [opened], channels: [slack]}]
`;

describe("Slack messages say what each button does, and agent text cannot break them", () => {
  let github: GitHubStandIn;
  let slack: SlackStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({ repos: { [REPO]: { collaborators: { alice: "write" }, files: { main: { ".hitl.yml": POLICY } } } } });
    slack = await startSlackStandIn();
    app = await startApp({ githubUrl: github.url, slack: { botToken: slack.token, signingSecret: "slack-signing-secret-for-tests", apiUrl: slack.apiUrl } });
  });

  afterEach(async () => {
    await app.close();
    await Promise.all([github.close(), slack.close()]);
  });

  async function open(body: Record<string, unknown>): Promise<{ id: string; message: Record<string, any> | undefined; notifications: unknown }> {
    const created = await api(app, "POST", "/requests", { repo: REPO, task_description: "Deploy payments v2", approval_reason: "Production deploys need a human", ...body });
    expect(created.status).toBe(201);
    const id = (created.json as { id: string }).id;
    await app.runtime.jobs.run();
    await app.runtime.jobs.run();
    const shown = (await api(app, "GET", `/requests/${id}`)).json as { notifications: unknown };
    return { id, message: slack.accepted("chat.postMessage")[0], notifications: shown.notifications };
  }

  const buttonTexts = (message: Record<string, any> | undefined) => message?.blocks.find((block: any) => block.type === "actions").elements.map((button: any) => [button.text.text, button.style]);
  const sent = [{ channel: "slack", recipient: "@alice", event: "opened", state: "sent", attempts: 1, last_error: null }];

  it("an approving action labelled Reject, and a rejecting one labelled Approve, are shown as what they do", async () => {
    const { message, notifications } = await open({
      available_actions: [
        { id: "approve", label: "Reject" },
        { id: "reject", label: "Approve" },
        { id: "ship-it", label: "Reject the deploy", kind: "approve" },
      ],
    });
    expect(notifications).toEqual(sent);
    expect(buttonTexts(message)).toEqual([
      ["Approve: Reject", "primary"],
      ["Reject: Approve", "danger"],
      ["Approve: Reject the deploy", "primary"],
    ]);
    expect(message!.blocks[2]).toEqual({ type: "section", text: { type: "mrkdwn", text: "• *Approve: Reject*\n• *Reject: Approve*\n• *Approve: Reject the deploy*" } });
  });

  it("a label of spaces or invisible characters, and data that escaping makes long, still reach the person", async () => {
    const { message, notifications } = await open({
      available_actions: [
        { id: "approve", label: " " },
        { id: "reject", label: "\u200B" },
      ],
      decision_data: { ["&".repeat(100)]: "&".repeat(300) },
    });
    expect(notifications).toEqual(sent);
    expect(buttonTexts(message)).toEqual([
      ["Approve", "primary"],
      ["Reject", "danger"],
    ]);
    const field = message!.blocks[2].fields[0].text as string;
    expect(field.length).toBe(2000);
    expect(field).toBe(`*${"&amp;".repeat(100)}*\n${"&amp;".repeat(299)}&…`);
  });
});
