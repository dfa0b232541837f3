import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newSession, sealSession } from "../../src/desk/session.js";
import { parseSealingKeys, type SealingKeys } from "../../src/sensitive/sealing.js";
import { AGENT, api, startApp, type AppHarness } from "../support/app-harness.js";
import { csrfOf, DeskBrowser, oauthFor, readable } from "../support/desk-client.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

const REPO = "octo-org/payments";
/** The agent's token declares the GitHub account it also acts as, which has write access. */
const AGENT_WITH_LOGIN = { ...AGENT, githubLogins: ["ci-user"] };
const CARD = "4111-1111-1111-1111";

const keys = (): SealingKeys => {
  const parsed = parseSealingKeys(`k1:${randomBytes(32).toString("base64")}`);
  if ("errors" in parsed) throw new Error(parsed.errors.join("; "));
  return parsed.keys;
};

describe("an agent, or the person it acts for, on the approver's desk", () => {
  let github: GitHubStandIn;
  let app: AppHarness;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: { [REPO]: { collaborators: { alice: "write", "ci-user": "write", dave: "write", carol: "read" } } },
      oauth: { clientId: "Iv1.desk0123456789ab", clientSecret: "desk-client-secret-0123456789abcdef" },
    });
    app = await startApp({ githubUrl: github.url, agents: [AGENT_WITH_LOGIN], desk: { oauth: oauthFor(github) }, sealingKeys: keys() });
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  async function open(overrides: Record<string, unknown> = {}): Promise<string> {
    const response = await api(app, "POST", "/requests", {
      repo: REPO,
      task_description: "Refund order 1234",
      approval_reason: "Refunds over $50 need a human",
      decision_data: { amount: 120, card_number: CARD },
      sensitive: ["card_number"],
      deadline: "2099-12-01T12:00:00Z",
      on_behalf_of: "dave",
      ...overrides,
    });
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    await app.runtime.jobs.run();
    return (response.json as { id: string }).id;
  }

  it("never shows the agent's account or the person it acts for their own request, nor lets them decide it, one by one or in a batch", async () => {
    const id = await open();
    for (const login of ["ci-user", "CI-User", "dave"]) {
      const browser = new DeskBrowser(app.url);
      await browser.signIn(github, login);
      const queue = await browser.get("/desk");
      expect(readable(queue.text)).toContain("0 requests wait for you");
      expect(queue.text).not.toContain(id);
      const csrf = csrfOf(queue.text);

      const page = await browser.get(`/desk/r/${id}`);
      expect(page.status).toBe(404);
      expect(page.text).not.toContain(CARD);
      const one = await browser.post(`/desk/r/${id}`, { csrf, action: "approve", justification: "looks fine to me" });
      expect(one.status).toBe(404);
      expect(readable(one.text)).toContain("Request not found It does not exist, or it is not yours to decide. Nothing was decided.");

      const batch = await browser.post("/desk/batch", { csrf, action: "approve", justification: "all fine", item: [`${id}:`] });
      expect(readable(batch.text)).toContain(`Approved 0 of 1`);
      expect(readable(batch.text)).toContain(`Could not be decided ${id}: not yours to decide; nothing was decided.`);
      const all = await browser.post("/desk/batch", { csrf, action: "approve", all: "1" });
      expect(all.status).toBe(400);

      // The engine's door refuses it too, whatever the desk shows.
      expect(await app.runtime.engine.decideFromChannel({ requestId: id, login, action: "approve", via: "desk" })).toMatchObject({ type: "refused", reason: "requester" });
    }
    expect((await app.store.get(id))!.status).toBe("pending");
    expect((await app.store.audit(REPO)).filter((entry) => entry.event === "decided")).toEqual([]);
  });

  it("shows sensitive values only on the request page of a person who may decide, never in the queue", async () => {
    const id = await open();
    const alice = new DeskBrowser(app.url);
    await alice.signIn(github, "alice");
    const queue = await alice.get("/desk");
    expect(queue.text).toContain(id);
    expect(queue.text).not.toContain(CARD);
    const page = await alice.get(`/desk/r/${id}`);
    expect(readable(page.text)).toContain(`Decision data amount 120 card_number "${CARD}"`);
    expect(page.headers.get("cache-control")).toBe("no-store");
    const carol = new DeskBrowser(app.url);
    await carol.signIn(github, "carol");
    const hidden = await carol.get(`/desk/r/${id}`);
    expect(hidden.status).toBe(404);
    expect(hidden.text).not.toContain(CARD);
  });

  it("refuses a forged or missing CSRF token, a form from another site, and a session signed with another key", async () => {
    const id = await open();
    const alice = new DeskBrowser(app.url);
    await alice.signIn(github, "alice");
    const csrf = csrfOf((await alice.get(`/desk/r/${id}`)).text);
    const forms: Record<string, string>[] = [{ csrf: "forged" }, {}, { csrf: csrf.slice(0, -1) }];
    for (const form of forms) {
      const refused = await alice.post(`/desk/r/${id}`, { ...form, action: "approve", justification: "looks fine to me" });
      expect(refused.status).toBe(403);
      expect(readable(refused.text)).toContain("This form could not be checked It did not come from a page of this desk. Nothing was decided. Open the page again and use its form.");
    }
    const foreign: Record<string, string>[] = [{ origin: "https://evil.example" }, { "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }];
    for (const headers of foreign) {
      expect((await alice.post(`/desk/r/${id}`, { csrf, action: "approve", justification: "looks fine to me" }, headers)).status).toBe(403);
    }
    // A session made with a key this desk does not hold.
    const forger = new DeskBrowser(app.url);
    forger.cookies.set("hitl_desk", sealSession(randomBytes(32), newSession("alice", new Date())));
    expect(readable((await forger.get("/desk")).text)).toContain("Sign in with GitHub");
    const post = await forger.post(`/desk/r/${id}`, { csrf, action: "approve", justification: "looks fine to me" });
    expect(post.status).toBe(403);
    expect(readable(post.text)).toContain("Your session has ended Sign in again. Nothing was decided.");
    expect((await app.store.get(id))!.status).toBe("pending");
  });

  it("sends a person back only to a page of the desk after signing in (no open redirect)", async () => {
    for (const next of ["https://evil.example/", "//evil.example/desk", "/desk//evil.example", "/desk/\\evil.example", "/deskevil", "javascript:alert(1)", "/desk/r/x#y"]) {
      const browser = new DeskBrowser(app.url);
      const landed = await browser.signIn(github, "alice", next);
      expect(landed.headers.get("location"), next).toBe("/desk");
    }
    const browser = new DeskBrowser(app.url);
    expect((await browser.signIn(github, "alice", "/desk/r/req_1?x=1")).headers.get("location")).toBe("/desk/r/req_1?x=1");
  });
});
