import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AGENT, api, startApp, type AppHarness } from "../support/app-harness.js";
import { DeskBrowser, oauthFor } from "../support/desk-client.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

const REPO = "octo-org/payments";

/**
 * `/desk/events` tells an open page how a request it shows changed (who voted, who decided).
 * The agent's own account, the person it acts for and a reader of the repository watch the
 * agent's request by its id: they are told nothing, while a person who may decide it is.
 */
describe("watching a request one may not decide on the desk", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write", bob: "write", "ci-user": "write", dave: "write", carol: "read" } } },
      oauth: { clientId: "Iv1.desk0123456789ab", clientSecret: "desk-client-secret-0123456789abcdef" },
    });
    app = await startApp({ githubUrl: github.url, agents: [{ ...AGENT, githubLogins: ["ci-user"] }], desk: { oauth: oauthFor(github), recheckMs: 60_000 } });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  /** What the stream sends before its first keep-alive, which follows its first look at the store. */
  async function firstLook(login: string, watch: string): Promise<string> {
    const browser = new DeskBrowser(app.url);
    await browser.signIn(github, login);
    const controller = new AbortController();
    const stream = await fetch(`${app.url}/desk/events?watch=${watch}`, { headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join("; ") }, signal: controller.signal });
    const reader = stream.body!.getReader();
    let received = "";
    while (!received.includes(": still here")) received += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    return received;
  }

  it("tells only a person who may decide it", async () => {
    const opened = await api(app, "POST", "/requests", { repo: REPO, task_description: "Refund order 1234", approval_reason: "Needs two people", deadline: "2099-12-01T12:00:00Z", on_behalf_of: "dave", required_approvals: 2 });
    expect(opened.status).toBe(201);
    await app.runtime.jobs.run();
    const id = (opened.json as { id: string }).id;
    const { version } = (await app.store.get(id))!;
    expect(await app.runtime.engine.decideFromChannel({ requestId: id, login: "bob", action: "approve", via: "slack", justification: null })).toMatchObject({ type: "voted" });
    const watch = `${id}:${version}`;
    const changed = `event: changed\ndata: {"id":"${id}","final":false,"text":"This request changed after this page was shown (a vote or a new step); open it again before deciding."}`;
    expect(await firstLook("alice", watch)).toContain(changed);
    for (const login of ["ci-user", "dave", "carol"]) {
      expect(await firstLook(login, watch), login).toBe("retry: 5000\n\n: still here\n\n");
    }
  });
});
