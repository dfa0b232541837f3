import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { authorizeUrl, githubBases, loginFromCode } from "../../src/desk/github-oauth.js";
import { CLIENT_ID, CLIENT_SECRET, oauthFor } from "../support/desk-client.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in.js";

const CALLBACK = "https://hitl.example.com/desk/callback";

describe("signing in with GitHub (against the stand-in's OAuth endpoints)", () => {
  let github: GitHubStandIn;

  beforeEach(async () => {
    github = await startGitHubStandIn({ users: { "ci-bot": "Bot" }, oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, callbackUrls: [CALLBACK] } });
  });
  afterEach(() => github.close());

  async function codeFor(login: string, redirectUri = CALLBACK): Promise<URL> {
    github.state.oauth!.signedIn = login;
    const response = await fetch(authorizeUrl(oauthFor(github), redirectUri, "st-1"), { redirect: "manual" });
    return new URL(response.headers.get("location")!);
  }

  it("sends the person back with a code and the state, exchanges it once, and asks GET /user whose token it is", async () => {
    const back = await codeFor("alice");
    expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
    expect(back.searchParams.get("state")).toBe("st-1");
    const code = back.searchParams.get("code")!;
    expect(await loginFromCode(oauthFor(github), code, CALLBACK)).toEqual({ ok: true, login: "alice" });
    // A code works once.
    expect(await loginFromCode(oauthFor(github), code, CALLBACK)).toEqual({ ok: false, error: "bad_verification_code" });
    expect(github.callsTo("GET", "/user").map((call) => call.status)).toEqual([200]);
  });

  it("answers errors as GitHub does: 200 with `error`", async () => {
    const code = (await codeFor("alice")).searchParams.get("code")!;
    expect(await loginFromCode(oauthFor(github, "wrong"), code, CALLBACK)).toEqual({ ok: false, error: "incorrect_client_credentials" });
    expect(await loginFromCode(oauthFor(github), code, "https://hitl.example.com/elsewhere")).toEqual({ ok: false, error: "redirect_uri_mismatch" });
    expect(await loginFromCode(oauthFor(github), "nope", CALLBACK)).toEqual({ ok: false, error: "bad_verification_code" });
    const exchanges = github.callsTo("POST", "/login/oauth/access_token");
    expect(exchanges.map((call) => call.status)).toEqual([200, 200, 200]);
    const mismatch = await codeFor("alice", "https://evil.example/desk/callback");
    expect(mismatch.searchParams.get("error")).toBe("redirect_uri_mismatch");
    expect(`${mismatch.origin}${mismatch.pathname}`).toBe(CALLBACK);
  });

  it("refuses a bot account, and GET /user without a user token", async () => {
    const code = (await codeFor("ci-bot")).searchParams.get("code")!;
    expect(await loginFromCode(oauthFor(github), code, CALLBACK)).toEqual({ ok: false, error: "bot_account" });
    const anonymous = await fetch(`${github.url}/user`);
    expect(anonymous.status).toBe(401);
  });

  it("uses github.com, or the GitHub Enterprise Server GHE_HOST names", () => {
    expect(githubBases(undefined, undefined)).toEqual({ webBase: "https://github.com", apiBase: "https://api.github.com" });
    expect(githubBases("github.example.com", undefined)).toEqual({ webBase: "https://github.example.com", apiBase: "https://github.example.com/api/v3" });
    expect(githubBases("127.0.0.1:8080", "http")).toEqual({ webBase: "http://127.0.0.1:8080", apiBase: "http://127.0.0.1:8080/api/v3" });
  });
});
