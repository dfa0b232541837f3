import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AGENT, api, startApp, type AppHarness } from "../support/app-harness.js";
import { csrfOf, DeskBrowser, oauthFor, readable } from "../support/desk-client.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

const REPO = "octo-org/payments";
const OTHER = "octo-org/secret-project";
const T0 = new Date("2026-11-24T09:00:00.000Z");

const body = (overrides: Record<string, unknown> = {}) => ({
  repo: REPO,
  task_description: "Refund order 1234",
  approval_reason: "Refunds over $50 need a human",
  request_type: "refund",
  decision_data: { amount: 120 },
  deadline: "2026-11-25T09:00:00Z",
  approvers: [],
  ...overrides,
});

describe("the approver's desk", () => {
  let github: GitHubStandIn;
  let app: AppHarness;
  let alice: DeskBrowser;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      repos: {
        [REPO]: { collaborators: { alice: "write", bob: "write", carol: "read" } },
        [OTHER]: { collaborators: { bob: "write" } },
      },
      teams: { "octo-org/finance": ["alice"] },
      oauth: { clientId: "Iv1.desk0123456789ab", clientSecret: "desk-client-secret-0123456789abcdef" },
    });
    app = await startApp({ githubUrl: github.url, now: T0, desk: { oauth: oauthFor(github), recheckMs: 50 } });
    github.state.oauth!.callbackUrls = [`${app.url}/desk/callback`];
    alice = new DeskBrowser(app.url);
  });

  afterEach(async () => {
    await app.close();
    await github.close();
  });

  async function open(overrides: Record<string, unknown> = {}): Promise<{ id: string; version: number }> {
    const response = await api(app, "POST", "/requests", body(overrides));
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    await app.runtime.jobs.run();
    const stored = await app.store.get((response.json as { id: string }).id);
    return { id: stored!.id, version: stored!.version };
  }

  it("asks a visitor to sign in, and signs in through GitHub's OAuth round trip into a signed, HttpOnly session", async () => {
    const first = await alice.get("/desk");
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-control")).toBe("no-store");
    expect(first.headers.get("content-security-policy")).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    expect(first.headers.get("x-frame-options")).toBe("DENY");
    expect(readable(first.text)).toBe(
      "Skip to content hitl · approver's desk The approver's desk Every request waiting for you, in one place: decide one, or several at once. Sign in with your GitHub account. The desk shows only the requests you may decide. Sign in with GitHub",
    );

    const start = await alice.get("/desk/login?next=%2Fdesk%2Frecent");
    expect(start.status).toBe(302);
    const location = new URL(start.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe(`http://${github.host}/login/oauth/authorize`);
    expect([...location.searchParams.keys()]).toEqual(["client_id", "redirect_uri", "state"]);
    expect(location.searchParams.get("client_id")).toBe("Iv1.desk0123456789ab");
    expect(location.searchParams.get("redirect_uri")).toBe(`${app.url}/desk/callback`);
    expect(start.headers.getSetCookie()).toEqual([expect.stringMatching(/^hitl_desk_state=[\w-]+\.[\w-]+; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/)]);

    github.state.oauth!.signedIn = "alice";
    const back = await fetch(location, { redirect: "manual" });
    const landed = await alice.get(back.headers.get("location")!);
    expect(landed.status).toBe(303);
    expect(landed.headers.get("location")).toBe("/desk/recent");
    const cookies = landed.headers.getSetCookie();
    expect(cookies[0]).toBe("hitl_desk_state=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
    expect(cookies[1]).toMatch(/^hitl_desk=[\w-]+\.[\w-]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Lax$/);
    // The token exchange sent the app's credentials and the same redirect URI; the user token only asked who it is.
    expect(github.callsTo("POST", "/login/oauth/access_token").map((call) => Object.keys(call.body as object))).toEqual([["client_id", "client_secret", "code", "redirect_uri"]]);
    expect(github.callsTo("GET", "/user").map((call) => call.status)).toEqual([200]);

    const recent = await alice.get("/desk/recent");
    expect(readable(recent.text)).toBe("Skip to content hitl · approver's desk Queue Decided recently Signed in as alice Sign out Decided recently You have not decided anything lately.");
  });

  it("shows each person the requests they may decide, most urgent first, with filters and their counts; nothing of repositories they cannot see", async () => {
    const normal = await open({ task_description: "Refund order 1" });
    const critical = await open({ task_description: "Refund order 2", priority: "critical", deadline: "2026-11-24T12:00:00Z" });
    const team = await open({ task_description: "Pay invoice 7", request_type: "payment", approvers: ["@octo-org/finance"], priority: "high" });
    await open({ task_description: "Rotate the launch keys", repo: OTHER, request_type: "secret" });
    await open({ task_description: "Refund order 3", approvers: ["bob"] });

    await alice.signIn(github, "alice");
    const queue = await alice.get("/desk");
    expect(queue.status).toBe(200);
    const text = readable(queue.text);
    expect(text).toContain("3 requests wait for you");
    // Most urgent first: critical, high, normal.
    expect([...queue.text.matchAll(/data-watch="([^":]+):/g)].map((m) => m[1])).toEqual([critical.id, team.id, normal.id]);
    expect(text).toContain("Whose turn All I may decide 3 Waiting on me 1 Priority Any 3 critical 1 high 1 normal 1 Repository Any 3 octo-org/payments 3 Type Any 3 payment 1 refund 2 Stage Any 3 one decision 3");
    expect(text).toContain("Refund order 2 critical refund octo-org/payments · asked by refund-agent 3 hours left");
    expect(text).toContain("Pay invoice 7 high payment waiting on you octo-org/payments · asked by refund-agent 24 hours left");
    expect(queue.text).not.toContain("secret-project");
    expect(queue.text).not.toContain("Rotate the launch keys");

    const filtered = await alice.get("/desk?type=refund&priority=normal");
    expect([...filtered.text.matchAll(/data-watch="([^":]+):/g)].map((m) => m[1])).toEqual([normal.id]);
    expect(readable(filtered.text)).toContain("1 of 3 requests match");
    const mine = await alice.get("/desk?mine=1");
    expect([...mine.text.matchAll(/data-watch="([^":]+):/g)].map((m) => m[1])).toEqual([team.id]);

    // Someone who may only read the repository sees nothing to decide, and not how much there is.
    const carol = new DeskBrowser(app.url);
    await carol.signIn(github, "carol");
    expect(readable((await carol.get("/desk")).text)).toContain("0 requests wait for you Whose turn All I may decide 0 Waiting on me 0 Nothing waits for you. New requests show here as they come.");
    const hidden = await carol.get(`/desk/r/${normal.id}`);
    expect(hidden.status).toBe(404);
    expect(readable(hidden.text)).toContain("Request not found It does not exist, or it is not yours to see.");
    // A path no request id has (a broken % escape, a slash) is the same 404, never an error.
    for (const path of ["/desk/r/%E0%A4%A", "/desk/r/req_1%2Fx", "/desk/r/"]) {
      const odd = await alice.get(path);
      expect(odd.status, path).toBe(404);
      expect(readable(odd.text)).toContain("Request not found It does not exist, or it is not yours to see.");
    }
  });

  it("leaves out, and says so, the requests GitHub did not answer for", async () => {
    const first = await open({ task_description: "Refund order 1" });
    const second = await open({ task_description: "Refund order 2", repo: OTHER, approvers: [] });
    await alice.signIn(github, "bob");
    github.failNext({ method: "GET", path: "/repos/octo-org/payments/collaborators/bob/permission" }, [{ status: 502 }]);
    const queue = await alice.get("/desk");
    expect(queue.status).toBe(200);
    expect(readable(queue.text)).toContain("1 request waits for you GitHub did not answer for some requests just now, so they are not shown. Reload to try again.");
    expect(queue.text).toContain(second.id);
    expect(queue.text).not.toContain(first.id);
    expect(readable((await alice.get("/desk")).text)).toContain("2 requests wait for you Whose turn");
  });

  it("shows the person deciding what is kept off GitHub: the context layers, the full context and the values .hitl.yml hides", async () => {
    github.state.repos[REPO]!.files.main = { ".hitl.yml": "context:\n  hide: [customer_email]\n" };
    const request = await open({
      decision_data: { amount: 120, customer_email: "ann@example.com" },
      context: { summary: "Refund $120 to Ann for a damaged parcel", detail: "The parcel arrived broken.\n\nPhotos are in the ticket.", full: { transcript: ["customer: it arrived <b>broken</b>"] } },
    });
    const issue = github.repo(REPO).issues[0]!;
    expect(issue.body).not.toContain("ann@example.com");
    expect(issue.body).not.toContain("transcript");
    await alice.signIn(github, "alice");
    const page = await alice.get(`/desk/r/${request.id}`);
    expect(page.status).toBe(200);
    const text = readable(page.text);
    expect(text).toContain("Refund order 1234 Refund $120 to Ann for a damaged parcel refund-agent asks for approval.");
    // Shown inert: a joiner keeps the address from becoming a link.
    expect(text).toContain("Decision data amount 120 customer_email \"ann@\u200dexample.com\"");
    expect(text).toContain('Detail The parcel arrived broken. Photos are in the ticket. Full context (53 bytes) { "transcript": [ "customer: it arrived <b>broken</b>" ] }');
    // The agent's text is shown, never interpreted.
    expect(page.text).not.toContain("<b>broken</b>");
    expect(page.text).toContain("&#60;b&#62;broken&#60;/b&#62;");
  });

  it("decides one request from its page through the engine, audited as the desk; a stale page and a lost race say so", async () => {
    const request = await open({ feedback: { require_justification: { min_length: 5 }, reasons: ["fraud", "policy"] } });
    await alice.signIn(github, "alice");
    const page = await alice.get(`/desk/r/${request.id}`);
    expect(page.status).toBe(200);
    expect(readable(page.text)).toBe(
      "Skip to content hitl · approver's desk Queue Decided recently Signed in as alice Sign out ← Queue " +
        "Decision needed · normal priority Refund order 1234 refund-agent asks for approval. Why: Refunds over $50 need a human Deadline 25 Nov 2026 09:00 UTC (in 24 hours) If nobody decides by then the request is aborted: No decision before the deadline " +
        "Decision data amount 120 About this request Repository octo-org/payments Type refund Opened 24 Nov 2026 09:00 UTC On GitHub https://github.com/octo-org/payments/issues/1 " +
        "Decide Reason code (needed to reject) — fraud policy Justification (required, at least 5 characters) Approve: Approve Reject: Reject Earlier requests of this type None in this repository.",
    );
    const csrf = csrfOf(page.text);
    const hash = /name="context_hash" value="([^"]+)"/.exec(page.text)![1]!;

    const short = await alice.post(`/desk/r/${request.id}`, { csrf, action: "approve", justification: "ok", context_hash: hash });
    expect(short.status).toBe(422);
    expect(readable(short.text)).toContain("Not decided yet A justification of at least 5 characters is needed.");

    const stale = await alice.post(`/desk/r/${request.id}`, { csrf, action: "approve", justification: "checked the order", context_hash: "sha256:0000" });
    expect(stale.status).toBe(409);
    expect(readable(stale.text)).toContain("This request changed since you opened it Nothing was decided. Look at it again before deciding. Open it again");

    const decided = await alice.post(`/desk/r/${request.id}`, { csrf, action: "approve", justification: "checked the order", context_hash: hash });
    expect(decided.status).toBe(200);
    expect(readable(decided.text)).toContain("Approved alice decided Approve: Approve. The agent is told now. Back to the queue");
    const audit = (await app.store.audit(REPO)).filter((entry) => entry.requestId === request.id && entry.event === "decided");
    expect(audit).toMatchObject([{ actor: { type: "human", login: "alice" }, justification: "checked the order" }]);
    expect((await app.store.get(request.id))!.decision).toMatchObject({ via: "desk", decidedBy: { login: "alice" } });

    const late = await alice.post(`/desk/r/${request.id}`, { csrf, action: "reject", justification: "too late now", context_hash: hash });
    expect(late.status).toBe(409);
    expect(readable(late.text)).toContain("Someone decided first Nothing was decided by you: Approved by alice on the approver's desk on 24 Nov 2026 09:00 UTC.");
    expect(readable((await alice.get("/desk/recent")).text)).toContain("Refund order 1234 (octo-org/payments): Approved by alice on the approver's desk on 24 Nov 2026 09:00 UTC.");
  });

  it("batch-decides each request on its own with one justification and the batch's id, and reports the ones it could not", async () => {
    const a = await open({ task_description: "Refund order 1" });
    const b = await open({ task_description: "Refund order 2" });
    const c = await open({ task_description: "Refund order 3" });
    const quorum = await open({ task_description: "Refund order 4", required_approvals: 2 });
    const meanwhile = await open({ task_description: "Refund order 5" });
    const foreign = await open({ task_description: "Rotate the launch keys", repo: OTHER });
    await alice.signIn(github, "alice");
    const queue = await alice.get("/desk");
    const csrf = csrfOf(queue.text);
    const items = [...queue.text.matchAll(/name="item" value="([^"]+)"/g)].map((m) => m[1]!);
    expect(items).toHaveLength(5);

    const itemOf = (id: string) => items.find((item) => item.startsWith(`${id}:`))!;
    const three = await alice.post("/desk/batch", { csrf, action: "approve", justification: "routine refunds", item: [itemOf(a.id), itemOf(b.id), itemOf(c.id)] });
    expect(three.status).toBe(200);
    expect(readable(three.text)).toMatch(/^Skip to content .* Approved 3 of 3 Batch batch_[\w-]+: each request was decided on its own and its audit entry names the batch\. Decided Refund order 1: Approved by alice on the approver's desk\. Refund order 2: Approved by alice on the approver's desk\. Refund order 3: Approved by alice on the approver's desk\. Back to the queue$/);
    const entries = (await app.store.audit(REPO)).filter((entry) => entry.event === "decided");
    const batchIds = new Set(entries.map((entry) => (entry.details as { batch_id?: string }).batch_id));
    expect(entries.map((entry) => entry.requestId).sort()).toEqual([a.id, b.id, c.id].sort());
    expect(batchIds.size).toBe(1);
    expect(entries.every((entry) => entry.justification === "routine refunds")).toBe(true);

    await app.runtime.engine.decideFromChannel({ requestId: meanwhile.id, login: "bob", action: "reject", via: "desk", justification: "no" });
    const mixed = await alice.post("/desk/batch", { csrf, action: "approve", justification: "", item: [`${quorum.id}:`, `${meanwhile.id}:`, `${foreign.id}:`, `${a.id}:`] });
    expect(readable(mixed.text)).toContain(
      "Approved 0 of 4 Batch",
    );
    expect(readable(mixed.text)).toContain(
      "Could not be decided Refund order 4: your vote counts; the quorum is still open. Refund order 5: decided meanwhile (Rejected by bob on the approver's desk on 24 Nov 2026 09:00 UTC). " +
        `${foreign.id}: not yours to decide; nothing was decided. Refund order 1: decided meanwhile (Approved by alice on the approver's desk on 24 Nov 2026 09:00 UTC).`,
    );
    expect((await app.store.get(quorum.id))!.votes).toMatchObject([{ by: "alice", action: "approve", via: "desk" }]);
    expect((await app.store.get(foreign.id))!.status).toBe("pending");
  });

  it("batch-decides all the requests matching a filter", async () => {
    await open({ task_description: "Refund order 1" });
    await open({ task_description: "Refund order 2" });
    const payment = await open({ task_description: "Pay invoice 7", request_type: "payment" });
    await alice.signIn(github, "alice");
    const page = (await alice.get("/desk?type=refund")).text;
    const csrf = csrfOf(page);
    const shown = [...page.matchAll(/<input type="hidden" name="shown" value="([^"]+)">/g)].map((match) => match[1]!);
    expect(shown.map((value) => value.split(":")[0])).toHaveLength(2);
    const all = await alice.post("/desk/batch?type=refund", { csrf, action: "reject", justification: "not now", all: "1", shown });
    expect(readable(all.text)).toContain("Rejected 2 of 2");
    expect((await app.store.get(payment.id))!.status).toBe("pending");
    const neither = await alice.post("/desk/batch", { csrf, action: "approve-ish", all: "1" });
    expect(neither.status).toBe(400);
    expect(readable(neither.text)).toContain("Choose approve or reject Nothing was decided.");
    const many = await alice.post("/desk/batch", { csrf, action: "approve", item: Array.from({ length: 201 }, (_, i) => `req_${i}:`) });
    expect(many.status).toBe(400);
    expect(readable(many.text)).toContain("Too many at once One batch decides at most 200 requests. Narrow the filter. Nothing was decided.");
    const unknown = await alice.get("/desk/nowhere");
    expect(unknown.status).toBe(404);
    expect(readable(unknown.text)).toContain("Not found The desk has no such page. Back to the queue");
    const nothing = await alice.post("/desk/batch", { csrf, action: "approve" });
    expect(nothing.status).toBe(400);
    expect(readable(nothing.text)).toContain("Nothing selected Select at least one request, or all matching the filter. Nothing was decided.");
  });

  it("tells an open page when a request shown on it is decided elsewhere (server-sent events)", async () => {
    const request = await open();
    const voted = await open({ required_approvals: 2 });
    await alice.signIn(github, "alice");
    const controller = new AbortController();
    const stream = await fetch(`${app.url}/desk/events?watch=${request.id}:${request.version},${voted.id}:${voted.version},req_unknown:1`, { headers: { cookie: [...alice.cookies].map(([k, v]) => `${k}=${v}`).join("; ") }, signal: controller.signal });
    expect(stream.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const reader = stream.body!.getReader();
    let received = "";
    const until = async (needle: string) => {
      while (!received.includes(needle)) received += new TextDecoder().decode((await reader.read()).value);
    };
    await app.runtime.engine.decideFromChannel({ requestId: request.id, login: "bob", action: "approve", via: "slack", justification: null });
    await until(`"id":"${request.id}"`);
    await app.runtime.engine.decideFromChannel({ requestId: voted.id, login: "bob", action: "approve", via: "slack", justification: null });
    await until(`"id":"${voted.id}"`);
    controller.abort();
    const events = received.split("\n\n").filter((part) => part.startsWith("event: changed"));
    expect(events).toEqual([
      `event: changed\ndata: {"id":"${request.id}","final":true,"text":"Decided elsewhere: Approved by bob on Slack on 24 Nov 2026 09:00 UTC."}`,
      `event: changed\ndata: {"id":"${voted.id}","final":false,"text":"This request changed after this page was shown (a vote or a new step); open it again before deciding."}`,
    ]);
  });

  it("signs out: the cookie is cleared and the session ends on the server too", async () => {
    await alice.signIn(github, "alice");
    const kept = new Map(alice.cookies);
    const csrf = csrfOf((await alice.get("/desk")).text);
    const out = await alice.post("/desk/logout", { csrf });
    expect(out.headers.getSetCookie()).toEqual(["hitl_desk=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"]);
    expect(readable(out.text)).toBe("Skip to content hitl · approver's desk Signed out Your session on this desk has ended. Sign in again");
    const replayed = new DeskBrowser(app.url);
    for (const [name, value] of kept) replayed.cookies.set(name, value);
    expect(readable((await replayed.get("/desk")).text)).toContain("Sign in with GitHub");
  });

  it("explains why a sign-in failed: GitHub refused, a state that does not match, a bad client secret", async () => {
    github.state.oauth!.denies = true;
    const denied = await alice.signIn(github, "alice");
    expect(denied.status).toBe(400);
    expect(readable(denied.text)).toContain("Not signed in GitHub did not let you sign in (it was refused or cancelled). Try again.");
    github.state.oauth!.denies = false;

    // A callback this browser did not start (a sign-in CSRF): its state is not the cookie's.
    await alice.get("/desk/login");
    const forged = await alice.get("/desk/callback?code=abc&state=not-the-one");
    expect(readable(forged.text)).toContain("The sign-in could not be checked: it did not start on this page. Try again.");
    // GitHub's answer without a code, whatever the reason.
    const start = new URL((await alice.get("/desk/login")).headers.get("location")!);
    const codeless = await alice.get(`/desk/callback?state=${start.searchParams.get("state")}`);
    expect(readable(codeless.text)).toContain("Not signed in GitHub sent no sign-in code. Try again.");
    github.state.users["ci-bot[bot]"] = { login: "ci-bot[bot]", type: "Bot" };
    const bot = await new DeskBrowser(app.url).signIn(github, "ci-bot[bot]");
    expect(readable(bot.text)).toContain("Not signed in Bot accounts do not decide requests.");
    const cookieless = await new DeskBrowser(app.url).get("/desk/callback?code=abc&state=x");
    expect(readable(cookieless.text)).toContain("The sign-in took too long, or cookies are off. Try again.");
  });
});

describe("the approver's desk with the wrong client secret, and turned off", () => {
  it("refuses the sign-in GitHub does not confirm (incorrect_client_credentials, a 200 with error)", async () => {
    const github = await startGitHubStandIn({ oauth: { clientId: "Iv1.desk0123456789ab", clientSecret: "desk-client-secret-0123456789abcdef" } });
    const app = await startApp({ githubUrl: github.url, desk: { oauth: oauthFor(github, "wrong-secret") } });
    try {
      const browser = new DeskBrowser(app.url);
      const result = await browser.signIn(github, "alice");
      expect(readable(result.text)).toContain("Not signed in GitHub did not confirm who you are. Try again.");
      expect(github.callsTo("GET", "/user")).toEqual([]);
      expect(browser.cookies.has("hitl_desk")).toBe(false);
    } finally {
      await app.close();
      await github.close();
    }
  });

  it("says so when GitHub cannot be reached for the token", async () => {
    const github = await startGitHubStandIn();
    const app = await startApp({ githubUrl: github.url, desk: { oauth: { ...oauthFor(github), webBase: "http://127.0.0.1:9" } } });
    try {
      const browser = new DeskBrowser(app.url);
      const state = new URL((await browser.get("/desk/login")).headers.get("location")!).searchParams.get("state");
      const result = await browser.get(`/desk/callback?code=abc&state=${state}`);
      expect(readable(result.text)).toContain("Not signed in GitHub could not be reached. Try again shortly.");
    } finally {
      await app.close();
      await github.close();
    }
  });

  it("says what to set when it is off", async () => {
    const github = await startGitHubStandIn();
    const app = await startApp({ githubUrl: github.url });
    try {
      const page = await new DeskBrowser(app.url).get("/desk/r/anything");
      expect(page.status).toBe(404);
      expect(readable(page.text)).toBe(
        "Skip to content hitl · approver's desk The approver's desk is off To turn it on, set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (the GitHub App's OAuth credentials; Probot's setup writes them to .env) and HITL_PUBLIC_URL (where people reach this hitl), then restart. Its sign-in callback is HITL_PUBLIC_URL followed by /desk/callback: add it to the GitHub App's callback URLs.",
      );
    } finally {
      await app.close();
      await github.close();
    }
  });
});
