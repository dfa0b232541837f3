import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, startApp, type AppHarness } from "../support/app-harness.js";
import { csrfOf, DeskBrowser, oauthFor, readable } from "../support/desk-client.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

const REPO = "octo-org/payments";

/**
 * "All N matching this filter" on the desk's queue approves what the person was shown. An agent
 * that keeps opening requests of the same type gets one in between the page and the click: it
 * must not be approved with the others, unseen.
 */
describe("approving all matching a filter on the desk", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write" } } },
      oauth: { clientId: "Iv1.desk0123456789ab", clientSecret: "desk-client-secret-0123456789abcdef" },
    });
    app = await startApp({ githubUrl: github.url, desk: { oauth: oauthFor(github) } });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  const open = async (task: string) => {
    const response = await api(app, "POST", "/requests", { repo: REPO, task_description: task, approval_reason: "Refunds need a human", request_type: "refund", deadline: "2099-12-01T12:00:00Z" });
    expect(response.status).toBe(201);
    await app.runtime.jobs.run();
    return response.json.id as string;
  };

  it("decides only the requests the page showed", async () => {
    const shown = [await open("Refund order 1"), await open("Refund order 2")];
    const alice = new DeskBrowser(app.url);
    await alice.signIn(github, "alice");
    const page = (await alice.get("/desk?type=refund")).text;
    expect(readable(page)).toContain("All 2 matching this filter");
    const fields = [...page.matchAll(/<input type="hidden" name="shown" value="([^"]+)">/g)].map((match) => match[1]!);

    const unseen = await open("Refund order 3: to the agent's own account");
    const all = await alice.post("/desk/batch?type=refund", { csrf: csrfOf(page), action: "approve", justification: "checked both", all: "1", shown: fields });
    expect(readable(all.text)).toContain("Approved 2 of 2");
    expect(await Promise.all(shown.map(async (id) => (await app.store.get(id))!.status))).toEqual(["approved", "approved"]);
    expect((await app.store.get(unseen))!.status).toBe("pending");
  });
});
