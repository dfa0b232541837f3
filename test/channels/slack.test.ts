import { afterEach, describe, expect, it } from "vitest";
import { signActionRef } from "../../src/channels/slack/action-ref.js";
import { slackSignature } from "../../src/channels/slack/signature.js";
import { api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { startSlackStandIn, type SlackStandIn } from "../support/slack-stand-in.js";
import { deliver, issueCommentPayload } from "../support/webhooks.js";

const REPO = "octo-org/payments";
const T0 = new Date("2026-11-24T10:00:00.000Z");
const SIGNING_SECRET = "slack-signing-secret-for-tests";
const JOINER = "\u200D";

const PEOPLE = `
people:
  alice: {slack: UALICE1, timezone: Europe/Berlin}
  bob: {slack: UBOB1}
  carol: {email: carol@example.com}
  refund-agent: {slack: UAGENT1}
`;

const policy = (extra = "", notify = "[{events: [opened, escalated, decided], channels: [slack]}]") => `
approvers: [alice, bob, carol, refund-agent]
${PEOPLE}
notify: ${notify}
${extra}
`;

const body = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 1234 <!channel> @here",
  approval_reason: "Refunds over $50 need a human",
  decision_data: { amount: 120, currency: "USD" },
  available_actions: [
    { id: "approve", label: "Refund", impact: "Customer gets $120 back" },
    { id: "reject", label: "Deny", impact: "Ticket goes back to support" },
  ],
  deadline: "2026-11-30T10:00:00Z",
  ...overrides,
});

/** The message a pending refund request shows on Slack, exactly. */
function openedMessage(channel: string, id: string) {
  const button = (index: number, text: string, action: string, style: string) => ({
    type: "button",
    action_id: `hitl_decide_${index}`,
    text: { type: "plain_text", text, emoji: false },
    value: signActionRef(SIGNING_SECRET, { requestId: id, action }),
    style,
  });
  return {
    channel,
    text: `Approval needed: Refund order 1234 &lt;${JOINER}!channel&gt; @${JOINER}here (normal, deadline 30 Nov 2026 10:00 UTC)`,
    blocks: [
      { type: "header", text: { type: "plain_text", text: `Approval needed: Refund order 1234 <${JOINER}!channel> @${JOINER}here`, emoji: false } },
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: "*Why:* Refunds over $50 need a human\n*Priority:* normal · *Deadline:* 30 Nov 2026 10:00 UTC\n*Asked by:* refund-agent in octo-org/payments · <https://github.com/octo-org/payments/issues/1|Issue #1>",
        },
      },
      { type: "section", fields: [{ type: "mrkdwn", text: "*amount*\n120" }, { type: "mrkdwn", text: "*currency*\nUSD" }] },
      { type: "section", text: { type: "mrkdwn", text: "• *Approve: Refund*: Customer gets $120 back\n• *Reject: Deny*: Ticket goes back to support" } },
      { type: "actions", block_id: "hitl_actions", elements: [button(0, "Approve: Refund", "approve", "primary"), button(1, "Reject: Deny", "reject", "danger")] },
      { type: "context", elements: [{ type: "mrkdwn", text: `Request \`${id}\`. A decision here counts as your decision on GitHub.` }] },
    ],
    unfurl_links: false,
    unfurl_media: false,
  };
}

/** The same message once alice approved it from Slack: the outcome in place of the buttons. */
function approvedMessage(channel: string, ts: string, id: string) {
  return {
    channel,
    ts,
    text: `Approved: Refund order 1234 &lt;${JOINER}!channel&gt; @${JOINER}here. Approved by alice via Slack on 24 Nov 2026 10:00 UTC.`,
    blocks: [
      { type: "header", text: { type: "plain_text", text: `Approved: Refund order 1234 <${JOINER}!channel> @${JOINER}here`, emoji: false } },
      { type: "section", text: { type: "mrkdwn", text: "*Approved by alice via Slack on 24 Nov 2026 10:00 UTC.*" } },
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: "*Why:* Refunds over $50 need a human\n*Priority:* normal · *Deadline:* 30 Nov 2026 10:00 UTC\n*Asked by:* refund-agent in octo-org/payments · <https://github.com/octo-org/payments/issues/1|Issue #1>",
        },
      },
      { type: "section", fields: [{ type: "mrkdwn", text: "*amount*\n120" }, { type: "mrkdwn", text: "*currency*\nUSD" }] },
      { type: "section", text: { type: "mrkdwn", text: "• *Approve: Refund*: Customer gets $120 back\n• *Reject: Deny*: Ticket goes back to support" } },
      { type: "context", elements: [{ type: "mrkdwn", text: `Request \`${id}\`. Nothing is left to decide here.` }] },
    ],
  };
}

describe("Slack", () => {
  let github: GitHubStandIn;
  let slack: SlackStandIn;
  let app: AppHarness;
  let triggers = 0;

  async function start(file: string, now = T0) {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write", bob: "write", carol: "write", "refund-agent": "write" }, files: { main: { ".hitl.yml": file } } } },
    });
    slack = await startSlackStandIn();
    app = await startApp({ githubUrl: github.url, now, slack: { botToken: slack.token, signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl } });
  }

  afterEach(async () => {
    await app?.close();
    await github?.close();
    await slack?.close();
  });

  const open = async (overrides: Record<string, unknown> = {}) => {
    const response = await api(app, "POST", "/requests", body(overrides));
    expect(response.status).toBe(201);
    await app.runtime.jobs.run();
    return (response.json as { id: string }).id;
  };
  const get = async (id: string) => (await api(app, "GET", `/requests/${id}`)).json as Record<string, any>;
  const posted = () => slack.accepted("chat.postMessage");
  const dmTo = (user: string) => posted().filter((message) => message.channel === user);
  const valueOf = (message: Record<string, any>, index: number) => message.blocks.find((block: any) => block.type === "actions").elements[index].value as string;

  /** Slack POSTs an interaction, signed with `secret` at `at`. */
  async function interact(payload: Record<string, unknown>, options: { at?: Date; secret?: string; signature?: string } = {}) {
    const raw = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const timestamp = String(Math.floor((options.at ?? T0).getTime() / 1000));
    const response = await fetch(`${app.url}/api/v1/slack/interactions`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": timestamp, "x-slack-signature": options.signature ?? slackSignature(options.secret ?? SIGNING_SECRET, timestamp, raw) },
      body: raw,
    });
    await app.runtime.jobs.run();
    return response;
  }
  const pressPayload = (user: string, value: string, message?: { channel: string; ts: string }, trigger = `trigger-${++triggers}`) => ({
    type: "block_actions",
    user: { id: user },
    trigger_id: trigger,
    ...(message ? { container: { type: "message", channel_id: message.channel, message_ts: message.ts } } : {}),
    actions: [{ action_id: "hitl_decide_0", block_id: "hitl_actions", value, action_ts: "1764000000.000001" }],
  });
  const press = (user: string, value: string, message?: { channel: string; ts: string }) => interact(pressPayload(user, value, message));
  const ephemerals = () => slack.accepted("chat.postEphemeral").map((call) => `${String(call.user)}: ${String(call.text)}`);
  const issueBody = () => github.repo(REPO).issues[0]!.body ?? "";

  it("tells each approver with a Slack id, once, with the exact Block Kit message, and shows it in GET", async () => {
    await start(policy());
    const id = await open();
    // carol has no Slack id; refund-agent asked, so is never told to decide.
    // Sends run side by side, so they arrive in either order.
    expect(dmTo("UALICE1")).toEqual([openedMessage("UALICE1", id)]);
    expect(dmTo("UBOB1")).toEqual([openedMessage("UBOB1", id)]);
    expect(posted()).toHaveLength(2);
    expect((await get(id)).notifications).toEqual([
      { channel: "slack", recipient: "@alice", event: "opened", state: "sent", attempts: 1, last_error: null },
      { channel: "slack", recipient: "@bob", event: "opened", state: "sent", attempts: 1, last_error: null },
    ]);
  });

  it("a button press decides as the person people: maps the Slack user to, acknowledged first, then every message updated in place", async () => {
    await start(policy());
    const id = await open();
    const toAlice = slack.calls.find((call) => call.body.channel === "UALICE1")!;
    const toBob = slack.calls.find((call) => call.body.channel === "UBOB1")!;
    const response = await press("UALICE1", valueOf(toAlice.body, 0), { channel: "DALICE1", ts: String(toAlice.answer.ts) });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
    const request = await get(id);
    expect(request.status).toBe("approved");
    expect(request.decision).toMatchObject({ action: "approve", decided_by: { type: "human", login: "alice" }, via: "slack" });
    // The surface says how it was decided, like any decision.
    expect(github.repo(REPO).issues[0]!.comments.map((comment) => comment.body.split("\n")[0])).toEqual(["Approved by @alice via Slack on 24 Nov 2026 10:00 UTC. The agent has been told."]);
    expect(github.repo(REPO).issues[0]!.state).toBe("closed");
    const updates = slack.accepted("chat.update");
    expect(updates).toContainEqual(approvedMessage("DALICE1", String(toAlice.answer.ts), id));
    expect(updates).toContainEqual(approvedMessage("DBOB1", String(toBob.answer.ts), id));
    expect(updates.every((update) => !(update.blocks as any[]).some((block) => block.type === "actions"))).toBe(true);
    // `decided` is in notify: the deciders' threads get the outcome too.
    expect(posted().filter((message) => message.thread_ts).map((message) => [message.channel, message.thread_ts, message.text]).sort()).toEqual([
      ["DALICE1", toAlice.answer.ts, `Approved: Refund order 1234 &lt;${JOINER}!channel&gt; @${JOINER}here. Approved by alice via Slack on 24 Nov 2026 10:00 UTC.`],
      ["DBOB1", toBob.answer.ts, `Approved: Refund order 1234 &lt;${JOINER}!channel&gt; @${JOINER}here. Approved by alice via Slack on 24 Nov 2026 10:00 UTC.`],
    ]);
    expect(ephemerals()).toEqual([]);
  });

  it("Slack failing after the decision keeps the decision and never tells the decider it was already decided", async () => {
    await start(policy());
    const id = await open();
    const toAlice = slack.calls.find((call) => call.body.channel === "UALICE1")!;
    slack.failNext("chat.update", 10, "internal_error");
    expect((await press("UALICE1", valueOf(toAlice.body, 0), { channel: "DALICE1", ts: String(toAlice.answer.ts) })).status).toBe(200);
    expect((await get(id)).decision).toMatchObject({ decided_by: { login: "alice" }, via: "slack" });
    expect(ephemerals()).toEqual([]);
    expect((await app.store.pendingJobs()).filter((job) => job.kind === "channel_input")).toEqual([]);
    // The messages' own update jobs retry until Slack answers.
    expect((await get(id)).notifications.filter((record: any) => record.event === "opened").map((record: any) => record.state)).toEqual(["sent", "sent"]);
    slack.failNext("chat.update", 0);
    app.setNow(new Date(T0.getTime() + 60_000));
    await app.runtime.jobs.run();
    expect((await get(id)).notifications.filter((record: any) => record.event === "opened").map((record: any) => record.state)).toEqual(["updated", "updated"]);
  });

  it("refuses a forged signature, a stale timestamp and a replayed interaction, and decides nothing", async () => {
    await start(policy());
    const id = await open();
    const value = valueOf(dmTo("UALICE1")[0]!, 0);
    expect((await interact(pressPayload("UALICE1", value), { secret: "not-the-signing-secret-at-all" })).status).toBe(401);
    expect((await interact(pressPayload("UALICE1", value), { signature: "v0=" })).status).toBe(401);
    const stale = await interact(pressPayload("UALICE1", value), { at: new Date(T0.getTime() - 5 * 60_000 - 1_000) });
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as any).error.message).toBe("X-Slack-Request-Timestamp is more than 5 minutes away from now.");
    // A button hitl did not sign (another request's id written in) is refused too.
    const forgedValue = Buffer.from(JSON.stringify({ r: id, a: "approve" })).toString("base64url") + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    expect((await interact(pressPayload("UALICE1", forgedValue))).status).toBe(400);
    expect((await get(id)).status).toBe("pending");

    const once = pressPayload("UBOB1", valueOf(dmTo("UBOB1")[0]!, 1), undefined, "trigger-replayed");
    expect((await interact(once)).status).toBe(200);
    expect((await get(id)).decision).toMatchObject({ action: "reject", decided_by: { login: "bob" }, via: "slack" });
    const again = await interact(once, { at: new Date(T0.getTime() + 60_000) });
    expect(again.status).toBe(409);
    expect(((await again.json()) as any).error.code).toBe("replayed");
  });

  it("answers 413 naming the limit to a body past 256 KiB, before checking its signature", async () => {
    await start(policy());
    const id = await open();
    const response = await interact({ ...pressPayload("UALICE1", valueOf(dmTo("UALICE1")[0]!, 0)), padding: "x".repeat(256 * 1024) });
    expect(response.status).toBe(413);
    expect(((await response.json()) as any).error).toMatchObject({ code: "payload_too_large", message: "The body is larger than 262144 bytes." });
    expect((await get(id)).status).toBe("pending");
  });

  it("an unmapped Slack user decides nothing and is told why, only them", async () => {
    await start(policy());
    const id = await open();
    await press("UMALLORY9", valueOf(dmTo("UALICE1")[0]!, 0), { channel: "C0PUBLIC1", ts: "1700000000.000100" });
    expect((await get(id)).status).toBe("pending");
    expect(ephemerals()).toEqual([
      "UMALLORY9: Your Slack account (UMALLORY9) is not linked to a GitHub login in the people: of octo-org/payments's .hitl.yml, so nothing was decided. Ask its maintainers to add you.",
    ]);
  });

  it("the requester's own Slack account (people: maps the agent's login) is refused", async () => {
    await start(policy());
    const id = await open();
    await press("UAGENT1", valueOf(dmTo("UALICE1")[0]!, 0), { channel: "DAGENT1", ts: "1700000000.000100" });
    expect((await get(id)).status).toBe("pending");
    expect(ephemerals()).toEqual(["UAGENT1: Nothing was decided: refund-agent asked for this request (or the agent acts for refund-agent), and nobody decides their own request."]);
  });

  it("a person who may not decide is refused with who may", async () => {
    await start(policy().replace("approvers: [alice, bob, carol, refund-agent]", "approvers: [bob]"));
    const id = await open();
    await press("UALICE1", signActionRef(SIGNING_SECRET, { requestId: id, action: "approve" }), { channel: "DALICE1", ts: "1700000000.000200" });
    expect((await get(id)).status).toBe("pending");
    expect(ephemerals()).toEqual(["UALICE1: Nothing was decided: alice is not among those who may decide this request (bob)."]);
  });

  it("quorum: Slack presses are votes, and the second distinct person decides", async () => {
    await start(policy(`requirements:\n  - name: two-person rule\n    when: {field: amount, gt: 100}\n    required_approvals: 2`));
    const id = await open();
    const [toAlice] = dmTo("UALICE1");
    await press("UALICE1", valueOf(toAlice!, 0), { channel: "DALICE1", ts: "1700000000.000100" });
    expect((await get(id)).status).toBe("pending");
    expect(ephemerals()).toEqual(["UALICE1: Your vote (approve) counts, as alice. The request waits for more votes."]);
    expect(issueBody()).toContain(`| approval | @${JOINER}alice via Slack | \`approve\` |`);
    // The same person again counts once.
    await press("UALICE1", valueOf(toAlice!, 0), { channel: "DALICE1", ts: "1700000000.000100" });
    expect((await get(id)).status).toBe("pending");
    await press("UBOB1", valueOf(dmTo("UBOB1")[0]!, 0), { channel: "DBOB1", ts: "1700000000.000101" });
    const request = await get(id);
    expect(request.status).toBe("approved");
    expect(request.decision.approvals.map((vote: any) => [vote.by, vote.via])).toEqual([
      ["alice", "slack"],
      ["bob", "slack"],
    ]);
  });

  it("a decision on GitHub updates the Slack messages in place", async () => {
    await start(policy(), T0);
    const id = await open();
    const messages = slack.calls.filter((call) => call.method === "chat.postMessage").map((call) => ({ channel: String(call.answer.channel), ts: String(call.answer.ts) }));
    const response = await deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: 1, body: "/approve", login: "carol" }), secret: WEBHOOK_SECRET });
    expect(response.status).toBe(200);
    await app.runtime.jobs.run();
    expect((await get(id)).decision).toMatchObject({ decided_by: { login: "carol" }, via: "comment" });
    const updated = slack.accepted("chat.update").map((update) => [update.channel, update.ts, (update.blocks as any[])[1].text.text]);
    expect(updated.sort()).toEqual(messages.map((message) => [message.channel, message.ts, "*Approved by carol on 24 Nov 2026 10:00 UTC.*"]).sort());
    expect((await get(id)).notifications.filter((record: any) => record.event === "opened").map((record: any) => record.state)).toEqual(["updated", "updated"]);
  });

  it("each person hears an event once, however notify: entries overlap; a channel hears it once", async () => {
    const notify = `
  - {events: [opened], channels: [slack, {slack: {channel: C0PAYMENTS}}]}
  - {events: [opened], channels: [slack, {slack: {channel: C0PAYMENTS}}]}
  - {events: [opened, decided], priority: [normal], channels: [slack]}`;
    await start(policy("", notify));
    const id = await open();
    expect(posted().map((message) => message.channel).sort()).toEqual(["C0PAYMENTS", "UALICE1", "UBOB1"]);
    expect((await get(id)).notifications.map((record: any) => `${record.recipient} ${record.event}`)).toEqual(["C0PAYMENTS opened", "@alice opened", "@bob opened"]);
  });

  it("quiet hours hold a normal request until they end, and not a critical one", async () => {
    const night = new Date("2026-11-24T22:30:00.000Z"); // 23:30 in Berlin; alice is quiet 22:00-07:00 there.
    await start(policy().replace("timezone: Europe/Berlin}", 'timezone: Europe/Berlin, quiet_hours: "22:00-07:00"}'), night);
    const normal = await open({ deadline: "2026-11-30T10:00:00Z" });
    expect(posted().map((message) => message.channel)).toEqual(["UBOB1"]);
    expect((await get(normal)).notifications).toEqual([
      { channel: "slack", recipient: "@alice", event: "opened", state: "held", attempts: 0, last_error: null, held_until: "2026-11-25T06:00:00.000Z" },
      { channel: "slack", recipient: "@bob", event: "opened", state: "sent", attempts: 1, last_error: null },
    ]);

    const critical = await open({ priority: "critical", task_description: "Refund order 99" });
    expect(posted().map((message) => message.channel).sort()).toEqual(["UALICE1", "UBOB1", "UBOB1"]);
    expect((await get(critical)).notifications.map((record: any) => record.state)).toEqual(["sent", "sent"]);

    app.setNow(new Date("2026-11-25T05:59:00.000Z"));
    await app.runtime.jobs.run();
    expect(dmTo("UALICE1")).toHaveLength(1);
    app.setNow(new Date("2026-11-25T06:00:00.000Z"));
    await app.runtime.jobs.run();
    expect(dmTo("UALICE1").map((message) => message.text)).toEqual([
      `Approval needed: Refund order 99 (critical, deadline 30 Nov 2026 10:00 UTC)`,
      `Approval needed: Refund order 1234 &lt;${JOINER}!channel&gt; @${JOINER}here (normal, deadline 30 Nov 2026 10:00 UTC)`,
    ]);
  });

  it("a failing channel shows in GET, is retried with backoff, and gives up visibly on a permanent error", async () => {
    await start(policy("", "[{events: [opened], channels: [slack, {slack: {channel: C0GONE}}]}]"));
    slack.failNext("chat.postMessage", 1, "internal_error");
    const id = await open();
    const first = (await get(id)).notifications;
    expect(first.map((record: any) => [record.recipient, record.state, record.attempts, record.last_error])).toEqual([
      ["C0GONE", "retrying", 1, "Slack chat.postMessage: internal_error"],
      ["@alice", "sent", 1, null],
      ["@bob", "sent", 1, null],
    ]);
    expect((await get(id)).status).toBe("pending");
    slack.failNext("chat.postMessage", 1, "channel_not_found");
    app.setNow(new Date(T0.getTime() + 5_000));
    await app.runtime.jobs.run();
    expect((await get(id)).notifications[0]).toEqual({ channel: "slack", recipient: "C0GONE", event: "opened", state: "failed", attempts: 2, last_error: "Slack chat.postMessage: channel_not_found" });
  });

  it("warns before the deadline, and at the deadline tells of the fallback and ends the buttons", async () => {
    await start(policy("warning_before: 1h", "[{events: [opened, warning, expired], channels: [slack]}]"));
    const id = await open({ deadline: "2026-11-24T12:00:00Z" });
    app.setNow(new Date("2026-11-24T11:00:00.000Z"));
    await app.runtime.sweep();
    await app.runtime.jobs.run();
    const warned = posted().filter((message) => String(message.text).startsWith("Deadline near"));
    expect(warned.map((message) => message.channel).sort()).toEqual(["DALICE1", "DBOB1"]);
    expect((warned[0]!.blocks as any[])[0].text.text).toBe(`Deadline near: Refund order 1234 <${JOINER}!channel> @${JOINER}here`);
    app.setNow(new Date("2026-11-24T12:00:00.000Z"));
    await app.runtime.sweep();
    await app.runtime.jobs.run();
    expect((await get(id)).status).toBe("expired");
    const expired = posted().filter((message) => String(message.text).startsWith("Expired"));
    expect(expired.map((message) => message.text)).toEqual([
      `Expired: Refund order 1234 &lt;${JOINER}!channel&gt; @${JOINER}here. Nobody decided by 24 Nov 2026 12:00 UTC: the fallback applied (abort).`,
      `Expired: Refund order 1234 &lt;${JOINER}!channel&gt; @${JOINER}here. Nobody decided by 24 Nov 2026 12:00 UTC: the fallback applied (abort).`,
    ]);
    expect((await get(id)).notifications.map((record: any) => `${record.event} ${record.recipient} ${record.state}`)).toEqual([
      "opened @alice updated",
      "opened @bob updated",
      "warning @alice updated",
      "warning @bob updated",
      "expired @alice sent",
      "expired @bob sent",
    ]);
  });

  it("an escalation posts in the thread of the first message", async () => {
    await start(policy("escalation:\n  - {after: 1h, approvers: [bob]}"));
    const id = await open();
    const first = slack.calls.find((call) => call.body.channel === "UBOB1")!;
    app.setNow(new Date(T0.getTime() + 60 * 60_000));
    await app.runtime.sweep();
    await app.runtime.jobs.run();
    const escalated = posted().filter((message) => String(message.text).startsWith("Escalated")).sort((a, b) => String(a.channel).localeCompare(String(b.channel)));
    const firstToAlice = slack.calls.find((call) => call.body.channel === "UALICE1")!;
    expect(escalated.map((message) => [message.channel, message.thread_ts])).toEqual([
      ["DALICE1", String(firstToAlice.answer.ts)],
      ["DBOB1", String(first.answer.ts)],
    ]);
    expect((escalated[1]!.blocks as any[]).at(-1).elements[0].text).toBe(`Request \`${id}\`. It has reached escalation level 1. A decision here counts as your decision on GitHub.`);
  });

  it("a request that asks for a justification opens a form; its submission decides with it", async () => {
    await start(policy("feedback:\n  require_justification: {min_length: 10}\n  reasons: [fraud, duplicate]"));
    const id = await open();
    const message = { channel: "DBOB1", ts: String(slack.calls.find((call) => call.body.channel === "UBOB1")!.answer.ts) };
    await press("UBOB1", valueOf(dmTo("UBOB1")[0]!, 1), message);
    expect((await get(id)).status).toBe("pending");
    const [opened] = slack.accepted("views.open");
    const view = opened!.view as any;
    expect(view.blocks.map((block: any) => block.block_id ?? block.type)).toEqual(["section", "reason_code", "justification"]);
    expect(view.blocks[1].element.options.map((option: any) => option.value)).toEqual(["fraud", "duplicate"]);
    expect(view.blocks[2]).toEqual({
      type: "input",
      block_id: "justification",
      optional: false,
      label: { type: "plain_text", text: "Justification", emoji: false },
      element: { type: "plain_text_input", action_id: "value", multiline: true, max_length: 3000, min_length: 10 },
    });
    const submission = {
      type: "view_submission",
      user: { id: "UBOB1" },
      view: {
        id: "V1",
        hash: "h1",
        callback_id: "hitl_decision",
        private_metadata: view.private_metadata,
        state: { values: { reason_code: { value: { type: "static_select", selected_option: { value: "duplicate" } } }, justification: { value: { type: "plain_text_input", value: "Refunded yesterday already" } } } },
      },
    };
    expect((await interact(submission)).status).toBe(200);
    const request = await get(id);
    expect(request.decision).toMatchObject({ action: "reject", decided_by: { login: "bob" }, via: "slack", reason_code: "duplicate", justification: "Refunded yesterday already" });
  });

  it("an approver changes an editable field in the form; its bounds are checked as on GitHub", async () => {
    await start(policy());
    const id = await open({ editable_fields: { amount: { type: "number", minimum: 1, maximum: 120 } } });
    const message = { channel: "DALICE1", ts: String(slack.calls.find((call) => call.body.channel === "UALICE1")!.answer.ts) };
    await press("UALICE1", valueOf(dmTo("UALICE1")[0]!, 0), message);
    const view = slack.accepted("views.open")[0]!.view as any;
    expect(view.blocks[1]).toEqual({
      type: "input",
      block_id: "field_0",
      optional: true,
      label: { type: "plain_text", text: "amount", emoji: false },
      element: { type: "plain_text_input", action_id: "value", initial_value: "120" },
      hint: { type: "plain_text", text: "A number, at least 1, at most 120. Change it to approve with a new value.", emoji: false },
    });
    const submit = (amount: string, viewId: string) =>
      interact({
        type: "view_submission",
        user: { id: "UALICE1" },
        view: { id: viewId, hash: "h", callback_id: "hitl_decision", private_metadata: view.private_metadata, state: { values: { field_0: { value: { type: "plain_text_input", value: amount } }, justification: { value: { type: "plain_text_input", value: null } } } } },
      });
    expect((await submit("500", "V1")).status).toBe(200);
    expect((await get(id)).status).toBe("pending");
    expect(ephemerals()).toEqual(["UALICE1: Nothing was decided: amount must be at most 120, not 500."]);
    expect((await submit("80", "V2")).status).toBe(200);
    expect((await get(id)).decision).toMatchObject({ action: "approve", via: "slack", edited_fields: { amount: 80 }, original_fields: { amount: 120 } });
  });
});
