import { afterEach, describe, expect, it } from "vitest";
import { addRuleToConfig } from "../../src/insights/config-edit.js";
import { Hitl } from "../../src/client/index.js";
import { runCli } from "../../src/cli/run-cli.js";
import { AGENT, api, startApp, WEBHOOK_SECRET, type AppHarness } from "../support/app-harness.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";
import { deliver, issueCommentPayload, pullRequestPayload } from "../support/webhooks.js";
import { refundHistory } from "../support/refund-history.js";

const REPO = "octo-org/payments";
const AUDITOR = { name: "auditor", token: "auditor-token-0123456789abcdef", readAll: true };
/** The refund agent's own GitHub account, an admin of the repository. */
const AGENT_LOGIN = "refund-agent-user";
const POLICY = `# Payments: who decides what
approvers: [alice]

rules:
  # Tiny refunds need nobody.
  - id: tiny
    when: {field: amount, lt: 1}
    action: approve

deadline: 24h # a day
`;

const history = () => refundHistory(REPO);

describe("rules suggested from history", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  afterEach(async () => {
    await app?.close();
    await github?.close();
  });

  async function start() {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: {
          collaborators: { alice: "admin", mallory: "maintain", bob: "write", [AGENT_LOGIN]: "admin" },
          files: { main: { ".hitl.yml": POLICY, "README.md": "payments\n" } },
          issues: [{ number: 40, title: "Refund policy", user: "alice" }],
        },
      },
      installations: [{ id: 1, account: "octo-org" }],
    });
    app = await startApp({ githubUrl: github.url, now: new Date("2026-12-01T12:00:00.000Z"), agents: [{ ...AGENT, githubLogins: [AGENT_LOGIN] }, AUDITOR] });
    for (const request of history()) await app.store.create(request);
  }

  it("refuses an agent's own token: suggestions reveal every decision and write to the repository", async () => {
    await start();
    const list = await api(app, "GET", `/suggestions?repo=${REPO}`);
    expect(list.status).toBe(403);
    expect(list.json.error).toEqual({ code: "read_all_required", message: "Suggestions read how every request of the repository was decided: they need a token with read-all." });
    const open = await api(app, "POST", "/suggestions/sug_0123456789abcdef/pull-request", { repo: REPO });
    expect(open.status).toBe(403);
    expect(open.json.error.code).toBe("read_all_required");
    expect(github.callsTo("POST", "/repos/octo-org/payments/git/refs")).toEqual([]);
    expect(github.callsTo("POST", "/repos/octo-org/payments/pulls")).toEqual([]);
  });

  it("lists the rule with its evidence, opens it once as a pull request that the config check passes", async () => {
    await start();
    const listed = await api(app, "GET", `/suggestions?repo=${REPO}`, undefined, { token: AUDITOR.token });
    expect(listed.status).toBe(200);
    expect(listed.json.suggestions).toHaveLength(1);
    const [suggestion] = listed.json.suggestions;
    expect(suggestion.id).toMatch(/^sug_[0-9a-f]{16}$/);
    expect(suggestion.request_type).toBe("refund");
    expect(suggestion.rule.when).toEqual({ all: [{ task_type: ["refund"] }, { field: "amount", gte: 5, lte: 95 }, { field: "currency", equals: "USD" }] });
    expect(suggestion.evidence).toMatchObject({ support: 25, considered: 35, decided_otherwise: 10 });
    expect(suggestion.evidence.counter_examples.map((example: { value: number; action: string }) => [example.value, example.action])).toEqual([
      [100, "reject"],
      [120, "reject"],
      [140, "reject"],
    ]);
    expect(listed.json).toMatchObject({ repo: REPO, truncated: false });

    // The client and the CLI give the same answer.
    expect(await new Hitl({ url: app.url, token: AUDITOR.token }).suggestions(REPO)).toEqual(listed.json);
    const out: string[] = [];
    const code = await runCli(["suggestions", "--repo", REPO], { out: (line) => out.push(line), err: (line) => out.push(`err: ${line}`), env: { HITL_URL: app.url, HITL_TOKEN: AUDITOR.token } });
    expect(code).toBe(0);
    expect(out[0]!.split("\n").slice(0, 5)).toEqual([
      "octo-org/payments: 1 suggested rule",
      "",
      `${suggestion.id}  refund: 25 approved as asked, none decided otherwise; closest decided otherwise: ${suggestion.evidence.counter_examples[0].request_id} (100, reject)`,
      `  open it: hitl suggestions open ${suggestion.id} --repo octo-org/payments`,
      `  - id: ${suggestion.rule.id}`,
    ]);

    const opened = await api(app, "POST", `/suggestions/${suggestion.id}/pull-request`, { repo: REPO }, { token: AUDITOR.token });
    expect(opened.status).toBe(201);
    expect(opened.json).toEqual({ suggestion_id: suggestion.id, pull_request: { number: 41, url: "https://github.com/octo-org/payments/pull/41", created: true } });

    const branch = `hitl/suggest-${suggestion.id}`;
    const expected = addRuleToConfig(POLICY, suggestion.rule, suggestion.yaml);
    if (!expected.ok) throw new Error(expected.reason);
    const repo = github.repo(REPO);
    expect(repo.files[branch]).toEqual({ ".hitl.yml": expected.text, "README.md": "payments\n" });
    expect(expected.text).toBe(`${POLICY.split("\n").slice(0, 8).join("\n")}\n${suggestion.yaml.replace(/\n$/, "").split("\n").map((line: string) => `  ${line}`).join("\n")}\n\ndeadline: 24h # a day\n`);
    expect(repo.files.main![".hitl.yml"]).toBe(POLICY);
    const [create] = github.callsTo("POST", "/repos/octo-org/payments/pulls");
    expect(create!.body).toMatchObject({ title: `hitl: add delegation rule ${suggestion.rule.id}`, head: branch, base: "main" });
    const body = (create!.body as { body: string }).body;
    expect(body.split("\n").slice(0, 3)).toEqual([
      "hitl suggests this delegation rule for `refund` requests, from the decisions people made in this repository.",
      "",
      "**Evidence.** People approved all 25 `refund` requests where `amount` is from 5 to 95 and `currency` is `USD`, and decided none of them otherwise (35 `refund` requests decided by people were read, 10 of them not approved as asked). The chance of so clean a line where the field does not matter: below 0.01%.",
    ]);
    expect(body).toContain(`| \`${suggestion.evidence.counter_examples[0].request_id}\` | 100 | reject |`);
    expect(body).toContain(`\`\`\`yaml\n${suggestion.yaml.replace(/\n$/, "")}\n\`\`\``);
    expect(body.split("\n").at(-1)).toBe(`<sub>Suggestion \`${suggestion.id}\`, opened at the request of the operator token auditor. The \`hitl/config\` check validates the file as for any change.</sub>`);

    // Asked again: the same pull request, nothing new written.
    const writes = github.writes.length;
    const again = await api(app, "POST", `/suggestions/${suggestion.id}/pull-request`, { repo: REPO }, { token: AUDITOR.token });
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ suggestion_id: suggestion.id, pull_request: { number: 41, url: "https://github.com/octo-org/payments/pull/41", created: false } });
    const cli: string[] = [];
    const opened2 = await runCli(["suggestions", "open", suggestion.id, "--repo", REPO], { out: (line) => cli.push(line), err: (line) => cli.push(`err: ${line}`), env: { HITL_URL: app.url, HITL_TOKEN: AUDITOR.token } });
    expect({ opened2, cli }).toEqual({ opened2: 0, cli: ["already opened pull request #41 https://github.com/octo-org/payments/pull/41"] });
    expect(github.writes.length).toBe(writes);
    expect(repo.pulls).toHaveLength(1);

    // The hitl/config check validates the proposed file on the pull request's head commit.
    const pull = repo.pulls[0]!;
    await deliver(`${app.url}/api/github/webhooks`, { event: "pull_request", payload: pullRequestPayload({ repo: REPO, action: "opened", number: pull.number, headSha: pull.headSha, headRef: branch }), secret: WEBHOOK_SECRET });
    const [check] = github.callsTo("POST", "/repos/octo-org/payments/check-runs");
    expect(check!.body).toMatchObject({
      name: "hitl/config",
      head_sha: pull.headSha,
      conclusion: "success",
      output: { title: ".hitl.yml is valid", summary: ".hitl.yml is valid: 2 delegation rules. It takes effect once it is on the default branch." },
    });
  });

  it("answers 404 for a suggestion the history does not support, and names the bad field", async () => {
    await start();
    const missing = await api(app, "POST", "/suggestions/sug_0123456789abcdef/pull-request", { repo: REPO }, { token: AUDITOR.token });
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("not_found");
    const bad = await api(app, "POST", "/suggestions/sug_0123456789abcdef/pull-request", { repo: "not a repo" }, { token: AUDITOR.token });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues).toEqual([{ path: "repo", message: "must be owner/name" }]);
    const noRepo = await api(app, "GET", "/suggestions", undefined, { token: AUDITOR.token });
    expect(noRepo.json.error.issues.map((issue: { path: string }) => issue.path)).toEqual(["query.repo"]);
  });

  const comment = (login: string, body: string, userType: "User" | "Bot" = "User") =>
    deliver(`${app.url}/api/github/webhooks`, { event: "issue_comment", payload: issueCommentPayload({ repo: REPO, issueNumber: 40, body, login, userType, issueAuthor: "alice" }), secret: WEBHOOK_SECRET });
  const replies = () => github.repo(REPO).issues.find((issue) => issue.number === 40)!.comments.map((reply) => reply.body);

  it("/hitl suggest: an admin or maintainer gets the suggestions, then the pull request; nobody else", async () => {
    await start();
    const [suggestion] = (await api(app, "GET", `/suggestions?repo=${REPO}`, undefined, { token: AUDITOR.token })).json.suggestions;
    const nearest = suggestion.evidence.counter_examples[0].request_id;

    await comment("alice", "/hitl suggest");
    expect(replies()).toEqual([
      [
        "hitl suggests this delegation rule, from the decisions people made in this repository:",
        "",
        `- \`${suggestion.id}\`: approve \`refund\` requests where \`amount\` is from 5 to 95 and \`currency\` is \`USD\`. People approved all 25 such requests and decided none otherwise; the closest decided otherwise is \`${nearest}\` (100, reject).`,
        "",
        "To open a pull request adding one to `.hitl.yml`, with its evidence, comment `/hitl suggest <id>`.",
      ].join("\n"),
    ]);

    // A write collaborator, a bot, and the agent's own account (an admin here) may not ask.
    await comment("bob", `/hitl suggest ${suggestion.id}`);
    await comment("deploy-helper[bot]", `/hitl suggest ${suggestion.id}`, "Bot");
    await comment(AGENT_LOGIN, `/hitl suggest ${suggestion.id}`);
    expect(replies().slice(1)).toEqual(["Only a person with admin or maintain permission on this repository can ask hitl for suggestions."]);
    expect(github.callsTo("POST", "/repos/octo-org/payments/pulls")).toEqual([]);

    await comment("mallory", `/hitl suggest ${suggestion.id}`);
    await comment("alice", `/hitl suggest ${suggestion.id}`);
    expect(replies().slice(2)).toEqual([
      `hitl opened #41 to add suggestion \`${suggestion.id}\` to \`.hitl.yml\`, with its evidence. It decides nothing until it is merged.`,
      `hitl already opened #41 for \`${suggestion.id}\`.`,
    ]);
    const [create] = github.callsTo("POST", "/repos/octo-org/payments/pulls");
    expect((create!.body as { body: string }).body.split("\n").at(-1)).toBe(`<sub>Suggestion \`${suggestion.id}\`, opened at the request of @\u200Dmallory. The \`hitl/config\` check validates the file as for any change.</sub>`);

    await comment("alice", "/hitl suggest sug_0123456789abcdef");
    expect(replies().at(-1)).toBe("hitl cannot open `sug_0123456789abcdef`: No suggestion sug_0123456789abcdef for octo-org/payments: the history no longer supports it, or .hitl.yml has it already. GET /api/v1/suggestions lists the current ones.");
  });
});
